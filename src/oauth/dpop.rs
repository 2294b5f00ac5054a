//! DPoP proofs (RFC 9449 §4): a JWT the client signs with its own key for each request, which
//! binds the tokens it gets to that key (`cnf.jkt`, §6) and proves possession when it uses them.
//!
//! §4.3's checks, in order: one well-formed JWT, `typ: dpop+jwt`, an asymmetric algorithm this
//! server verifies (ES256, RS256), a public `jwk` in the header that verifies the signature,
//! `htm` the request's method, `htu` its URL without query and fragment (normalised, §4.3 item
//! 9 and RFC 3986 §6), `iat` within the window, `ath` the access token's hash where one is
//! presented (§4.3 item 11), and the `jti` not seen before (§11.1: kept for the window).

use super::{OAuthError, OAuthResult, Provider};
use crate::crypto::jose::{Compact, Jwk};
use crate::crypto::{b64url, sha256_b64url};
use crate::store::{Platform, Store};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The algorithms of proofs (`dpop_signing_alg_values_supported`).
pub const DPOP_ALGS: [&str; 2] = ["ES256", "RS256"];
/// How old a proof's `iat` may be, in seconds.
pub const MAX_AGE: u64 = 300;
/// How far ahead of this server's clock a proof's `iat` may be.
pub const MAX_AHEAD: u64 = 60;

/// A checked proof: its key and that key's RFC 7638 thumbprint.
#[derive(Debug, Clone)]
pub struct Proof {
    pub jkt: String,
    pub jwk: Jwk,
}

#[derive(Deserialize)]
struct ProofClaims {
    jti: Option<String>,
    htm: Option<String>,
    htu: Option<String>,
    iat: Option<f64>,
    ath: Option<String>,
}

/// `ath` (RFC 9449 §4.2): base64url of the SHA-256 of the access token.
pub fn access_token_hash(access_token: &str) -> String {
    b64url(&Sha256::digest(access_token.as_bytes()))
}

/// A URL as `htu` compares it (RFC 9449 §4.3 item 9): without query and fragment, scheme and
/// host in lowercase, the scheme's default port dropped, an empty path as `/`.
pub fn normalise_htu(url: &str) -> Option<String> {
    let url = url.split(['?', '#']).next()?;
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
    let authority = authority.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => return None,
    };
    let authority = authority.strip_suffix(default_port).unwrap_or(&authority);
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(format!("{scheme}://{authority}{path}"))
}

fn bad(description: &str) -> OAuthError {
    OAuthError::invalid_dpop_proof(description)
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// Checks the `DPoP` header's proof for a request of `method` to `url`; `access_token` is
    /// the token presented with it at a resource (its hash must be the proof's `ath`). Every
    /// failure is `invalid_dpop_proof`, with a description naming the rule.
    pub async fn check_dpop(&self, proof: &str, method: &str, url: &str, access_token: Option<&str>) -> OAuthResult<Proof> {
        let compact = Compact::parse(proof).map_err(|_| bad("the DPoP proof is not a signed JWT"))?;
        if !compact.header.typ.as_deref().is_some_and(|t| t.eq_ignore_ascii_case("dpop+jwt")) {
            return Err(bad("the DPoP proof's typ must be dpop+jwt"));
        }
        if !DPOP_ALGS.contains(&compact.header.alg.as_str()) {
            return Err(bad("the DPoP proof's alg must be ES256 or RS256"));
        }
        let jwk = compact.header.jwk.as_ref().ok_or_else(|| bad("the DPoP proof's header has no jwk"))?;
        let jwk = Jwk::from_value(jwk).map_err(|e| bad(&format!("the DPoP proof's jwk: {e}")))?;
        if jwk.alg() != compact.header.alg {
            return Err(bad("the DPoP proof's jwk does not fit its alg"));
        }
        if !self.verify_with(&jwk, &compact).await {
            return Err(bad("the DPoP proof's signature does not verify with its jwk"));
        }
        let claims: ProofClaims = compact.claims().map_err(|_| bad("the DPoP proof's claims are not a JSON object"))?;
        if claims.htm.as_deref() != Some(method) {
            return Err(bad("the DPoP proof's htm is not this request's method"));
        }
        let expected = normalise_htu(url);
        if expected.is_none() || claims.htu.as_deref().and_then(normalise_htu) != expected {
            return Err(bad("the DPoP proof's htu is not this request's URL"));
        }
        let now = self.now as f64;
        let iat = claims.iat.ok_or_else(|| bad("the DPoP proof needs an iat"))?;
        if iat < now - MAX_AGE as f64 || iat > now + MAX_AHEAD as f64 {
            return Err(bad("the DPoP proof's iat is outside the accepted window"));
        }
        if let Some(token) = access_token {
            if claims.ath.as_deref() != Some(access_token_hash(token).as_str()) {
                return Err(bad("the DPoP proof's ath is not the hash of the access token"));
            }
        }
        let jti = claims.jti.as_deref().filter(|j| !j.is_empty() && j.len() <= 256);
        let jti = jti.ok_or_else(|| bad("the DPoP proof needs a jti"))?;
        let jkt = jwk.thumbprint();
        let key = sha256_b64url(&format!("dpop\0{jkt}\0{jti}"));
        if !self.store.first_use(&key, iat as u64 + MAX_AGE + MAX_AHEAD, self.now).await? {
            return Err(bad("the DPoP proof was already used (its jti is single-use)"));
        }
        Ok(Proof { jkt, jwk })
    }
}

#[cfg(test)]
#[path = "dpop_tests.rs"]
mod tests;
