//! `Maintenance` on D1: the cron's purge of what has expired, in one batch.

use super::*;

impl Maintenance for CloudflareStore {
    async fn purge_expired(&self, now: u64) -> StoreResult<u64> {
        let results = self
            .db()?
            .batch(vec![
                self.stmt("DELETE FROM refresh_tokens WHERE expires_at <= ?", &[n(now)])?,
                self.stmt("DELETE FROM consumed_codes WHERE expires_at <= ?", &[n(now)])?,
                self.stmt("DELETE FROM revoked_access_tokens WHERE expires_at <= ?", &[n(now)])?,
                self.stmt(
                    "DELETE FROM login_throttle WHERE locked_until <= ? AND updated_at + ? <= ?",
                    &[n(now), n(THROTTLE_MEMORY), n(now)],
                )?,
                self.stmt("DELETE FROM sessions WHERE expires_at <= ?", &[n(now)])?,
                self.stmt("DELETE FROM ended_grants WHERE expires_at <= ?", &[n(now)])?,
                self.stmt("DELETE FROM pending_codes WHERE expires_at <= ?", &[n(now)])?,
                self.stmt("DELETE FROM challenges WHERE expires_at <= ?", &[n(now)])?,
                self.stmt("DELETE FROM used_jtis WHERE expires_at <= ?", &[n(now)])?,
            ])
            .await
            .map_err(backend)?;
        Ok(results.iter().map(|r| changes(r) as u64).sum())
    }
}
