//! Checking a bearer access token (RFC 6750) that this server issued (RFC 9068 §4): the shared
//! rule behind `/userinfo`, `/introspect` and the admin endpoints.

use super::issue::AccessClaims;
use super::{OAuthResult, Provider};
use crate::crypto::jwt;
use crate::crypto::keys::KeySet;
use crate::store::{AccessCheck, Platform, Store};

/// How far in the future `nbf` may be (clock skew between isolates), in seconds.
const NBF_LEEWAY: u64 = 60;

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// Until when an ended grant must be remembered: no access token minted before now can
    /// outlive this.
    pub fn grant_end_horizon(&self) -> u64 {
        self.now + self.config.access_token_ttl
    }
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// An ES256 JWT's claims when its header is ours and its signature good: checked by the
    /// platform where it can (WebCrypto in workerd, `store::PlatformSigner`), else in wasm.
    pub(crate) async fn verify_es256<T: serde::de::DeserializeOwned>(&self, keys: &KeySet, token: &str, typ: &str) -> Option<T> {
        let unverified = jwt::parse_es256(keys, token, Some(typ)).ok()?;
        let good = match self.platform.verify_es256(unverified.key, unverified.signing_input.as_bytes(), &unverified.signature).await {
            Some(verdict) => verdict,
            None => unverified.verify_in_wasm(),
        };
        good.then(|| unverified.claims().ok()).flatten()
    }

    /// Checks an access token presented as a Bearer token (RFC 6750): `verify_any_access_token`,
    /// and not DPoP-bound ("a DPoP-bound access token ... MUST NOT be accepted as a bearer
    /// token", RFC 9449 §7.1).
    pub async fn verify_access_token(&self, token: &str) -> OAuthResult<Option<AccessClaims>> {
        self.verify_presented_access_token(token, None).await
    }

    /// Checks an access token presented with `jkt`, the key of a checked DPoP proof (RFC 9449
    /// §7.1), or as a Bearer token (`None`): the token's binding must be exactly that key.
    pub async fn verify_presented_access_token(&self, token: &str, jkt: Option<&str>) -> OAuthResult<Option<AccessClaims>> {
        let claims = self.verify_any_access_token(token).await?;
        Ok(claims.filter(|c| c.cnf.as_ref().map(|c| c.jkt.as_str()) == jkt))
    }

    /// Checks an access token fully: signature and `kid`, `typ: at+jwt` (RFC 9068 §4), issuer,
    /// time window, revocation by `jti`, and that its client is still active. `None` when any
    /// check fails. Whatever its binding (introspection reports it, RFC 9449 §6.2).
    pub async fn verify_any_access_token(&self, token: &str) -> OAuthResult<Option<AccessClaims>> {
        let keys = self.keys()?;
        let Some(claims) = self.verify_es256::<AccessClaims>(keys, token, "at+jwt").await else {
            return Ok(None);
        };
        if claims.iss != self.config.issuer || claims.exp <= self.now || claims.nbf > self.now + NBF_LEEWAY {
            return Ok(None);
        }
        // Not revoked, its grant not ended, its client (and user) still there: one round trip.
        let check = AccessCheck {
            jti: claims.jti.clone(),
            client_id: claims.client_id.clone(),
            grant_id: claims.grant_id.clone(),
            user_id: claims.username.is_some().then(|| claims.sub.clone()),
            issued_at: claims.iat,
        };
        let usable = self.store.access_token_usable(&check).await?;
        Ok(usable.then_some(claims))
    }
}
