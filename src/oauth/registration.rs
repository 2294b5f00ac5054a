//! Open dynamic client registration (RFC 7591) and its management (RFC 7592), as MCP clients
//! use them: anyone may register a client with safe metadata when `DYNAMIC_REGISTRATION` is
//! `open` (the default). Such a client is third-party: only the code and refresh grants, https
//! or loopback redirect URIs, never the `admin` scope, registrations limited per address, and a
//! registration access token that manages that one client and nothing else. Clients never used
//! expire (`DYNAMIC_CLIENT_UNUSED_TTL`).

use super::clients::{apply_metadata, new_client, ClientMetadata, ScopeList};
use super::scope::ADMIN;
use super::secrets::ClientSecret;
use super::{ErrorCode, GrantType, OAuthError, OAuthResult, Provider};
use crate::crypto::{constant_time_eq, random_token, sha256_b64url};
use crate::store::{AddressLimit, Client, Platform, Store, ADDRESS_WINDOW};
use serde_json::Value;

/// How long a dynamically registered client that never redeemed a code is kept.
pub const UNUSED_CLIENT_TTL: u64 = 24 * 3600;

/// What an open registration answers beyond the client: its secret (confidential clients) and
/// its RFC 7592 registration access token, both shown once.
pub struct Registered {
    pub client: Client,
    pub secret: Option<ClientSecret>,
    pub registration_access_token: ClientSecret,
}

pub(super) fn metadata_error(description: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClientMetadata, description)
}

/// RFC 7591 §2 metadata as an open registration or an RFC 7592 update may set it. Members this
/// server does not understand are ignored ("The authorization server MUST ignore any client
/// metadata sent by the client that it does not understand", §2); what it understands is held
/// to the third-party rules.
pub(super) fn third_party_metadata(body: &Value, creating: bool) -> OAuthResult<ClientMetadata> {
    let obj = body.as_object().ok_or_else(|| metadata_error("the body must be a JSON object of client metadata"))?;
    let strings = |name: &str| -> OAuthResult<Option<Vec<String>>> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => {
                Ok(Some(a.iter().filter_map(|v| v.as_str().map(String::from)).collect()))
            }
            Some(_) => Err(metadata_error(format!("{name}: a list of strings"))),
        }
    };
    let string = |name: &str| -> OAuthResult<Option<String>> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(metadata_error(format!("{name}: a string"))),
        }
    };
    for forbidden in ["client_type", "is_active", "client_id", "client_secret", "registration_access_token"] {
        if obj.contains_key(forbidden) {
            return Err(metadata_error(format!("{forbidden} cannot be set by a client")));
        }
    }
    let scope = match (string("scope")?, obj.get("scopes")) {
        (Some(s), None) => Some(ScopeList::from_text(&s)),
        (None, Some(v)) => {
            Some(serde_json::from_value::<ScopeList>(v.clone()).map_err(|_| metadata_error("scopes: a string of scope names"))?)
        }
        (None, None) => None,
        (Some(_), Some(_)) => return Err(metadata_error("send scope or scopes, not both")),
    };
    if scope.as_ref().is_some_and(|s| s.0.iter().any(|v| v == ADMIN)) {
        return Err(metadata_error("scope: 'admin' cannot be registered by a client"));
    }
    let grant_types = strings("grant_types")?;
    if let Some(g) = &grant_types {
        if let Some(bad) = g.iter().find(|g| !matches!(GrantType::parse(g), Some(GrantType::AuthorizationCode | GrantType::RefreshToken))) {
            return Err(metadata_error(format!(
                "grant_types: '{}' is not available to a dynamically registered client",
                bad.chars().take(40).collect::<String>()
            )));
        }
    }
    let redirect_uris = strings("redirect_uris")?;
    if creating && redirect_uris.as_ref().is_none_or(Vec::is_empty) {
        return Err(OAuthError::new(ErrorCode::InvalidRedirectUri, "redirect_uris: at least one is required"));
    }
    // RFC 7591 §2: keys by value or by URL (fetched later through the one outbound path, under
    // this deployment's rules for outbound URLs).
    let jwks = match obj.get("jwks") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(_) => return Err(metadata_error("jwks: a JWK Set object")),
    };
    let jwks_uri = string("jwks_uri")?;
    if let Some(u) = &jwks_uri {
        if super::outbound::check(u, true).is_err() {
            return Err(metadata_error("jwks_uri: an https URL of a public host"));
        }
    }
    let flag = |name: &str| -> OAuthResult<Option<bool>> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(metadata_error(format!("{name}: true or false"))),
        }
    };
    let client_uri = string("client_uri")?;
    if let Some(u) = &client_uri {
        if !u.starts_with("https://") || u.len() > 512 || u.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(metadata_error("client_uri: an https URL"));
        }
    }
    Ok(ClientMetadata {
        client_name: string("client_name")?,
        grant_types,
        redirect_uris,
        post_logout_redirect_uris: strings("post_logout_redirect_uris")?,
        response_types: strings("response_types")?,
        scopes: scope,
        token_endpoint_auth_method: string("token_endpoint_auth_method")?,
        id_token_signed_response_alg: string("id_token_signed_response_alg")?,
        client_uri,
        jwks,
        jwks_uri,
        token_endpoint_auth_signing_alg: string("token_endpoint_auth_signing_alg")?,
        dpop_bound_access_tokens: flag("dpop_bound_access_tokens")?,
        require_pushed_authorization_requests: flag("require_pushed_authorization_requests")?,
        ..Default::default()
    })
}

/// RFC 7591 §3.2.2's codes: redirect URI problems are `invalid_redirect_uri`, every other
/// metadata problem `invalid_client_metadata`.
pub(super) fn as_registration_error(e: OAuthError) -> OAuthError {
    if e.code != ErrorCode::InvalidRequest {
        return e;
    }
    let code = if e.description.starts_with("redirect_uris") { ErrorCode::InvalidRedirectUri } else { ErrorCode::InvalidClientMetadata };
    OAuthError::new(code, e.description)
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// `POST /clients` without an admin bearer (RFC 7591 §3.1).
    pub async fn register_dynamic_client(&self, body: &Value) -> OAuthResult<Registered> {
        if !self.config.dynamic_registration {
            return Err(OAuthError::invalid_token("client registration needs an admin bearer token here"));
        }
        if !self.platform.allow(AddressLimit::ClientRegistration, self.address, self.now).await? {
            return Err(OAuthError::too_many("too many client registrations from this address; try again later", ADDRESS_WINDOW));
        }
        let mut meta = third_party_metadata(body, true)?;
        // RFC 7591 §2: a client that names no name is still registered; it is shown by its host.
        if meta.client_name.is_none() {
            let host = meta.redirect_uris.as_ref().and_then(|r| r.first()).map(|u| u.split('/').nth(2).unwrap_or(u).to_string());
            meta.client_name = Some(host.unwrap_or_else(|| "Unnamed client".into()));
        }
        let mut client = new_client(self.now);
        apply_metadata(&mut client, meta, true).map_err(as_registration_error)?;
        client.dynamic = true;
        self.check_id_token_alg(&client).map_err(as_registration_error)?;
        let secret = self.new_client_secret(&mut client).map_err(as_registration_error)?;
        let token = ClientSecret::new(random_token());
        client.registration_token_hash = Some(sha256_b64url(token.expose()));
        self.store.insert_client(&client).await?;
        Ok(Registered { client, secret, registration_access_token: token })
    }

    /// The client a registration access token manages, if `token` is that token (RFC 7592 §3:
    /// "the registration access token ... is associated with a particular client").
    pub async fn client_by_registration_token(&self, client_id: &str, token: &str) -> OAuthResult<Option<Client>> {
        let Some(client) = self.store.client(client_id).await? else { return Ok(None) };
        let matches =
            client.registration_token_hash.as_deref().is_some_and(|h| constant_time_eq(sha256_b64url(token).as_bytes(), h.as_bytes()));
        Ok(matches.then_some(client))
    }

    /// RFC 7592 §2.2: the client's own update, held to the third-party rules.
    pub async fn update_dynamic_client(&self, client: &Client, body: &Value) -> OAuthResult<Client> {
        let meta = third_party_metadata(body, false)?;
        let mut updated = client.clone();
        apply_metadata(&mut updated, meta, false).map_err(as_registration_error)?;
        self.check_id_token_alg(&updated).map_err(as_registration_error)?;
        updated.updated_at = self.now;
        if !self.store.update_client(&updated).await? {
            return Err(OAuthError::not_found("no such client"));
        }
        Ok(updated)
    }
}
