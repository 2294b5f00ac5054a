//! The store on Cloudflare: users, clients, refresh tokens, consumed codes and revoked access
//! tokens in D1 (strongly consistent, conditional writes); authorization codes in KV with a TTL.
//! Every statement is prepared with `?` placeholders; no SQL is built from input.
//! This file holds the struct, its bindings, the D1 helpers and the shared row types; each
//! concern's trait is implemented in the file of its name.

mod audit;
mod clients;
mod codes;
mod consents;
mod factors;
mod maintenance;
mod refresh;
mod replay;
mod sessions;
mod throttle;
mod users;

use crate::store::*;
use serde::Deserialize;
use std::cell::OnceCell;
use worker::wasm_bindgen::JsValue;
use worker::{D1Database, D1DatabaseSession, D1PreparedStatement, D1SessionConstraint, Env, KvStore};

/// Bindings are looked up on first use: a request that needs no storage (discovery, JWKS,
/// the login page's errors) pays for no binding lookups.
pub struct CloudflareStore {
    env: Env,
    db: OnceCell<D1Database>,
    /// A D1 session that may read from a replica near this location (`replica_first`).
    replica: OnceCell<D1DatabaseSession>,
    codes: OnceCell<KvStore>,
    /// Seconds a client record may be served from this isolate's cache (0: never).
    client_cache_ttl: u64,
}

/// A D1, KV or serialization error as a `StoreError`: a unique violation names its column;
/// anything else keeps the whole text `worker` gives it (for D1 the JavaScript error and its
/// cause, for KV the JavaScript value), for the logs.
pub(crate) fn backend<E: std::fmt::Display>(e: E) -> StoreError {
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

impl CloudflareStore {
    pub fn new(env: Env, client_cache_ttl: u64) -> Self {
        Self { env, db: OnceCell::new(), replica: OnceCell::new(), codes: OnceCell::new(), client_cache_ttl }
    }

    fn now() -> u64 {
        super::now_ms() / 1000
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

    /// One row from a read replica near this location (D1 read replication through the
    /// Sessions API, `first-unconstrained`), for reads that tolerate bounded staleness: client
    /// records (docs/SCALE.md, "Which read goes where"). The answer may lag the primary; callers
    /// treat it like a cached copy and read the primary before they refuse anything. Without
    /// replication (or locally) the session reads the primary.
    async fn replica_first<T: for<'de> Deserialize<'de>>(&self, sql: &str, args: &[JsValue]) -> StoreResult<Option<T>> {
        let session = match self.replica.get() {
            Some(s) => s,
            None => {
                let s = self.db()?.with_session_constraint(D1SessionConstraint::FirstUnconstrained).map_err(backend)?;
                self.replica.get_or_init(|| s)
            }
        };
        session.prepare(sql).bind(args).map_err(backend)?.first::<T>(None).await.map_err(backend)
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

/// A row selected as one JSON text (`SELECT json_object('name', column, ...) AS row`), for wide
/// rows on hot paths: the runtime hands the wasm one string, parsed here, instead of an object
/// whose every key and value crosses the bindings (serde-wasm-bindgen). Measured on the refresh
/// row (18 fields): 0.93-0.95× the runtime CPU of a refresh.
#[derive(Deserialize)]
struct JsonRow {
    row: String,
}

impl JsonRow {
    /// The row as `T` (fields the JSON holds and `T` does not name are ignored).
    fn parse<T: for<'de> Deserialize<'de>>(&self) -> StoreResult<T> {
        serde_json::from_str(&self.row).map_err(backend)
    }
}

fn changes(r: &worker::D1Result) -> usize {
    r.meta().ok().flatten().and_then(|m| m.changes).unwrap_or(0)
}

#[derive(Deserialize)]
struct UserRow {
    id: String,
    username: String,
    email: String,
    password_hash: String,
    role: String,
    created_at: f64,
    #[serde(default)]
    disabled: f64,
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
            disabled: r.disabled != 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_errors_keep_their_text_and_unique_violations_name_their_column() {
        // The text as workerd's D1 binding words it (worker's Display adds a prefix and the cause).
        let unique = "D1: D1Error { cause: JsValue(Error: UNIQUE constraint failed: users.username: SQLITE_CONSTRAINT) }";
        assert_eq!(backend(unique), StoreError::Conflict("username".into()));
        assert_eq!(backend("D1_ERROR: UNIQUE constraint failed: users.email"), StoreError::Conflict("email".into()));
        let other = "D1_ERROR: no such table: login_throttle: SQLITE_ERROR";
        assert_eq!(backend(other), StoreError::Backend(other.into()));
        assert_eq!(
            backend("js error: JsValue(Error: KV GET failed: 503)"),
            StoreError::Backend("js error: JsValue(Error: KV GET failed: 503)".into())
        );
    }
}
