//! The token endpoint's grants (RFC 6749 §4.1.3, §4.3, §4.4, §6), the tokens they issue
//! (RFC 9068 access tokens, OIDC Core §2 ID tokens, rotating refresh tokens), and what reads
//! tokens back: introspection (RFC 7662), revocation (RFC 7009) and bearer checks (RFC 6750).

use super::clients::ClientCredentials;
use super::scope::{Scope, EMAIL, OPENID, PROFILE};
use super::{pkce, store_error, OAuthError, OAuthResult, Provider};
use crate::crypto::{b64url, jwt, random_id, random_token, sha256_b64url};
use crate::store::{
    AuthorizationCode, Client, ClientType, ConsumedCode, NewRefresh, Redemption, RefreshRecord, RefreshStatus, RefreshToken, Rotation,
    Store, User,
};
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

impl<'a> Subject<'a> {
    fn of(user: &'a User, auth_time: u64) -> Self {
        Self { user_id: &user.id, username: &user.username, email: &user.email, role: &user.role, auth_time }
    }
}

fn invalid_refresh() -> OAuthError {
    OAuthError::invalid_grant("the refresh token is invalid, expired or revoked")
}

fn required<'a>(v: &'a Option<String>, name: &str) -> OAuthResult<&'a str> {
    match v.as_deref() {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(OAuthError::invalid_request(format!("{name} is required"))),
    }
}

/// The storage key of a presented code or refresh token: its SHA-256; `None` for a value too
/// long to be one of ours (never looked up).
fn lookup_hash(presented: &str) -> Option<String> {
    (presented.len() <= 256).then(|| sha256_b64url(presented))
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
            return Err(OAuthError::unsupported_grant_type(format!(
                "unsupported grant_type '{}'",
                grant.chars().take(40).collect::<String>()
            )));
        }
        // The client and the code or refresh token it presents are read concurrently (one
        // round trip of latency); the client's result is checked first, so a bad client is
        // still `invalid_client` whatever the grant.
        let authenticated = self.authenticate_client(creds);
        match grant {
            "authorization_code" => {
                let hash = lookup_hash(required(&req.code, "code")?);
                required(&req.redirect_uri, "redirect_uri")?;
                let lookup = async {
                    if let Some(h) = &hash {
                        self.store.code(h).await
                    } else {
                        Ok(None)
                    }
                };
                let (client, record) = super::join2(authenticated, lookup).await;
                let client = self.ready_client(client?, grant)?;
                self.code_grant(&client, req, hash, record.map_err(store_error)?).await
            }
            "refresh_token" => {
                let hash = lookup_hash(required(&req.refresh_token, "refresh_token")?);
                if req.scope.is_none() {
                    // Nothing to check against the token before rotating it: the client (usually
                    // from the isolate's cache), then rotate-and-read in one D1 round trip.
                    let client = self.ready_client(authenticated.await?, grant)?;
                    return self.refresh_in_one_trip(&client, hash).await;
                }
                let lookup = async {
                    if let Some(h) = &hash {
                        self.store.refresh(h).await
                    } else {
                        Ok(None)
                    }
                };
                let (client, record) = super::join2(authenticated, lookup).await;
                let client = self.ready_client(client?, grant)?;
                self.refresh_grant(&client, req, hash, record.map_err(store_error)?).await
            }
            "password" => {
                let client = self.ready_client(authenticated.await?, grant)?;
                self.password_grant(&client, req).await
            }
            _ => {
                let client = self.ready_client(authenticated.await?, grant)?;
                self.client_credentials_grant(&client, req).await
            }
        }
    }

    /// The authenticated client may use this grant, and there is a key to sign with (checked
    /// before anything is consumed).
    fn ready_client(&self, client: Client, grant: &str) -> OAuthResult<Client> {
        if !client.allows_grant(grant) {
            return Err(OAuthError::unauthorized_client(format!("client may not use the {grant} grant")));
        }
        self.keys()?;
        Ok(client)
    }

    /// RFC 6749 §4.1.3 with RFC 7636 §4.6. Single use is one conditional write: a second
    /// redemption fails and revokes what the first issued (RFC 6749 §4.1.2).
    async fn code_grant(
        &self,
        client: &Client,
        req: &TokenRequest,
        code_hash: Option<String>,
        record: Option<AuthorizationCode>,
    ) -> OAuthResult<TokenResponse> {
        let redirect_uri = required(&req.redirect_uri, "redirect_uri")?;
        let invalid = || OAuthError::invalid_grant("the authorization code is invalid, expired or already used");
        let (Some(code_hash), Some(record)) = (code_hash, record) else { return Err(invalid()) };
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
    async fn refresh_grant(
        &self,
        client: &Client,
        req: &TokenRequest,
        hash: Option<String>,
        record: Option<RefreshRecord>,
    ) -> OAuthResult<TokenResponse> {
        let (Some(hash), Some(record)) = (hash, record) else { return Err(invalid_refresh()) };
        let usable = record.token.client_id == client.client_id
            && record.status == RefreshStatus::Active
            && record.token.expires_at > self.now
            && record.user.is_some();
        if !usable {
            return Err(self.refuse_refresh(client, Some(&record)).await);
        }
        let user = record.user.as_ref().ok_or_else(invalid_refresh)?;
        let granted = Scope::parse(&record.token.scope).unwrap_or_default();
        let scope = Scope::narrow(parse_scope(&req.scope)?.as_ref(), &granted)
            .ok_or_else(|| OAuthError::invalid_scope("scope exceeds the scope originally granted"))?;
        let subject = Subject::of(user, record.token.auth_time);
        // The new token keeps the family and the originally granted scope, so a narrowed
        // request does not shrink what later refreshes may ask for.
        let issued = self.mint(client, Some(&subject), &scope, None, Some((&record.token.family_id, &granted, None)))?;
        let new = issued.refresh.as_ref().expect("refresh grant always rotates");
        if !self.store.rotate_refresh(&hash, new, self.now).await.map_err(store_error)? {
            // Another request rotated it first: that is reuse of a rotated token.
            self.store.revoke_family(&record.token.family_id).await.map_err(store_error)?;
            return Err(invalid_refresh());
        }
        Ok(issued.response)
    }

    /// The refresh grant without a `scope` parameter (the common case): the same rules as
    /// `refresh_grant`, with the checks in the rotation's own conditional write
    /// (`Store::rotate_refresh_for`), so the grant costs one D1 round trip.
    async fn refresh_in_one_trip(&self, client: &Client, hash: Option<String>) -> OAuthResult<TokenResponse> {
        let Some(hash) = hash else { return Err(invalid_refresh()) };
        let token = random_token();
        let new =
            NewRefresh { token_hash: sha256_b64url(&token), issued_at: self.now, expires_at: self.now + self.config.refresh_token_ttl };
        let Rotation { rotated, record } =
            self.store.rotate_refresh_for(&hash, &client.client_id, &new, self.now).await.map_err(store_error)?;
        let (true, Some(record)) = (rotated, record.as_ref()) else {
            return Err(self.refuse_refresh(client, record.as_ref()).await);
        };
        let user = record.user.as_ref().ok_or_else(invalid_refresh)?;
        let granted = Scope::parse(&record.token.scope).unwrap_or_default();
        let subject = Subject::of(user, record.token.auth_time);
        let issued = self.mint(client, Some(&subject), &granted, None, Some((&record.token.family_id, &granted, Some(token))))?;
        Ok(issued.response)
    }

    /// The answer to a refresh token that cannot be used. Presenting one that was already
    /// rotated is reuse: its whole family is revoked (OAuth 2.0 Security BCP §4.14.2). A token
    /// of another client is refused without touching it (RFC 6749 §6: it is bound to its client).
    async fn refuse_refresh(&self, client: &Client, record: Option<&RefreshRecord>) -> OAuthError {
        if let Some(r) = record.filter(|r| r.token.client_id == client.client_id && r.status == RefreshStatus::Rotated) {
            if let Err(e) = self.store.revoke_family(&r.token.family_id).await {
                return store_error(e);
            }
        }
        invalid_refresh()
    }

    /// RFC 6749 §4.3 (only for clients registered for it).
    async fn password_grant(&self, client: &Client, req: &TokenRequest) -> OAuthResult<TokenResponse> {
        let username = required(&req.username, "username")?;
        let password = required(&req.password, "password")?;
        let allowed = Scope::from_list(client.scopes.iter().cloned());
        let scope = Scope::narrow(parse_scope(&req.scope)?.as_ref(), &allowed)
            .ok_or_else(|| OAuthError::invalid_scope("scope exceeds what the client may request"))?;
        let user =
            self.authenticate_user(username, password).await?.ok_or_else(|| OAuthError::invalid_grant("invalid username or password"))?;
        let subject = Subject::of(&user, self.now);
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
        // For a rotation: the family, the scope it was granted, and the new token when the
        // caller already chose (and stored) it.
        refresh_family: Option<(&str, &Scope, Option<String>)>,
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
                let (token, family_id, granted) = match refresh_family {
                    Some((f, g, token)) => (token.unwrap_or_else(random_token), f.to_string(), g.to_string()),
                    None => (random_token(), random_id(), scope.to_string()),
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
        // Not revoked and its client still active: one storage round trip.
        let usable = self.store.access_token_usable(&claims.jti, &claims.client_id).await.map_err(store_error)?;
        Ok(usable.then_some(claims))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::authorize::AuthorizationParams;
    use crate::oauth::block_on;
    use crate::oauth::clients::ClientMetadata;
    use crate::oauth::users::validate_registration;
    use crate::testing::World;

    fn setup(w: &World) -> (Client, String, crate::store::User) {
        let p = w.at(1000);
        let meta: ClientMetadata = serde_json::from_str(
            r#"{"client_name":"App","grant_types":["authorization_code","refresh_token","password"],"redirect_uris":["https://app.example/cb"]}"#,
        )
        .unwrap();
        let (client, secret) = block_on(p.create_client(meta)).unwrap();
        let user = block_on(p.register_user(validate_registration("alice", "alice@example.com", "correct horse", None).unwrap())).unwrap();
        (client, secret.unwrap(), user)
    }

    /// The password grant for `setup`'s user.
    fn password_request(scope: Option<&str>) -> TokenRequest {
        TokenRequest {
            grant_type: Some("password".into()),
            username: Some("alice".into()),
            password: Some("correct horse".into()),
            scope: scope.map(String::from),
            ..Default::default()
        }
    }

    fn refresh_request(refresh_token: &Option<String>, scope: Option<&str>) -> TokenRequest {
        TokenRequest {
            grant_type: Some("refresh_token".into()),
            refresh_token: refresh_token.clone(),
            scope: scope.map(String::from),
            ..Default::default()
        }
    }

    fn basic(client: &Client, secret: &str) -> ClientCredentials {
        ClientCredentials { basic: Some((client.client_id.clone(), secret.to_string())), ..Default::default() }
    }

    fn code(w: &World, client: &Client, user: &crate::store::User, challenge: Option<&str>) -> String {
        let p = w.at(1000);
        let params = AuthorizationParams {
            client_id: Some(client.client_id.clone()),
            redirect_uri: Some("https://app.example/cb".into()),
            response_type: Some("code".into()),
            scope: Some("openid profile".into()),
            state: Some("s".into()),
            nonce: Some("n".into()),
            code_challenge: challenge.map(String::from),
            code_challenge_method: challenge.map(|_| "S256".into()),
            ..Default::default()
        };
        let req = block_on(p.validate_authorization(&params)).unwrap();
        let loc = block_on(p.issue_code(&req, user, 1000)).unwrap();
        let q = loc.split_once('?').unwrap().1;
        crate::form::parse(q).unwrap().into_iter().find(|(k, _)| k == "code").unwrap().1
    }

    #[test]
    fn code_exchange_issues_verifiable_tokens_once_and_replay_revokes() {
        let w = World::new();
        let (client, secret, user) = setup(&w);
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let c = code(&w, &client, &user, Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        let req = TokenRequest {
            grant_type: Some("authorization_code".into()),
            code: Some(c),
            redirect_uri: Some("https://app.example/cb".into()),
            code_verifier: Some(verifier.into()),
            ..Default::default()
        };
        let p = w.at(1010);
        let t = block_on(p.token(&basic(&client, &secret), &req)).unwrap();
        let claims = block_on(p.verify_access_token(&t.access_token)).unwrap().unwrap();
        assert_eq!(claims.sub, user.id);
        assert_eq!(claims.username.as_deref(), Some("alice"));
        let id: serde_json::Value = jwt::verify(&w.keys, t.id_token.as_ref().unwrap(), Some("JWT")).unwrap();
        assert_eq!(id["nonce"], "n");
        assert_eq!(id["aud"], client.client_id.as_str());
        assert_eq!(id["at_hash"], at_hash(&t.access_token).as_str());
        assert_eq!(id["auth_time"], 1000);
        // Replay: invalid_grant, and the first access and refresh tokens die.
        let e = block_on(p.token(&basic(&client, &secret), &req)).unwrap_err();
        assert_eq!(e.code, crate::oauth::ErrorCode::InvalidGrant);
        assert!(block_on(p.verify_access_token(&t.access_token)).unwrap().is_none());
        assert!(block_on(p.token(&basic(&client, &secret), &refresh_request(&t.refresh_token, None))).is_err());
    }

    #[test]
    fn expired_codes_and_tokens_are_refused() {
        let w = World::new();
        let (client, secret, user) = setup(&w);
        let c = code(&w, &client, &user, None);
        let req = TokenRequest {
            grant_type: Some("authorization_code".into()),
            code: Some(c),
            redirect_uri: Some("https://app.example/cb".into()),
            ..Default::default()
        };
        let late = w.at(1000 + w.config.auth_code_ttl);
        assert_eq!(block_on(late.token(&basic(&client, &secret), &req)).unwrap_err().code, crate::oauth::ErrorCode::InvalidGrant);
        let p = w.at(1000);
        let t = block_on(p.token(&basic(&client, &secret), &password_request(None))).unwrap();
        let after = w.at(1000 + w.config.access_token_ttl);
        assert!(block_on(after.verify_access_token(&t.access_token)).unwrap().is_none());
        assert_eq!(block_on(after.introspect(&t.access_token)).unwrap(), json!({ "active": false }));
    }

    #[test]
    fn refresh_rotation_and_family_revocation() {
        let w = World::new();
        let (client, secret, _) = setup(&w);
        let p = w.at(1000);
        let creds = basic(&client, &secret);
        let pw = password_request(Some("openid profile"));
        let t1 = block_on(p.token(&creds, &pw)).unwrap();
        let refresh = refresh_request;
        assert_eq!(
            block_on(p.token(&creds, &refresh(&t1.refresh_token, Some("openid email")))).unwrap_err().code,
            crate::oauth::ErrorCode::InvalidScope
        );
        let t2 = block_on(p.token(&creds, &refresh(&t1.refresh_token, Some("openid")))).unwrap();
        assert_eq!(t2.scope, "openid");
        assert_ne!(t2.refresh_token, t1.refresh_token);
        // Reuse of the rotated token revokes the family, including t2's refresh token.
        assert!(block_on(p.token(&creds, &refresh(&t1.refresh_token, None))).is_err());
        assert!(block_on(p.token(&creds, &refresh(&t2.refresh_token, None))).is_err());
    }

    #[test]
    fn refresh_without_scope_rotates_in_one_write_with_the_same_rules() {
        let w = World::new();
        let (client, secret, user) = setup(&w);
        let p = w.at(1000);
        let creds = basic(&client, &secret);
        let pw = password_request(Some("openid profile"));
        let refresh = |rt: &Option<String>| refresh_request(rt, None);
        let t1 = block_on(p.token(&creds, &pw)).unwrap();
        let t2 = block_on(w.at(1100).token(&creds, &refresh(&t1.refresh_token))).unwrap();
        assert_eq!(t2.scope, "openid profile");
        assert!(t2.id_token.is_some());
        let at = block_on(w.at(1100).verify_access_token(&t2.access_token)).unwrap().expect("a valid access token");
        assert_eq!((at.sub.as_str(), at.auth_time, at.client_id.as_str()), (user.id.as_str(), Some(1000), client.client_id.as_str()));

        // Another client cannot use it, and trying does not spend or revoke it.
        let other_meta: ClientMetadata =
            serde_json::from_str(r#"{"client_name":"Other","grant_types":["refresh_token"],"redirect_uris":["https://other.example/cb"]}"#)
                .unwrap();
        let (other, other_secret) = block_on(p.create_client(other_meta)).unwrap();
        let err = block_on(p.token(&basic(&other, &other_secret.unwrap()), &refresh(&t2.refresh_token))).unwrap_err();
        assert_eq!(err.code, crate::oauth::ErrorCode::InvalidGrant);
        let t3 = block_on(p.token(&creds, &refresh(&t2.refresh_token))).unwrap();

        // Reuse of a rotated token revokes the family, t3 included.
        assert_eq!(block_on(p.token(&creds, &refresh(&t2.refresh_token))).unwrap_err().code, crate::oauth::ErrorCode::InvalidGrant);
        assert!(block_on(p.token(&creds, &refresh(&t3.refresh_token))).is_err());
        assert!(block_on(p.token(&creds, &refresh(&Some("unknown".into())))).is_err());

        // An expired token is refused.
        let t4 = block_on(p.token(&creds, &pw)).unwrap();
        let late = w.at(1000 + w.config.refresh_token_ttl);
        assert!(block_on(late.token(&creds, &refresh(&t4.refresh_token))).is_err());
        assert!(block_on(p.token(&creds, &refresh(&t4.refresh_token))).is_ok(), "refusing an expired token spends nothing");
    }

    #[test]
    fn client_authentication_rules() {
        let w = World::new();
        let (client, secret, _) = setup(&w);
        let p = w.at(1000);
        assert!(block_on(p.authenticate_client(&basic(&client, &secret))).is_ok());
        let wrong = basic(&client, "nope");
        assert_eq!(block_on(p.authenticate_client(&wrong)).unwrap_err().code, crate::oauth::ErrorCode::InvalidClient);
        // Registered for Basic: the same secret in the form is refused.
        let post = ClientCredentials { form_id: Some(client.client_id.clone()), form_secret: Some(secret.clone()), ..Default::default() };
        assert_eq!(block_on(p.authenticate_client(&post)).unwrap_err().code, crate::oauth::ErrorCode::InvalidClient);
        // No secret at all for a confidential client.
        let none = ClientCredentials { form_id: Some(client.client_id.clone()), ..Default::default() };
        assert!(block_on(p.authenticate_client(&none)).is_err());
        // Two methods at once.
        let both =
            ClientCredentials { basic: Some((client.client_id.clone(), secret.clone())), form_secret: Some(secret), ..Default::default() };
        assert_eq!(block_on(p.authenticate_client(&both)).unwrap_err().code, crate::oauth::ErrorCode::InvalidRequest);
    }

    #[test]
    fn a_stale_cached_client_never_decides_a_refusal() {
        let w = World::new();
        let (client, old_secret, _) = setup(&w);
        let p = w.at(1000);
        // Another isolate cached the client before its secret was rotated.
        w.store.serve_stale_client(client.clone());
        let (_, new_secret) = block_on(p.rotate_client_secret(&client.client_id)).unwrap();
        assert!(block_on(p.authenticate_client(&basic(&client, &new_secret))).is_ok(), "the new secret works at once");
        // The old one still matches the stale copy: accepted until the cache entry expires.
        assert!(block_on(p.authenticate_client(&basic(&client, &old_secret))).is_ok());
        assert!(block_on(p.authenticate_client(&basic(&client, "wrong"))).is_err());

        // A copy cached while the client was inactive does not refuse it once re-activated.
        let mut inactive = client.clone();
        inactive.is_active = false;
        w.store.serve_stale_client(inactive);
        assert!(block_on(p.authenticate_client(&basic(&client, &new_secret))).is_ok());
    }

    #[test]
    fn at_hash_is_left_half_of_sha256() {
        // OIDC Core §3.1.3.6: 16 bytes → 22 base64url characters.
        assert_eq!(at_hash("token").len(), 22);
        assert_eq!(at_hash("token"), b64url(&Sha256::digest(b"token")[..16]));
    }
}
