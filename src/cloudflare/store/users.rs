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
    async fn users(&self, q: &UserQuery) -> StoreResult<Vec<User>> {
        // A prefix match with LIKE: `%`, `_` and the escape character itself are escaped.
        let pattern = q.prefix.as_deref().map(|p| format!("{}%", p.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")));
        self.all::<UserRow>(
            "SELECT * FROM users WHERE (?1 IS NULL OR username LIKE ?1 ESCAPE '\\' OR email LIKE ?1 ESCAPE '\\') \
             AND (?2 IS NULL OR username > ?2) ORDER BY username LIMIT ?3",
            &[opt(pattern.as_deref()), opt(q.after.as_deref()), n(q.limit.into())],
        )
        .await
        .map(|rows| rows.into_iter().map(User::from).collect())
    }
    async fn update_user(&self, u: &User) -> StoreResult<bool> {
        let changed = self
            .run(
                "UPDATE users SET email = ?, role = ?, password_hash = ?, disabled = ? WHERE id = ?",
                &[s(&u.email), s(&u.role), s(&u.password_hash), n(u.disabled.into()), s(&u.id)],
            )
            .await?;
        Ok(changed == 1)
    }
    async fn delete_user(&self, user_id: &str) -> StoreResult<bool> {
        let results = self
            .db()?
            .batch(vec![
                self.stmt("DELETE FROM users WHERE id = ?", &[s(user_id)])?,
                self.stmt("DELETE FROM sessions WHERE user_id = ?", &[s(user_id)])?,
                self.stmt("UPDATE refresh_tokens SET status = 'revoked' WHERE user_id = ?", &[s(user_id)])?,
                self.stmt("DELETE FROM consents WHERE user_id = ?", &[s(user_id)])?,
                self.stmt("DELETE FROM totp_factors WHERE user_id = ?", &[s(user_id)])?,
                self.stmt("DELETE FROM recovery_codes WHERE user_id = ?", &[s(user_id)])?,
                self.stmt("DELETE FROM passkeys WHERE user_id = ?", &[s(user_id)])?,
                self.stmt("DELETE FROM challenges WHERE user_id = ?", &[s(user_id)])?,
            ])
            .await
            .map_err(backend)?;
        Ok(results.first().map(changes) == Some(1))
    }
    async fn end_user_grants(&self, user_id: &str, at: u64, keep_session: Option<&str>) -> StoreResult<()> {
        self.db()?
            .batch(vec![
                self.stmt("UPDATE users SET grants_ended_at = max(grants_ended_at, ?) WHERE id = ?", &[n(at), s(user_id)])?,
                self.stmt("DELETE FROM sessions WHERE user_id = ? AND (?2 IS NULL OR id_hash <> ?2)", &[s(user_id), opt(keep_session)])?,
                self.stmt("UPDATE refresh_tokens SET status = 'revoked' WHERE user_id = ? AND status <> 'revoked'", &[s(user_id)])?,
            ])
            .await
            .map_err(backend)?;
        Ok(())
    }
}
