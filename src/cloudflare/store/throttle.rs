//! `ThrottleStore` on D1: failed sign-ins counted per key in one atomic upsert.

use super::*;

impl ThrottleStore for CloudflareStore {
    async fn reserve_attempt(&self, key: &str, now: u64, curve: &[u64]) -> StoreResult<Reservation> {
        // One atomic upsert, before the password is checked: concurrent attempts each count
        // (the count is incremented in SQL, never read and written back), and the `WHERE` of the
        // update refuses any attempt while a lock is in force, so no burst gets past the budget.
        // The new count is 1 for a new key or one whose last attempt is older than ?4 (counts
        // decay), else one more. Its lock is that count's entry of `curve` (?3, a JSON array
        // clamped to its last entry: `oauth::lockout::lock_curve`), so the curve is stated only
        // in Rust; `max` keeps a longer lock already recorded. RETURNING yields the row only when
        // the attempt was counted; the second statement reads the state either way.
        let curve = serde_json::to_string(curve).map_err(backend)?;
        let results = self
            .db()?
            .batch(vec![
                self.stmt(
                    "INSERT INTO login_throttle (key, failures, locked_until, updated_at) VALUES (?1, 1, json_extract(?3, '$[1]'), ?2) \
                     ON CONFLICT (key) DO UPDATE SET \
                     failures = CASE WHEN updated_at + ?4 <= ?2 THEN 1 ELSE failures + 1 END, \
                     locked_until = max(locked_until, json_extract(?3, '$[' || \
                       min(CASE WHEN updated_at + ?4 <= ?2 THEN 1 ELSE failures + 1 END, json_array_length(?3) - 1) || ']')), \
                     updated_at = ?2 \
                     WHERE locked_until <= ?2 \
                     RETURNING failures, locked_until",
                    &[s(key), n(now), s(&curve), n(THROTTLE_MEMORY)],
                )?,
                self.stmt("SELECT failures, locked_until FROM login_throttle WHERE key = ?1", &[s(key)])?,
            ])
            .await
            .map_err(backend)?;
        let first_row = |i: usize| -> StoreResult<Option<Throttle>> {
            match results.get(i) {
                Some(r) => Ok(r.results::<ThrottleRow>().map_err(backend)?.into_iter().next().map(Throttle::from)),
                None => Ok(None),
            }
        };
        Ok(match first_row(0)? {
            Some(throttle) => Reservation { granted: true, throttle },
            None => Reservation { granted: false, throttle: first_row(1)?.unwrap_or_default() },
        })
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
