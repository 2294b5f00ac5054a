//! The token endpoint (RFC 6749 §3.2): one file per grant, dispatched by an exhaustive match
//! over `TokenRequest`, so that a new grant is a compile error until every place handles it
//! (parsing in `http/api/token.rs`, dispatch here, client metadata, discovery).

mod authorization_code;
mod client_credentials;
#[cfg(test)]
mod failure_tests;
mod password;
mod refresh_token;
#[cfg(test)]
mod resource_tests;
#[cfg(test)]
pub(crate) mod tests;

use super::clients::ClientCredentials;
use super::issue::TokenResponse;
use super::scope::Scope;
use super::secrets::{CodeSecret, CodeVerifier, Password, RefreshTokenSecret};
use super::{join2, OAuthError, OAuthResult, Provider};
use crate::crypto::sha256_b64url;
use crate::store::{Client, Platform, Store};

/// The grant types this server implements (RFC 6749 §4.1, §4.3, §4.4, §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    Password,
    ClientCredentials,
}

impl GrantType {
    pub const ALL: [GrantType; 4] = [Self::AuthorizationCode, Self::RefreshToken, Self::Password, Self::ClientCredentials];

    /// The `grant_type` value (RFC 6749 §4).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AuthorizationCode => "authorization_code",
            Self::RefreshToken => "refresh_token",
            Self::Password => "password",
            Self::ClientCredentials => "client_credentials",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// Whether a public client may be registered for it: the password grant and
    /// `client_credentials` need a client that can keep a secret (RFC 6749 §4.3, §4.4).
    pub fn allowed_for_public_clients(self) -> bool {
        match self {
            Self::AuthorizationCode | Self::RefreshToken => true,
            Self::Password | Self::ClientCredentials => false,
        }
    }
}

/// As its `grant_type` value, in records (a client's `grant_types`) and their JSON.
impl serde::Serialize for GrantType {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for GrantType {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        Self::parse(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown grant type {name}")))
    }
}

/// A token request, by grant, with the parameters each one needs already present.
#[derive(Debug, Clone)]
pub enum TokenRequest {
    /// RFC 6749 §4.1.3 with RFC 7636 §4.5.
    AuthorizationCode { code: CodeSecret, redirect_uri: String, code_verifier: Option<CodeVerifier> },
    /// RFC 6749 §6.
    RefreshToken { refresh_token: RefreshTokenSecret, scope: Option<String> },
    /// RFC 6749 §4.3.2.
    Password { username: String, password: Password, scope: Option<String> },
    /// RFC 6749 §4.4.2.
    ClientCredentials { scope: Option<String> },
}

impl TokenRequest {
    pub fn grant_type(&self) -> GrantType {
        match self {
            Self::AuthorizationCode { .. } => GrantType::AuthorizationCode,
            Self::RefreshToken { .. } => GrantType::RefreshToken,
            Self::Password { .. } => GrantType::Password,
            Self::ClientCredentials { .. } => GrantType::ClientCredentials,
        }
    }
}

/// The storage key of a presented code or refresh token: its SHA-256; `None` for a value too
/// long to be one of ours (never looked up).
fn lookup_hash(presented: &str) -> Option<String> {
    (presented.len() <= 256).then(|| sha256_b64url(presented))
}

/// A requested `scope` parameter. RFC 6749 §3.3: "The value of the scope parameter is expressed
/// as a list of space-delimited, case-sensitive strings" — `scope=` names none, which is a
/// malformed request for scope, not a request for the default (that is omitting it).
fn requested_scope(s: Option<&str>) -> OAuthResult<Option<Scope>> {
    match s {
        None => Ok(None),
        Some(s) => match Scope::parse(s) {
            Some(scope) if scope.is_empty() => Err(OAuthError::invalid_scope("scope is empty: omit it for the default")),
            Some(scope) => Ok(Some(scope)),
            None => Err(OAuthError::invalid_scope("malformed scope")),
        },
    }
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// `POST /token`: authenticates the client, checks it may use the grant, and runs it.
    /// Where a grant presents a code or refresh token, the client and that record are read
    /// concurrently (one storage round trip of latency); the client's result is checked first,
    /// so a bad client is `invalid_client` whatever the grant.
    pub async fn token(&self, creds: &ClientCredentials, req: &TokenRequest) -> OAuthResult<TokenResponse> {
        self.token_for(creds, req, &[], None).await
    }

    /// `POST /token` with the request's `resource` values (RFC 8707 §2, already checked by
    /// `resource::parse`): a new grant holds them, a code or refresh token's grant may be
    /// narrowed to them.
    ///
    /// `jkt` is the thumbprint of the key of the request's checked DPoP proof (RFC 9449 §5):
    /// the access token is bound to it, and so are a public client's refresh tokens.
    pub async fn token_for(
        &self,
        creds: &ClientCredentials,
        req: &TokenRequest,
        resources: &[String],
        jkt: Option<&str>,
    ) -> OAuthResult<TokenResponse> {
        let grant = req.grant_type();
        let authenticated = async {
            let client = self.authenticate_client(creds).await?;
            // RFC 9449 §5.2: a client registered with dpop_bound_access_tokens (or under FAPI
            // 2.0) gets no token without a proof.
            if jkt.is_none() && (client.key_binding.dpop_bound_access_tokens || self.fapi_applies(&client)) {
                return Err(OAuthError::invalid_dpop_proof("this client's tokens are DPoP-bound: send a DPoP proof (RFC 9449)"));
            }
            Ok(client)
        };
        match req {
            TokenRequest::AuthorizationCode { code, redirect_uri, code_verifier } => {
                let hash = lookup_hash(code.expose());
                let lookup = async {
                    match &hash {
                        Some(h) => self.store.code(h).await,
                        None => Ok(None),
                    }
                };
                let (client, record) = join2(authenticated, lookup).await;
                let client = self.ready_client(client?, grant)?;
                self.authorization_code_grant(&client, redirect_uri, code_verifier.as_ref(), (hash, record?), resources, jkt).await
            }
            TokenRequest::RefreshToken { refresh_token, scope } => {
                let requested = requested_scope(scope.as_deref())?;
                let hash = lookup_hash(refresh_token.expose());
                self.refresh_token_grant(authenticated, hash, requested, resources, jkt).await
            }
            TokenRequest::Password { username, password, scope } => {
                let client = self.ready_client(authenticated.await?, grant)?;
                self.password_grant(&client, username, password, requested_scope(scope.as_deref())?, resources, jkt).await
            }
            TokenRequest::ClientCredentials { scope } => {
                let client = self.ready_client(authenticated.await?, grant)?;
                self.client_credentials_grant(&client, requested_scope(scope.as_deref())?, resources, jkt).await
            }
        }
    }

    /// The authenticated client may use this grant (RFC 6749 §5.2 `unauthorized_client`), and
    /// there is a key to sign with (checked before anything is consumed).
    fn ready_client(&self, client: Client, grant: GrantType) -> OAuthResult<Client> {
        if !client.allows_grant(grant) {
            return Err(OAuthError::unauthorized_client(format!("client may not use the {} grant", grant.as_str())));
        }
        self.keys()?;
        Ok(client)
    }
}
