//! An in-memory store for host tests (every concern's trait, so a `Store`), with the same
//! conditional-write semantics as D1. It can be told to fail like a broken backend
//! (`StorageMode`), so that the protocol's storage-failure paths can be tested on the host.

mod audit;
mod factors;
#[cfg(test)]
mod tests;

use super::*;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// How a `MemoryStore` answers its trait methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StorageMode {
    /// Every call does its work.
    #[default]
    Normal,
    /// Every call fails with `StoreError::Backend("injected failure: <method>")` and changes
    /// nothing (`client_for_auth` too, even for a client served by `serve_stale_client`).
    Break,
    /// The next `n` calls work, then the store is broken as with `Break`: to fail a flow
    /// mid-way (say, after the code is read and before its redemption is written). Each call
    /// counts one down, so `mode()` tells how many are left.
    BreakAfter(u32),
}

/// Everything the store holds: what a failed call must leave as it was.
#[derive(Debug, Clone, Default, PartialEq)]
struct State {
    users: Vec<User>,
    clients: Vec<Client>,
    /// KV's codes, and D1's copies of them (`pending_codes`).
    codes: HashMap<String, AuthorizationCode>,
    pending_codes: HashMap<String, AuthorizationCode>,
    consumed: HashMap<String, ConsumedCode>,
    /// Each with its status and when it was first rotated.
    refresh: HashMap<String, (RefreshToken, RefreshStatus, Option<u64>)>,
    revoked: HashMap<String, u64>,
    /// Each with the time of its last failure.
    throttles: HashMap<String, (Throttle, u64)>,
    sessions: HashMap<String, Session>,
    /// Authenticator apps by user; recovery codes by (user, hash) with when they were used.
    totp: HashMap<String, TotpFactor>,
    recovery: HashMap<(String, String), Option<u64>>,
    /// Passkeys by credential id.
    passkeys: HashMap<String, Passkey>,
    challenges: HashMap<String, Challenge>,
    /// (user, client) → the scope allowed, and when.
    consents: HashMap<(String, String), (Allowed, u64)>,
    /// What `fetch_document` answers per URL (tests set it), and how many fetches were made.
    documents: HashMap<String, Result<FetchedDocument, FetchError>>,
    fetches: u32,
    /// Clients that have redeemed a code (`first_used_at` is set).
    used_clients: std::collections::HashSet<String>,
    /// Ended grants, until when they are kept.
    ended_grants: HashMap<String, u64>,
    /// The audit log, oldest first (ids are positions from 1; purging keeps ids of the rest).
    audit: Vec<AuditEvent>,
    next_audit_id: u64,
    /// Uses per (limit, address): the start of the current window and the count in it.
    address_uses: HashMap<(AddressLimit, String), (u64, u32)>,
    /// `grants_ended_at` of clients and users (absent: never).
    client_grants_ended: HashMap<String, u64>,
    user_grants_ended: HashMap<String, u64>,
}

impl State {
    fn user_by_id(&self, id: &str) -> Option<User> {
        self.users.iter().find(|u| u.id == id).cloned()
    }

    fn client(&self, client_id: &str) -> Option<Client> {
        self.clients.iter().find(|c| c.client_id == client_id).cloned()
    }

    /// A refresh token as D1's `SELECT_REFRESH` finds it: with its status and its user.
    fn refresh_record(&self, token_hash: &str) -> Option<RefreshRecord> {
        let (token, status, rotated_at) = self.refresh.get(token_hash)?;
        Some(RefreshRecord { token: token.clone(), status: *status, rotated_at: *rotated_at, user: self.user_by_id(&token.user_id) })
    }

    /// Marks `old_hash` rotated at `now` (unless it was before: the first rotation's time is
    /// kept) and stores `new` as active (the caller checked the rule).
    fn rotate(&mut self, old_hash: &str, new: RefreshToken, now: u64) {
        if let Some((_, status, rotated_at)) = self.refresh.get_mut(old_hash) {
            *status = RefreshStatus::Rotated;
            rotated_at.get_or_insert(now);
        }
        self.refresh.insert(new.token_hash.clone(), (new, RefreshStatus::Active, None));
    }

    /// Revokes every refresh token `pick` selects.
    fn revoke_refresh_where(&mut self, pick: impl Fn(&RefreshToken) -> bool) {
        for (t, s, _) in self.refresh.values_mut() {
            if pick(t) {
                *s = RefreshStatus::Revoked;
            }
        }
    }
}

#[derive(Default)]
pub struct MemoryStore {
    state: RefCell<State>,
    /// Copies `client_for_auth` answers as cached, standing in for another isolate's stale cache.
    stale_clients: RefCell<HashMap<String, Client>>,
    mode: Cell<StorageMode>,
}

impl MemoryStore {
    /// Drops a code from the KV stand-in only, as a location KV has not reached yet would miss
    /// it (the D1 copy remains).
    pub fn miss_code_at_the_edge(&self, code_hash: &str) {
        self.state.borrow_mut().codes.remove(code_hash);
    }

    /// From now on `client_for_auth` answers this copy as cached, whatever the store holds.
    pub fn serve_stale_client(&self, client: Client) {
        self.stale_clients.borrow_mut().insert(client.client_id.clone(), client);
    }

    /// From now on the store answers as `mode` says.
    pub fn set_mode(&self, mode: StorageMode) {
        self.mode.set(mode);
    }

    /// The mode now; after `BreakAfter(n)`, how many calls are left before it breaks.
    pub fn mode(&self) -> StorageMode {
        self.mode.get()
    }

    /// The first thing every trait method does, before it reads or changes anything: fails
    /// when the store is broken, and counts the call down under `BreakAfter`.
    fn enter(&self, method: &str) -> StoreResult<()> {
        match self.mode.get() {
            StorageMode::Normal => Ok(()),
            StorageMode::BreakAfter(left) if left > 0 => {
                self.mode.set(StorageMode::BreakAfter(left - 1));
                Ok(())
            }
            StorageMode::Break | StorageMode::BreakAfter(_) => Err(StoreError::Backend(format!("injected failure: {method}"))),
        }
    }

    /// A copy of everything held, for tests that check what a call changed.
    #[cfg(test)]
    fn snapshot(&self) -> State {
        self.state.borrow().clone()
    }
}

/// Keeps the entries `keep` accepts and returns how many went.
fn retain_counting<V>(map: &mut HashMap<String, V>, mut keep: impl FnMut(&V) -> bool) -> u64 {
    let before = map.len();
    map.retain(|_, v| keep(v));
    (before - map.len()) as u64
}

impl UserStore for MemoryStore {
    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        self.enter("insert_user")?;
        let users = &mut self.state.borrow_mut().users;
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
        self.enter("user_by_username")?;
        Ok(self.state.borrow().users.iter().find(|u| u.username.eq_ignore_ascii_case(username)).cloned())
    }
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>> {
        self.enter("user_by_id")?;
        Ok(self.state.borrow().user_by_id(id))
    }
    async fn set_password_hash(&self, user_id: &str, hash: &str) -> StoreResult<()> {
        self.enter("set_password_hash")?;
        if let Some(u) = self.state.borrow_mut().users.iter_mut().find(|u| u.id == user_id) {
            u.password_hash = hash.to_string();
        }
        Ok(())
    }
    async fn users(&self, q: &UserQuery) -> StoreResult<Vec<User>> {
        self.enter("users")?;
        let prefix = q.prefix.as_deref().map(str::to_lowercase);
        let after = q.after.as_deref().map(str::to_lowercase);
        let mut found: Vec<User> = self
            .state
            .borrow()
            .users
            .iter()
            .filter(|u| prefix.as_deref().is_none_or(|p| u.username.to_lowercase().starts_with(p) || u.email.to_lowercase().starts_with(p)))
            .filter(|u| after.as_deref().is_none_or(|a| u.username.to_lowercase().as_str() > a))
            .cloned()
            .collect();
        found.sort_by_key(|u| u.username.to_lowercase());
        found.truncate(q.limit as usize);
        Ok(found)
    }
    async fn update_user(&self, user: &User) -> StoreResult<bool> {
        self.enter("update_user")?;
        let mut state = self.state.borrow_mut();
        if state.users.iter().any(|u| u.id != user.id && u.email.eq_ignore_ascii_case(&user.email)) {
            return Err(StoreError::Conflict("email".into()));
        }
        match state.users.iter_mut().find(|u| u.id == user.id) {
            Some(u) => {
                u.email = user.email.clone();
                u.role = user.role.clone();
                u.password_hash = user.password_hash.clone();
                u.disabled = user.disabled;
                Ok(true)
            }
            None => Ok(false),
        }
    }
    async fn delete_user(&self, user_id: &str) -> StoreResult<bool> {
        self.enter("delete_user")?;
        let mut state = self.state.borrow_mut();
        let before = state.users.len();
        state.users.retain(|u| u.id != user_id);
        state.sessions.retain(|_, s| s.user_id != user_id);
        state.consents.retain(|(u, _), _| u != user_id);
        state.totp.remove(user_id);
        state.recovery.retain(|(u, _), _| u != user_id);
        state.passkeys.retain(|_, p| p.user_id != user_id);
        state.challenges.retain(|_, c| c.user_id.as_deref() != Some(user_id));
        state.revoke_refresh_where(|t| t.user_id == user_id);
        Ok(state.users.len() != before)
    }
    async fn end_user_grants(&self, user_id: &str, at: u64, keep_session: Option<&str>) -> StoreResult<()> {
        self.enter("end_user_grants")?;
        let mut state = self.state.borrow_mut();
        let ended = state.user_grants_ended.entry(user_id.to_string()).or_insert(0);
        *ended = (*ended).max(at);
        state.sessions.retain(|id, s| s.user_id != user_id || Some(id.as_str()) == keep_session);
        state.revoke_refresh_where(|t| t.user_id == user_id);
        Ok(())
    }
}

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
    async fn set_client_secret_hash(&self, client_id: &str, hash: &str, now: u64) -> StoreResult<bool> {
        self.enter("set_client_secret_hash")?;
        match self.state.borrow_mut().clients.iter_mut().find(|c| c.client_id == client_id) {
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
            Some(old) if old.usable_by(client_id, now, reuse_interval) => {
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

impl MemoryStore {
    /// Serves `answer` for `url` from now on (a document, or a failure to fetch it).
    pub fn serve_document(&self, url: &str, answer: Result<FetchedDocument, FetchError>) {
        self.state.borrow_mut().documents.insert(url.to_string(), answer);
    }
    /// How many documents were fetched so far.
    pub fn fetches(&self) -> u32 {
        self.state.borrow().fetches
    }
}

impl DocumentFetcher for MemoryStore {
    async fn fetch_document(&self, url: &str) -> Result<FetchedDocument, FetchError> {
        self.enter("fetch_document").map_err(|e| FetchError::Network(format!("{e:?}")))?;
        let mut state = self.state.borrow_mut();
        state.fetches += 1;
        state.documents.get(url).cloned().unwrap_or(Err(FetchError::Status(404)))
    }
}

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

impl SessionStore for MemoryStore {
    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        self.enter("create_session")?;
        self.state.borrow_mut().sessions.insert(session.id_hash.clone(), session.clone());
        Ok(())
    }
    async fn session(&self, id_hash: &str, now: u64) -> StoreResult<Option<(Session, User)>> {
        self.enter("session")?;
        let state = self.state.borrow();
        let Some(session) = state.sessions.get(id_hash).filter(|s| s.expires_at > now) else { return Ok(None) };
        Ok(state.user_by_id(&session.user_id).map(|u| (session.clone(), u)))
    }
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        self.enter("delete_session")?;
        self.state.borrow_mut().sessions.remove(id_hash);
        Ok(())
    }
    async fn sessions_of(&self, user_id: &str, now: u64) -> StoreResult<Vec<Session>> {
        self.enter("sessions_of")?;
        let state = self.state.borrow();
        let mut list: Vec<Session> = state.sessions.values().filter(|s| s.user_id == user_id && s.expires_at > now).cloned().collect();
        list.sort_by(|a, b| b.auth_time.cmp(&a.auth_time).then_with(|| a.id_hash.cmp(&b.id_hash)));
        Ok(list)
    }
    async fn delete_user_session(&self, user_id: &str, id_hash: &str) -> StoreResult<bool> {
        self.enter("delete_user_session")?;
        let mut state = self.state.borrow_mut();
        if state.sessions.get(id_hash).is_some_and(|s| s.user_id == user_id) {
            state.sessions.remove(id_hash);
            return Ok(true);
        }
        Ok(false)
    }
}

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
            + retain_counting(&mut state.throttles, |(th, updated)| th.locked_until > now || *updated + THROTTLE_MEMORY > now))
    }
}

/// Host tests sign in wasm's code path (`crypto::es256`).
impl PlatformSigner for MemoryStore {}
