//! `SessionStore` on D1.

use super::*;

impl SessionStore for CloudflareStore {
    async fn create_session(&self, x: &Session) -> StoreResult<()> {
        self.run(
            "INSERT INTO sessions (id_hash, user_id, auth_time, expires_at, amr, user_agent) VALUES (?, ?, ?, ?, ?, ?)",
            &[s(&x.id_hash), s(&x.user_id), n(x.auth_time), n(x.expires_at), s(&x.amr.join(" ")), s(&x.user_agent)],
        )
        .await
        .map(|_| ())
    }
    async fn session(&self, id_hash: &str, now: u64) -> StoreResult<Option<(Session, User)>> {
        // The session and its user as one `JsonRow`, read as each struct's columns.
        let Some(row) = self
            .first::<JsonRow>(
                "SELECT json_object('id_hash', s.id_hash, 'auth_time', s.auth_time, 'expires_at', s.expires_at, 'amr', s.amr, \
                 'user_agent', s.user_agent, 'id', u.id, 'username', u.username, 'email', u.email, 'password_hash', u.password_hash, \
                 'role', u.role, 'created_at', u.created_at, 'disabled', u.disabled) AS row \
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.expires_at > ?",
                &[s(id_hash), n(now)],
            )
            .await?
        else {
            return Ok(None);
        };
        let user = User::from(row.parse::<UserRow>()?);
        Ok(Some((row.parse::<SessionColumns>()?.into_session(&user.id), user)))
    }
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        self.run("DELETE FROM sessions WHERE id_hash = ?", &[s(id_hash)]).await.map(|_| ())
    }
    async fn sessions_of(&self, user_id: &str, now: u64) -> StoreResult<Vec<Session>> {
        let rows = self
            .all::<SessionColumns>(
                "SELECT id_hash, auth_time, expires_at, amr, user_agent FROM sessions WHERE user_id = ? AND expires_at > ? \
                 ORDER BY auth_time DESC, id_hash LIMIT 100",
                &[s(user_id), n(now)],
            )
            .await?;
        Ok(rows.into_iter().map(|r| r.into_session(user_id)).collect())
    }
    async fn delete_user_session(&self, user_id: &str, id_hash: &str) -> StoreResult<bool> {
        Ok(self.run("DELETE FROM sessions WHERE id_hash = ? AND user_id = ?", &[s(id_hash), s(user_id)]).await? == 1)
    }
}

#[derive(Deserialize)]
struct SessionColumns {
    id_hash: String,
    auth_time: f64,
    expires_at: f64,
    #[serde(default)]
    amr: String,
    #[serde(default)]
    user_agent: String,
}

impl SessionColumns {
    fn into_session(self, user_id: &str) -> Session {
        Session {
            id_hash: self.id_hash,
            user_id: user_id.to_string(),
            auth_time: self.auth_time as u64,
            expires_at: self.expires_at as u64,
            amr: self.amr.split(' ').filter(|m| !m.is_empty()).map(str::to_string).collect(),
            user_agent: self.user_agent,
        }
    }
}
