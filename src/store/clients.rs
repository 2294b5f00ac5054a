//! Registered clients: the client record and `ClientStore`.

use super::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientType {
    Confidential,
    Public,
}

/// How a client authenticates at the token endpoint (RFC 7591 §2 `token_endpoint_auth_method`;
/// RFC 6749 §2.3.1 for the two secret methods).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// HTTP Basic with the client id and secret, form-urlencoded first.
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body.
    ClientSecretPost,
    /// A JWT signed with one of the client's registered keys (RFC 7523 §2.2, OIDC Core §9).
    PrivateKeyJwt,
    /// A JWT MACed with HS256 under the client secret (OIDC Core §9).
    ClientSecretJwt,
    /// A public client: its `client_id` only.
    None,
}

impl AuthMethod {
    pub const ALL: [AuthMethod; 5] =
        [Self::ClientSecretBasic, Self::ClientSecretPost, Self::PrivateKeyJwt, Self::ClientSecretJwt, Self::None];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ClientSecretBasic => "client_secret_basic",
            Self::ClientSecretPost => "client_secret_post",
            Self::PrivateKeyJwt => "private_key_jwt",
            Self::ClientSecretJwt => "client_secret_jwt",
            Self::None => "none",
        }
    }

    /// Whether the client proves itself with a signed JWT (a client assertion, RFC 7521 §4.2).
    pub fn uses_assertion(self) -> bool {
        matches!(self, Self::PrivateKeyJwt | Self::ClientSecretJwt)
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

/// As its registered name (`client.token_endpoint_auth_method == "none"`).
impl PartialEq<&str> for AuthMethod {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A client's keys and how its tokens are bound to keys (RFC 7591 §2 `jwks`, `jwks_uri`; RFC
/// 9449 §5.2 `dpop_bound_access_tokens`; RFC 9126 §6 `require_pushed_authorization_requests`;
/// FAPI 2.0). Stored as one JSON object; every member is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyBinding {
    /// The client's public keys by value: a JWK Set (`{"keys": [...]}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<serde_json::Value>,
    /// Where the client publishes its JWK Set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// The one algorithm its assertions may use (OIDC Registration §2); any supported one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_signing_alg: Option<String>,
    /// Every token request of this client must carry a DPoP proof.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dpop_bound_access_tokens: bool,
    /// `/authorize` takes this client's requests only through `/par`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub require_pushed_authorization_requests: bool,
    /// `"2.0"`: the FAPI 2.0 Security Profile applies to this client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fapi: Option<String>,
}

impl KeyBinding {
    /// Whether the client registered public keys (by value or by URL).
    pub fn has_keys(&self) -> bool {
        self.jwks.is_some() || self.jwks_uri.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub client_id: String,
    /// SHA-256 (base64url) of the secret; `None` for public clients.
    pub client_secret_hash: Option<String>,
    pub client_name: String,
    pub client_type: ClientType,
    pub token_endpoint_auth_method: AuthMethod,
    pub grant_types: Vec<crate::oauth::GrantType>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub response_types: Vec<String>,
    pub scopes: Vec<String>,
    /// `ES256` or `RS256` (OIDC Registration §2 `id_token_signed_response_alg`).
    #[serde(default = "default_id_token_alg")]
    pub id_token_signed_response_alg: String,
    /// Registered without an admin bearer (RFC 7591): a third-party client.
    #[serde(default)]
    pub dynamic: bool,
    /// SHA-256 of its RFC 7592 registration access token (dynamic clients only).
    #[serde(default)]
    pub registration_token_hash: Option<String>,
    /// RFC 7591 `client_uri`: the client's home page (shown on the consent page).
    #[serde(default)]
    pub client_uri: Option<String>,
    /// A client named by its metadata document (its `client_id` is the document's URL): when
    /// the document is to be fetched again (from its HTTP caching headers).
    #[serde(default)]
    pub metadata_expires_at: Option<u64>,
    /// Every sign-in for this client needs two factors or a passkey (docs/API.md).
    #[serde(default)]
    pub require_mfa: bool,
    /// Its keys and key-binding settings.
    #[serde(default)]
    pub key_binding: KeyBinding,
    /// For `client_secret_jwt` only: the secret itself, sealed (`crypto::seal`), since an HS256
    /// check needs it; never in the clear.
    #[serde(default)]
    pub client_secret_sealed: Option<String>,
    pub is_active: bool,
    pub created_at: u64,
    pub updated_at: u64,
}

fn default_id_token_alg() -> String {
    "ES256".into()
}

/// Registered clients.
#[allow(async_fn_in_trait)]
pub trait ClientStore {
    async fn insert_client(&self, client: &Client) -> StoreResult<()>;
    async fn client(&self, client_id: &str) -> StoreResult<Option<Client>>;
    /// The client for authentication on the hot path, and whether it came from a short-lived
    /// per-isolate cache (`cache.rs`, up to its TTL old). A store without a cache reads fresh.
    async fn client_for_auth(&self, client_id: &str, _now: u64) -> StoreResult<(Option<Client>, bool)> {
        Ok((self.client(client_id).await?, false))
    }
    async fn clients(&self) -> StoreResult<Vec<Client>>;
    /// Clients that registered this exact redirect URI (for `/login` without `client_id`).
    async fn clients_with_redirect(&self, redirect_uri: &str) -> StoreResult<Vec<Client>>;
    async fn update_client(&self, client: &Client) -> StoreResult<bool>;
    /// Deletes the client and revokes its refresh tokens; false when it did not exist.
    async fn delete_client(&self, client_id: &str) -> StoreResult<bool>;
    /// Ends every grant of the client: its refresh tokens are revoked and its access tokens
    /// issued at or before `at` are no longer accepted (`AccessCheck`), even if it is
    /// re-activated later. One transaction.
    async fn end_client_grants(&self, client_id: &str, at: u64) -> StoreResult<()>;
    /// A new secret: its hash and, for `client_secret_jwt`, its sealed form (else none is kept).
    async fn set_client_secret_hash(&self, client_id: &str, hash: &str, sealed: Option<&str>, now: u64) -> StoreResult<bool>;
    /// Deletes dynamically registered clients that were never used (no code ever redeemed) and
    /// were registered at or before `before`; how many went.
    async fn purge_unused_dynamic_clients(&self, before: u64) -> StoreResult<u64>;
}
