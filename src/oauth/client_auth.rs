//! Client authentication with a JWT (RFC 7521 §4.2, RFC 7523 §2.2 and §3, OpenID Connect Core
//! §9): `private_key_jwt`, signed with one of the client's registered keys (ES256 or RS256), and
//! `client_secret_jwt`, HS256 under the client secret. The assertion's `iss` and `sub` are the
//! client_id, its `aud` this issuer or the endpoint's URL, `exp` within five minutes of its
//! receipt, and its `jti` is single-use until it expires.
//!
//! The client's keys are its `jwks`, or the JWK Set at its `jwks_uri`, fetched through the one
//! outbound path (`outbound.rs`) and kept per isolate for `JWKS_TTL`; an assertion naming a `kid`
//! the kept set lacks fetches it again (at most once per `JWKS_REFETCH` seconds: the client may
//! have rotated its keys).

use super::outbound::OutboundError;
use super::{OAuthError, OAuthResult, Provider};
use crate::crypto::jose::{Compact, Jwk};
use crate::crypto::{b64url, b64url_decode, constant_time_eq, sha256_b64url};
use crate::store::{AuthMethod, Client, Platform, Store};
use serde::Deserialize;
use serde_json::Value;
use std::cell::RefCell;

/// RFC 7523 §2.2: the one `client_assertion_type` this server takes.
pub const JWT_BEARER_CLIENT_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// The algorithms of `private_key_jwt` assertions (`token_endpoint_auth_signing_alg_values_supported`).
pub const ASSERTION_ALGS: [&str; 3] = ["ES256", "RS256", "HS256"];
/// The longest an assertion may live: its `exp` at most this long after its receipt.
pub const MAX_ASSERTION_LIFETIME: u64 = 300;
/// Leeway for the client's clock on `iat` and `nbf`.
pub const CLOCK_SKEW: u64 = 60;
/// How long a fetched JWK Set is used.
pub const JWKS_TTL: u64 = 300;
/// The least time between two fetches of one client's JWK Set.
pub const JWKS_REFETCH: u64 = 60;
/// The most keys read from a JWK Set.
pub const MAX_KEYS: usize = 10;
/// The largest JWK Set fetched (a few RSA keys are well under).
pub const MAX_JWKS_BYTES: usize = 16 * 1024;

/// The client assertion of a request (`client_assertion_type` and `client_assertion`).
#[derive(Clone, PartialEq, Eq)]
pub struct ClientAssertion {
    pub kind: String,
    pub jwt: String,
}

impl std::fmt::Debug for ClientAssertion {
    /// The assertion is a credential: only its type is printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClientAssertion({}, [redacted])", self.kind)
    }
}

/// The claims of an assertion this server reads (RFC 7523 §3).
#[derive(Deserialize)]
struct AssertionClaims {
    iss: Option<String>,
    sub: Option<String>,
    #[serde(default)]
    aud: Value,
    exp: Option<f64>,
    nbf: Option<f64>,
    iat: Option<f64>,
    jti: Option<String>,
}

/// A key of a client's JWK Set, with the `kid` it was published under.
#[derive(Clone, Debug)]
pub struct ClientKey {
    pub kid: Option<String>,
    pub jwk: Jwk,
}

/// The signing keys of a JWK Set (`{"keys": [...]}`): keys for encryption, of other types or
/// curves, and malformed ones are skipped; none usable is an error.
pub fn signing_keys(set: &Value) -> Result<Vec<ClientKey>, String> {
    let keys = set.get("keys").and_then(Value::as_array).ok_or("a JWK Set is an object with a 'keys' list")?;
    let mut out = Vec::new();
    for key in keys.iter().take(MAX_KEYS) {
        if key.get("use").is_some_and(|u| u != "sig") {
            continue;
        }
        if crate::crypto::jose::has_private_members(key) {
            return Err("the JWK Set holds a private key: publish public keys only".into());
        }
        if let Ok(jwk) = Jwk::from_value(key) {
            if key.get("alg").and_then(Value::as_str).is_some_and(|alg| alg != jwk.alg()) {
                continue;
            }
            out.push(ClientKey { kid: key.get("kid").and_then(Value::as_str).map(str::to_string), jwk });
        }
    }
    if out.is_empty() {
        return Err("the JWK Set has no P-256 (ES256) or RSA (RS256) signing key".into());
    }
    Ok(out)
}

/// A fetched JWK Set: its keys, when it was fetched and until when it is used.
struct KeptJwks {
    url: String,
    fetched_at: u64,
    keys: Vec<ClientKey>,
}

thread_local! {
    /// Per isolate: the JWK Sets fetched lately (a few clients at most).
    static JWKS: RefCell<Vec<KeptJwks>> = const { RefCell::new(Vec::new()) };
}

fn kept(url: &str, now: u64) -> Option<(u64, Vec<ClientKey>)> {
    JWKS.with(|j| j.borrow().iter().find(|k| k.url == url && k.fetched_at + JWKS_TTL > now).map(|k| (k.fetched_at, k.keys.clone())))
}

fn keep(url: &str, now: u64, keys: &[ClientKey]) {
    JWKS.with(|j| {
        let mut j = j.borrow_mut();
        j.retain(|k| k.url != url && k.fetched_at + JWKS_TTL > now);
        if j.len() >= 16 {
            j.remove(0);
        }
        j.push(KeptJwks { url: url.to_string(), fetched_at: now, keys: keys.to_vec() });
    });
}

/// One answer for every way a JWK Set fetch fails (what happened goes to the log only).
fn jwks_failure(e: OutboundError) -> OAuthError {
    OAuthError {
        internal: Some(e.detail()),
        ..OAuthError::invalid_client("the client's jwks_uri could not be fetched (HTTP 200 with a JWK Set within 3 s)")
    }
}

/// The client secret of a `client_secret_jwt` client, sealed for storage: the secret is 32
/// random bytes in base64url (`crypto::random_token`), sealed as those bytes.
pub fn seal_secret(key: &crate::crypto::seal::SealKey, client_id: &str, secret: &str) -> Option<String> {
    let bytes = b64url_decode(secret).filter(|b| b.len() <= crate::crypto::seal::MAX_SECRET)?;
    Some(key.seal(&bytes, &format!("client-secret:{client_id}")))
}

fn open_secret(key: &crate::crypto::seal::SealKey, client_id: &str, sealed: &str) -> Option<String> {
    key.open(sealed, &format!("client-secret:{client_id}")).map(|bytes| b64url(&bytes))
}

/// HS256 (RFC 7518 §3.2) of `message` under `secret`.
fn hs256(secret: &str, message: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

fn refused(description: &str) -> OAuthError {
    OAuthError::invalid_client(description)
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// Authenticates a client by its assertion at the endpoint `endpoint` (a path of this
    /// issuer). `form_id`, when sent, must name the same client. Every failure is
    /// `invalid_client`, with a description saying which rule the assertion broke.
    pub async fn authenticate_assertion(&self, assertion: &ClientAssertion, form_id: Option<&str>, endpoint: &str) -> OAuthResult<Client> {
        if assertion.kind != JWT_BEARER_CLIENT_ASSERTION {
            return Err(refused("client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer"));
        }
        let compact = Compact::parse(&assertion.jwt).map_err(|_| refused("the client assertion is not a signed JWT"))?;
        // Read before the signature is checked only to find the client whose keys check it.
        let claims: AssertionClaims = compact.claims().map_err(|_| refused("the client assertion's claims are not a JSON object"))?;
        let client_id = match (&claims.iss, &claims.sub) {
            (Some(iss), Some(sub)) if iss == sub && !sub.is_empty() => sub.as_str(),
            _ => return Err(refused("the client assertion's iss and sub must both be the client_id")),
        };
        if form_id.is_some_and(|id| id != client_id) {
            return Err(refused("client_id does not match the client assertion's sub"));
        }
        if client_id.len() > 512 {
            return Err(refused("client authentication failed"));
        }
        let client = self.assertion_client(client_id).await?;
        let (client, fresh) = match client {
            (Some(c), fresh) => (c, fresh),
            (None, _) => return Err(refused("client authentication failed")),
        };
        let verified = match self.check_assertion_signature(&client, &compact).await {
            // A cached copy may predate the client's new keys or method: read it afresh once.
            Err(_) if !fresh => match self.store.client(client_id).await? {
                Some(c) => self.check_assertion_signature(&c, &compact).await.map(|()| c),
                None => Err(refused("client authentication failed")),
            },
            other => other.map(|()| client),
        }?;
        self.check_assertion_claims(&claims, endpoint)?;
        // RFC 7523 §3 item 7 and OIDC Core §9: the jti is used once, until the assertion expires.
        let jti = claims.jti.as_deref().filter(|j| !j.is_empty() && j.len() <= 256);
        let jti = jti.ok_or_else(|| refused("the client assertion needs a jti"))?;
        let exp = claims.exp.unwrap_or(0.0) as u64;
        let key = sha256_b64url(&format!("client_assertion\0{client_id}\0{jti}"));
        if !self.store.first_use(&key, exp, self.now).await? {
            return Err(refused("the client assertion was already used (its jti is single-use)"));
        }
        Ok(verified)
    }

    /// The client an assertion names, and whether it was read fresh (not from a cache).
    async fn assertion_client(&self, client_id: &str) -> OAuthResult<(Option<Client>, bool)> {
        if self.names_document(client_id) {
            return Ok((self.client_by_id(client_id).await?, true));
        }
        let (client, cached) = self.store.client_for_auth(client_id, self.now).await?;
        Ok((client, !cached))
    }

    /// `exp`, `nbf`, `iat` and `aud` (RFC 7523 §3 items 3-5).
    fn check_assertion_claims(&self, claims: &AssertionClaims, endpoint: &str) -> OAuthResult<()> {
        let now = self.now as f64;
        match claims.exp {
            None => return Err(refused("the client assertion needs an exp")),
            Some(exp) if exp <= now => return Err(refused("the client assertion has expired")),
            Some(exp) if exp > now + MAX_ASSERTION_LIFETIME as f64 => {
                return Err(refused("the client assertion's exp is more than 5 minutes away"))
            }
            Some(_) => {}
        }
        if [claims.nbf, claims.iat].into_iter().flatten().any(|t| t > now + CLOCK_SKEW as f64) {
            return Err(refused("the client assertion is not valid yet (nbf or iat in the future)"));
        }
        let issuer = self.config.issuer.as_str();
        let accepted = [issuer.to_string(), format!("{issuer}/token"), format!("{issuer}{endpoint}")];
        let names_us = |v: &Value| v.as_str().is_some_and(|a| accepted.iter().any(|x| x == a));
        let ok = match &claims.aud {
            Value::String(_) => names_us(&claims.aud),
            Value::Array(list) => list.iter().any(names_us),
            _ => false,
        };
        if !ok {
            return Err(refused("the client assertion's aud must be this issuer or the endpoint's URL"));
        }
        Ok(())
    }

    /// The assertion's signature (or MAC) under the client's registered method and keys.
    async fn check_assertion_signature(&self, client: &Client, compact: &Compact<'_>) -> OAuthResult<()> {
        let alg = compact.header.alg.as_str();
        let keys = &client.key_binding;
        if !client.is_active {
            return Err(refused("client authentication failed"));
        }
        if keys.token_endpoint_auth_signing_alg.as_deref().is_some_and(|registered| registered != alg) {
            return Err(refused("the client assertion's alg is not the client's token_endpoint_auth_signing_alg"));
        }
        match client.token_endpoint_auth_method {
            AuthMethod::ClientSecretJwt => {
                if alg != "HS256" {
                    return Err(refused("a client_secret_jwt assertion is signed with HS256"));
                }
                let secret = match (&self.config.totp_key, &client.client_secret_sealed) {
                    (Some(key), Some(sealed)) => open_secret(key, &client.client_id, sealed),
                    _ => None,
                };
                let Some(secret) = secret else {
                    return Err(refused(
                        "this client has no secret usable for client_secret_jwt: issue a new one (POST /clients/{id}/secret)",
                    ));
                };
                if !constant_time_eq(&hs256(&secret, compact.signing_input.as_bytes()), &compact.signature) {
                    return Err(refused("the client assertion's signature does not match the client secret"));
                }
                Ok(())
            }
            // A metadata document client that publishes keys may also prove itself with them: the
            // stronger method, when it uses it.
            AuthMethod::PrivateKeyJwt | AuthMethod::None
                if keys.has_keys()
                    && (client.token_endpoint_auth_method == AuthMethod::PrivateKeyJwt || self.names_document(&client.client_id)) =>
            {
                if alg != "ES256" && alg != "RS256" {
                    return Err(refused("a private_key_jwt assertion is signed with ES256 or RS256"));
                }
                if self.signed_by_client(client, compact).await? {
                    Ok(())
                } else {
                    Err(refused("the client assertion's signature does not match any of the client's keys"))
                }
            }
            _ => Err(refused("client authentication failed: this client does not authenticate with a client assertion")),
        }
    }

    /// Whether one of `client`'s keys signed `compact` (the `kid` picks the key when given).
    pub(super) async fn signed_by_client(&self, client: &Client, compact: &Compact<'_>) -> OAuthResult<bool> {
        let kid = compact.header.kid.as_deref();
        let (mut keys, refetchable) = self.client_keys(client, false).await?;
        let fits = |k: &ClientKey| k.jwk.alg() == compact.header.alg && (kid.is_none() || k.kid.as_deref() == kid);
        if refetchable && !keys.iter().any(fits) {
            keys = self.client_keys(client, true).await?.0;
        }
        for key in keys.iter().filter(|k| fits(k)) {
            if self.verify_with(&key.jwk, compact).await {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The client's keys, and whether a fetch now could give others (a `jwks_uri` last fetched
    /// more than `JWKS_REFETCH` seconds ago). `again` fetches even a kept set.
    async fn client_keys(&self, client: &Client, again: bool) -> OAuthResult<(Vec<ClientKey>, bool)> {
        let binding = &client.key_binding;
        if let Some(set) = &binding.jwks {
            return signing_keys(set).map(|k| (k, false)).map_err(|e| refused(&format!("the client's jwks: {e}")));
        }
        let Some(url) = &binding.jwks_uri else { return Ok((Vec::new(), false)) };
        if let Some((fetched_at, keys)) = kept(url, self.now) {
            let refetchable = fetched_at + JWKS_REFETCH <= self.now;
            if !again || !refetchable {
                return Ok((keys, refetchable));
            }
        }
        // An administrator's client may name any URL (loopback http included, for development);
        // a self-registered one only what open registration allows.
        let fetched = if client.dynamic {
            self.fetch_outbound_limited(url, MAX_JWKS_BYTES).await
        } else {
            self.fetch_trusted(url, MAX_JWKS_BYTES).await
        };
        let body = fetched.map_err(jwks_failure)?.body;
        let set: Value = serde_json::from_slice(&body).map_err(|_| refused("the client's jwks_uri is not a JWK Set (JSON)"))?;
        let keys = signing_keys(&set).map_err(|e| refused(&format!("the client's jwks_uri: {e}")))?;
        keep(url, self.now, &keys);
        Ok((keys, false))
    }

    /// Whether `jwk` signed `compact`: by the platform where it can (WebCrypto), else in wasm.
    pub(super) async fn verify_with(&self, jwk: &Jwk, compact: &Compact<'_>) -> bool {
        let message = compact.signing_input.as_bytes();
        if let Some(ok) = self.platform.verify_jwk(jwk, message, &compact.signature).await {
            return ok;
        }
        jwk.verify_in_wasm(message, &compact.signature).unwrap_or(false)
    }
}

#[cfg(test)]
#[path = "client_auth_tests.rs"]
mod tests;
