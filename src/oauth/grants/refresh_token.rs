//! The refresh token grant (RFC 6749 §6) with rotation: each use returns a new refresh token,
//! and presenting a rotated one again revokes its whole family (RFC 9700 §4.14.2) — except
//! within the reuse interval (`Config::refresh_reuse_interval`, docs/API.md "Reuse interval"):
//! a token its own client presents again shortly after its rotation (two tabs refreshing at
//! once, a retry after a lost response) is answered from the same family, and every token so
//! issued stays valid. One path: the store's conditional rotation checks the token is active
//! or within the interval, unexpired, issued to this client and that its user exists, and
//! stores the new token, in one round trip.

use crate::crypto::{random_token, sha256_b64url};
use crate::oauth::audit::{Audit, AuditKind};
use crate::oauth::issue::{RefreshIssue, Resources, Subject, TokenResponse};
use crate::oauth::resource;
use crate::oauth::scope::Scope;
use crate::oauth::secrets::RefreshTokenSecret;
use crate::oauth::{join2, GrantType, OAuthError, OAuthResult, Provider};
use crate::store::{Client, NewRefresh, Platform, RefreshRecord, RefreshStatus, Rotation, Store};

fn invalid_refresh() -> OAuthError {
    OAuthError::invalid_grant("the refresh token is invalid, expired or revoked")
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    pub(super) async fn refresh_token_grant(
        &self,
        authenticated: impl std::future::Future<Output = OAuthResult<Client>>,
        hash: Option<String>,
        requested: Option<Scope>,
        resources: &[String],
        jkt: Option<&str>,
    ) -> OAuthResult<TokenResponse> {
        let client = match &hash {
            // A narrowed scope or resource set is checked against the family's grant before
            // anything is spent: "The requested scope MUST NOT include any scope not originally
            // granted by the resource owner" (§6), and RFC 8707 §2.2 for resources. A family's
            // grant never changes, so the read may precede the rotation; it runs alongside the
            // client's authentication.
            Some(h) if requested.is_some() || !resources.is_empty() => {
                let (client, record) = join2(authenticated, self.store.refresh(h)).await;
                let client = self.ready_client(client?, GrantType::RefreshToken)?;
                if let Some(r) = record?.filter(|r| r.usable_by(&client.client_id, self.now, self.config.refresh_reuse_interval)) {
                    if requested.as_ref().is_some_and(|q| !q.is_subset(&Scope::parse(&r.token.scope).unwrap_or_default())) {
                        return Err(OAuthError::invalid_scope("scope exceeds the scope originally granted"));
                    }
                    resource::narrow(resources, &r.token.resources)?;
                }
                client
            }
            _ => self.ready_client(authenticated.await?, GrantType::RefreshToken)?,
        };
        let Some(hash) = hash else { return Err(invalid_refresh()) };
        let token = RefreshTokenSecret::new(random_token());
        let new = NewRefresh {
            token_hash: sha256_b64url(token.expose()),
            issued_at: self.now,
            expires_at: self.now + self.config.refresh_token_ttl,
            jkt: jkt.map(str::to_string),
        };
        let interval = self.config.refresh_reuse_interval;
        let Rotation { rotated, record } = self.store.rotate_refresh_for(&hash, &client.client_id, &new, self.now, interval).await?;
        let (true, Some(record)) = (rotated, record.as_ref()) else {
            return Err(self.refuse_refresh(&client, record.as_ref()).await);
        };
        let user = record.user.as_ref().ok_or_else(invalid_refresh)?;
        let granted = Scope::parse(&record.token.scope).unwrap_or_default();
        // The new token keeps the family and its originally granted scope (the store copies
        // them), so a narrowed request does not shrink what later refreshes may ask for. What is
        // answered is also within what the client is registered for now: an administrator's
        // narrowing of the client applies at its next refresh.
        let registered = Scope::from_list(client.scopes.iter().cloned());
        let scope = requested.unwrap_or(granted).intersection(&registered);
        let subject = Subject::of(user, record.token.auth_time, &[]);
        // Likewise the family keeps its resources; this access token gets those asked for.
        let audience = resource::narrow(resources, &record.token.resources)?;
        let resources = Resources { granted: record.token.resources.clone(), audience };
        let rotated = RefreshIssue::Rotated { token, grant_id: record.token.family_id.clone() };
        Ok(self.issue(&client, Some(&subject), &scope, None, &resources, rotated, jkt).await?.response)
    }

    /// The answer to a refresh token that cannot be used. Presenting one that was already
    /// rotated, after the reuse interval or by any client but its own, is reuse: the token has
    /// leaked, and its whole grant ends, refresh family and access tokens (RFC 9700 §4.14.2:
    /// "the authorization server cannot determine which party submitted the invalid refresh
    /// token"). An active token of another client is refused without touching it ("the
    /// refresh token is bound to the client to which it was issued", RFC 6749 §6).
    async fn refuse_refresh(&self, client: &Client, record: Option<&RefreshRecord>) -> OAuthError {
        if let Some(r) = record.filter(|r| r.status == RefreshStatus::Rotated) {
            if let Err(e) = self.store.end_grant(&r.token.family_id, self.grant_end_horizon()).await {
                return e.into();
            }
            let event = Audit::new(AuditKind::RefreshTokenReuse).user(&r.token.user_id).client(&client.client_id);
            self.audit(event.detail(serde_json::json!({ "grant_id": r.token.family_id })));
        }
        invalid_refresh()
    }
}
