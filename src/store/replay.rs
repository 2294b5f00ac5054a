//! Single-use identifiers of presented JWTs: a client assertion's `jti` (RFC 7523 §3 item 7)
//! and a DPoP proof's (RFC 9449 §11.1), each remembered until its token expires.

use super::*;

/// Identifiers seen before, each until it expires.
#[allow(async_fn_in_trait)]
pub trait ReplayStore {
    /// Records `key` until `expires_at` in one conditional write; false when it is already
    /// recorded and unexpired (a replay), and nothing changes then.
    async fn first_use(&self, key: &str, expires_at: u64, now: u64) -> StoreResult<bool>;
}
