//! `ReplayStore` on D1: one conditional insert per presented identifier. An expired row the
//! cron has not purged yet is taken over by the same statement.

use super::*;

impl ReplayStore for CloudflareStore {
    async fn first_use(&self, key: &str, expires_at: u64, now: u64) -> StoreResult<bool> {
        let sql = "INSERT INTO used_jtis (key, expires_at) VALUES (?, ?) \
                   ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE used_jtis.expires_at <= ?";
        Ok(self.run(sql, &[s(key), n(expires_at), n(now)]).await? == 1)
    }
}
