//! `UserStore` on D1.

use super::*;

impl UserStore for CloudflareStore {
    async fn insert_user(&self, u: &User) -> StoreResult<()> {
        self.run(
            "INSERT INTO users (id, username, email, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            &[s(&u.id), s(&u.username), s(&u.email), s(&u.password_hash), s(&u.role), n(u.created_at)],
        )
        .await
        .map(|_| ())
    }
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        Ok(self.first::<UserRow>("SELECT * FROM users WHERE username = ?", &[s(username)]).await?.map(User::from))
    }
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>> {
        Ok(self.first::<UserRow>("SELECT * FROM users WHERE id = ?", &[s(id)]).await?.map(User::from))
    }
    async fn set_password_hash(&self, user_id: &str, hash: &str) -> StoreResult<()> {
        self.run("UPDATE users SET password_hash = ? WHERE id = ?", &[s(hash), s(user_id)]).await.map(|_| ())
    }
}
