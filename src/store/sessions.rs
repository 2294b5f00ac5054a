//! Browser sessions and `SessionStore`.

use super::*;

/// A browser session: who signed in, when (OIDC `auth_time`) and how (RFC 8176 `amr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_hash: String,
    pub user_id: String,
    pub auth_time: u64,
    pub expires_at: u64,
    /// The authentication methods of the sign-in (`pwd`, `otp`, `mfa`, `pop`, `user`).
    pub amr: Vec<String>,
    /// The browser's `User-Agent` when it signed in (at most 200 characters), for the account
    /// page's list of sessions.
    pub user_agent: String,
}

/// Browser sessions.
#[allow(async_fn_in_trait)]
pub trait SessionStore {
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    /// The unexpired session with this id hash, with its user (who must still exist).
    async fn session(&self, id_hash: &str, now: u64) -> StoreResult<Option<(Session, User)>>;
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()>;
    /// The user's unexpired sessions, most recent first.
    async fn sessions_of(&self, user_id: &str, now: u64) -> StoreResult<Vec<Session>>;
    /// Ends one of the user's sessions; false when the user has no such session.
    async fn delete_user_session(&self, user_id: &str, id_hash: &str) -> StoreResult<bool>;
}
