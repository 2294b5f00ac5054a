//! The resource owner password credentials grant (RFC 6749 §4.3), for clients registered for
//! it (confidential ones only: see `GrantType::allowed_for_public_clients`).

use crate::oauth::issue::{RefreshIssue, Resources, Subject, TokenResponse};
use crate::oauth::scope::Scope;
use crate::oauth::secrets::Password;
use crate::oauth::{OAuthError, OAuthResult, Provider};
use crate::store::{Client, ClientType, Platform, Store};

impl<S: Store, P: Platform> Provider<'_, S, P> {
    pub(super) async fn password_grant(
        &self,
        client: &Client,
        username: &str,
        password: &Password,
        requested: Option<Scope>,
        resources: &[String],
        jkt: Option<&str>,
    ) -> OAuthResult<TokenResponse> {
        // A public client can neither register for this grant nor use it (a registration that
        // predates that rule included): it cannot keep the user's password from its own users'
        // devices' inspection, and RFC 6749 §4.3 asks for a client "capable of obtaining the
        // resource owner's credentials" it is trusted with.
        if client.client_type != ClientType::Confidential {
            return Err(OAuthError::unauthorized_client("the password grant needs a confidential client"));
        }
        let allowed = Scope::from_list(client.scopes.iter().cloned());
        let scope = Scope::narrow(requested.as_ref(), &allowed)
            .ok_or_else(|| OAuthError::invalid_scope("scope exceeds what the client may request"))?;
        // "the authorization server MUST ... protect the endpoint against brute force attacks
        // (e.g., using rate-limitation ...)" (§4.3.2): `authenticate_user` throttles.
        let user =
            self.authenticate_user(username, password).await?.ok_or_else(|| OAuthError::invalid_grant("invalid username or password"))?;
        // This grant has no way to ask for a second factor: a person with an authenticator app,
        // or a client that demands two factors, must use the authorization code flow.
        if client.require_mfa {
            return Err(OAuthError::invalid_grant(
                "this client requires two-step sign-in, which the password grant cannot perform; use the authorization code flow",
            ));
        }
        if self.has_totp(&user.id).await? {
            return Err(OAuthError::invalid_grant(
                "this account has two-step sign-in, which the password grant cannot perform; use the authorization code flow",
            ));
        }
        let amr = [crate::oauth::amr::PWD.to_string()];
        let subject = Subject::of(&user, self.now, &amr);
        let issued = self
            .issue(client, Some(&subject), &scope, None, &Resources::new_grant(resources.to_vec()), RefreshIssue::NewFamily, jkt)
            .await?;
        if let Some(r) = &issued.refresh {
            self.store.insert_refresh(r).await?;
        }
        Ok(issued.response)
    }
}
