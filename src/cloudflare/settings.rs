//! Deployment settings: the Worker's vars and secrets (README "Configuration"), read and
//! checked once per isolate. Worker glue: the protocol core sees only the `Config` built here.

use crate::crypto::keys::KeySet;
use crate::oauth::Config;
use std::cell::RefCell;
use std::rc::Rc;
use worker::Env;

/// Everything read from the environment, once per isolate: a secret or var change deploys a
/// new version, which starts new isolates. Parsing the key (and its thumbprint) costs more than
/// a signature, and each binding read crosses into JavaScript, so none of it is per request.
pub struct Settings {
    pub keys: std::result::Result<KeySet, String>,
    /// The configuration; its issuer is replaced per request unless `ISSUER` is set.
    pub config: Config,
    pub fixed_issuer: bool,
    pub fixed_audience: bool,
    pub bootstrap_token: Option<crate::oauth::secrets::BootstrapToken>,
    pub branding: crate::http::Branding,
    pub log_requests: bool,
    #[cfg(feature = "bench")]
    pub bench: bool,
    /// Seconds a client record may be reused from this isolate's cache (store/cache.rs).
    pub client_cache_ttl: u64,
    /// Days the audit log keeps an event (the hourly cron deletes older ones).
    pub audit_retention_days: u64,
    /// ES256 signatures through WebCrypto (default), or in wasm (`ES256_SIGNER=wasm`).
    pub webcrypto_es256: bool,
}

/// See store/cache.rs for what a cached client can get wrong within this many seconds.
const DEFAULT_CLIENT_CACHE_TTL: u64 = 30;

thread_local! {
    static SETTINGS: RefCell<Option<Rc<Settings>>> = const { RefCell::new(None) };
}

fn text_binding(env: &Env, name: &str) -> Option<String> {
    env.secret(name).ok().map(|v| v.to_string()).or_else(|| env.var(name).ok().map(|v| v.to_string()))
}

fn number<T: std::str::FromStr + PartialOrd + Copy>(env: &Env, name: &str, default: T, min: T, max: T) -> T {
    text_binding(env, name).and_then(|v| v.trim().parse().ok()).filter(|v| *v >= min && *v <= max).unwrap_or(default)
}

fn load(env: &Env, signing: &str) -> Settings {
    let previous = text_binding(env, "JWT_PREVIOUS_KEYS");
    let issuer = text_binding(env, "ISSUER").map(|s| s.trim().trim_end_matches('/').to_string()).filter(|s| !s.is_empty());
    let audience = text_binding(env, "ACCESS_TOKEN_AUDIENCE").map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let mut c = Config::for_issuer(issuer.as_deref().unwrap_or(""));
    if let Some(aud) = &audience {
        c.access_token_audience = aud.clone();
    }
    c.access_token_ttl = number(env, "ACCESS_TOKEN_TTL", c.access_token_ttl, 60, 86_400);
    c.id_token_ttl = number(env, "ID_TOKEN_TTL", c.id_token_ttl, 60, 86_400);
    c.refresh_token_ttl = number(env, "REFRESH_TOKEN_TTL", c.refresh_token_ttl, 60, 365 * 86_400);
    c.refresh_family_lifetime = number(env, "REFRESH_TOKEN_MAX_LIFETIME", c.refresh_family_lifetime, 60, 10 * 365 * 86_400);
    c.refresh_reuse_interval = number(env, "REFRESH_REUSE_INTERVAL", c.refresh_reuse_interval, 0, crate::oauth::MAX_REFRESH_REUSE_INTERVAL);
    c.auth_code_ttl = number(env, "AUTH_CODE_TTL", c.auth_code_ttl, 10, 600);
    c.session_ttl = number(env, "SESSION_TTL", c.session_ttl, 60, 30 * 86_400);
    // "open" (the default) or "admin" (only an admin bearer registers clients).
    c.dynamic_registration = text_binding(env, "DYNAMIC_REGISTRATION").is_none_or(|v| v.trim() != "admin");
    c.client_metadata_documents = text_binding(env, "CLIENT_ID_METADATA_DOCUMENTS").is_none_or(|v| v.trim() != "off");
    c.metadata_document_http_loopback = text_binding(env, "CLIENT_METADATA_HTTP_LOOPBACK").is_some_and(|v| v.trim() == "allow");
    // A malformed key is treated as none: set-up pages then say the server is not configured.
    c.totp_key = text_binding(env, "TOTP_ENCRYPTION_KEY").and_then(|k| crate::crypto::seal::SealKey::from_secret(&k).ok());
    c.pbkdf2_iterations = number(
        env,
        "PBKDF2_ITERATIONS",
        c.pbkdf2_iterations,
        crate::crypto::password::MIN_ITERATIONS,
        crate::crypto::password::MAX_ITERATIONS,
    );
    Settings {
        keys: KeySet::load(signing, previous.as_deref())
            .and_then(|k| k.with_rs256(text_binding(env, "JWT_RS256_KEY").as_deref()))
            .map_err(|e| e.0),
        config: c,
        fixed_issuer: issuer.is_some(),
        fixed_audience: audience.is_some(),
        bootstrap_token: text_binding(env, "BOOTSTRAP_ADMIN_TOKEN")
            .filter(|s| !s.is_empty())
            .map(crate::oauth::secrets::BootstrapToken::new),
        branding: crate::http::Branding::new(text_binding(env, "PRODUCT_NAME"), text_binding(env, "BRAND_COLOR")),
        log_requests: text_binding(env, "LOG_REQUESTS").as_deref() != Some("0"),
        #[cfg(feature = "bench")]
        bench: text_binding(env, "BENCH").as_deref() == Some("1"),
        client_cache_ttl: number(env, "CLIENT_CACHE_TTL", DEFAULT_CLIENT_CACHE_TTL, 0, 300),
        audit_retention_days: number(env, "AUDIT_RETENTION_DAYS", 90, 1, 3650),
        webcrypto_es256: text_binding(env, "ES256_SIGNER").is_none_or(|v| v.trim() != "wasm"),
    }
}

/// The isolate's settings, read from `env` on first use. A signing key given as a PKCS#8 PEM
/// is first turned into a JWK by WebCrypto (crypto/keys.rs says why); one the platform cannot
/// read stays as it is, and the key set then says what is wrong with it.
pub async fn settings(env: &Env) -> Rc<Settings> {
    if let Some(settings) = SETTINGS.with(|cell| cell.borrow().clone()) {
        return settings;
    }
    let mut signing = text_binding(env, "JWT_SIGNING_KEY").unwrap_or_default();
    if signing.trim_start().starts_with("-----BEGIN") {
        if let Some(jwk) = super::platform::pkcs8_pem_to_jwk(&signing).await {
            signing = jwk;
        }
    }
    let settings = Rc::new(load(env, &signing));
    SETTINGS.with(|cell| cell.borrow_mut().get_or_insert(settings).clone())
}

impl Settings {
    /// The configuration for one request: the issuer is the request's origin unless `ISSUER`
    /// is set (docs/API.md), and the default audience follows the issuer.
    pub fn config_for(&self, origin: &str) -> Config {
        let mut c = self.config.clone();
        if !self.fixed_issuer {
            c.issuer = origin.to_string();
        }
        if !self.fixed_audience {
            c.access_token_audience = c.issuer.clone();
        }
        c
    }
}
