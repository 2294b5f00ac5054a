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
        // One atomic upsert; concurrent failures each count. The lock follows `lock_until`:
        // from LOCK_AFTER_FAILURES on, LOCK_BASE_SECONDS doubling per failure, capped.
        let row = self
            .first::<ThrottleRow>(
                "INSERT INTO login_throttle (key, failures, locked_until, updated_at) VALUES (?1, 1, 0, ?2) \
                 ON CONFLICT (key) DO UPDATE SET failures = failures + 1, updated_at = ?2, \
                 locked_until = CASE WHEN failures + 1 >= ?3 \
                   THEN max(locked_until, ?2 + min(?5, ?4 << min(16, failures + 1 - ?3))) ELSE locked_until END \
                 RETURNING failures, locked_until",
                &[s(key), n(now), n(LOCK_AFTER_FAILURES as u64), n(LOCK_BASE_SECONDS), n(LOCK_MAX_SECONDS)],
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
