//! The memory store's refresh tokens (rotation, the reuse interval, families) and revoked access tokens.

use super::*;

// Whether a refresh token may be used is `RefreshRecord::is_live` / `usable_by`, asked of the
// record as `refresh` would return it; D1 asks the same in its rotations' `WHERE`.
impl RefreshStore for MemoryStore {
    async fn insert_refresh(&self, token: &RefreshToken) -> StoreResult<()> {
        self.enter("insert_refresh")?;
        self.state.borrow_mut().refresh.insert(token.token_hash.clone(), (token.clone(), RefreshStatus::Active, None));
        Ok(())
    }
    async fn refresh(&self, token_hash: &str) -> StoreResult<Option<RefreshRecord>> {
        self.enter("refresh")?;
        Ok(self.state.borrow().refresh_record(token_hash))
    }
    async fn rotate_refresh_for(
        &self,
        old_hash: &str,
        client_id: &str,
        new: &NewRefresh,
        now: u64,
        reuse_interval: u64,
    ) -> StoreResult<Rotation> {
        self.enter("rotate_refresh_for")?;
        let mut state = self.state.borrow_mut();
        let rotated = match state.refresh_record(old_hash) {
            Some(old)
                if old.usable_by(client_id, now, reuse_interval)
                    && old.token.jkt.as_deref().is_none_or(|bound| new.jkt.as_deref() == Some(bound)) =>
            {
                let next = RefreshToken {
                    token_hash: new.token_hash.clone(),
                    issued_at: new.issued_at,
                    expires_at: new.expires_at.min(old.token.family_expires_at),
                    ..old.token
                };
                state.rotate(old_hash, next, now);
                true
            }
            _ => false,
        };
        Ok(Rotation { rotated, record: state.refresh_record(old_hash) })
    }
    async fn end_grant(&self, grant_id: &str, until: u64) -> StoreResult<()> {
        self.enter("end_grant")?;
        let mut state = self.state.borrow_mut();
        state.revoke_refresh_where(|t| t.family_id == grant_id);
        state.ended_grants.insert(grant_id.to_string(), until);
        Ok(())
    }

    async fn revoke_access(&self, jti: &str, expires_at: u64) -> StoreResult<()> {
        self.enter("revoke_access")?;
        self.state.borrow_mut().revoked.insert(jti.to_string(), expires_at);
        Ok(())
    }
    async fn access_token_usable(&self, t: &AccessCheck) -> StoreResult<bool> {
        self.enter("access_token_usable")?;
        let state = self.state.borrow();
        let not_ended = |map: &HashMap<String, u64>, id: &str| map.get(id).is_none_or(|at| *at < t.issued_at);
        let client_ok =
            state.clients.iter().any(|c| c.client_id == t.client_id && c.is_active) && not_ended(&state.client_grants_ended, &t.client_id);
        let user_ok = t.user_id.as_deref().is_none_or(|u| state.users.iter().any(|x| x.id == u) && not_ended(&state.user_grants_ended, u));
        let grant_ok = t.grant_id.as_deref().is_none_or(|g| !state.ended_grants.contains_key(g));
        Ok(client_ok && user_ok && grant_ok && !state.revoked.contains_key(&t.jti))
    }
}
