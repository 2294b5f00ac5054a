//! Accounts: the user record, a page query, and `UserStore`.

use super::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: u64,
    /// A disabled user cannot sign in by any path.
    #[serde(default)]
    pub disabled: bool,
}

/// A page of `UserStore::users`: users whose username or email starts with `prefix`, in
/// username order, after the username `after`, at most `limit`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    pub prefix: Option<String>,
    pub after: Option<String>,
    pub limit: u32,
}

/// Accounts.
#[allow(async_fn_in_trait)]
pub trait UserStore {
    async fn insert_user(&self, user: &User) -> StoreResult<()>;
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>>;
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>>;
    async fn set_password_hash(&self, user_id: &str, hash: &str) -> StoreResult<()>;
    /// A page of users (see `UserQuery`).
    async fn users(&self, query: &UserQuery) -> StoreResult<Vec<User>>;
    /// Writes a user's email, role, password hash and disabled flag; false when there is no
    /// such user. A taken email is `Conflict("email")`.
    async fn update_user(&self, user: &User) -> StoreResult<bool>;
    /// Deletes the user with their sessions and refresh tokens; false when there was none.
    async fn delete_user(&self, user_id: &str) -> StoreResult<bool>;
    /// Ends everything the user is signed in with, in one transaction: their browser sessions
    /// (except `keep_session`, an id hash), their refresh tokens, and every access token issued
    /// for them at or before `at` (`AccessCheck`).
    async fn end_user_grants(&self, user_id: &str, at: u64, keep_session: Option<&str>) -> StoreResult<()>;
}
