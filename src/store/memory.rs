//! An in-memory store for host tests (every concern's trait, so a `Store`), with the same conditional-write semantics as D1.

use super::*;
use std::cell::RefCell;
use std::collections::HashMap;

#[derive(Default)]
pub struct MemoryStore {
    users: RefCell<Vec<User>>,
    clients: RefCell<Vec<Client>>,
    codes: RefCell<HashMap<String, AuthorizationCode>>,
    consumed: RefCell<HashMap<String, ConsumedCode>>,
    refresh: RefCell<HashMap<String, (RefreshToken, RefreshStatus)>>,
    revoked: RefCell<HashMap<String, u64>>,
    throttles: RefCell<HashMap<String, (Throttle, u64)>>,
    sessions: RefCell<HashMap<String, Session>>,
    /// Copies `client_for_auth` answers as cached, standing in for another isolate's stale cache.
    stale_clients: RefCell<HashMap<String, Client>>,
}

impl MemoryStore {
    /// From now on `client_for_auth` answers this copy as cached, whatever the store holds.
    pub fn serve_stale_client(&self, client: Client) {
        self.stale_clients.borrow_mut().insert(client.client_id.clone(), client);
    }
}

/// Keeps the entries `keep` accepts and returns how many went.
fn retain_counting<V>(map: &RefCell<HashMap<String, V>>, mut keep: impl FnMut(&V) -> bool) -> u64 {
    let mut map = map.borrow_mut();
    let before = map.len();
    map.retain(|_, v| keep(v));
    (before - map.len()) as u64
}

impl UserStore for MemoryStore {
    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        let mut users = self.users.borrow_mut();
        if users.iter().any(|u| u.username.eq_ignore_ascii_case(&user.username)) {
            return Err(StoreError::Conflict("username".into()));
        }
        if users.iter().any(|u| u.email.eq_ignore_ascii_case(&user.email)) {
            return Err(StoreError::Conflict("email".into()));
        }
        users.push(user.clone());
        Ok(())
    }
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        Ok(self.users.borrow().iter().find(|u| u.username.eq_ignore_ascii_case(username)).cloned())
    }
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>> {
        Ok(self.users.borrow().iter().find(|u| u.id == id).cloned())
    }
    async fn set_password_hash(&self, user_id: &str, hash: &str) -> StoreResult<()> {
        if let Some(u) = self.users.borrow_mut().iter_mut().find(|u| u.id == user_id) {
            u.password_hash = hash.to_string();
        }
        Ok(())
    }
}

impl ClientStore for MemoryStore {
    async fn insert_client(&self, client: &Client) -> StoreResult<()> {
        self.clients.borrow_mut().push(client.clone());
        Ok(())
    }
    async fn client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        Ok(self.clients.borrow().iter().find(|c| c.client_id == client_id).cloned())
    }
    async fn client_for_auth(&self, client_id: &str, _now: u64) -> StoreResult<(Option<Client>, bool)> {
        if let Some(c) = self.stale_clients.borrow().get(client_id) {
            return Ok((Some(c.clone()), true));
        }
        Ok((self.client(client_id).await?, false))
    }
    async fn clients(&self) -> StoreResult<Vec<Client>> {
        Ok(self.clients.borrow().clone())
    }
    async fn clients_with_redirect(&self, redirect_uri: &str) -> StoreResult<Vec<Client>> {
        Ok(self.clients.borrow().iter().filter(|c| c.redirect_uris.iter().any(|r| r == redirect_uri)).cloned().collect())
    }
    async fn update_client(&self, client: &Client) -> StoreResult<bool> {
        let mut clients = self.clients.borrow_mut();
        match clients.iter_mut().find(|c| c.client_id == client.client_id) {
            Some(c) => {
                *c = client.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }
    async fn delete_client(&self, client_id: &str) -> StoreResult<bool> {
        let mut clients = self.clients.borrow_mut();
        let before = clients.len();
        clients.retain(|c| c.client_id != client_id);
        for (t, s) in self.refresh.borrow_mut().values_mut() {
            if t.client_id == client_id {
                *s = RefreshStatus::Revoked;
            }
        }
        Ok(clients.len() != before)
    }
    async fn set_client_secret_hash(&self, client_id: &str, hash: &str, now: u64) -> StoreResult<bool> {
        match self.clients.borrow_mut().iter_mut().find(|c| c.client_id == client_id) {
            Some(c) => {
                c.client_secret_hash = Some(hash.to_string());
                c.updated_at = now;
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

impl CodeStore for MemoryStore {
    async fn put_code(&self, code_hash: &str, code: &AuthorizationCode, _ttl: u64) -> StoreResult<()> {
        self.codes.borrow_mut().insert(code_hash.to_string(), code.clone());
        Ok(())
    }
    async fn code(&self, code_hash: &str) -> StoreResult<Option<AuthorizationCode>> {
        Ok(self.codes.borrow().get(code_hash).cloned())
    }
    async fn redeem_code(&self, consumed: &ConsumedCode, refresh: Option<&RefreshToken>) -> StoreResult<Redemption> {
        let mut map = self.consumed.borrow_mut();
        if let Some(prev) = map.get(&consumed.code_hash) {
            return Ok(Redemption::Replayed(Some(prev.clone())));
        }
        map.insert(consumed.code_hash.clone(), consumed.clone());
        if let Some(r) = refresh {
            self.refresh.borrow_mut().insert(r.token_hash.clone(), (r.clone(), RefreshStatus::Active));
        }
        Ok(Redemption::First)
    }
}

impl RefreshStore for MemoryStore {
    async fn insert_refresh(&self, token: &RefreshToken) -> StoreResult<()> {
        self.refresh.borrow_mut().insert(token.token_hash.clone(), (token.clone(), RefreshStatus::Active));
        Ok(())
    }
    async fn refresh(&self, token_hash: &str) -> StoreResult<Option<RefreshRecord>> {
        let found = self.refresh.borrow().get(token_hash).cloned();
        match found {
            None => Ok(None),
            Some((token, status)) => {
                let user = self.user_by_id(&token.user_id).await?;
                Ok(Some(RefreshRecord { token, status, user }))
            }
        }
    }
    async fn rotate_refresh(&self, old_hash: &str, new: &RefreshToken, now: u64) -> StoreResult<bool> {
        let mut map = self.refresh.borrow_mut();
        match map.get_mut(old_hash) {
            Some((t, s)) if *s == RefreshStatus::Active && t.expires_at > now => {
                *s = RefreshStatus::Rotated;
            }
            _ => return Ok(false),
        }
        map.insert(new.token_hash.clone(), (new.clone(), RefreshStatus::Active));
        Ok(true)
    }
    async fn rotate_refresh_for(&self, old_hash: &str, client_id: &str, new: &NewRefresh, now: u64) -> StoreResult<Rotation> {
        let old = self.refresh.borrow().get(old_hash).cloned();
        let mut rotated = false;
        if let Some((t, RefreshStatus::Active)) = old {
            if t.expires_at > now && t.client_id == client_id && self.user_by_id(&t.user_id).await?.is_some() {
                let next = RefreshToken { token_hash: new.token_hash.clone(), issued_at: new.issued_at, expires_at: new.expires_at, ..t };
                rotated = self.rotate_refresh(old_hash, &next, now).await?;
            }
        }
        Ok(Rotation { rotated, record: self.refresh(old_hash).await? })
    }
    async fn revoke_family(&self, family_id: &str) -> StoreResult<()> {
        for (t, s) in self.refresh.borrow_mut().values_mut() {
            if t.family_id == family_id {
                *s = RefreshStatus::Revoked;
            }
        }
        Ok(())
    }

    async fn revoke_access(&self, jti: &str, expires_at: u64) -> StoreResult<()> {
        self.revoked.borrow_mut().insert(jti.to_string(), expires_at);
        Ok(())
    }
    async fn access_token_usable(&self, jti: &str, client_id: &str) -> StoreResult<bool> {
        let active = self.clients.borrow().iter().any(|c| c.client_id == client_id && c.is_active);
        Ok(active && !self.revoked.borrow().contains_key(jti))
    }
}

impl ThrottleStore for MemoryStore {
    async fn throttle(&self, key: &str) -> StoreResult<Throttle> {
        Ok(self.throttles.borrow().get(key).map(|(t, _)| *t).unwrap_or_default())
    }
    async fn record_failure(&self, key: &str, now: u64) -> StoreResult<Throttle> {
        let mut map = self.throttles.borrow_mut();
        let entry = map.entry(key.to_string()).or_default();
        entry.0.failures += 1;
        entry.0.locked_until = lock_until(entry.0.failures, now).max(entry.0.locked_until);
        entry.1 = now;
        Ok(entry.0)
    }
    async fn clear_failures(&self, key: &str) -> StoreResult<()> {
        self.throttles.borrow_mut().remove(key);
        Ok(())
    }
}

impl Maintenance for MemoryStore {
    async fn purge_expired(&self, now: u64) -> StoreResult<u64> {
        Ok(retain_counting(&self.refresh, |(t, _)| t.expires_at > now)
            + retain_counting(&self.consumed, |c| c.expires_at > now)
            + retain_counting(&self.revoked, |exp| *exp > now)
            + retain_counting(&self.sessions, |x| x.expires_at > now)
            + retain_counting(&self.throttles, |(th, updated)| th.locked_until > now || *updated + THROTTLE_MEMORY > now))
    }
}

impl SessionStore for MemoryStore {
    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        self.sessions.borrow_mut().insert(session.id_hash.clone(), session.clone());
        Ok(())
    }
    async fn session(&self, id_hash: &str, now: u64) -> StoreResult<Option<(Session, User)>> {
        let found = self.sessions.borrow().get(id_hash).filter(|s| s.expires_at > now).cloned();
        let Some(session) = found else { return Ok(None) };
        Ok(self.user_by_id(&session.user_id).await?.map(|u| (session, u)))
    }
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        self.sessions.borrow_mut().remove(id_hash);
        Ok(())
    }
}
