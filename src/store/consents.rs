//! Consent decisions for third-party clients and `ConsentStore`.

use super::*;

/// A remembered consent, as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub client_id: String,
    pub client_name: String,
    /// Space-separated.
    pub scope: String,
    pub granted_at: u64,
}

/// What a user has allowed a client: scopes, and the resources (RFC 8707) its tokens may be for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowed {
    /// Space-separated.
    pub scope: String,
    pub resources: Vec<String>,
}

/// Consent decisions (third-party clients): what a user has allowed a client.
#[allow(async_fn_in_trait)]
pub trait ConsentStore {
    /// What `user_id` has allowed `client_id`, if anything.
    async fn consent(&self, user_id: &str, client_id: &str) -> StoreResult<Option<Allowed>>;
    /// Remembers that `user_id` allowed `client_id` this (replacing what was remembered).
    async fn save_consent(&self, user_id: &str, client_id: &str, allowed: &Allowed, now: u64) -> StoreResult<()>;
    /// The user's consents to clients that still exist, most recent first.
    async fn consents_of(&self, user_id: &str) -> StoreResult<Vec<Consent>>;
    /// Withdraws the user's consent to the client and, in the same transaction, ends every grant
    /// of that user with that client (its refresh tokens revoked, its grants listed as ended
    /// until `until`, so their access tokens stop too). False when there was no consent.
    async fn withdraw_consent(&self, user_id: &str, client_id: &str, until: u64) -> StoreResult<bool>;
}
