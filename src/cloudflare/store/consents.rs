//! `ConsentStore` on D1.

use super::*;

impl ConsentStore for CloudflareStore {
    async fn consent(&self, user_id: &str, client_id: &str) -> StoreResult<Option<Allowed>> {
        #[derive(Deserialize)]
        struct Row {
            scope: String,
            /// Space-separated (a resource is a URI, which holds no space).
            resources: String,
        }
        let row = self
            .first::<Row>("SELECT scope, resources FROM consents WHERE user_id = ? AND client_id = ?", &[s(user_id), s(client_id)])
            .await?;
        Ok(row
            .map(|r| Allowed { scope: r.scope, resources: r.resources.split(' ').filter(|v| !v.is_empty()).map(str::to_string).collect() }))
    }
    async fn save_consent(&self, user_id: &str, client_id: &str, allowed: &Allowed, now: u64) -> StoreResult<()> {
        self.run(
            "INSERT INTO consents (user_id, client_id, scope, resources, granted_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (user_id, client_id) DO UPDATE SET scope = excluded.scope, resources = excluded.resources, granted_at = excluded.granted_at",
            &[s(user_id), s(client_id), s(&allowed.scope), s(&allowed.resources.join(" ")), n(now)],
        )
        .await
        .map(|_| ())
    }
    async fn consents_of(&self, user_id: &str) -> StoreResult<Vec<Consent>> {
        #[derive(Deserialize)]
        struct Row {
            client_id: String,
            client_name: String,
            scope: String,
            granted_at: f64,
        }
        let rows = self
            .all::<Row>(
                "SELECT c.client_id, k.client_name, c.scope, c.granted_at FROM consents c JOIN clients k ON k.client_id = c.client_id \
                 WHERE c.user_id = ? ORDER BY c.granted_at DESC, c.client_id LIMIT 200",
                &[s(user_id)],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| Consent { client_id: r.client_id, client_name: r.client_name, scope: r.scope, granted_at: r.granted_at as u64 })
            .collect())
    }
    async fn withdraw_consent(&self, user_id: &str, client_id: &str, until: u64) -> StoreResult<bool> {
        // One transaction: the consent goes, the pair's grants are listed as ended (their access
        // tokens stop) and their refresh tokens revoked.
        let results = self
            .db()?
            .batch(vec![
                self.stmt("DELETE FROM consents WHERE user_id = ? AND client_id = ?", &[s(user_id), s(client_id)])?,
                self.stmt(
                    "INSERT INTO ended_grants (grant_id, expires_at) SELECT DISTINCT family_id, ? FROM refresh_tokens \
                     WHERE user_id = ? AND client_id = ? \
                     ON CONFLICT (grant_id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
                    &[n(until), s(user_id), s(client_id)],
                )?,
                self.stmt("UPDATE refresh_tokens SET status = 'revoked' WHERE user_id = ? AND client_id = ?", &[s(user_id), s(client_id)])?,
            ])
            .await
            .map_err(backend)?;
        Ok(results.first().map(changes) == Some(1))
    }
}
