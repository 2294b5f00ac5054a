//! The memory store's consent decisions.

use super::*;

impl ConsentStore for MemoryStore {
    async fn consent(&self, user_id: &str, client_id: &str) -> StoreResult<Option<Allowed>> {
        self.enter("consent")?;
        Ok(self.state.borrow().consents.get(&(user_id.to_string(), client_id.to_string())).map(|(a, _)| a.clone()))
    }
    async fn save_consent(&self, user_id: &str, client_id: &str, allowed: &Allowed, now: u64) -> StoreResult<()> {
        self.enter("save_consent")?;
        self.state.borrow_mut().consents.insert((user_id.to_string(), client_id.to_string()), (allowed.clone(), now));
        Ok(())
    }
    async fn consents_of(&self, user_id: &str) -> StoreResult<Vec<Consent>> {
        self.enter("consents_of")?;
        let state = self.state.borrow();
        let mut out: Vec<Consent> = state
            .consents
            .iter()
            .filter(|((u, _), _)| u == user_id)
            .filter_map(|((_, c), (allowed, at))| {
                let client = state.client(c)?;
                Some(Consent { client_id: c.clone(), client_name: client.client_name, scope: allowed.scope.clone(), granted_at: *at })
            })
            .collect();
        out.sort_by(|a, b| b.granted_at.cmp(&a.granted_at).then(a.client_id.cmp(&b.client_id)));
        Ok(out)
    }
    async fn withdraw_consent(&self, user_id: &str, client_id: &str, until: u64) -> StoreResult<bool> {
        self.enter("withdraw_consent")?;
        let mut state = self.state.borrow_mut();
        let had = state.consents.remove(&(user_id.to_string(), client_id.to_string())).is_some();
        let families: Vec<String> = state
            .refresh
            .values()
            .filter(|(t, _, _)| t.user_id == user_id && t.client_id == client_id)
            .map(|(t, _, _)| t.family_id.clone())
            .collect();
        for f in families {
            state.ended_grants.insert(f, until);
        }
        state.revoke_refresh_where(|t| t.user_id == user_id && t.client_id == client_id);
        Ok(had)
    }
}
