//! The memory store's sign-in throttling.

use super::*;

impl ThrottleStore for MemoryStore {
    async fn reserve_attempt(&self, key: &str, now: u64, curve: &[u64]) -> StoreResult<Reservation> {
        self.enter("reserve_attempt")?;
        let mut state = self.state.borrow_mut();
        let entry = state.throttles.entry(key.to_string()).or_default();
        if entry.0.locked_until > now {
            return Ok(Reservation { granted: false, throttle: entry.0 });
        }
        let count = if entry.1 + THROTTLE_MEMORY <= now { 0 } else { entry.0.failures };
        entry.0.failures = count + 1;
        let lock = curve.get(entry.0.failures as usize).or(curve.last()).copied().unwrap_or(0);
        entry.0.locked_until = lock.max(entry.0.locked_until);
        entry.1 = now;
        Ok(Reservation { granted: true, throttle: entry.0 })
    }
    async fn clear_failures(&self, key: &str) -> StoreResult<()> {
        self.enter("clear_failures")?;
        self.state.borrow_mut().throttles.remove(key);
        Ok(())
    }
}
