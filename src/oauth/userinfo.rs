//! The UserInfo endpoint (OpenID Connect Core §5.3).

use super::issue::UserClaims;
use super::scope::{Scope, OPENID};
use super::{OAuthError, OAuthResult, Provider};
use crate::store::{Platform, Store};
use serde::Serialize;

/// The UserInfo answer: `sub` and the claims the token's scope releases (§5.3.2).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UserInfo {
    pub sub: String,
    #[serde(flatten)]
    pub claims: UserClaims,
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// Needs a valid access token of an end-user with `openid` (§5.3: "The Access Token
    /// obtained from an OpenID Connect Authentication Request MUST be sent as a Bearer Token").
    ///
    /// `jkt` is the key of the request's checked DPoP proof when the token came with the `DPoP`
    /// scheme (RFC 9449 §7.1); a bound token needs it, an unbound one must not have it.
    pub async fn userinfo(&self, token: &str, jkt: Option<&str>) -> OAuthResult<UserInfo> {
        let claims = self
            .verify_presented_access_token(token, jkt)
            .await?
            .ok_or_else(|| OAuthError::invalid_token("the access token is invalid, expired or revoked"))?;
        // The UserInfo Endpoint is a protected resource of this server: a token whose `aud`
        // names only other resources (RFC 8707) was issued for them, and must not read the
        // user's claims here (RFC 9068 §4: the resource "MUST validate that the aud claim
        // contains a resource indicator value corresponding to an identifier the resource
        // server expects for itself"). Tokens without a resource get the default audience.
        let c = self.config;
        let userinfo = format!("{}/userinfo", c.issuer);
        if ![c.issuer.as_str(), c.access_token_audience.as_str(), userinfo.as_str()].iter().any(|a| claims.aud.contains(a)) {
            return Err(OAuthError::invalid_token("the access token is for another resource (aud), not this server's userinfo"));
        }
        let scope = Scope::parse(&claims.scope).unwrap_or_default();
        if !scope.contains(OPENID) || claims.username.is_none() {
            return Err(OAuthError::insufficient_scope("the access token lacks the openid scope of an end-user"));
        }
        let user = self.store.user_by_id(&claims.sub).await?.ok_or_else(|| OAuthError::invalid_token("the user no longer exists"))?;
        Ok(UserInfo { claims: UserClaims::for_scope(&scope, &user.username, &user.email, &user.role), sub: user.id })
    }
}
