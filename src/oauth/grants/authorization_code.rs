//! The authorization code grant's token request (RFC 6749 §4.1.3, PKCE RFC 7636 §4.6).

use crate::oauth::audit::{Audit, AuditKind};
use crate::oauth::issue::{RefreshIssue, Resources, Subject, TokenResponse};
use crate::oauth::scope::Scope;
use crate::oauth::secrets::CodeVerifier;
use crate::oauth::{pkce, OAuthError, OAuthResult, Provider};
use crate::store::{AuthorizationCode, Client, ClientType, ClientUse, ConsumedCode, Platform, Redemption, Store};

fn invalid_code() -> OAuthError {
    OAuthError::invalid_grant("the authorization code is invalid, expired or already used")
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// Single use is one conditional write: a second redemption fails and revokes what the
    /// first issued ("If an authorization code is used more than once, the authorization
    /// server MUST deny the request and SHOULD revoke (when possible) all tokens previously
    /// issued based on that authorization code", RFC 6749 §4.1.2).
    pub(super) async fn authorization_code_grant(
        &self,
        client: &Client,
        redirect_uri: &str,
        code_verifier: Option<&CodeVerifier>,
        found: (Option<String>, Option<AuthorizationCode>),
        resources: &[String],
        jkt: Option<&str>,
    ) -> OAuthResult<TokenResponse> {
        // The presented code's hash, and its record if one was found.
        let (Some(code_hash), Some(record)) = found else { return Err(invalid_code()) };
        // "ensure that the authorization code was issued to the authenticated confidential
        // client, or ... to the client identified by client_id" and "is valid" (§4.1.3).
        if record.client_id != client.client_id || record.expires_at <= self.now {
            return Err(invalid_code());
        }
        // "ensure that the redirect_uri parameter is present if [it] was included in the
        // initial authorization request ... and if included ensure that their values are
        // identical" (§4.1.3).
        if record.redirect_uri != redirect_uri {
            return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
        }
        match (&record.code_challenge, code_verifier) {
            (Some(challenge), Some(verifier)) if pkce::verify_pkce(verifier.expose(), challenge) => {}
            (Some(_), Some(_)) => return Err(OAuthError::invalid_grant("code_verifier does not match the code_challenge")),
            (Some(_), None) => return Err(OAuthError::invalid_grant("code_verifier is required")),
            // A verifier without a challenge is a downgrade attempt (Security BCP §4.8.2).
            (None, Some(_)) => return Err(OAuthError::invalid_grant("no code_challenge was sent for this code")),
            (None, None) if client.client_type == ClientType::Public => {
                return Err(OAuthError::invalid_grant("public clients must use PKCE"))
            }
            (None, None) => {}
        }
        // RFC 8707 §2.2: the token request may name fewer resources than the authorization
        // request did, never others. Checked before the code is spent.
        let audience = crate::oauth::resource::narrow(resources, &record.resources)?;
        let resources = Resources { granted: record.resources.clone(), audience };
        let scope = Scope::parse(&record.scope).unwrap_or_default();
        let subject = Subject {
            user_id: &record.user_id,
            username: &record.username,
            email: &record.email,
            role: &record.role,
            auth_time: record.auth_time,
            amr: &record.amr,
        };
        let issued = self.issue(client, Some(&subject), &scope, record.nonce.as_deref(), &resources, RefreshIssue::NewFamily, jkt).await?;
        let consumed = ConsumedCode {
            code_hash,
            // The grant (also the refresh family, when there is one), ended whole on replay.
            family_id: issued.grant_id.clone(),
            access_jti: issued.jti.clone(),
            access_exp: self.now + self.config.access_token_ttl,
            expires_at: record.expires_at.max(self.now) + self.config.access_token_ttl,
        };
        let client_use = client.dynamic.then_some(ClientUse { client_id: &client.client_id, at: self.now });
        match self.store.redeem_code(&consumed, client_use, issued.refresh.as_ref()).await? {
            Redemption::First => Ok(issued.response),
            Redemption::Replayed(previous) => {
                if let Some(prev) = previous {
                    if let Some(grant) = &prev.family_id {
                        self.store.end_grant(grant, self.grant_end_horizon()).await?;
                    }
                    self.store.revoke_access(&prev.access_jti, prev.access_exp).await?;
                    let event = Audit::new(AuditKind::CodeReplay).user(&record.user_id).client(&client.client_id);
                    self.audit(event.detail(serde_json::json!({ "grant_id": prev.family_id })));
                }
                Err(invalid_code())
            }
        }
    }
}
