//! Ceremony state (a passkey challenge, a pending second step) and `ChallengeStore`.

use super::*;

/// Short-lived, single-use ceremony state (a passkey challenge, a sign-in waiting for its
/// second factor), keyed by the SHA-256 of a random value the browser holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub id_hash: String,
    /// What it is for (`oauth::challenge::Kind`).
    pub kind: String,
    pub user_id: Option<String>,
    /// SHA-256 of the browser's anti-CSRF cookie it was issued to.
    pub binding: String,
    /// Kind-specific data (JSON).
    pub data: String,
    pub expires_at: u64,
}

/// Ceremony state (`Challenge`).
#[allow(async_fn_in_trait)]
pub trait ChallengeStore {
    async fn put_challenge(&self, challenge: &Challenge) -> StoreResult<()>;
    /// The unexpired challenge, left in place.
    async fn challenge(&self, id_hash: &str, now: u64) -> StoreResult<Option<Challenge>>;
    /// The unexpired challenge, deleted in the same statement: of concurrent takers one gets it.
    async fn take_challenge(&self, id_hash: &str, now: u64) -> StoreResult<Option<Challenge>>;
}
