//! `FactorStore` and `ChallengeStore` on D1: authenticator apps, recovery codes, passkeys and
//! ceremony challenges. Every single-use rule is one conditional statement.

use super::*;

#[derive(Deserialize)]
struct TotpRow {
    user_id: String,
    secret: String,
    confirmed_at: Option<f64>,
    last_step: f64,
    created_at: f64,
}

#[derive(Deserialize)]
struct PasskeyRow {
    credential_id: String,
    user_id: String,
    name: String,
    public_key: String,
    algorithm: f64,
    sign_count: f64,
    created_at: f64,
    last_used_at: Option<f64>,
}

impl From<PasskeyRow> for Passkey {
    fn from(r: PasskeyRow) -> Self {
        Passkey {
            credential_id: r.credential_id,
            user_id: r.user_id,
            name: r.name,
            public_key: r.public_key,
            algorithm: r.algorithm as i64,
            sign_count: r.sign_count as u32,
            created_at: r.created_at as u64,
            last_used_at: r.last_used_at.map(|t| t as u64),
        }
    }
}

/// A passkey and its user, as `passkey()` selects them (two nested JSON objects: both tables
/// have a `created_at`).
#[derive(Deserialize)]
struct PasskeyWithUser {
    passkey: PasskeyRow,
    user: UserRow,
}

#[derive(Deserialize)]
struct ChallengeRow {
    id_hash: String,
    kind: ChallengeKind,
    user_id: Option<String>,
    binding: String,
    data: String,
    expires_at: f64,
}

impl From<ChallengeRow> for Challenge {
    fn from(r: ChallengeRow) -> Self {
        Challenge {
            id_hash: r.id_hash,
            kind: r.kind,
            user_id: r.user_id,
            binding: r.binding,
            data: r.data,
            expires_at: r.expires_at as u64,
        }
    }
}

#[derive(Deserialize)]
struct Count {
    n: f64,
}

impl FactorStore for CloudflareStore {
    async fn totp(&self, user_id: &str) -> StoreResult<Option<TotpFactor>> {
        let row = self
            .first::<TotpRow>(
                "SELECT user_id, secret, confirmed_at, last_step, created_at FROM totp_factors WHERE user_id = ?",
                &[s(user_id)],
            )
            .await?;
        Ok(row.map(|r| TotpFactor {
            user_id: r.user_id,
            sealed_secret: r.secret,
            confirmed: r.confirmed_at.is_some(),
            last_step: r.last_step as u64,
            created_at: r.created_at as u64,
        }))
    }
    async fn put_pending_totp(&self, f: &TotpFactor) -> StoreResult<bool> {
        let changed = self
            .run(
                "INSERT INTO totp_factors (user_id, secret, confirmed_at, last_step, created_at) VALUES (?, ?, NULL, 0, ?) \
                 ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, last_step = 0 \
                 WHERE totp_factors.confirmed_at IS NULL",
                &[s(&f.user_id), s(&f.sealed_secret), n(f.created_at)],
            )
            .await?;
        Ok(changed == 1)
    }
    async fn confirm_totp(&self, user_id: &str, step: u64, recovery_hashes: &[String], now: u64) -> StoreResult<bool> {
        // One batch (a transaction): the codes are inserted only if this statement's update
        // confirmed the app (`changes()` is the count of the statement just before), so a
        // concurrent confirmation that lost writes nothing. A pending app has no codes: turning
        // an app off deletes them.
        let hashes = serde_json::to_string(recovery_hashes).map_err(backend)?;
        let results = self
            .db()?
            .batch(vec![
                self.stmt(
                    "UPDATE totp_factors SET confirmed_at = ?, last_step = ? WHERE user_id = ? AND confirmed_at IS NULL",
                    &[n(now), n(step), s(user_id)],
                )?,
                self.stmt(
                    "INSERT INTO recovery_codes (user_id, code_hash) SELECT ?, value FROM json_each(?) WHERE changes() = 1",
                    &[s(user_id), s(&hashes)],
                )?,
            ])
            .await
            .map_err(backend)?;
        Ok(results.first().map(changes) == Some(1))
    }
    async fn use_totp_step(&self, user_id: &str, step: u64) -> StoreResult<bool> {
        let changed = self
            .run(
                "UPDATE totp_factors SET last_step = ? WHERE user_id = ? AND confirmed_at IS NOT NULL AND last_step < ?",
                &[n(step), s(user_id), n(step)],
            )
            .await?;
        Ok(changed == 1)
    }
    async fn delete_totp(&self, user_id: &str) -> StoreResult<bool> {
        let results = self
            .db()?
            .batch(vec![
                self.stmt("DELETE FROM totp_factors WHERE user_id = ?", &[s(user_id)])?,
                self.stmt("DELETE FROM recovery_codes WHERE user_id = ?", &[s(user_id)])?,
            ])
            .await
            .map_err(backend)?;
        Ok(results.first().map(changes) == Some(1))
    }
    async fn use_recovery_code(&self, user_id: &str, code_hash: &str, now: u64) -> StoreResult<bool> {
        let changed = self
            .run(
                "UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL",
                &[n(now), s(user_id), s(code_hash)],
            )
            .await?;
        Ok(changed == 1)
    }
    async fn recovery_codes_left(&self, user_id: &str) -> StoreResult<u32> {
        let row =
            self.first::<Count>("SELECT count(*) AS n FROM recovery_codes WHERE user_id = ? AND used_at IS NULL", &[s(user_id)]).await?;
        Ok(row.map_or(0, |c| c.n as u32))
    }
    async fn replace_recovery_codes(&self, user_id: &str, hashes: &[String]) -> StoreResult<()> {
        let hashes = serde_json::to_string(hashes).map_err(backend)?;
        self.db()?
            .batch(vec![
                self.stmt("DELETE FROM recovery_codes WHERE user_id = ?", &[s(user_id)])?,
                self.stmt("INSERT INTO recovery_codes (user_id, code_hash) SELECT ?, value FROM json_each(?)", &[s(user_id), s(&hashes)])?,
            ])
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn insert_passkey(&self, p: &Passkey) -> StoreResult<()> {
        self.run(
            "INSERT INTO passkeys (credential_id, user_id, name, public_key, algorithm, sign_count, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            &[
                s(&p.credential_id),
                s(&p.user_id),
                s(&p.name),
                s(&p.public_key),
                JsValue::from_f64(p.algorithm as f64),
                n(p.sign_count.into()),
                n(p.created_at),
            ],
        )
        .await
        .map(|_| ())
    }
    async fn factor_summaries(&self, user_ids: &[String]) -> StoreResult<Vec<FactorSummary>> {
        #[derive(Deserialize)]
        struct Row {
            passkeys: f64,
            totp: f64,
        }
        if user_ids.is_empty() {
            return Ok(Vec::new());
        }
        // One query for the page: the ids as a JSON array, walked by json_each in their order.
        let ids = serde_json::to_string(user_ids).map_err(|e| StoreError::Backend(e.to_string()))?;
        let rows = self
            .all::<Row>(
                "SELECT (SELECT COUNT(*) FROM passkeys p WHERE p.user_id = j.value) AS passkeys, \
                 EXISTS (SELECT 1 FROM totp_factors t WHERE t.user_id = j.value AND t.confirmed_at IS NOT NULL) AS totp \
                 FROM json_each(?) j ORDER BY j.key",
                &[s(&ids)],
            )
            .await?;
        Ok(rows.into_iter().map(|r| FactorSummary { passkeys: r.passkeys as u32, totp: r.totp != 0.0 }).collect())
    }
    async fn passkeys_of(&self, user_id: &str) -> StoreResult<Vec<Passkey>> {
        let rows = self
            .all::<PasskeyRow>(
                "SELECT credential_id, user_id, name, public_key, algorithm, sign_count, created_at, last_used_at \
                 FROM passkeys WHERE user_id = ? ORDER BY created_at, credential_id LIMIT 100",
                &[s(user_id)],
            )
            .await?;
        Ok(rows.into_iter().map(Passkey::from).collect())
    }
    async fn passkey(&self, credential_id: &str) -> StoreResult<Option<(Passkey, User)>> {
        let row = self
            .first::<JsonRow>(
                "SELECT json_object('passkey', json_object('credential_id', p.credential_id, 'user_id', p.user_id, \
                 'name', p.name, 'public_key', p.public_key, 'algorithm', p.algorithm, 'sign_count', p.sign_count, \
                 'created_at', p.created_at, 'last_used_at', p.last_used_at), \
                 'user', json_object('id', u.id, 'username', u.username, 'email', u.email, 'password_hash', u.password_hash, \
                 'role', u.role, 'created_at', u.created_at, 'disabled', u.disabled)) AS row \
                 FROM passkeys p JOIN users u ON u.id = p.user_id WHERE p.credential_id = ?",
                &[s(credential_id)],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let PasskeyWithUser { passkey, user } = row.parse()?;
        Ok(Some((passkey.into(), user.into())))
    }
    async fn record_passkey_use(&self, credential_id: &str, old_count: u32, new_count: u32, now: u64) -> StoreResult<bool> {
        let changed = self
            .run(
                "UPDATE passkeys SET sign_count = ?, last_used_at = ? WHERE credential_id = ? AND sign_count = ?",
                &[n(new_count.into()), n(now), s(credential_id), n(old_count.into())],
            )
            .await?;
        Ok(changed == 1)
    }
    async fn delete_passkey(&self, user_id: &str, credential_id: &str) -> StoreResult<bool> {
        Ok(self.run("DELETE FROM passkeys WHERE credential_id = ? AND user_id = ?", &[s(credential_id), s(user_id)]).await? == 1)
    }
}

impl ChallengeStore for CloudflareStore {
    async fn put_challenge(&self, c: &Challenge) -> StoreResult<()> {
        self.run(
            "INSERT INTO challenges (id_hash, kind, user_id, binding, data, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
            &[s(&c.id_hash), s(c.kind.as_str()), opt(c.user_id.as_deref()), s(&c.binding), s(&c.data), n(c.expires_at)],
        )
        .await
        .map(|_| ())
    }
    async fn challenge(&self, id_hash: &str, now: u64) -> StoreResult<Option<Challenge>> {
        let row = self
            .first::<ChallengeRow>(
                "SELECT id_hash, kind, user_id, binding, data, expires_at FROM challenges WHERE id_hash = ? AND expires_at > ?",
                &[s(id_hash), n(now)],
            )
            .await?;
        Ok(row.map(Challenge::from))
    }
    async fn take_challenge(&self, id_hash: &str, now: u64) -> StoreResult<Option<Challenge>> {
        let row = self
            .first::<ChallengeRow>(
                "DELETE FROM challenges WHERE id_hash = ? AND expires_at > ? RETURNING id_hash, kind, user_id, binding, data, expires_at",
                &[s(id_hash), n(now)],
            )
            .await?;
        Ok(row.map(Challenge::from))
    }
}
