//! Token introspection (RFC 7662): what the server knows of an access or refresh token, for a
//! caller the HTTP layer has already authenticated.

use super::{OAuthResult, Provider};
use crate::crypto::sha256_b64url;
use crate::store::Store;
use serde::Serialize;

/// The introspection answer (RFC 7662 §2.2). Inactive: `{"active": false}` and nothing else
/// ("the authorization server MUST return an introspection response with the 'active' field
/// set to 'false'" and should not reveal why).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

impl Introspection {
    pub fn inactive() -> Self {
        Self::default()
    }
}

impl<S: Store> Provider<'_, S> {
    /// `POST /introspect` (RFC 7662 §2.1). Access tokens are JWTs, refresh tokens opaque, so
    /// the two are told apart by shape (`token_type_hint` is only a hint, §2.1).
    pub async fn introspect(&self, token: &str) -> OAuthResult<Introspection> {
        if token.is_empty() || token.len() > 8192 {
            return Ok(Introspection::inactive());
        }
        if token.contains('.') {
            let Some(c) = self.verify_access_token(token).await? else { return Ok(Introspection::inactive()) };
            return Ok(Introspection {
                active: true,
                sub: Some(c.sub),
                username: c.username,
                client_id: Some(c.client_id),
                scope: Some(c.scope),
                aud: Some(c.aud),
                iss: Some(c.iss),
                exp: Some(c.exp),
                iat: Some(c.iat),
                nbf: Some(c.nbf),
                jti: Some(c.jti),
                token_type: Some("Bearer"),
                role: c.role,
            });
        }
        let Some(r) = self.store.refresh(&sha256_b64url(token)).await? else { return Ok(Introspection::inactive()) };
        // Active exactly when its client could use it now (`RefreshRecord::usable_by`, the rule
        // the rotation's conditional write states), and that client is still active.
        let client_active = matches!(self.store.client(&r.token.client_id).await?, Some(c) if c.is_active);
        if !r.usable_by(&r.token.client_id, self.now) || !client_active {
            return Ok(Introspection::inactive());
        }
        let Some(user) = r.user else { return Ok(Introspection::inactive()) };
        Ok(Introspection {
            active: true,
            sub: Some(user.id),
            username: Some(user.username),
            client_id: Some(r.token.client_id.clone()),
            scope: Some(r.token.scope),
            aud: Some(r.token.client_id),
            iss: Some(self.config.issuer.clone()),
            exp: Some(r.token.expires_at),
            iat: Some(r.token.issued_at),
            nbf: Some(r.token.issued_at),
            jti: None,
            token_type: Some("refresh_token"),
            role: None,
        })
    }
}
