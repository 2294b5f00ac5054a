//! The token endpoint's grants (RFC 6749 §4.1.3, §4.3, §4.4, §6), the tokens they issue
//! (RFC 9068 access tokens, OIDC Core §2 ID tokens, rotating refresh tokens), and what reads
//! tokens back: introspection (RFC 7662), revocation (RFC 7009) and bearer checks (RFC 6750).

use super::clients::ClientCredentials;
use super::scope::{Scope, EMAIL, OPENID, PROFILE};
use super::{pkce, store_error, OAuthError, OAuthResult, Provider};
use crate::crypto::{b64url, jwt, random_id, random_token, sha256_b64url};
use crate::store::{Client, ClientType, ConsumedCode, RefreshStatus, RefreshToken, Redemption, Store};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Claims of an RFC 9068 access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub client_id: String,
    pub scope: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub jti: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// The successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}

/// The form of a token request, by grant.
#[derive(Debug, Default, Clone)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub scope: Option<String>,
}

/// Who the tokens are for.
struct Subject<'a> {
    user_id: &'a str,
    username: &'a str,
    email: &'a str,
    role: &'a str,
    auth_time: u64,
}

fn required<'a>(v: &'a Option<String>, name: &str) -> OAuthResult<&'a str> {
    match v.as_deref() {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(OAuthError::invalid_request(format!("{name} is required"))),
    }
}

fn parse_scope(s: &Option<String>) -> OAuthResult<Option<Scope>> {
    match s {
        None => Ok(None),
        Some(s) => Scope::parse(s).map(Some).ok_or_else(|| OAuthError::invalid_scope("malformed scope")),
    }
}

/// `at_hash` (OIDC Core §3.1.3.6): base64url of the left half of SHA-256 of the access token.
pub fn at_hash(access_token: &str) -> String {
    let digest = Sha256::digest(access_token.as_bytes());
    b64url(&digest[..16])
}

/// What a verified, unexpired, unrevoked access token says.
pub type VerifiedAccess = AccessClaims;

impl<S: Store> Provider<'_, S> {
    /// `POST /token`.
    pub async fn token(&self, creds: &ClientCredentials, req: &TokenRequest) -> OAuthResult<TokenResponse> {
        let grant = required(&req.grant_type, "grant_type")?;
        if !super::GRANT_TYPES.contains(&grant) {
            return Err(OAuthError::unsupported_grant_type(format!("unsupported grant_type '{}'", grant.chars().take(40).collect::<String>())));
        }
        let client = self.authenticate_client(creds).await?;
        if !client.allows_grant(grant) {
            return Err(OAuthError::unauthorized_client(format!("client may not use the {grant} grant")));
        }
        // Sign only with a key that exists: fail before consuming anything.
        self.keys()?;
        match grant {
            "authorization_code" => self.code_grant(&client, req).await,
            "refresh_token" => self.refresh_grant(&client, req).await,
            "password" => self.password_grant(&client, req).await,
            _ => self.client_credentials_grant(&client, req).await,
        }
    }

    /// RFC 6749 §4.1.3 with RFC 7636 §4.6. Single use is one conditional write: a second
    /// redemption fails and revokes what the first issued (RFC 6749 §4.1.2).
    async fn code_grant(&self, client: &Client, req: &TokenRequest) -> OAuthResult<TokenResponse> {
        let code = required(&req.code, "code")?;
        let redirect_uri = required(&req.redirect_uri, "redirect_uri")?;
        let invalid = || OAuthError::invalid_grant("the authorization code is invalid, expired or already used");
        if code.len() > 256 {
            return Err(invalid());
        }
        let code_hash = sha256_b64url(code);
        let record = self.store.code(&code_hash).await.map_err(store_error)?.ok_or_else(invalid)?;
        if record.client_id != client.client_id || record.expires_at <= self.now {
            return Err(invalid());
        }
        if record.redirect_uri != redirect_uri {
            return Err(OAuthError::invalid_grant("redirect_uri does not match the authorization request"));
        }
        match (&record.code_challenge, req.code_verifier.as_deref()) {
            (Some(challenge), Some(verifier)) if pkce::verify_pkce(verifier, challenge) => {}
            (Some(_), Some(_)) => return Err(OAuthError::invalid_grant("code_verifier does not match the code_challenge")),
            (Some(_), None) => return Err(OAuthError::invalid_grant("code_verifier is required")),
            // A verifier without a challenge is a downgrade attempt (Security BCP §4.8.2).
            (None, Some(_)) => return Err(OAuthError::invalid_grant("no code_challenge was sent for this code")),
            (None, None) if client.client_type == ClientType::Public => {
                return Err(OAuthError::invalid_grant("public clients must use PKCE"))
            }
            (None, None) => {}
        }
        let scope = Scope::parse(&record.scope).unwrap_or_default();
        let subject = Subject {
            user_id: &record.user_id,
            username: &record.username,
            email: &record.email,
            role: &record.role,
            auth_time: record.auth_time,
        };
        let issued = self.mint(client, Some(&subject), &scope, record.nonce.as_deref(), None)?;
        let consumed = ConsumedCode {
            code_hash,
            family_id: issued.refresh.as_ref().map(|r| r.family_id.clone()),
            access_jti: issued.jti.clone(),
            access_exp: self.now + self.config.access_token_ttl,
            expires_at: record.expires_at.max(self.now) + self.config.access_token_ttl,
        };
        match self.store.redeem_code(&consumed, issued.refresh.as_ref()).await.map_err(store_error)? {
            Redemption::First => Ok(issued.response),
            Redemption::Replayed(prev) => {
                if let Some(prev) = prev {
                    if let Some(f) = &prev.family_id {
                        self.store.revoke_family(f).await.map_err(store_error)?;
                    }
                    self.store.revoke_access(&prev.access_jti, prev.access_exp).await.map_err(store_error)?;
                }
                Err(invalid())
            }
        }
    }

    /// RFC 6749 §6 with rotation: each use returns a new refresh token; presenting a rotated
    /// one again revokes the whole family (OAuth 2.0 Security BCP §4.14.2).
    async fn refresh_grant(&self, client: &Client, req: &TokenRequest) -> OAuthResult<TokenResponse> {
        let presented = required(&req.refresh_token, "refresh_token")?;
        let invalid = || OAuthError::invalid_grant("the refresh token is invalid, expired or revoked");
        if presented.len() > 256 {
            return Err(invalid());
        }
        let hash = sha256_b64url(presented);
        let record = self.store.refresh(&hash).await.map_err(store_error)?.ok_or_else(invalid)?;
        if record.token.client_id != client.client_id {
            return Err(invalid());
        }
        match record.status {
            RefreshStatus::Active => {}
            RefreshStatus::Rotated => {
                self.store.revoke_family(&record.token.family_id).await.map_err(store_error)?;
                return Err(invalid());
            }
            RefreshStatus::Revoked => return Err(invalid()),
        }
        if record.token.expires_at <= self.now {
            return Err(invalid());
        }
        let user = record.user.as_ref().ok_or_else(invalid)?;
        let granted = Scope::parse(&record.token.scope).unwrap_or_default();
        let scope = Scope::narrow(parse_scope(&req.scope)?.as_ref(), &granted)
            .ok_or_else(|| OAuthError::invalid_scope("scope exceeds the scope originally granted"))?;
        let subject = Subject {
            user_id: &user.id,
            username: &user.username,
            email: &user.email,
            role: &user.role,
            auth_time: record.token.auth_time,
        };
        // The new token keeps the family and the originally granted scope, so a narrowed
        // request does not shrink what later refreshes may ask for.
        let issued = self.mint(client, Some(&subject), &scope, None, Some((&record.token.family_id, &granted)))?;
        let new = issued.refresh.as_ref().expect("refresh grant always rotates");
        if !self.store.rotate_refresh(&hash, new, self.now).await.map_err(store_error)? {
            // Another request rotated it first: that is reuse of a rotated token.
            self.store.revoke_family(&record.token.family_id).await.map_err(store_error)?;
            return Err(invalid());
        }
        Ok(issued.response)
    }

    /// RFC 6749 §4.3 (only for clients registered for it).
    async fn password_grant(&self, client: &Client, req: &TokenRequest) -> OAuthResult<TokenResponse> {
        let username = required(&req.username, "username")?;
        let password = required(&req.password, "password")?;
        let allowed = Scope::from_list(client.scopes.iter().cloned());
        let scope = Scope::narrow(parse_scope(&req.scope)?.as_ref(), &allowed)
            .ok_or_else(|| OAuthError::invalid_scope("scope exceeds what the client may request"))?;
        let user = self
            .authenticate_user(username, password)
            .await?
            .ok_or_else(|| OAuthError::invalid_grant("invalid username or password"))?;
        let subject = Subject { user_id: &user.id, username: &user.username, email: &user.email, role: &user.role, auth_time: self.now };
        let issued = self.mint(client, Some(&subject), &scope, None, None)?;
        if let Some(r) = &issued.refresh {
            self.store.insert_refresh(r).await.map_err(store_error)?;
        }
        Ok(issued.response)
    }

    /// RFC 6749 §4.4: confidential clients only, no refresh token (§4.4.3), no ID token.
    async fn client_credentials_grant(&self, client: &Client, req: &TokenRequest) -> OAuthResult<TokenResponse> {
        if client.client_type != ClientType::Confidential {
            return Err(OAuthError::unauthorized_client("client_credentials needs a confidential client"));
        }
        let allowed = Scope::from_list(client.scopes.iter().filter(|s| !matches!(s.as_str(), OPENID | "offline_access")).cloned());
        let requested = parse_scope(&req.scope)?;
        if requested.as_ref().is_some_and(|r| r.contains(OPENID)) {
            return Err(OAuthError::invalid_scope("openid needs an end-user; not available with client_credentials"));
        }
        let scope = Scope::narrow(requested.as_ref(), &allowed)
            .ok_or_else(|| OAuthError::invalid_scope("scope exceeds what the client may request"))?;
        Ok(self.mint(client, None, &scope, None, None)?.response)
    }

    /// Signs the access token and, as the grant allows, the ID token and a refresh token.
    fn mint(
        &self,
        client: &Client,
        subject: Option<&Subject<'_>>,
        scope: &Scope,
        nonce: Option<&str>,
        refresh_family: Option<(&str, &Scope)>,
    ) -> OAuthResult<Minted> {
        let keys = self.keys()?;
        let now = self.now;
        let jti = random_id();
        let claims = AccessClaims {
            iss: self.config.issuer.clone(),
            sub: subject.map_or_else(|| client.client_id.clone(), |s| s.user_id.to_string()),
            aud: self.config.access_token_audience.clone(),
            client_id: client.client_id.clone(),
            scope: scope.to_string(),
            iat: now,
            nbf: now,
            exp: now + self.config.access_token_ttl,
            jti: jti.clone(),
            auth_time: subject.map(|s| s.auth_time),
            username: subject.map(|s| s.username.to_string()),
            role: subject.map(|s| s.role.to_string()),
        };
        let access_token = jwt::sign(keys, "at+jwt", &claims);
        let id_token = match subject {
            Some(s) if scope.contains(OPENID) => {
                let mut c = Map::new();
                c.insert("iss".into(), json!(self.config.issuer));
                c.insert("sub".into(), json!(s.user_id));
                c.insert("aud".into(), json!(client.client_id));
                c.insert("azp".into(), json!(client.client_id));
                c.insert("exp".into(), json!(now + self.config.id_token_ttl));
                c.insert("iat".into(), json!(now));
                c.insert("auth_time".into(), json!(s.auth_time));
                c.insert("at_hash".into(), json!(at_hash(&access_token)));
                if let Some(n) = nonce {
                    c.insert("nonce".into(), json!(n));
                }
                user_claims(&mut c, scope, s.username, s.email, s.role);
                Some(jwt::sign(keys, "JWT", &Value::Object(c)))
            }
            _ => None,
        };
        let (refresh_token, refresh) = match subject {
            Some(s) if client.allows_grant("refresh_token") => {
                let token = random_token();
                let (family_id, granted) = match refresh_family {
                    Some((f, g)) => (f.to_string(), g.to_string()),
                    None => (random_id(), scope.to_string()),
                };
                let record = RefreshToken {
                    token_hash: sha256_b64url(&token),
                    family_id,
                    client_id: client.client_id.clone(),
                    user_id: s.user_id.to_string(),
                    scope: granted,
                    auth_time: s.auth_time,
                    issued_at: now,
                    expires_at: now + self.config.refresh_token_ttl,
                };
                (Some(token), Some(record))
            }
            _ => (None, None),
        };
        Ok(Minted {
            jti,
            refresh,
            response: TokenResponse {
                access_token,
                token_type: "Bearer",
                expires_in: self.config.access_token_ttl,
                refresh_token,
                scope: scope.to_string(),
                id_token,
            },
        })
    }

    /// Checks an access token fully: signature and `kid`, `typ`, issuer, time window,
    /// revocation by `jti`, and that its client is still active. `None` when any fails.
    pub async fn verify_access_token(&self, token: &str) -> OAuthResult<Option<VerifiedAccess>> {
        let keys = self.keys()?;
        let Ok(claims) = jwt::verify::<AccessClaims>(keys, token, Some("at+jwt")) else {
            return Ok(None);
        };
        if claims.iss != self.config.issuer || claims.exp <= self.now || claims.nbf > self.now + 60 {
            return Ok(None);
        }
        if self.store.is_access_revoked(&claims.jti).await.map_err(store_error)? {
            return Ok(None);
        }
        match self.store.client(&claims.client_id).await.map_err(store_error)? {
            Some(c) if c.is_active => Ok(Some(claims)),
            _ => Ok(None),
        }
    }

    /// `POST /introspect` (RFC 7662 §2.2): an inactive token gets `{"active": false}` only.
    pub async fn introspect(&self, token: &str) -> OAuthResult<Value> {
        let inactive = || json!({ "active": false });
        if token.is_empty() || token.len() > 8192 {
            return Ok(inactive());
        }
        if token.contains('.') {
            return Ok(match self.verify_access_token(token).await? {
                Some(c) => {
                    let mut v = json!({
                        "active": true,
                        "sub": c.sub,
                        "client_id": c.client_id,
                        "scope": c.scope,
                        "aud": c.aud,
                        "iss": c.iss,
                        "exp": c.exp,
                        "iat": c.iat,
                        "nbf": c.nbf,
                        "jti": c.jti,
                        "token_type": "Bearer",
                    });
                    if let Some(u) = c.username {
                        v["username"] = json!(u);
                    }
                    if let Some(r) = c.role {
                        v["role"] = json!(r);
                    }
                    v
                }
                None => inactive(),
            });
        }
        let Some(r) = self.store.refresh(&sha256_b64url(token)).await.map_err(store_error)? else {
            return Ok(inactive());
        };
        let client_active = matches!(self.store.client(&r.token.client_id).await.map_err(store_error)?, Some(c) if c.is_active);
        if r.status != RefreshStatus::Active || r.token.expires_at <= self.now || !client_active {
            return Ok(inactive());
        }
        let Some(user) = r.user else { return Ok(inactive()) };
        Ok(json!({
            "active": true,
            "sub": user.id,
            "username": user.username,
            "client_id": r.token.client_id,
            "scope": r.token.scope,
            "aud": r.token.client_id,
            "iss": self.config.issuer,
            "exp": r.token.expires_at,
            "iat": r.token.issued_at,
            "nbf": r.token.issued_at,
            "token_type": "refresh_token",
        }))
    }

    /// `POST /revoke` (RFC 7009 §2.1): revokes a refresh token's family or an access token's
    /// `jti`. Unknown tokens are not an error (§2.2); a token of another client is refused.
    pub async fn revoke(&self, client: &Client, token: &str, hint: Option<&str>) -> OAuthResult<()> {
        // The hint only speeds up the lookup; an unknown one is ignored (§2.1). Both kinds are
        // told apart by shape: access tokens are JWTs, refresh tokens are opaque.
        let _ = hint;
        if token.is_empty() || token.len() > 8192 {
            return Ok(());
        }
        if token.contains('.') {
            let keys = self.keys()?;
            if let Ok(c) = jwt::verify::<AccessClaims>(keys, token, Some("at+jwt")) {
                if c.iss == self.config.issuer && c.exp > self.now {
                    if c.client_id != client.client_id {
                        return Err(OAuthError::unauthorized_client("the token was issued to another client"));
                    }
                    self.store.revoke_access(&c.jti, c.exp).await.map_err(store_error)?;
                }
            }
            return Ok(());
        }
        if let Some(r) = self.store.refresh(&sha256_b64url(token)).await.map_err(store_error)? {
            if r.token.client_id != client.client_id {
                return Err(OAuthError::unauthorized_client("the token was issued to another client"));
            }
            self.store.revoke_family(&r.token.family_id).await.map_err(store_error)?;
        }
        Ok(())
    }

    /// `GET|POST /userinfo` (OIDC Core §5.3): needs a valid access token with `openid`.
    pub async fn userinfo(&self, token: &str) -> OAuthResult<Value> {
        let claims = self
            .verify_access_token(token)
            .await?
            .ok_or_else(|| OAuthError::invalid_token("the access token is invalid, expired or revoked"))?;
        let scope = Scope::parse(&claims.scope).unwrap_or_default();
        if !scope.contains(OPENID) || claims.username.is_none() {
            return Err(OAuthError::insufficient_scope("the access token lacks the openid scope of an end-user"));
        }
        let user = self
            .store
            .user_by_id(&claims.sub)
            .await
            .map_err(store_error)?
            .ok_or_else(|| OAuthError::invalid_token("the user no longer exists"))?;
        let mut out = Map::new();
        out.insert("sub".into(), json!(user.id));
        user_claims(&mut out, &scope, &user.username, &user.email, &user.role);
        Ok(Value::Object(out))
    }
}

/// Profile and email claims as the scope allows (OIDC Core §5.4).
fn user_claims(c: &mut Map<String, Value>, scope: &Scope, username: &str, email: &str, role: &str) {
    if scope.contains(PROFILE) {
        c.insert("preferred_username".into(), json!(username));
        c.insert("role".into(), json!(role));
    }
    if scope.contains(EMAIL) {
        c.insert("email".into(), json!(email));
        c.insert("email_verified".into(), json!(false));
    }
}

struct Minted {
    jti: String,
    refresh: Option<RefreshToken>,
    response: TokenResponse,
}
