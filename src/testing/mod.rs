//! Shared fixtures for host tests (`cargo test`): a provider on the in-memory store with a fixed
//! signing key, and requests as values. Every test module builds its world from here, so a
//! change to `Provider` or `App` is made once.

pub mod fuzz;

use crate::crypto::keys::KeySet;
use crate::http::{handle, App, Incoming, Outgoing};
use crate::oauth::audit::AuditLog;
use crate::oauth::{block_on, Config, Provider};
use crate::store::memory::MemoryStore;

/// A fixed P-256 test key (RFC 7515 appendix A.3's ES256 key).
pub const TEST_JWK: &str = r#"{"kty":"EC","crv":"P-256",
    "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
    "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
    "d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}"#;

/// The client address of requests in tests that do not name one (TEST-NET-1, RFC 5737).
pub const ADDRESS: &str = "192.0.2.1";

/// An RS256 key for tests: RFC 7515 §A.2's example key.
pub use crate::crypto::rs256::RFC7515_A2_JWK as RS256_JWK;

/// The bootstrap admin token of `World::app`.
pub const BOOTSTRAP: &str = "bootstrap-token-for-tests-0000";

pub fn test_keys() -> KeySet {
    KeySet::load(TEST_JWK, None).and_then(|k| k.with_rs256(Some(RS256_JWK))).expect("the test keys load")
}

/// Storage, keys and settings of one test; `at(now)` is the provider at that moment.
pub struct World {
    pub store: MemoryStore,
    pub keys: KeySet,
    pub config: Config,
    /// The audit events of what this world served (flushed into `store` by `serve`, as the
    /// Worker writes them after each response).
    pub audit_log: AuditLog,
    /// `BOOTSTRAP`, as the deployment's bootstrap admin token.
    pub bootstrap: crate::oauth::secrets::BootstrapToken,
}

impl World {
    /// Issuer `https://issuer.example`, 1,000 PBKDF2 iterations (tests need no real cost).
    pub fn new() -> Self {
        Self::for_issuer("https://issuer.example")
    }

    pub fn for_issuer(issuer: &str) -> Self {
        let mut config = Config::for_issuer(issuer);
        config.pbkdf2_iterations = 1000;
        config.totp_key = Some(crate::crypto::seal::SealKey::from_secret(&crate::crypto::b64url(&[42u8; 32])).expect("a valid key"));
        Self {
            store: MemoryStore::default(),
            keys: test_keys(),
            config,
            audit_log: AuditLog::default(),
            bootstrap: crate::oauth::secrets::BootstrapToken::new(BOOTSTRAP),
        }
    }

    /// The provider at `now`, for a client at `ADDRESS`.
    pub fn at(&self, now: u64) -> Provider<'_, MemoryStore, MemoryStore> {
        self.at_from(now, ADDRESS)
    }

    /// The provider at `now`, for a client at `address`.
    pub fn at_from<'a>(&'a self, now: u64, address: &'a str) -> Provider<'a, MemoryStore, MemoryStore> {
        Provider {
            store: &self.store,
            platform: &self.store,
            keys: Ok(&self.keys),
            config: &self.config,
            now,
            address,
            audit_log: &self.audit_log,
        }
    }

    /// The whole HTTP surface at `now` for a client at `address`, with `BOOTSTRAP` as the
    /// bootstrap admin token.
    pub fn app<'a>(&'a self, now: u64, address: &'a str) -> App<'a, MemoryStore, MemoryStore> {
        App { provider: self.at_from(now, address), bootstrap_token: Some(&self.bootstrap), branding: crate::http::Branding::default() }
    }

    /// Serves one request at `now`, from the address in its `cf-connecting-ip` header (as
    /// Cloudflare sets it), else from `ADDRESS`.
    pub fn serve(&self, now: u64, req: &Incoming) -> Outgoing {
        let out = block_on(handle(&self.app(now, req.header("cf-connecting-ip").unwrap_or(ADDRESS)), req));
        self.flush_audit();
        out
    }

    /// The kinds of the audit events buffered so far (not yet flushed), in order.
    pub fn audit_kinds(&self) -> Vec<String> {
        let events = self.audit_log.take();
        let kinds = events.iter().map(|e| e.kind.clone()).collect();
        for e in events {
            self.audit_log.push(e);
        }
        kinds
    }

    /// Writes the buffered audit events into the store (what the Worker does after a response).
    pub fn flush_audit(&self) {
        let events = self.audit_log.take();
        // A store told to fail loses them, as D1 would.
        let _ = block_on(crate::store::AuditStore::record_events(&self.store, &events));
    }
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

/// A request to the test issuer.
pub fn request(method: &str, path: &str) -> Incoming {
    Incoming { method: method.into(), path: path.into(), origin: "https://issuer.example".into(), ..Default::default() }
}

impl Incoming {
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    pub fn with_json(self, body: &serde_json::Value) -> Self {
        let mut r = self.with_header("content-type", "application/json");
        r.body = serde_json::to_vec(body).expect("JSON");
        r
    }

    pub fn with_form(self, pairs: &[(&str, &str)]) -> Self {
        let mut r = self.with_header("content-type", "application/x-www-form-urlencoded");
        r.body = crate::form::serialize(pairs.iter().copied()).into_bytes();
        r
    }

    pub fn with_query(mut self, query: &str) -> Self {
        self.query = query.to_string();
        self
    }

    pub fn with_bearer(self, token: &str) -> Self {
        self.with_header("authorization", &format!("Bearer {token}"))
    }
}

impl Outgoing {
    /// The body as JSON (panics in tests when it is not).
    pub fn json_body(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}
