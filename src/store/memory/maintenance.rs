//! The memory store's housekeeping (what the cron deletes).

use super::*;

impl Maintenance for MemoryStore {
    async fn purge_expired(&self, now: u64) -> StoreResult<u64> {
        self.enter("purge_expired")?;
        let state = &mut *self.state.borrow_mut();
        Ok(retain_counting(&mut state.refresh, |(t, _, _)| t.expires_at > now)
            + retain_counting(&mut state.consumed, |c| c.expires_at > now)
            + retain_counting(&mut state.revoked, |exp| *exp > now)
            + retain_counting(&mut state.sessions, |x| x.expires_at > now)
            + retain_counting(&mut state.ended_grants, |until| *until > now)
            + retain_counting(&mut state.pending_codes, |c| c.expires_at > now)
            + retain_counting(&mut state.challenges, |c| c.expires_at > now)
            + retain_counting(&mut state.used_jtis, |until| *until > now)
            + retain_counting(&mut state.throttles, |(th, updated)| th.locked_until > now || *updated + THROTTLE_MEMORY > now))
    }
}
