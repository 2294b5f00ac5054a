//! The client credentials grant (RFC 6749 §4.4): a confidential client acting for itself. No
//! refresh token ("A refresh token SHOULD NOT be included", §4.4.3) and no ID token (there is
//! no end-user, so `openid` cannot be granted).

use crate::oauth::issue::{RefreshIssue, Resources, TokenResponse};
use crate::oauth::scope::{Scope, ADMIN, OPENID};
use crate::oauth::{OAuthError, OAuthResult, Provider};
use crate::store::{Client, ClientType, Platform, Store};

impl<S: Store, P: Platform> Provider<'_, S, P> {
    pub(super) async fn client_credentials_grant(
        &self,
        client: &Client,
        requested: Option<Scope>,
        resources: &[String],
        jkt: Option<&str>,
    ) -> OAuthResult<TokenResponse> {
        // "The client credentials grant type MUST only be used by confidential clients" (§4.4).
        if client.client_type != ClientType::Confidential {
            return Err(OAuthError::unauthorized_client("client_credentials needs a confidential client"));
        }
        if requested.as_ref().is_some_and(|r| r.contains(OPENID)) {
            return Err(OAuthError::invalid_scope("openid needs an end-user; not available with client_credentials"));
        }
        // No end-user: neither `openid`, `offline_access` nor `admin` (which only an admin user
        // can hold) applies.
        let allowed = Scope::from_list(client.scopes.iter().filter(|s| !matches!(s.as_str(), OPENID | "offline_access" | ADMIN)).cloned());
        let scope = Scope::narrow(requested.as_ref(), &allowed)
            .ok_or_else(|| OAuthError::invalid_scope("scope exceeds what the client may request"))?;
        Ok(self.issue(client, None, &scope, None, &Resources::new_grant(resources.to_vec()), RefreshIssue::NewFamily, jkt).await?.response)
    }
}
