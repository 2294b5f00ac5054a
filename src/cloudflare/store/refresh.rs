//! `RefreshStore` on D1: refresh tokens (rotation in conditional writes, families) and revoked
//! access tokens.

use super::*;

#[derive(Deserialize)]
struct RefreshRow {
    token_hash: String,
    family_id: String,
    client_id: String,
    user_id: String,
    scope: String,
    /// Space-separated (a resource is a URI, which holds no space).
    resources: String,
    auth_time: f64,
    issued_at: f64,
    expires_at: f64,
    family_expires_at: f64,
    status: RefreshStatus,
    rotated_at: Option<f64>,
    #[serde(default)]
    jkt: Option<String>,
    username: Option<String>,
    email: Option<String>,
    password_hash: Option<String>,
    role: Option<String>,
    user_created_at: Option<f64>,
    user_disabled: Option<f64>,
}

/// A refresh token with its user's columns (NULL when the user was deleted), as a `JsonRow` of
/// `RefreshRow`'s nineteen fields.
const SELECT_REFRESH: &str = "SELECT json_object('token_hash', r.token_hash, 'family_id', r.family_id, 'client_id', r.client_id, \
     'user_id', r.user_id, 'scope', r.scope, 'resources', r.resources, 'auth_time', r.auth_time, 'issued_at', r.issued_at, \
     'expires_at', r.expires_at, 'family_expires_at', r.family_expires_at, 'status', r.status, 'rotated_at', r.rotated_at, \
     'jkt', r.jkt, 'username', u.username, \
     'email', u.email, 'password_hash', u.password_hash, 'role', u.role, 'user_created_at', u.created_at, \
     'user_disabled', u.disabled) AS row \
     FROM refresh_tokens r LEFT JOIN users u ON u.id = r.user_id WHERE r.token_hash = ?";

/// A `SELECT_REFRESH` row as the record.
fn refresh_record(row: &JsonRow) -> StoreResult<RefreshRecord> {
    row.parse::<RefreshRow>().map(RefreshRecord::from)
}

impl From<RefreshRow> for RefreshRecord {
    fn from(r: RefreshRow) -> Self {
        let user = match (r.username, r.email, r.password_hash, r.role) {
            (Some(username), Some(email), Some(password_hash), Some(role)) => Some(User {
                id: r.user_id.clone(),
                username,
                email,
                password_hash,
                role,
                created_at: r.user_created_at.unwrap_or(0.0) as u64,
                disabled: r.user_disabled.unwrap_or(0.0) != 0.0,
            }),
            _ => None,
        };
        RefreshRecord {
            token: RefreshToken {
                token_hash: r.token_hash,
                family_id: r.family_id,
                client_id: r.client_id,
                user_id: r.user_id,
                scope: r.scope,
                resources: r.resources.split(' ').filter(|v| !v.is_empty()).map(str::to_string).collect(),
                auth_time: r.auth_time as u64,
                issued_at: r.issued_at as u64,
                expires_at: r.expires_at as u64,
                family_expires_at: r.family_expires_at as u64,
                jkt: r.jkt,
            },
            status: r.status,
            rotated_at: r.rotated_at.map(|t| t as u64),
            user,
        }
    }
}

const INSERT_REFRESH: &str = "INSERT INTO refresh_tokens \
     (token_hash, family_id, client_id, user_id, scope, resources, auth_time, issued_at, expires_at, family_expires_at, jkt, status) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active')";

/// The same insert, made conditional on the batch's previous statement having changed exactly
/// one row: inside one D1 batch (a transaction) this makes "consume, then issue" atomic.
pub(super) const INSERT_REFRESH_IF_PREVIOUS_CHANGED: &str = "INSERT INTO refresh_tokens \
     (token_hash, family_id, client_id, user_id, scope, resources, auth_time, issued_at, expires_at, family_expires_at, jkt, status) \
     SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active' WHERE changes() = 1";

pub(super) fn refresh_args(t: &RefreshToken) -> Vec<JsValue> {
    vec![
        s(&t.token_hash),
        s(&t.family_id),
        s(&t.client_id),
        s(&t.user_id),
        s(&t.scope),
        s(&t.resources.join(" ")),
        n(t.auth_time),
        n(t.issued_at),
        n(t.expires_at),
        n(t.family_expires_at),
        opt(t.jkt.as_deref()),
    ]
}

impl RefreshStore for CloudflareStore {
    async fn insert_refresh(&self, t: &RefreshToken) -> StoreResult<()> {
        self.run(INSERT_REFRESH, &refresh_args(t)).await.map(|_| ())
    }
    async fn refresh(&self, token_hash: &str) -> StoreResult<Option<RefreshRecord>> {
        self.first::<JsonRow>(SELECT_REFRESH, &[s(token_hash)]).await?.as_ref().map(refresh_record).transpose()
    }
    async fn rotate_refresh_for(
        &self,
        old_hash: &str,
        client_id: &str,
        new: &NewRefresh,
        now: u64,
        reuse_interval: u64,
    ) -> StoreResult<Rotation> {
        // One transaction, one round trip, one conditional write (`RefreshRecord::usable_by` in
        // SQL): rotate only an unexpired token of this client whose user still exists, and that
        // is active or was rotated less than the reuse interval ago (its first rotation time is
        // kept, so retries cannot stretch the interval); copy it into the new token only if
        // that changed a row; read the old token back (with its user) either way, for the
        // claims or for the refusal. Concurrent refreshes serialise on the row: the first
        // rotates it, the others find it rotated just now and are answered from the family.
        let results = self
            .db()?
            .batch(vec![
                self.stmt(
                    "UPDATE refresh_tokens SET status = 'rotated', rotated_at = coalesce(rotated_at, ?2) WHERE token_hash = ?1 \
                     AND (status = 'active' OR (status = 'rotated' AND ?4 > 0 AND rotated_at > ?2 - ?4)) \
                     AND expires_at > ?2 AND client_id = ?3 AND (jkt IS NULL OR jkt = ?5) \
                     AND EXISTS (SELECT 1 FROM users WHERE users.id = refresh_tokens.user_id AND users.disabled = 0)",
                    &[s(old_hash), n(now), s(client_id), n(reuse_interval), opt(new.jkt.as_deref())],
                )?,
                self.stmt(
                    "INSERT INTO refresh_tokens \
                     (token_hash, family_id, client_id, user_id, scope, resources, auth_time, issued_at, expires_at, family_expires_at, jkt, status) \
                     SELECT ?, family_id, client_id, user_id, scope, resources, auth_time, ?, min(?, family_expires_at), family_expires_at, jkt, 'active' \
                     FROM refresh_tokens WHERE token_hash = ? AND changes() = 1",
                    &[s(&new.token_hash), n(new.issued_at), n(new.expires_at), s(old_hash)],
                )?,
                self.stmt(SELECT_REFRESH, &[s(old_hash)])?,
            ])
            .await
            .map_err(backend)?;
        let rotated = results.first().map(changes) == Some(1) && results.get(1).map(changes) == Some(1);
        let record = match results.get(2) {
            Some(r) => r.results::<JsonRow>().map_err(backend)?.first().map(refresh_record).transpose()?,
            None => None,
        };
        Ok(Rotation { rotated, record })
    }
    async fn end_grant(&self, grant_id: &str, until: u64) -> StoreResult<()> {
        self.db()?
            .batch(vec![
                self.stmt("UPDATE refresh_tokens SET status = 'revoked' WHERE family_id = ?", &[s(grant_id)])?,
                self.stmt(
                    "INSERT INTO ended_grants (grant_id, expires_at) VALUES (?, ?) \
                     ON CONFLICT (grant_id) DO UPDATE SET expires_at = max(expires_at, excluded.expires_at)",
                    &[s(grant_id), n(until)],
                )?,
            ])
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn revoke_access(&self, jti: &str, expires_at: u64) -> StoreResult<()> {
        self.run("INSERT INTO revoked_access_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING", &[s(jti), n(expires_at)])
            .await
            .map(|_| ())
    }
    async fn access_token_usable(&self, t: &AccessCheck) -> StoreResult<bool> {
        #[derive(Deserialize)]
        struct Usable {
            usable: f64,
        }
        // One query: the client (active, grants not ended since issuance), the user likewise
        // (a client acting for itself has none), the grant not ended, the jti not revoked.
        let row = self
            .first::<Usable>(
                "SELECT (EXISTS (SELECT 1 FROM clients WHERE client_id = ?1 AND is_active = 1 AND grants_ended_at < ?5) \
                 AND (?3 IS NULL OR EXISTS (SELECT 1 FROM users WHERE id = ?3 AND grants_ended_at < ?5)) \
                 AND (?4 IS NULL OR NOT EXISTS (SELECT 1 FROM ended_grants WHERE grant_id = ?4)) \
                 AND NOT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ?2)) AS usable",
                &[s(&t.client_id), s(&t.jti), opt(t.user_id.as_deref()), opt(t.grant_id.as_deref()), n(t.issued_at)],
            )
            .await?;
        Ok(row.is_some_and(|r| r.usable != 0.0))
    }
}
