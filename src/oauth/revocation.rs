//! Token revocation (RFC 7009).

use super::issue::AccessClaims;
use super::{OAuthError, OAuthResult, Provider};
use crate::crypto::sha256_b64url;
use crate::store::{Client, Platform, Store};

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// `POST /revoke` (RFC 7009 §2.1): ends a refresh token's grant, its family and the access
    /// tokens minted along it ("If the token passed to the request is a refresh token and the
    /// authorization server supports the revocation of access tokens, then the authorization
    /// server SHOULD also invalidate all access tokens based on the same authorization grant")
    /// or an access token's `jti`. Unknown tokens are not an error ("invalid tokens do not cause
    /// an error response", §2.2); a token of another client is refused ("the authorization
    /// server first validates ... whether the token was issued to the client making the
    /// revocation request", §2.1).
    pub async fn revoke(&self, client: &Client, token: &str) -> OAuthResult<()> {
        if token.is_empty() || token.len() > 8192 {
            return Ok(());
        }
        let other_client = || OAuthError::unauthorized_client("the token was issued to another client");
        // Access tokens are JWTs, refresh tokens opaque: the hint is not needed (§2.1 lets the
        // server ignore it).
        if token.contains('.') {
            let keys = self.keys()?;
            if let Some(c) = self.verify_es256::<AccessClaims>(keys, token, "at+jwt").await {
                if c.iss == self.config.issuer && c.exp > self.now {
                    if c.client_id != client.client_id {
                        return Err(other_client());
                    }
                    self.store.revoke_access(&c.jti, c.exp).await?;
                }
            }
            return Ok(());
        }
        if let Some(r) = self.store.refresh(&sha256_b64url(token)).await? {
            if r.token.client_id != client.client_id {
                return Err(other_client());
            }
            self.store.end_grant(&r.token.family_id, self.grant_end_horizon()).await?;
        }
        Ok(())
    }
}
