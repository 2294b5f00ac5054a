//! The memory store's authorization codes and their single use.

use super::*;

impl CodeStore for MemoryStore {
    async fn put_code(&self, code_hash: &str, code: &AuthorizationCode, _ttl: u64) -> StoreResult<()> {
        self.enter("put_code")?;
        let mut state = self.state.borrow_mut();
        state.codes.insert(code_hash.to_string(), code.clone());
        state.pending_codes.insert(code_hash.to_string(), code.clone());
        Ok(())
    }
    async fn code(&self, code_hash: &str) -> StoreResult<Option<AuthorizationCode>> {
        self.enter("code")?;
        let state = self.state.borrow();
        Ok(state.codes.get(code_hash).or_else(|| state.pending_codes.get(code_hash)).cloned())
    }
    async fn redeem_code(
        &self,
        consumed: &ConsumedCode,
        client_use: Option<ClientUse<'_>>,
        refresh: Option<&RefreshToken>,
    ) -> StoreResult<Redemption> {
        self.enter("redeem_code")?;
        let mut state = self.state.borrow_mut();
        if let Some(prev) = state.consumed.get(&consumed.code_hash) {
            return Ok(Redemption::Replayed(Some(prev.clone())));
        }
        state.consumed.insert(consumed.code_hash.clone(), consumed.clone());
        if let Some(used) = client_use {
            state.used_clients.insert(used.client_id.to_string());
        }
        if let Some(r) = refresh {
            state.refresh.insert(r.token_hash.clone(), (r.clone(), RefreshStatus::Active, None));
        }
        Ok(Redemption::First)
    }
}
