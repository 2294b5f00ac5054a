//! `ConsentStore` on D1.

use super::*;

impl ConsentStore for CloudflareStore {
    async fn consent(&self, user_id: &str, client_id: &str) -> StoreResult<Option<String>> {
        #[derive(Deserialize)]
        struct Row {
            scope: String,
        }
        let row = self.first::<Row>("SELECT scope FROM consents WHERE user_id = ? AND client_id = ?", &[s(user_id), s(client_id)]).await?;
        Ok(row.map(|r| r.scope))
    }
    async fn save_consent(&self, user_id: &str, client_id: &str, scope: &str, now: u64) -> StoreResult<()> {
        self.run(
            "INSERT INTO consents (user_id, client_id, scope, granted_at) VALUES (?, ?, ?, ?) \
             ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, granted_at = excluded.granted_at",
            &[s(user_id), s(client_id), s(scope), n(now)],
        )
        .await
        .map(|_| ())
    }
}
