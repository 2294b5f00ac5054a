//! `AuditStore` on D1: events appended in one batch, read newest first by id.

use super::*;

#[derive(Deserialize)]
struct EventRow {
    id: f64,
    at: f64,
    #[serde(rename = "type")]
    kind: String,
    user_id: Option<String>,
    client_id: Option<String>,
    address: Option<String>,
    detail: String,
}

impl AuditStore for CloudflareStore {
    async fn record_events(&self, events: &[AuditEvent]) -> StoreResult<()> {
        if events.is_empty() {
            return Ok(());
        }
        let mut batch = Vec::with_capacity(events.len());
        for e in events {
            batch.push(self.stmt(
                "INSERT INTO audit_events (at, type, user_id, client_id, address, detail) VALUES (?, ?, ?, ?, ?, ?)",
                &[
                    n(e.at),
                    s(&e.kind),
                    opt(e.user_id.as_deref()),
                    opt(e.client_id.as_deref()),
                    opt(e.address.as_deref()),
                    s(&e.detail.to_string()),
                ],
            )?);
        }
        self.db()?.batch(batch).await.map_err(backend)?;
        Ok(())
    }
    async fn events(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEvent>> {
        let before = q.before.map(|b| JsValue::from_f64(b as f64)).unwrap_or(JsValue::NULL);
        let rows = self
            .all::<EventRow>(
                "SELECT * FROM audit_events WHERE (?1 IS NULL OR user_id = ?1) AND (?2 IS NULL OR type = ?2) \
                 AND (?3 IS NULL OR id < ?3) ORDER BY id DESC LIMIT ?4",
                &[opt(q.user_id.as_deref()), opt(q.kind.as_deref()), before, n(q.limit.into())],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| AuditEvent {
                id: r.id as u64,
                at: r.at as u64,
                kind: r.kind,
                user_id: r.user_id,
                client_id: r.client_id,
                address: r.address,
                detail: serde_json::from_str(&r.detail).unwrap_or(serde_json::Value::Null),
            })
            .collect())
    }
    async fn purge_events(&self, before: u64) -> StoreResult<u64> {
        self.run("DELETE FROM audit_events WHERE at <= ?", &[n(before)]).await.map(|c| c as u64)
    }
}
