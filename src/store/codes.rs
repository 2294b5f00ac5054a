//! Authorization codes: what a code stands for, the record of its one redemption, and `CodeStore`.

use super::*;
use serde::{Deserialize, Serialize};

/// What an authorization code stands for. Stored in KV under the SHA-256 of the code; the
/// user's claims are copied in so the exchange needs no user lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// The resources (RFC 8707) the authorization request named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    pub user_id: String,
    pub username: String,
    pub email: String,
    pub role: String,
    pub auth_time: u64,
    /// How the user signed in (RFC 8176), for the ID token's `amr` and `acr`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The code's own expiry (KV's TTL cannot go under 60 s, so it is checked here).
    pub expires_at: u64,
}

/// The record of a redeemed code: what its redemption issued, so that a replay can revoke it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedCode {
    pub code_hash: String,
    pub family_id: Option<String>,
    pub access_jti: String,
    pub access_exp: u64,
    pub expires_at: u64,
}

/// A dynamically registered client redeeming a code, to be marked as used with the redemption
/// (never-used ones are purged after a day). Other clients are never purged and pass `None`,
/// which costs no statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientUse<'a> {
    pub client_id: &'a str,
    /// When (the client's `first_used_at`, if this is its first use).
    pub at: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Redemption {
    /// This was the first redemption; the refresh token (if any) was stored with it.
    First,
    /// The code had been redeemed before: here is what that redemption issued.
    Replayed(Option<ConsumedCode>),
}

/// Authorization codes and their single use.
#[allow(async_fn_in_trait)]
pub trait CodeStore {
    async fn put_code(&self, code_hash: &str, code: &AuthorizationCode, ttl_seconds: u64) -> StoreResult<()>;
    async fn code(&self, code_hash: &str) -> StoreResult<Option<AuthorizationCode>>;
    /// Marks a code consumed with one conditional write, storing `refresh` (and marking
    /// `client_use`'s client as used) in the same transaction only when this is the first
    /// redemption.
    async fn redeem_code(
        &self,
        consumed: &ConsumedCode,
        client_use: Option<ClientUse<'_>>,
        refresh: Option<&RefreshToken>,
    ) -> StoreResult<Redemption>;
}
