//! Checking a bearer access token (RFC 6750) that this server issued (RFC 9068 §4): the shared
//! rule behind `/userinfo`, `/introspect` and the admin endpoints.

use super::issue::AccessClaims;
use super::{OAuthResult, Provider};
use crate::crypto::jwt;
use crate::store::Store;

/// How far in the future `nbf` may be (clock skew between isolates), in seconds.
const NBF_LEEWAY: u64 = 60;

impl<S: Store> Provider<'_, S> {
    /// Checks an access token fully: signature and `kid`, `typ: at+jwt` (RFC 9068 §4), issuer,
    /// time window, revocation by `jti`, and that its client is still active. `None` when any
    /// check fails.
    pub async fn verify_access_token(&self, token: &str) -> OAuthResult<Option<AccessClaims>> {
        let keys = self.keys()?;
        let Ok(claims) = jwt::verify::<AccessClaims>(keys, token, Some("at+jwt")) else {
            return Ok(None);
        };
        if claims.iss != self.config.issuer || claims.exp <= self.now || claims.nbf > self.now + NBF_LEEWAY {
            return Ok(None);
        }
        // Not revoked and its client still active: one storage round trip.
        let usable = self.store.access_token_usable(&claims.jti, &claims.client_id).await?;
        Ok(usable.then_some(claims))
    }
}
