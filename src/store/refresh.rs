//! Grants: refresh tokens (rotation, families, the reuse interval), the access-token check, and `RefreshStore`.

use super::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshToken {
    pub token_hash: String,
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    pub scope: String,
    /// The resources (RFC 8707) the grant holds, copied into every rotation.
    #[serde(default)]
    pub resources: Vec<String>,
    pub auth_time: u64,
    pub issued_at: u64,
    /// This token's expiry: the sliding lifetime from its issue, never past the family's end.
    pub expires_at: u64,
    /// The absolute end of the family (grant), copied into every rotation: however often it
    /// rotates, no token of the family outlives it.
    pub family_expires_at: u64,
    /// The DPoP key (RFC 7638 thumbprint) every token of the family is bound to (RFC 9449 §5):
    /// a refresh needs a proof with that key. Public clients' families only.
    #[serde(default)]
    pub jkt: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefreshStatus {
    Active,
    Rotated,
    Revoked,
}

/// A refresh token as found, with its status and its user (absent when the user was deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    pub token: RefreshToken,
    pub status: RefreshStatus,
    /// When it was first rotated (`None` while active, and for tokens rotated before the reuse
    /// interval existed).
    pub rotated_at: Option<u64>,
    pub user: Option<User>,
}

impl RefreshRecord {
    /// Active and unexpired at `now`.
    pub fn is_live(&self, now: u64) -> bool {
        self.status == RefreshStatus::Active && self.token.expires_at > now
    }

    /// Rotated less than `reuse_interval` seconds before `now` (docs/API.md "Reuse interval"):
    /// presented again by its own client, it is answered from its family, not taken for theft.
    /// A zero interval is strict: no rotated token is ever usable.
    pub fn within_reuse_interval(&self, now: u64, reuse_interval: u64) -> bool {
        self.status == RefreshStatus::Rotated && reuse_interval > 0 && self.rotated_at.is_some_and(|at| now < at + reuse_interval)
    }

    /// Whether `client_id` may rotate this token at `now`: unexpired, issued to that client, its
    /// user still exists and is enabled, and it is active or within the reuse interval. The
    /// memory store's rule for `rotate_refresh_for`; D1 states the same in SQL, as the `WHERE`
    /// of that rotation's update.
    pub fn usable_by(&self, client_id: &str, now: u64, reuse_interval: u64) -> bool {
        let rotated_just_now = self.within_reuse_interval(now, reuse_interval) && self.token.expires_at > now;
        (self.is_live(now) || rotated_just_now) && self.token.client_id == client_id && self.user.as_ref().is_some_and(|u| !u.disabled)
    }
}

/// What a rotation sets on the new refresh token; the rest is copied from the old one. The
/// store caps `expires_at` at the family's `family_expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefresh {
    pub token_hash: String,
    pub issued_at: u64,
    pub expires_at: u64,
    /// The DPoP key the refresh request proved (RFC 9449 §5): a family bound to a key rotates
    /// only for that key.
    pub jkt: Option<String>,
}

/// The outcome of `RefreshStore::rotate_refresh_for`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// This call rotated the token (and stored the new one).
    pub rotated: bool,
    /// The old token as it stands now, with its user; `None` when there is no such token.
    pub record: Option<RefreshRecord>,
}

/// What the store checks of an access token (see `RefreshStore::access_token_usable`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessCheck {
    pub jti: String,
    pub client_id: String,
    /// Absent for a client acting for itself (`client_credentials`), which forms no grant.
    pub grant_id: Option<String>,
    /// The user the token is for; absent for a client acting for itself.
    pub user_id: Option<String>,
    pub issued_at: u64,
}

/// Grants: refresh tokens (rotation, families) and the revocation of access tokens.
#[allow(async_fn_in_trait)]
pub trait RefreshStore {
    async fn insert_refresh(&self, token: &RefreshToken) -> StoreResult<()>;
    async fn refresh(&self, token_hash: &str) -> StoreResult<Option<RefreshRecord>>;
    /// In one transaction, one conditional write: rotates `old_hash` if `RefreshRecord::usable_by`
    /// holds (active, or rotated less than `reuse_interval` seconds ago; unexpired; issued to
    /// `client_id`; its user exists), into a new token of the same family, user, scope,
    /// resources and auth_time (the first rotation's time is kept); and reads the old token back
    /// (after the change, with its user).
    async fn rotate_refresh_for(
        &self,
        old_hash: &str,
        client_id: &str,
        new: &NewRefresh,
        now: u64,
        reuse_interval: u64,
    ) -> StoreResult<Rotation>;
    /// Ends a grant (its refresh family's id): revokes its refresh tokens and records it as
    /// ended until `until`, after which no access token it minted can still be unexpired.
    /// One transaction.
    async fn end_grant(&self, grant_id: &str, until: u64) -> StoreResult<()>;

    async fn revoke_access(&self, jti: &str, expires_at: u64) -> StoreResult<()>;
    /// Whether an access token may still be used, asked in one query: its `jti` is not
    /// revoked, its grant has not ended, its client exists, is active and has not had its
    /// grants ended since the token was issued, and (for a user's token) the same of its user.
    async fn access_token_usable(&self, token: &AccessCheck) -> StoreResult<bool>;
}
