//! The protocol core: every rule of OAuth 2.0 / OpenID Connect this server follows, free of
//! the worker runtime. It reaches storage only through `store::Store`, takes the time as an
//! argument, and is tested with `cargo test` on the host against `store::memory`.

pub mod accounts;
pub mod amr;
pub mod audit;
pub mod authorize;
pub mod bearer;
pub mod client_auth;
pub mod clients;
pub mod consent;
pub mod dpop;
pub mod error;
pub mod grants;
pub mod introspection;
pub mod issue;
pub mod lockout;
pub mod logout;
pub mod metadata_document;
pub mod outbound;
pub mod passkeys;
#[cfg(test)]
mod passkeys_tests;
pub mod pkce;
pub mod prompt;
pub mod redirect;
pub mod registration;
pub mod resource;
pub mod revocation;
pub mod scope;
pub mod second_factor;
pub mod secrets;
pub mod session;
pub mod userinfo;
pub mod users;

use crate::crypto::keys::KeySet;
pub use error::{ErrorCode, OAuthError, OAuthResult};
pub use grants::{GrantType, TokenRequest};

/// The reuse interval's default (docs/API.md "Reuse interval"): long enough for two tabs
/// refreshing at once and a retry after a lost response, short enough that a stolen token is
/// worth little (RFC 9700 §4.14.2).
pub const DEFAULT_REFRESH_REUSE_INTERVAL: u64 = 30;
/// The longest reuse interval a deployment may set.
pub const MAX_REFRESH_REUSE_INTERVAL: u64 = 300;

/// Deployment settings, read from the worker's vars.
#[derive(Debug, Clone)]
pub struct Config {
    pub issuer: String,
    /// Default `aud` of access tokens (RFC 9068 §3); the issuer when unset.
    pub access_token_audience: String,
    pub access_token_ttl: u64,
    pub id_token_ttl: u64,
    pub refresh_token_ttl: u64,
    /// Absolute lifetime of a refresh family (grant), however often it rotates.
    pub refresh_family_lifetime: u64,
    /// Seconds after its rotation during which a refresh token presented again by its own
    /// client is answered from its family rather than taken for theft (`REFRESH_REUSE_INTERVAL`;
    /// 0 is strict).
    pub refresh_reuse_interval: u64,
    pub auth_code_ttl: u64,
    pub pbkdf2_iterations: u32,
    /// Lifetime of a browser session (single sign-on at /authorize).
    pub session_ttl: u64,
    /// Open dynamic client registration (RFC 7591) without an admin bearer.
    pub dynamic_registration: bool,
    /// Client ID metadata documents: an https URL as `client_id` (`CLIENT_ID_METADATA_DOCUMENTS`).
    pub client_metadata_documents: bool,
    /// Also `http://` loopback document URLs: development and tests only
    /// (`CLIENT_METADATA_HTTP_LOOPBACK`).
    pub metadata_document_http_loopback: bool,
    /// Seals authenticator-app secrets at rest (`TOTP_ENCRYPTION_KEY`); without it no app can
    /// be set up, nor checked.
    pub totp_key: Option<crate::crypto::seal::SealKey>,
}

impl Config {
    pub fn for_issuer(issuer: &str) -> Self {
        Self {
            issuer: issuer.to_string(),
            access_token_audience: issuer.to_string(),
            access_token_ttl: 3600,
            id_token_ttl: 3600,
            refresh_token_ttl: 30 * 24 * 3600,
            refresh_family_lifetime: 90 * 24 * 3600,
            refresh_reuse_interval: DEFAULT_REFRESH_REUSE_INTERVAL,
            auth_code_ttl: 60,
            pbkdf2_iterations: crate::crypto::password::DEFAULT_ITERATIONS,
            session_ttl: 8 * 3600,
            dynamic_registration: true,
            client_metadata_documents: true,
            metadata_document_http_loopback: false,
            totp_key: None,
        }
    }
}

/// Everything a protocol operation needs: storage and the platform beside it, keys, settings
/// and the current time.
pub struct Provider<'a, S, P> {
    pub store: &'a S,
    /// Outbound fetches, per-address budgets and signatures by the runtime, beside the store.
    pub platform: &'a P,
    pub keys: Result<&'a KeySet, &'a str>,
    pub config: &'a Config,
    /// Seconds since the Unix epoch.
    pub now: u64,
    /// The client's address (`CF-Connecting-IP`, which Cloudflare sets), for the per-address
    /// sign-in and registration budgets.
    pub address: &'a str,
    /// This request's audit events, written out after the response.
    pub audit_log: &'a audit::AuditLog,
}

impl<S, P> Provider<'_, S, P> {
    /// The signing keys, or a 503 that says the deployment is missing them.
    pub fn keys(&self) -> OAuthResult<&KeySet> {
        self.keys.map_err(|e| OAuthError::unavailable(format!("token signing is not configured: {e}")))
    }
}

pub use crate::future::join2;

/// A tiny executor for host tests: the store futures never wait on anything outside.
#[cfg(test)]
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}
