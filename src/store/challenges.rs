//! Ceremony state (a passkey challenge, a pending second step) and `ChallengeStore`.

use super::*;
use serde::{Deserialize, Serialize};

/// What a ceremony challenge is for (`Challenge::kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChallengeKind {
    /// The password was right; the authenticator code is next.
    SecondFactor,
    /// The password was right, the client demands two factors, and the person has none: set an
    /// authenticator app up now.
    Enroll,
    /// Both steps are done (after setting an app up, the recovery codes were shown): finish.
    Verified,
    /// A passkey registration on the account page.
    PasskeyRegistration,
    /// A passkey sign-in.
    PasskeyAuthentication,
    /// A third-party client's consent question, recording the request it is for.
    Consent,
}

impl ChallengeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SecondFactor => "second_factor",
            Self::Enroll => "enroll",
            Self::Verified => "verified",
            Self::PasskeyRegistration => "passkey_registration",
            Self::PasskeyAuthentication => "passkey_authentication",
            Self::Consent => "consent",
        }
    }
}

/// Short-lived, single-use ceremony state (a passkey challenge, a sign-in waiting for its
/// second factor), keyed by the SHA-256 of a random value the browser holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub id_hash: String,
    pub kind: ChallengeKind,
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
