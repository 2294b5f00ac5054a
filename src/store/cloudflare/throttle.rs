//! `ThrottleStore` on D1: failed sign-ins counted per key in one atomic upsert.

use super::*;

impl ThrottleStore for CloudflareStore {
    async fn throttle(&self, key: &str) -> StoreResult<Throttle> {
        Ok(self
            .first::<ThrottleRow>("SELECT failures, locked_until FROM login_throttle WHERE key = ?", &[s(key)])
            .await?
            .map(Throttle::from)
            .unwrap_or_default())
    }
    async fn record_failure(&self, key: &str, now: u64) -> StoreResult<Throttle> {
        // One atomic upsert; concurrent failures each count (the count is incremented here, never
        // read and written back). The lock is `lock_until` of the new count, looked up in
        // `lock_curve` (?3, a JSON array clamped to its last entry), so the curve is stated only
        // in Rust; `max` keeps a longer lock already in force. A new row has 1 failure.
        let curve = serde_json::to_string(&lock_curve(now)).map_err(backend)?;
        let row = self
            .first::<ThrottleRow>(
                "INSERT INTO login_throttle (key, failures, locked_until, updated_at) VALUES (?1, 1, json_extract(?3, '$[1]'), ?2) \
                 ON CONFLICT (key) DO UPDATE SET failures = failures + 1, updated_at = ?2, \
                 locked_until = max(locked_until, json_extract(?3, '$[' || min(failures + 1, json_array_length(?3) - 1) || ']')) \
                 RETURNING failures, locked_until",
                &[s(key), n(now), s(&curve)],
            )
            .await?;
        Ok(row.map(Throttle::from).unwrap_or_default())
    }
    async fn clear_failures(&self, key: &str) -> StoreResult<()> {
        self.run("DELETE FROM login_throttle WHERE key = ?", &[s(key)]).await.map(|_| ())
    }
}

#[derive(Deserialize)]
struct ThrottleRow {
    failures: f64,
    locked_until: f64,
}

impl From<ThrottleRow> for Throttle {
    fn from(r: ThrottleRow) -> Self {
        Throttle { failures: r.failures as u32, locked_until: r.locked_until as u64 }
    }
}
