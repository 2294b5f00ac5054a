//! `SessionStore` on D1.

use super::*;

impl SessionStore for CloudflareStore {
    async fn create_session(&self, x: &Session) -> StoreResult<()> {
        self.run(
            "INSERT INTO sessions (id_hash, user_id, auth_time, expires_at) VALUES (?, ?, ?, ?)",
            &[s(&x.id_hash), s(&x.user_id), n(x.auth_time), n(x.expires_at)],
        )
        .await
        .map(|_| ())
    }
    async fn session(&self, id_hash: &str, now: u64) -> StoreResult<Option<(Session, User)>> {
        let row = self
            .first::<SessionRow>(
                "SELECT s.id_hash, s.auth_time, s.expires_at, u.* \
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.expires_at > ?",
                &[s(id_hash), n(now)],
            )
            .await?;
        Ok(row.map(|r| {
            let user = User::from(r.user);
            let session =
                Session { id_hash: r.id_hash, user_id: user.id.clone(), auth_time: r.auth_time as u64, expires_at: r.expires_at as u64 };
            (session, user)
        }))
    }
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        self.run("DELETE FROM sessions WHERE id_hash = ?", &[s(id_hash)]).await.map(|_| ())
    }
}

#[derive(Deserialize)]
struct SessionRow {
    id_hash: String,
    auth_time: f64,
    expires_at: f64,
    #[serde(flatten)]
    user: UserRow,
}
