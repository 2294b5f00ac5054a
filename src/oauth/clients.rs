//! Clients: the metadata rules for registering and updating them (RFC 7591 §2 names, RFC 6749
//! §2.1 types, RFC 8252 redirect rules) and client authentication at the token, revocation and
//! introspection endpoints (RFC 6749 §2.3).

use super::secrets::ClientSecret;
use super::{redirect, scope::Scope, GrantType, OAuthError, OAuthResult, Provider};
use crate::crypto::{random_id, random_token, secret_matches_hash, sha256_b64url};
use crate::store::{AuthMethod, Client, ClientType, Platform, Store};
use serde::Deserialize;

/// ID token signing algorithms a client may register (RS256 needs the deployment's RS256 key).
pub const ID_TOKEN_ALGS: [&str; 2] = ["ES256", "RS256"];

/// The fields of `POST /clients` and `PUT /clients/{id}`; all optional so one type serves both
/// (unknown fields are refused).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientMetadata {
    pub client_name: Option<String>,
    pub client_type: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    /// The contract's `scopes`: one space-separated string (`"openid profile"`); a JSON list
    /// of scope names is accepted as well.
    pub scopes: Option<ScopeList>,
    /// RFC 7591 §2 spells the same thing `scope` (one space-separated string); a synonym.
    pub scope: Option<String>,
    pub token_endpoint_auth_method: Option<String>,
    /// `ES256` (default) or `RS256` (OIDC Registration §2).
    pub id_token_signed_response_alg: Option<String>,
    /// RFC 7591 `client_uri` (dynamic registrations).
    #[serde(skip)]
    pub client_uri: Option<String>,
    /// Every sign-in for this client needs two factors or a passkey.
    pub require_mfa: Option<bool>,
    /// Its public keys as a JWK Set (RFC 7591 §2), for `private_key_jwt`.
    pub jwks: Option<serde_json::Value>,
    /// Where it publishes its JWK Set (RFC 7591 §2); `""` removes it.
    pub jwks_uri: Option<String>,
    /// OIDC Registration §2: the one algorithm its assertions use.
    pub token_endpoint_auth_signing_alg: Option<String>,
    /// RFC 9449 §5.2: DPoP is required for its tokens.
    pub dpop_bound_access_tokens: Option<bool>,
    /// RFC 9126 §6: `/authorize` takes its requests only through `/par`.
    pub require_pushed_authorization_requests: Option<bool>,
    /// `"2.0"`: the FAPI 2.0 Security Profile applies; `""` removes it.
    pub fapi: Option<String>,
    pub is_active: Option<bool>,
}

/// A client's scopes as sent in registration metadata: the contract's space-separated string,
/// or a JSON list of names. Either way it becomes a list of scope names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeList(pub Vec<String>);

impl ScopeList {
    /// The contract's space-separated form.
    pub fn from_text(s: &str) -> Self {
        Self(s.split(' ').filter(|t| !t.is_empty()).map(String::from).collect())
    }

    /// The answer's form: one space-separated string, in registration order.
    pub fn text(scopes: &[String]) -> String {
        scopes.join(" ")
    }
}

impl<'de> Deserialize<'de> for ScopeList {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ScopeList;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a space-separated string of scope names (or a list of them)")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<ScopeList, E> {
                Ok(ScopeList::from_text(v))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<ScopeList, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    out.push(item);
                }
                Ok(ScopeList(out))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl Client {
    /// Whether the client was registered for this grant (RFC 6749 §5.2 `unauthorized_client`
    /// otherwise).
    pub fn allows_grant(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }
}

fn bad(msg: impl Into<String>) -> OAuthError {
    OAuthError::invalid_request(msg)
}

/// Applies `meta` to `client` (a new default one when registering) and checks the result as a
/// whole, so that an update can never leave an inconsistent client behind.
pub fn apply_metadata(client: &mut Client, meta: ClientMetadata, creating: bool) -> OAuthResult<()> {
    if let Some(name) = meta.client_name {
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return Err(bad("client_name: 1 to 100 characters"));
        }
        client.client_name = name;
    } else if creating {
        return Err(bad("client_name is required"));
    }
    if let Some(t) = meta.client_type {
        if !creating {
            return Err(bad("client_type cannot be changed"));
        }
        client.client_type = match t.as_str() {
            "confidential" => ClientType::Confidential,
            "public" => ClientType::Public,
            _ => return Err(bad("client_type: 'confidential' or 'public'")),
        };
    } else if creating && meta.token_endpoint_auth_method.as_deref() == Some(AuthMethod::None.as_str()) {
        // RFC 7591 §2: a client registered with auth method "none" is a public client.
        client.client_type = ClientType::Public;
    }
    if creating {
        client.token_endpoint_auth_method =
            if client.client_type == ClientType::Public { AuthMethod::None } else { AuthMethod::ClientSecretBasic };
    }
    if let Some(m) = meta.token_endpoint_auth_method {
        client.token_endpoint_auth_method = AuthMethod::parse(&m).ok_or_else(|| {
            bad("token_endpoint_auth_method: client_secret_basic, client_secret_post, private_key_jwt, client_secret_jwt or none")
        })?;
    }
    let key_meta = KeyMetadata {
        jwks: meta.jwks,
        jwks_uri: meta.jwks_uri,
        alg: meta.token_endpoint_auth_signing_alg,
        dpop: meta.dpop_bound_access_tokens,
        par: meta.require_pushed_authorization_requests,
        fapi: meta.fapi,
    };
    apply_key_binding(&mut client.key_binding, key_meta)?;
    let list_field = |name: &str, v: Vec<String>, max: usize| -> OAuthResult<Vec<String>> {
        if v.len() > max {
            return Err(bad(format!("{name}: at most {max} entries")));
        }
        let mut out: Vec<String> = Vec::with_capacity(v.len());
        for item in v {
            if !out.contains(&item) {
                out.push(item);
            }
        }
        Ok(out)
    };
    if let Some(g) = meta.grant_types {
        let g = list_field("grant_types", g, 4)?;
        if let Some(x) = g.iter().find(|x| GrantType::parse(x).is_none()) {
            return Err(bad(format!("grant_types: unsupported grant type '{}'", truncate(x))));
        }
        let mut grants: Vec<GrantType> = Vec::new();
        for name in &g {
            // Checked above; a name given twice is kept once.
            if let Some(grant) = GrantType::parse(name).filter(|grant| !grants.contains(grant)) {
                grants.push(grant);
            }
        }
        client.grant_types = grants;
    }
    if let Some(r) = meta.response_types {
        let r = list_field("response_types", r, 1)?;
        if r.iter().any(|x| x != "code") {
            return Err(bad("response_types: only 'code' is supported"));
        }
        client.response_types = r;
    }
    for (field, value, target) in [
        ("redirect_uris", meta.redirect_uris, &mut client.redirect_uris),
        ("post_logout_redirect_uris", meta.post_logout_redirect_uris, &mut client.post_logout_redirect_uris),
    ] {
        if let Some(v) = value {
            let v = list_field(field, v, 20)?;
            for uri in &v {
                redirect::validate_registered(uri).map_err(|why| bad(format!("{field}: '{}' {why}", truncate(uri))))?;
            }
            *target = v;
        }
    }
    let scope = meta.scope.map(|s| ScopeList::from_text(&s));
    let scopes = match (meta.scopes, scope) {
        // The same scopes under both names (a client echoing a previous answer) is fine.
        (Some(a), Some(b)) if Scope::from_list(a.0.clone()) == Scope::from_list(b.0.clone()) => Some(list_field("scopes", a.0, 50)?),
        (Some(_), Some(_)) => return Err(bad("scopes and scope differ: send one of them")),
        (Some(list), None) | (None, Some(list)) => Some(list_field("scopes", list.0, 50)?),
        (None, None) => None,
    };
    if let Some(list) = scopes {
        let joined = list.join(" ");
        match Scope::parse(&joined) {
            Some(s) if s.iter().count() == list.len() => client.scopes = list,
            _ => return Err(bad("scopes: each scope is one token of printable ASCII without spaces, quotes or backslashes")),
        }
    }
    if let Some(alg) = meta.id_token_signed_response_alg {
        if !ID_TOKEN_ALGS.contains(&alg.as_str()) {
            return Err(bad("id_token_signed_response_alg: ES256 or RS256"));
        }
        client.id_token_signed_response_alg = alg;
    }
    if let Some(uri) = meta.client_uri {
        client.client_uri = Some(uri);
    }
    if let Some(require) = meta.require_mfa {
        client.require_mfa = require;
    }
    if let Some(active) = meta.is_active {
        if creating && !active {
            // Allowed but unusual; kept as given.
        }
        client.is_active = active;
    }

    // Whole-client consistency.
    let method = client.token_endpoint_auth_method;
    let keys = &client.key_binding;
    if method == AuthMethod::PrivateKeyJwt && !keys.has_keys() {
        return Err(bad("private_key_jwt needs the client's public keys: jwks or jwks_uri"));
    }
    if let Some(alg) = &keys.token_endpoint_auth_signing_alg {
        let fits = match method {
            AuthMethod::PrivateKeyJwt => alg == "ES256" || alg == "RS256",
            AuthMethod::ClientSecretJwt => alg == "HS256",
            _ => false,
        };
        if !fits {
            return Err(bad("token_endpoint_auth_signing_alg: ES256 or RS256 for private_key_jwt, HS256 for client_secret_jwt"));
        }
    }
    match client.client_type {
        ClientType::Public => {
            if client.token_endpoint_auth_method != AuthMethod::None {
                return Err(bad("token_endpoint_auth_method: a public client uses 'none'"));
            }
            if let Some(g) = GrantType::ALL.into_iter().find(|g| !g.allowed_for_public_clients() && client.allows_grant(*g)) {
                return Err(bad(format!("grant_types: {} needs a confidential client", g.as_str())));
            }
        }
        ClientType::Confidential => {
            if client.token_endpoint_auth_method == AuthMethod::None {
                return Err(bad("token_endpoint_auth_method: a confidential client authenticates with a secret or a key"));
            }
        }
    }
    if client.grant_types.is_empty() {
        return Err(bad("grant_types: at least one grant type"));
    }
    if client.allows_grant(GrantType::AuthorizationCode) {
        if client.redirect_uris.is_empty() {
            return Err(bad("redirect_uris: required for the authorization_code grant"));
        }
        if client.response_types.is_empty() {
            client.response_types = vec!["code".into()];
        }
    }
    Ok(())
}

/// The key-binding members of client metadata, as sent.
struct KeyMetadata {
    jwks: Option<serde_json::Value>,
    jwks_uri: Option<String>,
    alg: Option<String>,
    dpop: Option<bool>,
    par: Option<bool>,
    fapi: Option<String>,
}

/// The largest `jwks` by value (a few RSA keys are well under).
const MAX_JWKS_BY_VALUE: usize = 8 * 1024;

/// Applies the key-binding members (each checked alone; `apply_metadata` checks the whole).
fn apply_key_binding(binding: &mut crate::store::KeyBinding, meta: KeyMetadata) -> OAuthResult<()> {
    let jwks_sent = meta.jwks.is_some();
    if let Some(set) = meta.jwks {
        if set.to_string().len() > MAX_JWKS_BY_VALUE {
            return Err(bad("jwks: at most 8 KiB"));
        }
        super::client_auth::signing_keys(&set).map_err(|e| bad(format!("jwks: {e}")))?;
        binding.jwks = Some(set);
        binding.jwks_uri = None;
    }
    if let Some(uri) = meta.jwks_uri {
        if uri.is_empty() {
            binding.jwks_uri = None;
        } else {
            if uri.len() > 512 || super::outbound::check_admin_chosen(&uri).is_err() {
                return Err(bad("jwks_uri: an absolute https URL (http only for loopback) of at most 512 characters"));
            }
            if jwks_sent {
                return Err(bad("jwks and jwks_uri: send one of them (RFC 7591 §2)"));
            }
            binding.jwks = None;
            binding.jwks_uri = Some(uri);
        }
    }
    if let Some(alg) = meta.alg {
        binding.token_endpoint_auth_signing_alg = (!alg.is_empty()).then_some(alg);
    }
    if let Some(dpop) = meta.dpop {
        binding.dpop_bound_access_tokens = dpop;
    }
    if let Some(par) = meta.par {
        binding.require_pushed_authorization_requests = par;
    }
    if let Some(fapi) = meta.fapi {
        match fapi.as_str() {
            "" => binding.fapi = None,
            "2.0" => binding.fapi = Some(fapi),
            _ => return Err(bad("fapi: \"2.0\" (the FAPI 2.0 Security Profile) or \"\"")),
        }
    }
    Ok(())
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

/// A new client with the defaults a registration starts from.
pub fn new_client(now: u64) -> Client {
    Client {
        client_id: random_id(),
        client_secret_hash: None,
        client_name: String::new(),
        client_type: ClientType::Confidential,
        token_endpoint_auth_method: AuthMethod::ClientSecretBasic,
        grant_types: vec![GrantType::AuthorizationCode, GrantType::RefreshToken],
        redirect_uris: vec![],
        post_logout_redirect_uris: vec![],
        response_types: vec!["code".into()],
        scopes: vec!["openid".into(), "profile".into(), "email".into()],
        id_token_signed_response_alg: "ES256".into(),
        dynamic: false,
        registration_token_hash: None,
        client_uri: None,
        require_mfa: false,
        key_binding: Default::default(),
        client_secret_sealed: None,
        metadata_expires_at: None,
        is_active: true,
        created_at: now,
        updated_at: now,
    }
}

/// How the client presented itself at an endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ClientCredentials {
    /// From HTTP Basic (already form-urldecoded, RFC 6749 §2.3.1).
    pub basic: Option<(String, ClientSecret)>,
    /// `client_id` and `client_secret` form parameters.
    pub form_id: Option<String>,
    pub form_secret: Option<ClientSecret>,
    /// `client_assertion_type` and `client_assertion` (RFC 7521 §4.2).
    pub assertion: Option<super::client_auth::ClientAssertion>,
    /// The path of the endpoint presented to (`/token`, `/par`, ...): an assertion's `aud` may
    /// name its URL.
    pub endpoint: String,
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// Whether the FAPI 2.0 Security Profile applies to `client` (its `fapi` metadata).
    pub fn fapi_applies(&self, client: &Client) -> bool {
        client.key_binding.fapi.as_deref() == Some("2.0")
    }

    /// The client `client_id` names, wherever it comes from: a stored one, or, for a client ID
    /// metadata document URL, the document's client (`metadata_document.rs`). `Err` says why a
    /// document could not be used.
    pub async fn client_by_id(&self, client_id: &str) -> OAuthResult<Option<Client>> {
        if self.names_document(client_id) {
            return self.document_client(client_id).await;
        }
        Ok(self.store.client(client_id).await?)
    }
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// Creates a client; returns it and, for a confidential client, its secret (shown once).
    /// RS256 ID tokens need the deployment's RS256 key.
    pub(super) fn check_id_token_alg(&self, client: &Client) -> OAuthResult<()> {
        let has_rs256 = self.keys.is_ok_and(|k| k.rs256.is_some());
        if client.id_token_signed_response_alg == "RS256" && !has_rs256 {
            return Err(bad("id_token_signed_response_alg: RS256 needs the JWT_RS256_KEY secret on this deployment"));
        }
        Ok(())
    }

    /// The sealed copy of a new secret that a `client_secret_jwt` client needs (an HS256 check
    /// needs the secret itself); `None` for every other client, whose secret is kept as a hash
    /// only.
    fn sealed_secret(&self, client: &Client, secret: &ClientSecret) -> OAuthResult<Option<String>> {
        if client.token_endpoint_auth_method != AuthMethod::ClientSecretJwt {
            return Ok(None);
        }
        let key = self
            .config
            .totp_key
            .as_ref()
            .ok_or_else(|| bad("client_secret_jwt needs the TOTP_ENCRYPTION_KEY secret (the sealing key) on this deployment"))?;
        Ok(super::client_auth::seal_secret(key, &client.client_id, secret.expose()))
    }

    /// A new client's secret (shown once), its hash and, for `client_secret_jwt`, its sealed
    /// copy set on `client`: for a confidential client, unless it proves itself with its own
    /// keys (`private_key_jwt`).
    pub(super) fn new_client_secret(&self, client: &mut Client) -> OAuthResult<Option<ClientSecret>> {
        if client.client_type != ClientType::Confidential || client.token_endpoint_auth_method == AuthMethod::PrivateKeyJwt {
            return Ok(None);
        }
        let secret = ClientSecret::new(random_token());
        client.client_secret_hash = Some(sha256_b64url(secret.expose()));
        client.client_secret_sealed = self.sealed_secret(client, &secret)?;
        Ok(Some(secret))
    }

    pub async fn create_client(&self, meta: ClientMetadata) -> OAuthResult<(Client, Option<ClientSecret>)> {
        let mut client = new_client(self.now);
        apply_metadata(&mut client, meta, true)?;
        self.check_id_token_alg(&client)?;
        let secret = self.new_client_secret(&mut client)?;
        self.store.insert_client(&client).await?;
        Ok((client, secret))
    }

    pub async fn update_client(&self, client_id: &str, meta: ClientMetadata) -> OAuthResult<Client> {
        let mut client = self.store.client(client_id).await?.ok_or_else(|| OAuthError::not_found("no such client"))?;
        apply_metadata(&mut client, meta, false)?;
        self.check_id_token_alg(&client)?;
        client.updated_at = self.now;
        if !self.store.update_client(&client).await? {
            return Err(OAuthError::not_found("no such client"));
        }
        // Deactivating a client ends its grants: a later re-activation does not bring its old
        // refresh or access tokens back. Asked of every update that leaves it inactive, so a
        // retry after a failure here completes the job (an inactive client gets no tokens).
        if !client.is_active {
            self.store.end_client_grants(client_id, self.now).await?;
        }
        Ok(client)
    }

    pub async fn rotate_client_secret(&self, client_id: &str) -> OAuthResult<(Client, ClientSecret)> {
        let client = self.store.client(client_id).await?.ok_or_else(|| OAuthError::not_found("no such client"))?;
        if client.client_type == ClientType::Public {
            return Err(bad("a public client has no secret"));
        }
        if client.token_endpoint_auth_method == AuthMethod::PrivateKeyJwt {
            return Err(bad("a private_key_jwt client proves itself with its keys, not a secret"));
        }
        let secret = ClientSecret::new(random_token());
        let sealed = self.sealed_secret(&client, &secret)?;
        self.store.set_client_secret_hash(client_id, &sha256_b64url(secret.expose()), sealed.as_deref(), self.now).await?;
        Ok((client, secret))
    }

    /// Authenticates the client as registered (RFC 6749 §2.3). Every failure is
    /// `invalid_client` (401); using two methods at once is `invalid_request`.
    pub async fn authenticate_client(&self, creds: &ClientCredentials) -> OAuthResult<Client> {
        let methods = [creds.basic.is_some(), creds.form_secret.is_some(), creds.assertion.is_some()];
        if methods.into_iter().filter(|sent| *sent).count() > 1 {
            return Err(bad("use one client authentication method, not several (RFC 6749 §2.3)"));
        }
        if let Some(assertion) = &creds.assertion {
            return self.authenticate_assertion(assertion, creds.form_id.as_deref(), &creds.endpoint).await;
        }
        let (id, secret, method) = match (&creds.basic, &creds.form_id, &creds.form_secret) {
            (Some((id, secret)), form_id, _) => {
                if form_id.as_ref().is_some_and(|f| f != id) {
                    return Err(bad("client_id does not match the Authorization header"));
                }
                (id.as_str(), Some(secret.expose()), AuthMethod::ClientSecretBasic)
            }
            (None, Some(id), Some(secret)) => (id.as_str(), Some(secret.expose()), AuthMethod::ClientSecretPost),
            (None, Some(id), None) => (id.as_str(), None, AuthMethod::None),
            (None, None, _) => return Err(OAuthError::invalid_client("client authentication is required")),
        };
        let fail = || OAuthError::invalid_client("client authentication failed");
        if id.is_empty() || (id.len() > 128 && !self.names_document(id)) {
            return Err(fail());
        }
        let accepts = |client: &Client| {
            client.is_active
                && client.token_endpoint_auth_method == method
                && match (secret, &client.client_secret_hash) {
                    (None, _) => method == AuthMethod::None,
                    (Some(s), Some(h)) => secret_matches_hash(s, h),
                    (Some(_), None) => false,
                }
        };
        if self.names_document(id) {
            // A metadata document client: the stored copy while fresh, else its document again.
            return self.client_by_id(id).await?.filter(|c| accepts(c)).ok_or_else(fail);
        }
        let (client, cached) = self.store.client_for_auth(id, self.now).await?;
        if let Some(c) = client.filter(|c| accepts(c)) {
            return Ok(c);
        }
        if !cached {
            return Err(fail());
        }
        // A cached copy may predate a new secret, a re-activation or a change of method:
        // only a fresh read can refuse.
        self.store.client(id).await?.filter(|c| accepts(c)).ok_or_else(fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(json: &str) -> ClientMetadata {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn registration_defaults_and_rules() {
        let mut c = new_client(0);
        apply_metadata(&mut c, meta(r#"{"client_name":"App","redirect_uris":["https://app.example/cb"]}"#), true).unwrap();
        assert_eq!(c.token_endpoint_auth_method, "client_secret_basic");

        let mut p = new_client(0);
        apply_metadata(&mut p, meta(r#"{"client_name":"SPA","client_type":"public","redirect_uris":["http://127.0.0.1/cb"]}"#), true)
            .unwrap();
        assert_eq!(p.token_endpoint_auth_method, "none");
        let mut n = new_client(0);
        apply_metadata(
            &mut n,
            meta(r#"{"client_name":"SPA","token_endpoint_auth_method":"none","redirect_uris":["http://127.0.0.1/cb"]}"#),
            true,
        )
        .unwrap();
        assert_eq!(n.client_type, ClientType::Public, "auth method none without client_type means public");

        for bad_json in [
            r#"{"redirect_uris":["https://a.example/cb"]}"#,
            r#"{"client_name":"A","redirect_uris":["http://a.example/cb"]}"#,
            r#"{"client_name":"A","redirect_uris":["javascript:alert(1)"]}"#,
            r#"{"client_name":"A","redirect_uris":["https://a.example/cb#x"]}"#,
            r#"{"client_name":"A"}"#,
            r#"{"client_name":"A","client_type":"public","grant_types":["client_credentials"]}"#,
            r#"{"client_name":"A","client_type":"public","token_endpoint_auth_method":"client_secret_post","redirect_uris":["https://a.example/cb"]}"#,
            r#"{"client_name":"A","grant_types":["implicit"],"redirect_uris":["https://a.example/cb"]}"#,
            r#"{"client_name":"A","response_types":["token"],"redirect_uris":["https://a.example/cb"]}"#,
            r#"{"client_name":"A","client_type":"other","redirect_uris":["https://a.example/cb"]}"#,
            r#"{"client_name":"A","scopes":["has space"],"redirect_uris":["https://a.example/cb"]}"#,
        ] {
            let mut c = new_client(0);
            assert_eq!(apply_metadata(&mut c, meta(bad_json), true).unwrap_err().status(), 400, "{bad_json}");
        }
        assert!(serde_json::from_str::<ClientMetadata>(r#"{"client_secret":"x"}"#).is_err());
    }

    #[test]
    fn update_keeps_the_client_consistent() {
        let mut c = new_client(0);
        apply_metadata(&mut c, meta(r#"{"client_name":"App","redirect_uris":["https://app.example/cb"]}"#), true).unwrap();
        assert!(apply_metadata(&mut c.clone(), meta(r#"{"redirect_uris":[]}"#), false).is_err());
        assert!(apply_metadata(&mut c.clone(), meta(r#"{"client_type":"public"}"#), false).is_err());
        apply_metadata(&mut c, meta(r#"{"is_active":false,"client_name":"Renamed"}"#), false).unwrap();
        assert!(!c.is_active);
        assert_eq!(c.client_name, "Renamed");
    }
}
