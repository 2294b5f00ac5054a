//! The memory store's clients.

use super::*;

impl ClientStore for MemoryStore {
    async fn insert_client(&self, client: &Client) -> StoreResult<()> {
        self.enter("insert_client")?;
        self.state.borrow_mut().clients.push(client.clone());
        Ok(())
    }
    async fn client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        self.enter("client")?;
        Ok(self.state.borrow().client(client_id))
    }
    async fn client_for_auth(&self, client_id: &str, _now: u64) -> StoreResult<(Option<Client>, bool)> {
        self.enter("client_for_auth")?;
        if let Some(c) = self.stale_clients.borrow().get(client_id) {
            return Ok((Some(c.clone()), true));
        }
        Ok((self.state.borrow().client(client_id), false))
    }
    async fn clients(&self) -> StoreResult<Vec<Client>> {
        self.enter("clients")?;
        Ok(self.state.borrow().clients.clone())
    }
    async fn clients_with_redirect(&self, redirect_uri: &str) -> StoreResult<Vec<Client>> {
        self.enter("clients_with_redirect")?;
        Ok(self.state.borrow().clients.iter().filter(|c| c.redirect_uris.iter().any(|r| r == redirect_uri)).cloned().collect())
    }
    async fn update_client(&self, client: &Client) -> StoreResult<bool> {
        self.enter("update_client")?;
        match self.state.borrow_mut().clients.iter_mut().find(|c| c.client_id == client.client_id) {
            Some(c) => {
                *c = client.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }
    async fn delete_client(&self, client_id: &str) -> StoreResult<bool> {
        self.enter("delete_client")?;
        let mut state = self.state.borrow_mut();
        let before = state.clients.len();
        state.clients.retain(|c| c.client_id != client_id);
        state.consents.retain(|(_, c), _| c != client_id);
        state.revoke_refresh_where(|t| t.client_id == client_id);
        Ok(state.clients.len() != before)
    }
    async fn purge_unused_dynamic_clients(&self, before: u64) -> StoreResult<u64> {
        self.enter("purge_unused_dynamic_clients")?;
        let mut state = self.state.borrow_mut();
        let used = state.used_clients.clone();
        let n = state.clients.len();
        state.clients.retain(|c| !(c.dynamic && !used.contains(&c.client_id) && c.created_at <= before));
        let State { clients, consents, .. } = &mut *state;
        consents.retain(|(_, c), _| clients.iter().any(|x| &x.client_id == c));
        Ok((n - state.clients.len()) as u64)
    }
    async fn end_client_grants(&self, client_id: &str, at: u64) -> StoreResult<()> {
        self.enter("end_client_grants")?;
        let mut state = self.state.borrow_mut();
        state.revoke_refresh_where(|t| t.client_id == client_id);
        state.client_grants_ended.insert(client_id.to_string(), at);
        Ok(())
    }
    async fn set_client_secret_hash(&self, client_id: &str, hash: &str, sealed: Option<&str>, now: u64) -> StoreResult<bool> {
        self.enter("set_client_secret_hash")?;
        match self.state.borrow_mut().clients.iter_mut().find(|c| c.client_id == client_id) {
            Some(c) => {
                c.client_secret_hash = Some(hash.to_string());
                c.client_secret_sealed = sealed.map(str::to_string);
                c.updated_at = now;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}
