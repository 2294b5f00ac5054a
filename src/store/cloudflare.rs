//! The `Store` on Cloudflare: users, clients, refresh tokens, consumed codes and revoked access
//! tokens in D1 (strongly consistent, conditional writes); authorization codes in KV with a TTL.
//! Every statement is prepared with `?` placeholders; no SQL is built from input.

use super::cache::ClientCache;
use super::*;
use std::cell::OnceCell;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1PreparedStatement, Env, KvStore};

/// Bindings are looked up on first use: a request that needs no storage (discovery, JWKS,
/// the login page's errors) pays for no binding lookups.
pub struct CloudflareStore {
    env: Env,
    db: OnceCell<D1Database>,
    codes: OnceCell<KvStore>,
    /// Seconds a client record may be served from this isolate's cache (0: never).
    client_cache_ttl: u64,
}

thread_local! {
    /// Per isolate: its requests share one thread, interleaved at their awaits.
    static CLIENTS: ClientCache = ClientCache::default();
}

fn forget_client(client_id: &str) {
    CLIENTS.with(|cache| cache.forget(client_id));
}

fn backend<E: std::fmt::Display>(e: E) -> StoreError {
    let msg = e.to_string();
    // D1 reports unique violations as "UNIQUE constraint failed: table.column".
    if let Some(rest) = msg.split("UNIQUE constraint failed: ").nth(1) {
        let column = rest.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.')).next().unwrap_or("");
        return StoreError::Conflict(column.rsplit('.').next().unwrap_or(column).to_string());
    }
    StoreError::Backend(msg)
}

fn s(v: &str) -> JsValue {
    JsValue::from_str(v)
}
fn n(v: u64) -> JsValue {
    JsValue::from_f64(v as f64)
}
fn opt(v: Option<&str>) -> JsValue {
    v.map(JsValue::from_str).unwrap_or(JsValue::NULL)
}
fn json_list(v: &[String]) -> JsValue {
    s(&serde_json::to_string(v).unwrap_or_else(|_| "[]".into()))
}

impl CloudflareStore {
    pub fn new(env: Env, client_cache_ttl: u64) -> Self {
        Self { env, db: OnceCell::new(), codes: OnceCell::new(), client_cache_ttl }
    }

    fn now() -> u64 {
        worker::Date::now().as_millis() / 1000
    }

    fn db(&self) -> StoreResult<&D1Database> {
        if let Some(db) = self.db.get() {
            return Ok(db);
        }
        let db = self.env.d1("DB").map_err(|e| StoreError::Backend(format!("the DB binding: {e}")))?;
        Ok(self.db.get_or_init(|| db))
    }

    fn codes(&self) -> StoreResult<&KvStore> {
        if let Some(kv) = self.codes.get() {
            return Ok(kv);
        }
        let kv = self.env.kv("AUTH_CODES").map_err(|e| StoreError::Backend(format!("the AUTH_CODES binding: {e}")))?;
        Ok(self.codes.get_or_init(|| kv))
    }

    fn stmt(&self, sql: &str, args: &[JsValue]) -> StoreResult<D1PreparedStatement> {
        self.db()?.prepare(sql).bind(args).map_err(backend)
    }

    async fn first<T: for<'de> Deserialize<'de>>(&self, sql: &str, args: &[JsValue]) -> StoreResult<Option<T>> {
        self.stmt(sql, args)?.first::<T>(None).await.map_err(backend)
    }

    async fn all<T: for<'de> Deserialize<'de>>(&self, sql: &str, args: &[JsValue]) -> StoreResult<Vec<T>> {
        self.stmt(sql, args)?.all().await.map_err(backend)?.results::<T>().map_err(backend)
    }

    /// Runs a write and returns how many rows it changed.
    async fn run(&self, sql: &str, args: &[JsValue]) -> StoreResult<usize> {
        let result = self.stmt(sql, args)?.run().await.map_err(backend)?;
        Ok(changes(&result))
    }
}

fn changes(r: &worker::D1Result) -> usize {
    r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0)
}

#[derive(Deserialize)]
struct ClientRow {
    client_id: String,
    client_secret_hash: Option<String>,
    client_name: String,
    client_type: ClientType,
    token_endpoint_auth_method: String,
    grant_types: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    response_types: String,
    scopes: String,
    is_active: i64,
    created_at: f64,
    updated_at: f64,
}

fn list(s: &str) -> Vec<String> {
    serde_json::from_str(s).unwrap_or_default()
}

impl From<ClientRow> for Client {
    fn from(r: ClientRow) -> Self {
        Client {
            client_id: r.client_id,
            client_secret_hash: r.client_secret_hash,
            client_name: r.client_name,
            client_type: r.client_type,
            token_endpoint_auth_method: r.token_endpoint_auth_method,
            grant_types: list(&r.grant_types),
            redirect_uris: list(&r.redirect_uris),
            post_logout_redirect_uris: list(&r.post_logout_redirect_uris),
            response_types: list(&r.response_types),
            scopes: list(&r.scopes),
            is_active: r.is_active != 0,
            created_at: r.created_at as u64,
            updated_at: r.updated_at as u64,
        }
    }
}

#[derive(Deserialize)]
struct UserRow {
    id: String,
    username: String,
    email: String,
    password_hash: String,
    role: String,
    created_at: f64,
}

impl From<UserRow> for User {
    fn from(r: UserRow) -> Self {
        User {
            id: r.id,
            username: r.username,
            email: r.email,
            password_hash: r.password_hash,
            role: r.role,
            created_at: r.created_at as u64,
        }
    }
}

#[derive(Deserialize)]
struct RefreshRow {
    token_hash: String,
    family_id: String,
    client_id: String,
    user_id: String,
    scope: String,
    auth_time: f64,
    issued_at: f64,
    expires_at: f64,
    status: RefreshStatus,
    username: Option<String>,
    email: Option<String>,
    password_hash: Option<String>,
    role: Option<String>,
    user_created_at: Option<f64>,
}

/// A refresh token with its user's columns (NULL when the user was deleted).
const SELECT_REFRESH: &str = "SELECT r.*, u.username, u.email, u.password_hash, u.role, u.created_at AS user_created_at \
     FROM refresh_tokens r LEFT JOIN users u ON u.id = r.user_id WHERE r.token_hash = ?";

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
                auth_time: r.auth_time as u64,
                issued_at: r.issued_at as u64,
                expires_at: r.expires_at as u64,
            },
            status: r.status,
            user,
        }
    }
}

#[derive(Deserialize)]
struct ConsumedRow {
    code_hash: String,
    family_id: Option<String>,
    access_jti: String,
    access_exp: f64,
    expires_at: f64,
}

const CLIENT_COLUMNS: &str = "client_id, client_secret_hash, client_name, client_type, token_endpoint_auth_method, \
     grant_types, redirect_uris, post_logout_redirect_uris, response_types, scopes, is_active, created_at, updated_at";

/// The columns an update may change (client type, secret and creation time are not among them).
const MUTABLE_CLIENT_COLUMNS: &str = "client_name, token_endpoint_auth_method, grant_types, redirect_uris, \
     post_logout_redirect_uris, response_types, scopes, is_active, updated_at";

fn mutable_client_values(c: &Client) -> Vec<JsValue> {
    vec![
        s(&c.client_name),
        s(&c.token_endpoint_auth_method),
        json_list(&c.grant_types),
        json_list(&c.redirect_uris),
        json_list(&c.post_logout_redirect_uris),
        json_list(&c.response_types),
        json_list(&c.scopes),
        n(c.is_active as u64),
        n(c.updated_at),
    ]
}

const INSERT_REFRESH: &str = "INSERT INTO refresh_tokens \
     (token_hash, family_id, client_id, user_id, scope, auth_time, issued_at, expires_at, status) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active')";

/// The same insert, made conditional on the batch's previous statement having changed exactly
/// one row: inside one D1 batch (a transaction) this makes "consume, then issue" atomic.
const INSERT_REFRESH_IF_PREVIOUS_CHANGED: &str = "INSERT INTO refresh_tokens \
     (token_hash, family_id, client_id, user_id, scope, auth_time, issued_at, expires_at, status) \
     SELECT ?, ?, ?, ?, ?, ?, ?, ?, 'active' WHERE changes() = 1";

fn refresh_args(t: &RefreshToken) -> Vec<JsValue> {
    vec![s(&t.token_hash), s(&t.family_id), s(&t.client_id), s(&t.user_id), s(&t.scope), n(t.auth_time), n(t.issued_at), n(t.expires_at)]
}

impl UserStore for CloudflareStore {
    async fn insert_user(&self, u: &User) -> StoreResult<()> {
        self.run(
            "INSERT INTO users (id, username, email, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            &[s(&u.id), s(&u.username), s(&u.email), s(&u.password_hash), s(&u.role), n(u.created_at)],
        )
        .await
        .map(|_| ())
    }
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        Ok(self.first::<UserRow>("SELECT * FROM users WHERE username = ?", &[s(username)]).await?.map(User::from))
    }
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>> {
        Ok(self.first::<UserRow>("SELECT * FROM users WHERE id = ?", &[s(id)]).await?.map(User::from))
    }
    async fn set_password_hash(&self, user_id: &str, hash: &str) -> StoreResult<()> {
        self.run("UPDATE users SET password_hash = ? WHERE id = ?", &[s(hash), s(user_id)]).await.map(|_| ())
    }
}

impl ClientStore for CloudflareStore {
    async fn insert_client(&self, c: &Client) -> StoreResult<()> {
        let sql = format!(
            "INSERT INTO clients (client_id, client_secret_hash, client_type, created_at, {MUTABLE_CLIENT_COLUMNS}) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        );
        let ty = if c.client_type == ClientType::Public { "public" } else { "confidential" };
        let mut args = vec![s(&c.client_id), opt(c.client_secret_hash.as_deref()), s(ty), n(c.created_at)];
        args.extend(mutable_client_values(c));
        self.run(&sql, &args).await.map(|_| ())
    }
    /// Always a fresh read, which also refreshes this isolate's cached copy.
    async fn client(&self, client_id: &str) -> StoreResult<Option<Client>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE client_id = ?");
        let generation = CLIENTS.with(ClientCache::generation);
        let client = self.first::<ClientRow>(&sql, &[s(client_id)]).await?.map(Client::from);
        match &client {
            Some(c) if self.client_cache_ttl > 0 => CLIENTS.with(|cache| cache.put(c, Self::now(), generation)),
            // Nothing to store; an entry for an id that no longer exists is simply dropped.
            _ => forget_client(client_id),
        }
        Ok(client)
    }
    async fn client_for_auth(&self, client_id: &str, now: u64) -> StoreResult<(Option<Client>, bool)> {
        if let Some(c) = CLIENTS.with(|cache| cache.get(client_id, now, self.client_cache_ttl)) {
            return Ok((Some(c), true));
        }
        Ok((self.client(client_id).await?, false))
    }
    async fn clients(&self) -> StoreResult<Vec<Client>> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY created_at, client_id");
        Ok(self.all::<ClientRow>(&sql, &[]).await?.into_iter().map(Client::from).collect())
    }
    async fn clients_with_redirect(&self, redirect_uri: &str) -> StoreResult<Vec<Client>> {
        let sql = format!(
            "SELECT {CLIENT_COLUMNS} FROM clients WHERE EXISTS \
             (SELECT 1 FROM json_each(clients.redirect_uris) WHERE json_each.value = ?)"
        );
        Ok(self.all::<ClientRow>(&sql, &[s(redirect_uri)]).await?.into_iter().map(Client::from).collect())
    }
    // Each client write forgets the isolate's cached copy once the write is done (and whether
    // it failed), which also voids any read of that client still in flight (`cache.rs`).
    async fn update_client(&self, c: &Client) -> StoreResult<bool> {
        // SQLite row-value assignment: the same columns, in the same order, as the insert.
        let sql = format!("UPDATE clients SET ({MUTABLE_CLIENT_COLUMNS}) = (?, ?, ?, ?, ?, ?, ?, ?, ?) WHERE client_id = ?");
        let mut args = mutable_client_values(c);
        args.push(s(&c.client_id));
        let result = self.run(&sql, &args).await;
        forget_client(&c.client_id);
        Ok(result? == 1)
    }
    async fn delete_client(&self, client_id: &str) -> StoreResult<bool> {
        // One transaction: the client goes and its refresh tokens stop working together.
        let result = match (
            self.stmt("UPDATE refresh_tokens SET status = 'revoked' WHERE client_id = ?", &[s(client_id)]),
            self.stmt("DELETE FROM clients WHERE client_id = ?", &[s(client_id)]),
        ) {
            (Ok(revoke), Ok(delete)) => self.db()?.batch(vec![revoke, delete]).await.map_err(backend),
            (Err(e), _) | (_, Err(e)) => Err(e),
        };
        forget_client(client_id);
        Ok(result?.get(1).map(changes).unwrap_or(0) == 1)
    }
    async fn set_client_secret_hash(&self, client_id: &str, hash: &str, now: u64) -> StoreResult<bool> {
        let result = self
            .run(
                "UPDATE clients SET client_secret_hash = ?, updated_at = ? WHERE client_id = ? AND client_type = 'confidential'",
                &[s(hash), n(now), s(client_id)],
            )
            .await;
        forget_client(client_id);
        Ok(result? == 1)
    }
}

impl CodeStore for CloudflareStore {
    async fn put_code(&self, code_hash: &str, code: &AuthorizationCode, ttl_seconds: u64) -> StoreResult<()> {
        // KV refuses expiration TTLs under 60 s; the code's own expiry is inside the value.
        let ttl = ttl_seconds.max(60);
        self.codes()?
            .put(code_hash, serde_json::to_string(code).map_err(backend)?)
            .map_err(backend)?
            .expiration_ttl(ttl)
            .execute()
            .await
            .map_err(backend)
    }
    async fn code(&self, code_hash: &str) -> StoreResult<Option<AuthorizationCode>> {
        self.codes()?.get(code_hash).json::<AuthorizationCode>().await.map_err(backend)
    }
    async fn redeem_code(&self, c: &ConsumedCode, refresh: Option<&RefreshToken>) -> StoreResult<Redemption> {
        let mut batch = vec![self.stmt(
            "INSERT INTO consumed_codes (code_hash, family_id, access_jti, access_exp, expires_at) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (code_hash) DO NOTHING",
            &[s(&c.code_hash), opt(c.family_id.as_deref()), s(&c.access_jti), n(c.access_exp), n(c.expires_at)],
        )?];
        if let Some(t) = refresh {
            // Inserted only when the consumed-code insert above changed a row.
            batch.push(self.stmt(INSERT_REFRESH_IF_PREVIOUS_CHANGED, &refresh_args(t))?);
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

impl RefreshStore for CloudflareStore {
    async fn insert_refresh(&self, t: &RefreshToken) -> StoreResult<()> {
        self.run(INSERT_REFRESH, &refresh_args(t)).await.map(|_| ())
    }
    async fn refresh(&self, token_hash: &str) -> StoreResult<Option<RefreshRecord>> {
        Ok(self.first::<RefreshRow>(SELECT_REFRESH, &[s(token_hash)]).await?.map(RefreshRecord::from))
    }
    async fn rotate_refresh(&self, old_hash: &str, new: &RefreshToken, now: u64) -> StoreResult<bool> {
        let results = self
            .db()?
            .batch(vec![
                self.stmt(
                    "UPDATE refresh_tokens SET status = 'rotated' WHERE token_hash = ? AND status = 'active' AND expires_at > ?",
                    &[s(old_hash), n(now)],
                )?,
                self.stmt(INSERT_REFRESH_IF_PREVIOUS_CHANGED, &refresh_args(new))?,
            ])
            .await
            .map_err(backend)?;
        Ok(results.first().map(changes) == Some(1))
    }
    async fn rotate_refresh_for(&self, old_hash: &str, client_id: &str, new: &NewRefresh, now: u64) -> StoreResult<Rotation> {
        // One transaction, one round trip: rotate only an active, unexpired token of this client
        // whose user still exists; copy it into the new token only if that changed a row; read
        // the old token back (with its user) either way, for the claims or for the refusal.
        let results = self
            .db()?
            .batch(vec![
                self.stmt(
                    "UPDATE refresh_tokens SET status = 'rotated' WHERE token_hash = ? AND status = 'active' \
                     AND expires_at > ? AND client_id = ? AND EXISTS (SELECT 1 FROM users WHERE users.id = refresh_tokens.user_id)",
                    &[s(old_hash), n(now), s(client_id)],
                )?,
                self.stmt(
                    "INSERT INTO refresh_tokens \
                     (token_hash, family_id, client_id, user_id, scope, auth_time, issued_at, expires_at, status) \
                     SELECT ?, family_id, client_id, user_id, scope, auth_time, ?, ?, 'active' \
                     FROM refresh_tokens WHERE token_hash = ? AND changes() = 1",
                    &[s(&new.token_hash), n(new.issued_at), n(new.expires_at), s(old_hash)],
                )?,
                self.stmt(SELECT_REFRESH, &[s(old_hash)])?,
            ])
            .await
            .map_err(backend)?;
        let rotated = results.first().map(changes) == Some(1) && results.get(1).map(changes) == Some(1);
        let record = match results.get(2) {
            Some(r) => r.results::<RefreshRow>().map_err(backend)?.into_iter().next().map(RefreshRecord::from),
            None => None,
        };
        Ok(Rotation { rotated, record })
    }
    async fn revoke_family(&self, family_id: &str) -> StoreResult<()> {
        self.run("UPDATE refresh_tokens SET status = 'revoked' WHERE family_id = ?", &[s(family_id)]).await.map(|_| ())
    }

    async fn revoke_access(&self, jti: &str, expires_at: u64) -> StoreResult<()> {
        self.run("INSERT INTO revoked_access_tokens (jti, expires_at) VALUES (?, ?) ON CONFLICT (jti) DO NOTHING", &[s(jti), n(expires_at)])
            .await
            .map(|_| ())
    }
    async fn access_token_usable(&self, jti: &str, client_id: &str) -> StoreResult<bool> {
        #[derive(Deserialize)]
        struct Usable {
            usable: f64,
        }
        let row = self
            .first::<Usable>(
                "SELECT (EXISTS (SELECT 1 FROM clients WHERE client_id = ? AND is_active = 1) \
                 AND NOT EXISTS (SELECT 1 FROM revoked_access_tokens WHERE jti = ?)) AS usable",
                &[s(client_id), s(jti)],
            )
            .await?;
        Ok(row.is_some_and(|r| r.usable != 0.0))
    }
}

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

impl SessionStore for CloudflareStore {
    async fn create_session(&self, x: &Session) -> StoreResult<()> {
        self.run(
            "INSERT INTO sessions (id_hash, user_id, auth_time, expires_at) VALUES (?, ?, ?, ?)",
            &[s(&x.id_hash), s(&x.user_id), n(x.auth_time), n(x.expires_at)],
        )
        .await
        .map(|_| ())
    }
    async fn session(&self, id_hash: &str, now: u64) -> StoreResult<Option<(Session, User)>> {
        let row = self
            .first::<SessionRow>(
                "SELECT s.id_hash, s.auth_time, s.expires_at, u.* \
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ? AND s.expires_at > ?",
                &[s(id_hash), n(now)],
            )
            .await?;
        Ok(row.map(|r| {
            let user = User::from(r.user);
            let session =
                Session { id_hash: r.id_hash, user_id: user.id.clone(), auth_time: r.auth_time as u64, expires_at: r.expires_at as u64 };
            (session, user)
        }))
    }
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        self.run("DELETE FROM sessions WHERE id_hash = ?", &[s(id_hash)]).await.map(|_| ())
    }
}

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
            ])
            .await
            .map_err(backend)?;
        Ok(results.iter().map(|r| changes(r) as u64).sum())
    }
}

#[derive(Deserialize)]
struct SessionRow {
    id_hash: String,
    auth_time: f64,
    expires_at: f64,
    #[serde(flatten)]
    user: UserRow,
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
