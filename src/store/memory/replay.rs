//! The memory store's single-use identifiers.

use super::*;

impl ReplayStore for MemoryStore {
    async fn first_use(&self, key: &str, expires_at: u64, now: u64) -> StoreResult<bool> {
        self.enter("first_use")?;
        let used = &mut self.state.borrow_mut().used_jtis;
        if used.get(key).is_some_and(|until| *until > now) {
            return Ok(false);
        }
        used.insert(key.to_string(), expires_at);
        Ok(true)
    }
}
