//! `CodeStore`: codes in KV (with a TTL) and a copy in D1 (`pending_codes`) for the locations
//! KV has not reached yet; their single use in D1 (`consumed_codes`).

use super::refresh::{refresh_args, INSERT_REFRESH_IF_PREVIOUS_CHANGED};
use super::*;

#[derive(Deserialize)]
struct ConsumedRow {
    code_hash: String,
    family_id: Option<String>,
    access_jti: String,
    access_exp: f64,
    expires_at: f64,
}

impl CodeStore for CloudflareStore {
    async fn put_code(&self, code_hash: &str, code: &AuthorizationCode, ttl_seconds: u64) -> StoreResult<()> {
        // KV refuses expiration TTLs under 60 s; the code's own expiry is inside the value.
        let ttl = ttl_seconds.max(60);
        let json = serde_json::to_string(code).map_err(backend)?;
        // Both writes at once: one round trip of latency.
        let kv =
            async { self.codes()?.put(code_hash, json.as_str()).map_err(backend)?.expiration_ttl(ttl).execute().await.map_err(backend) };
        let args = [s(code_hash), s(&json), n(code.expires_at)];
        let d1 = self.run(
            "INSERT INTO pending_codes (code_hash, record, expires_at) VALUES (?, ?, ?) \
             ON CONFLICT (code_hash) DO UPDATE SET record = excluded.record, expires_at = excluded.expires_at",
            &args,
        );
        let (kv, d1) = crate::future::join2(kv, d1).await;
        kv.and(d1.map(|_| ()))
    }
    async fn code(&self, code_hash: &str) -> StoreResult<Option<AuthorizationCode>> {
        if let Some(code) = self.codes()?.get(code_hash).json::<AuthorizationCode>().await.map_err(backend)? {
            return Ok(Some(code));
        }
        // Not (yet) visible in KV at this location: the D1 copy.
        #[derive(Deserialize)]
        struct Pending {
            record: String,
        }
        match self.first::<Pending>("SELECT record FROM pending_codes WHERE code_hash = ?", &[s(code_hash)]).await? {
            Some(p) => serde_json::from_str(&p.record).map(Some).map_err(backend),
            None => Ok(None),
        }
    }
    async fn redeem_code(
        &self,
        c: &ConsumedCode,
        client_use: Option<ClientUse<'_>>,
        refresh: Option<&RefreshToken>,
    ) -> StoreResult<Redemption> {
        let mut batch = vec![self.stmt(
            "INSERT INTO consumed_codes (code_hash, family_id, access_jti, access_exp, expires_at) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (code_hash) DO NOTHING",
            &[s(&c.code_hash), opt(c.family_id.as_deref()), s(&c.access_jti), n(c.access_exp), n(c.expires_at)],
        )?];
        if let Some(t) = refresh {
            // Inserted only when the consumed-code insert above changed a row.
            batch.push(self.stmt(INSERT_REFRESH_IF_PREVIOUS_CHANGED, &refresh_args(t))?);
        }
        // A dynamic client has been used (a never-used one expires): one more statement in the
        // batch that is already there, no extra round trip.
        if let Some(used) = client_use {
            batch.push(self.stmt(
                "UPDATE clients SET first_used_at = ? WHERE client_id = ? AND first_used_at IS NULL",
                &[n(used.at), s(used.client_id)],
            )?);
        }
        let results = self.db()?.batch(batch).await.map_err(backend)?;
        if results.first().map(changes) == Some(1) {
            return Ok(Redemption::First);
        }
        let prev = self.first::<ConsumedRow>("SELECT * FROM consumed_codes WHERE code_hash = ?", &[s(&c.code_hash)]).await?.map(|r| {
            ConsumedCode {
                code_hash: r.code_hash,
                family_id: r.family_id,
                access_jti: r.access_jti,
                access_exp: r.access_exp as u64,
                expires_at: r.expires_at as u64,
            }
        });
        Ok(Redemption::Replayed(prev))
    }
}
