//! The authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636 §4.3) and the
//! authorization code it ends in. `/authorize` and `/login` validate the same parameters here.

use super::amr::Authentication;
use super::scope::{Scope, OPENID};
use super::{pkce, redirect, ErrorCode, GrantType, OAuthError, OAuthResult, Provider};
use crate::crypto::{random_token, sha256_b64url};
use crate::form::append_query;
use crate::store::{AuthorizationCode, Client, ClientType, Platform, Store, User};

/// Parameters as received (query of `/authorize`, form of `/login`).
#[derive(Debug, Default, Clone)]
pub struct AuthorizationParams {
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub response_type: Option<String>,
    pub response_mode: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    /// OIDC Core §3.1.2.1: a hint of who signs in (the sign-in page pre-fills the username).
    pub login_hint: Option<String>,
    /// Request objects (OIDC Core §6), which this server does not support.
    pub request: Option<String>,
    pub request_uri: Option<String>,
    /// RFC 8707 §2: the protected resources the tokens are for (repeatable).
    pub resource: Vec<String>,
    /// OIDC Core §3.1.2.1: the authentication context classes asked for (`amr.rs`).
    pub acr_values: Option<String>,
}

/// An authorization request that passed every check.
#[derive(Debug, Clone)]
pub struct AuthorizationRequest {
    pub client: Client,
    pub redirect_uri: String,
    pub scope: Scope,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub login_hint: Option<String>,
    /// The checked `resource` values (RFC 8707), held by the code and then the grant.
    pub resources: Vec<String>,
    /// `prompt=consent` (OIDC Core §3.1.2.1): a third-party client's consent is asked again.
    pub prompt_consent: bool,
    /// The `acr_values` as asked (carried through the sign-in pages).
    pub acr_values: Option<String>,
    /// The sign-in must be two factors or a passkey: the client's `require_mfa`, or
    /// `acr_values` asking for level 2 (`amr::demands_two_factors`).
    pub requires_strong: bool,
}

/// RFC 6749 §4.1.2.1: errors about the client or the redirect URI are shown to the user and
/// never redirected; every other error goes back to the (now trusted) redirect URI.
#[derive(Debug)]
pub enum AuthorizeError {
    Show(OAuthError),
    Redirect { redirect_uri: String, state: Option<String>, error: OAuthError },
}

impl AuthorizeError {
    pub fn error(&self) -> &OAuthError {
        match self {
            Self::Show(e) | Self::Redirect { error: e, .. } => e,
        }
    }
}

const MAX_PARAM: usize = 2048;

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// Validates an authorization request. `/login` passes `response_type` as `code`.
    pub async fn validate_authorization(&self, p: &AuthorizationParams) -> Result<AuthorizationRequest, AuthorizeError> {
        let show = |msg: &str| AuthorizeError::Show(OAuthError::invalid_request(msg));
        for v in [&p.client_id, &p.redirect_uri, &p.scope, &p.state, &p.nonce, &p.code_challenge].into_iter().flatten() {
            if v.len() > MAX_PARAM {
                return Err(show("a parameter is too long"));
            }
        }
        // Who is asking, and where may the answer go?
        let client = match (&p.client_id, &p.redirect_uri) {
            // A stored client, or the client a metadata document URL names (fetched if need be).
            // A document that cannot be used is a bad request here (shown, never redirected).
            (Some(id), _) if !id.is_empty() => self.client_by_id(id).await.map_err(|e| {
                AuthorizeError::Show(match e.code {
                    ErrorCode::InvalidClient => OAuthError { internal: e.internal, ..OAuthError::invalid_request(e.description) },
                    _ => e,
                })
            })?,
            (_, Some(uri)) => {
                // `/login` without client_id (the seed's first-party login): the one client an
                // administrator registered with this URI. Clients anyone may register (RFC 7591)
                // are never inferred: registering a first-party app's redirect URI must neither
                // break its login ("several clients") nor take its place.
                let mut found = self.store.clients_with_redirect(uri).await.map_err(|e| AuthorizeError::Show(e.into()))?;
                found.retain(|c| !c.dynamic);
                if found.len() > 1 {
                    return Err(show("client_id is required: several clients registered this redirect URI"));
                }
                found.pop()
            }
            _ => return Err(show("client_id is required")),
        };
        let client = match client {
            Some(c) if c.is_active => c,
            _ => return Err(AuthorizeError::Show(OAuthError::invalid_request("unknown or inactive client"))),
        };
        // OpenID Connect Core §3.1.2.1: for an OpenID request (its scope names `openid`)
        // `redirect_uri` is REQUIRED; plain OAuth may omit it when exactly one is registered
        // (RFC 6749 §3.1.2.3).
        let openid_request = p.scope.as_deref().is_some_and(|s| s.split(' ').any(|v| v == OPENID));
        let redirect_uri = match &p.redirect_uri {
            Some(uri) if redirect::matches(uri, &client.redirect_uris, client.client_type) => uri.clone(),
            Some(_) => return Err(show("redirect_uri is not registered for this client")),
            None if openid_request => return Err(show("redirect_uri is required in an OpenID Connect request")),
            None if client.redirect_uris.len() == 1 => client.redirect_uris[0].clone(),
            None => return Err(show("redirect_uri is required")),
        };

        // From here on errors are redirected (RFC 6749 §4.1.2.1).
        let redirect = |error: OAuthError| AuthorizeError::Redirect { redirect_uri: redirect_uri.clone(), state: p.state.clone(), error };
        // Request objects are not supported: say so (OIDC Core §3.1.2.6) rather than ignore
        // parameters that may only be inside the object (discovery says
        // `request_parameter_supported: false`).
        if p.request.is_some() {
            return Err(redirect(OAuthError::new(ErrorCode::RequestNotSupported, "request objects are not supported")));
        }
        if p.request_uri.is_some() {
            return Err(redirect(OAuthError::new(ErrorCode::RequestUriNotSupported, "request_uri is not supported")));
        }
        match p.response_type.as_deref() {
            Some("code") => {}
            None => return Err(redirect(OAuthError::invalid_request("response_type is required"))),
            Some(_) => return Err(redirect(OAuthError::new(ErrorCode::UnsupportedResponseType, "only response_type=code is supported"))),
        }
        if !client.allows_grant(GrantType::AuthorizationCode) {
            return Err(redirect(OAuthError::new(ErrorCode::UnauthorizedClient, "client may not use the authorization code grant")));
        }
        if !matches!(p.response_mode.as_deref(), None | Some("query")) {
            return Err(redirect(OAuthError::invalid_request("only response_mode=query is supported")));
        }
        let allowed = Scope::from_list(client.scopes.iter().cloned());
        let requested = match p.scope.as_deref().map(Scope::parse) {
            // RFC 6749 §3.3: `scope=` names no scope; omitting it asks for the default.
            Some(Some(s)) if s.is_empty() => return Err(redirect(OAuthError::invalid_scope("scope is empty: omit it for the default"))),
            Some(Some(s)) => Some(s),
            Some(None) => return Err(redirect(OAuthError::invalid_scope("malformed scope"))),
            None => None,
        };
        // Scope values the client is not registered for (or this server does not know, such as
        // `address` or `phone`) are left out rather than refused: RFC 6749 §3.3 lets the server
        // grant less than was asked, and OpenID Connect Core §5.4 asks that unsupported ones be
        // ignored. The token response's `scope` says what was granted.
        let scope = match requested {
            Some(r) => r.intersection(&allowed),
            None => Scope::narrow(None, &allowed).unwrap_or_default(),
        };
        // PKCE (RFC 7636 §4.4.1): required for public clients (RFC 8252 §8.1), S256 only.
        let code_challenge = match (&p.code_challenge, p.code_challenge_method.as_deref()) {
            (None, None) if client.client_type == ClientType::Public => {
                return Err(redirect(OAuthError::invalid_request("code_challenge is required for public clients (PKCE)")))
            }
            (None, None) => None,
            (None, Some(_)) => return Err(redirect(OAuthError::invalid_request("code_challenge is required with code_challenge_method"))),
            // RFC 7636 §4.3: the method defaults to "plain", which is not supported.
            (Some(_), None | Some("plain")) => return Err(redirect(OAuthError::invalid_request("code_challenge_method must be S256"))),
            (Some(c), Some("S256")) if pkce::is_valid_challenge(c) => Some(c.clone()),
            (Some(_), Some("S256")) => return Err(redirect(OAuthError::invalid_request("malformed code_challenge"))),
            (Some(_), Some(_)) => return Err(redirect(OAuthError::invalid_request("code_challenge_method must be S256"))),
        };
        // RFC 8707 §2: "the authorization server ... MUST [respond with] invalid_target" for a
        // resource it cannot accept; any absolute URI without a fragment names one.
        let resources = super::resource::parse(&p.resource).map_err(redirect)?;
        if let Some(n) = &p.nonce {
            if n.is_empty() {
                return Err(redirect(OAuthError::invalid_request("nonce must not be empty")));
            }
        }
        let requires_strong = client.require_mfa || super::amr::demands_two_factors(p.acr_values.as_deref());
        Ok(AuthorizationRequest {
            client,
            redirect_uri,
            scope,
            state: p.state.clone(),
            nonce: p.nonce.clone(),
            code_challenge,
            login_hint: p.login_hint.clone().filter(|h| h.len() <= 64),
            resources,
            prompt_consent: p.prompt.as_deref().is_some_and(|v| v.split(' ').any(|x| x == "consent")),
            acr_values: p.acr_values.clone().filter(|v| v.len() <= 256),
            requires_strong,
        })
    }

    /// Issues a single-use code for an authenticated user and returns the redirect location
    /// `redirect_uri?code=..&state=..&iss=..` (RFC 6749 §4.1.2, RFC 9207 for `iss`).
    pub async fn issue_code(&self, req: &AuthorizationRequest, user: &User, auth: &Authentication) -> OAuthResult<String> {
        let code = random_token();
        let record = AuthorizationCode {
            client_id: req.client.client_id.clone(),
            redirect_uri: req.redirect_uri.clone(),
            scope: req.scope.to_string(),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            resources: req.resources.clone(),
            user_id: user.id.clone(),
            username: user.username.clone(),
            email: user.email.clone(),
            role: user.role.clone(),
            auth_time: auth.auth_time,
            amr: auth.amr.clone(),
            expires_at: self.now + self.config.auth_code_ttl,
        };
        self.store.put_code(&sha256_b64url(&code), &record, self.config.auth_code_ttl).await?;
        let mut params = vec![("code", code.as_str())];
        if let Some(s) = &req.state {
            params.push(("state", s));
        }
        params.push(("iss", &self.config.issuer));
        Ok(append_query(&req.redirect_uri, params))
    }
}

/// The location that carries an authorization error back to the client (RFC 6749 §4.1.2.1).
pub fn error_redirect(redirect_uri: &str, state: Option<&str>, error: &OAuthError, issuer: &str) -> String {
    let mut params = vec![("error", error.code.as_str()), ("error_description", error.description.as_str())];
    if let Some(s) = state {
        params.push(("state", s));
    }
    params.push(("iss", issuer));
    append_query(redirect_uri, params)
}
