//! A short-lived cache of client records, kept per isolate by the Cloudflare store, so that a
//! token request from a known client needs no D1 read to authenticate it (docs/SCALE.md).
//!
//! What a cached copy can get wrong, and for how long (at most the TTL, `CLIENT_CACHE_TTL`):
//! - a deleted or deactivated client, an old secret or a narrowed grant/scope list may still be
//!   accepted by *other* isolates; the isolate that made the change forgets its entry at once;
//! - nothing else: a copy that fails authentication is never the last word (the core then reads
//!   the client fresh), so a new secret, a re-activation or a new client works immediately.
//!   Access tokens of a deactivated client stop introspecting as active at once (that check
//!   reads D1, `RefreshStore::access_token_usable`).

use super::Client;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;

/// Entries kept at most; the cache is emptied when full (clients are few, so this is rare and
/// bounds memory against lookups of many distinct ids).
pub const MAX_ENTRIES: usize = 1024;

#[derive(Default)]
pub struct ClientCache {
    entries: RefCell<HashMap<String, (Client, u64)>>,
    /// Bumped by every `forget`: a read that began before a change must not store what it read
    /// after the change (requests of one isolate interleave at their awaits).
    generation: Cell<u64>,
}

impl ClientCache {
    /// The client stored at most `ttl` seconds before `now`.
    pub fn get(&self, client_id: &str, now: u64, ttl: u64) -> Option<Client> {
        let entries = self.entries.borrow();
        let (client, stored) = entries.get(client_id)?;
        (now < stored.saturating_add(ttl) && now >= *stored).then(|| client.clone())
    }

    /// What to pass to `put` for a read that starts now.
    pub fn generation(&self) -> u64 {
        self.generation.get()
    }

    /// Stores a client read since `generation`, unless something was forgotten in between.
    pub fn put(&self, client: &Client, now: u64, generation: u64) {
        if generation != self.generation.get() {
            return;
        }
        let mut entries = self.entries.borrow_mut();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&client.client_id) {
            entries.clear();
        }
        entries.insert(client.client_id.clone(), (client.clone(), now));
    }

    pub fn forget(&self, client_id: &str) {
        self.generation.set(self.generation.get().wrapping_add(1));
        self.entries.borrow_mut().remove(client_id);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.borrow().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(id: &str) -> Client {
        Client {
            client_id: id.into(),
            client_secret_hash: None,
            client_name: id.into(),
            client_type: crate::store::ClientType::Public,
            token_endpoint_auth_method: crate::store::AuthMethod::None,
            grant_types: vec![],
            redirect_uris: vec![],
            post_logout_redirect_uris: vec![],
            response_types: vec![],
            scopes: vec![],
            id_token_signed_response_alg: "ES256".into(),
            dynamic: false,
            registration_token_hash: None,
            client_uri: None,
            metadata_expires_at: None,
            require_mfa: false,
            key_binding: Default::default(),
            client_secret_sealed: None,
            is_active: true,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn entries_expire_after_the_ttl_and_can_be_forgotten() {
        let cache = ClientCache::default();
        cache.put(&client("a"), 100, cache.generation());
        assert_eq!(cache.get("a", 100, 30).map(|c| c.client_id), Some("a".into()));
        assert!(cache.get("a", 129, 30).is_some());
        assert!(cache.get("a", 130, 30).is_none(), "expired at stored + ttl");
        assert!(cache.get("a", 100, 0).is_none(), "ttl 0 disables the cache");
        assert!(cache.get("a", 99, 30).is_none(), "a clock that went back does not extend an entry");
        cache.forget("a");
        assert!(cache.get("a", 100, 30).is_none());
        assert!(cache.get("b", 100, 30).is_none());
    }

    #[test]
    fn a_read_that_began_before_a_change_is_not_stored() {
        let cache = ClientCache::default();
        let before = cache.generation();
        cache.forget("a"); // a write through the API, while the read was in flight
        cache.put(&client("a"), 100, before);
        assert!(cache.get("a", 100, 30).is_none());
        cache.put(&client("a"), 100, cache.generation());
        assert!(cache.get("a", 100, 30).is_some());
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = ClientCache::default();
        for i in 0..MAX_ENTRIES {
            cache.put(&client(&format!("c{i}")), 1, cache.generation());
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
        cache.put(&client("c0"), 2, cache.generation()); // an existing id replaces its entry
        assert_eq!(cache.len(), MAX_ENTRIES);
        cache.put(&client("new"), 2, cache.generation());
        assert_eq!(cache.len(), 1);
    }
}
