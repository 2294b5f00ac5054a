//! An in-memory store for host tests (every concern's trait, so a `Store`, and the platform's:
//! host tests use it as both), with the same conditional-write semantics as D1. It can be told
//! to fail like a broken backend (`StorageMode`), so that the protocol's storage-failure paths
//! can be tested on the host. This file holds the state and its helpers; each concern's trait is
//! implemented in the file of its name, as in `store/` and `cloudflare/store/`.

mod audit;
mod clients;
mod codes;
mod consents;
mod factors;
mod maintenance;
mod platform;
mod refresh;
mod replay;
mod sessions;
#[cfg(test)]
mod tests;
mod throttle;
mod users;

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
    /// Single-use identifiers (`ReplayStore`), until when each is kept.
    used_jtis: HashMap<String, u64>,
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
