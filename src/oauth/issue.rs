//! Minting what the token endpoint answers: RFC 9068 access tokens, OpenID Connect Core §2 ID
//! tokens and refresh tokens, and the RFC 6749 §5.1 response that carries them. Every grant
//! ends here; none signs anything itself.

use super::resource::Audience;
use super::scope::{Scope, ADMIN, EMAIL, OPENID, PROFILE};
use super::secrets::RefreshTokenSecret;
use super::users::ADMIN_ROLE;
use super::{OAuthResult, Provider};
use crate::crypto::keys::KeySet;
use crate::crypto::{b64url, jwt, random_id, random_token, sha256_b64url};
use crate::store::{Client, Platform, RefreshToken, Store, User};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Claims of an RFC 9068 access token (§2.2), plus `username` and `role` for user tokens.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    /// The resources the token is for (RFC 8707), else the configured audience.
    pub aud: Audience,
    pub client_id: String,
    pub scope: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub jti: String,
    /// The grant the token belongs to (its refresh family's id): when the grant ends, every
    /// access token minted along it stops being accepted. Absent for `client_credentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// RFC 9449 §6.1: the key the token is bound to (DPoP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

/// The confirmation claim (RFC 7800 §3.1) of a DPoP-bound token: its key's RFC 7638 thumbprint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Confirmation {
    pub jkt: String,
}

/// The End-User claims a scope releases (OpenID Connect Core §5.4): `profile` gives
/// `preferred_username` and `role`, `email` gives `email` and `email_verified`. Shared by ID
/// tokens and the UserInfo answer.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct UserClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

impl UserClaims {
    pub fn for_scope(scope: &Scope, username: &str, email: &str, role: &str) -> Self {
        let profile = scope.contains(PROFILE);
        let mail = scope.contains(EMAIL);
        Self {
            preferred_username: profile.then(|| username.to_string()),
            role: profile.then(|| role.to_string()),
            email: mail.then(|| email.to_string()),
            // Addresses are not verified by this server.
            email_verified: mail.then_some(false),
        }
    }
}

/// Claims of an ID token (OpenID Connect Core §2, §3.1.3.6 for `at_hash`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IdTokenClaims {
    pub iss: String,
    pub sub: String,
    /// The client the token is for (a single audience, so `azp` equals it).
    pub aud: String,
    pub azp: String,
    pub exp: u64,
    pub iat: u64,
    pub auth_time: u64,
    pub at_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// RFC 8176 methods of the sign-in (absent when not known, as after a refresh).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The authentication context class reached (`amr::ACR_VALUES_SUPPORTED`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    #[serde(flatten)]
    pub user: UserClaims,
}

/// The successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<RefreshTokenSecret>,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// Who the tokens are for: the user as of the authorization.
pub struct Subject<'a> {
    pub user_id: &'a str,
    pub username: &'a str,
    pub email: &'a str,
    pub role: &'a str,
    /// When the user authenticated (OIDC `auth_time`).
    pub auth_time: u64,
    /// How (RFC 8176); empty when not known.
    pub amr: &'a [String],
}

impl<'a> Subject<'a> {
    pub fn of(user: &'a User, auth_time: u64, amr: &'a [String]) -> Self {
        Self { user_id: &user.id, username: &user.username, email: &user.email, role: &user.role, auth_time, amr }
    }
}

/// The resources (RFC 8707) of an issuance: those the grant holds (stored with a new refresh
/// family) and those this access token targets (its `aud`; equal, or fewer after narrowing).
#[derive(Debug, Clone, Default)]
pub struct Resources {
    pub granted: Vec<String>,
    pub audience: Vec<String>,
}

impl Resources {
    /// A new grant's: it holds what this request targets.
    pub fn new_grant(requested: Vec<String>) -> Self {
        Self { granted: requested.clone(), audience: requested }
    }
}

/// Which grant an issuance belongs to, and where its refresh token comes from.
pub enum RefreshIssue {
    /// A new grant (a code redeemed, a password grant): a new grant id, which is also the id
    /// of its refresh family; the family's granted scope is the scope issued now (stored by
    /// the caller, together with whatever else the grant writes).
    NewFamily,
    /// A rotation that already stored this new token in the family (= grant) `grant_id`.
    Rotated { token: RefreshTokenSecret, grant_id: String },
}

/// What one issuance produced.
pub struct Issued {
    /// The access token's `jti` (recorded with a redeemed code, to revoke on replay).
    pub jti: String,
    /// The grant the tokens belong to; `None` for a client acting for itself.
    pub grant_id: Option<String>,
    /// The refresh token to store, for `RefreshIssue::NewFamily` when the client may refresh.
    pub refresh: Option<RefreshToken>,
    pub response: TokenResponse,
}

/// `at_hash` (OIDC Core §3.1.3.6): base64url of the left half of SHA-256 of the access token.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    b64url(&digest[..16])
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// An ES256 JWT of `claims` under the current key: signed by the platform where it can
    /// (WebCrypto in workerd, `store::PlatformSigner`), else in wasm.
    async fn sign_es256<T: Serialize>(&self, keys: &KeySet, typ: &str, claims: &T) -> String {
        let input = jwt::signing_input("ES256", &keys.current.kid, typ, claims);
        match self.platform.sign_es256(keys, input.as_bytes()).await {
            Some(signature) => jwt::with_signature(input, &signature),
            None => jwt::sign_input(keys, input),
        }
    }

    /// An RS256 JWT of `claims` under the deployment's RS256 key (`None` without one): signed by
    /// the platform where it can (WebCrypto), else in wasm.
    async fn sign_rs256<T: Serialize>(&self, keys: &KeySet, typ: &str, claims: &T) -> Option<String> {
        let key = keys.rs256.as_ref()?;
        let input = jwt::signing_input("RS256", &key.public.kid, typ, claims);
        let signature = match self.platform.sign_rs256(key, input.as_bytes()).await {
            Some(signature) => signature,
            None => key.sign(input.as_bytes()),
        };
        Some(jwt::with_signature(input, &signature))
    }

    /// Signs the access token and, as the grant allows, the ID token (a user and `openid`) and
    /// a refresh token (a user and a client allowed the refresh grant; never for a client
    /// acting for itself, RFC 6749 §4.4.3).
    // One call per grant; each argument is a separate input of the issuance (who, what, for
    // which request, which resources, which refresh, which key), none derivable from another.
    #[allow(clippy::too_many_arguments)]
    pub async fn issue(
        &self,
        client: &Client,
        subject: Option<&Subject<'_>>,
        scope: &Scope,
        nonce: Option<&str>,
        resources: &Resources,
        refresh: RefreshIssue,
        jkt: Option<&str>,
    ) -> OAuthResult<Issued> {
        let keys = self.keys()?;
        let now = self.now;
        // `admin` is granted only to a user whose role is admin (at the time of issue: a
        // demoted admin's refresh no longer yields it), never to a client acting for itself.
        let admin = scope.contains(ADMIN) && subject.is_some_and(|s| s.role == ADMIN_ROLE);
        let narrowed;
        let scope = if scope.contains(ADMIN) && !admin {
            narrowed = scope.without(ADMIN);
            &narrowed
        } else {
            scope
        };
        let jti = random_id();
        let grant_id = match (subject, &refresh) {
            (None, _) => None,
            (Some(_), RefreshIssue::NewFamily) => Some(random_id()),
            (Some(_), RefreshIssue::Rotated { grant_id, .. }) => Some(grant_id.clone()),
        };
        let claims = AccessClaims {
            iss: self.config.issuer.clone(),
            sub: subject.map_or_else(|| client.client_id.clone(), |s| s.user_id.to_string()),
            // RFC 9068 §3: `aud` names the resource. The ones the request named (RFC 8707);
            // otherwise an admin token is for the admin API, which this issuer serves, and
            // other tokens for the configured audience.
            aud: Audience::of(&resources.audience, if admin { &self.config.issuer } else { &self.config.access_token_audience }),
            client_id: client.client_id.clone(),
            scope: scope.to_string(),
            iat: now,
            nbf: now,
            exp: now + self.config.access_token_ttl,
            jti: jti.clone(),
            grant_id: grant_id.clone(),
            auth_time: subject.map(|s| s.auth_time),
            username: subject.map(|s| s.username.to_string()),
            role: subject.map(|s| s.role.to_string()),
            cnf: jkt.map(|jkt| Confirmation { jkt: jkt.to_string() }),
        };
        let access_token = self.sign_es256(keys, "at+jwt", &claims).await;
        let id_token =
            match subject {
                Some(s) if scope.contains(OPENID) => {
                    let id = IdTokenClaims {
                        iss: self.config.issuer.clone(),
                        sub: s.user_id.to_string(),
                        aud: client.client_id.clone(),
                        azp: client.client_id.clone(),
                        exp: now + self.config.id_token_ttl,
                        iat: now,
                        auth_time: s.auth_time,
                        at_hash: at_hash(&access_token),
                        nonce: nonce.map(str::to_string),
                        amr: s.amr.to_vec(),
                        acr: (!s.amr.is_empty())
                            .then(|| super::amr::Authentication { auth_time: s.auth_time, amr: s.amr.to_vec() }.acr().to_string()),
                        user: UserClaims::for_scope(scope, s.username, s.email, s.role),
                    };
                    // The client's registered algorithm (OIDC Registration §2); RS256 clients are
                    // registered only where the deployment has an RS256 key.
                    if client.id_token_signed_response_alg == "RS256" {
                        Some(self.sign_rs256(keys, "JWT", &id).await.ok_or_else(|| {
                            super::OAuthError::unavailable("this client's ID tokens are RS256, and JWT_RS256_KEY is not set")
                        })?)
                    } else {
                        Some(self.sign_es256(keys, "JWT", &id).await)
                    }
                }
                _ => None,
            };
        let (refresh_token, record) = match (subject, refresh, &grant_id) {
            (Some(_), RefreshIssue::Rotated { token, .. }, _) => (Some(token), None),
            (Some(s), RefreshIssue::NewFamily, Some(grant)) if client.allows_grant(super::GrantType::RefreshToken) => {
                let token = RefreshTokenSecret::new(random_token());
                let family_expires_at = now + self.config.refresh_family_lifetime;
                let record = RefreshToken {
                    token_hash: sha256_b64url(token.expose()),
                    family_id: grant.clone(),
                    client_id: client.client_id.clone(),
                    user_id: s.user_id.to_string(),
                    scope: scope.to_string(),
                    resources: resources.granted.clone(),
                    auth_time: s.auth_time,
                    issued_at: now,
                    expires_at: (now + self.config.refresh_token_ttl).min(family_expires_at),
                    family_expires_at,
                    // RFC 9449 §5: a public client's refresh tokens are bound to its DPoP key
                    // (a confidential client's are bound to its authentication already).
                    jkt: jkt.filter(|_| client.client_type == crate::store::ClientType::Public).map(str::to_string),
                };
                (Some(token), Some(record))
            }
            _ => (None, None),
        };
        Ok(Issued {
            jti,
            grant_id,
            refresh: record,
            response: TokenResponse {
                access_token,
                // RFC 9449 §5: "DPoP" for a bound token.
                token_type: if jkt.is_some() { "DPoP" } else { "Bearer" },
                expires_in: self.config.access_token_ttl,
                refresh_token,
                scope: scope.to_string(),
                id_token,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_is_left_half_of_sha256() {
        // OIDC Core §3.1.3.6: 16 bytes → 22 base64url characters.
        assert_eq!(at_hash("token").len(), 22);
        assert_eq!(at_hash("token"), b64url(&Sha256::digest(b"token")[..16]));
    }

    #[test]
    fn user_claims_follow_the_scope() {
        let none = UserClaims::for_scope(&Scope::parse("openid").unwrap(), "alice", "a@example.com", "user");
        assert_eq!(serde_json::to_value(&none).unwrap(), serde_json::json!({}));
        let all = UserClaims::for_scope(&Scope::parse("openid profile email").unwrap(), "alice", "a@example.com", "user");
        assert_eq!(
            serde_json::to_value(&all).unwrap(),
            serde_json::json!({ "preferred_username": "alice", "role": "user", "email": "a@example.com", "email_verified": false })
        );
    }
}
