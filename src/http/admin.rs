//! `/register` and the admin-only `/clients` endpoints, and the admin check they share: a
//! verified access token with the `admin` scope for this issuer, or the bootstrap token.

use super::{App, Incoming, Outgoing};
use crate::crypto::constant_time_eq;
use crate::oauth::accounts::Actor;
use crate::oauth::audit::{Audit, AuditKind};
use crate::oauth::clients::{ClientMetadata, ScopeList};
use crate::oauth::scope::{Scope, ADMIN};
use crate::oauth::secrets::ClientSecret;
use crate::oauth::users::{validate_registration, ADMIN_ROLE, DEFAULT_ROLE};
use crate::oauth::{OAuthError, OAuthResult};
use crate::store::{Client, ClientType, FactorSummary, Store, User};
use serde::Deserialize;
use serde_json::{json, Value};

pub enum AdminCheck {
    /// An admin credential, and whose (for the audit log).
    Admin(Actor),
    /// No bearer token was sent.
    Missing,
}

/// An invalid, expired or revoked token is 401 `invalid_token`. A valid one is an admin
/// credential only with the `admin` scope and `aud` naming this issuer, for a user whose role is
/// admin (docs/API.md "Admin bearer"); any other is 403 `insufficient_scope` (RFC 6750 §3.1). The
/// claims are read only from a token whose signature, issuer, expiry and grant were verified,
/// and the role is the user's as stored now, not the `role` claim the token was signed with: a
/// demoted or disabled administrator's tokens lose their power at once.
pub async fn authorize_admin<S: Store>(app: &App<'_, S>, req: &Incoming) -> OAuthResult<AdminCheck> {
    let Some(token) = req.bearer()? else { return Ok(AdminCheck::Missing) };
    if let Some(bootstrap) = app.bootstrap_token.filter(|b| b.len() >= 16) {
        if constant_time_eq(token.as_bytes(), bootstrap.as_bytes()) {
            return Ok(AdminCheck::Admin(Actor::Bootstrap));
        }
    }
    let claims = app
        .provider
        .verify_access_token(&token)
        .await?
        .ok_or_else(|| OAuthError::invalid_token("the access token is invalid, expired or revoked"))?;
    let scoped = Scope::parse(&claims.scope).is_some_and(|s| s.contains(ADMIN));
    let refused = || OAuthError::insufficient_scope("this needs an access token with the admin scope");
    if !(scoped && claims.aud.is_only(&app.provider.config.issuer) && claims.role.as_deref() == Some(ADMIN_ROLE)) {
        return Err(refused());
    }
    match app.provider.store.user_by_id(&claims.sub).await? {
        Some(user) if user.role == ADMIN_ROLE && !user.disabled => Ok(AdminCheck::Admin(Actor::User(claims.sub))),
        _ => Err(refused()),
    }
}

/// The admin credential of the request, or 401 without one (403 for a token that is not one).
pub async fn require_admin<S: Store>(app: &App<'_, S>, req: &Incoming) -> OAuthResult<Actor> {
    match authorize_admin(app, req).await? {
        AdminCheck::Admin(actor) => Ok(actor),
        AdminCheck::Missing => Err(OAuthError::invalid_token("an admin bearer access token is required")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Registration {
    username: String,
    email: String,
    password: crate::oauth::secrets::Password,
    role: Option<String>,
}

pub async fn register<S: Store>(app: &App<'_, S>, req: &Incoming) -> OAuthResult<Outgoing> {
    let body: Registration = req.json()?;
    let new = validate_registration(body.username.trim(), body.email.trim(), body.password.expose(), body.role.as_deref())?;
    if new.role != DEFAULT_ROLE {
        match authorize_admin(app, req).await? {
            AdminCheck::Admin(_) => {}
            AdminCheck::Missing => return Err(OAuthError::access_denied(format!("role '{}' needs an admin bearer token", new.role))),
        }
    }
    let user = app.provider.register_user(new).await?;
    Ok(Outgoing::json(201, &user_json(&user)))
}

pub fn user_json(u: &User) -> Value {
    json!({ "id": u.id, "username": u.username, "email": u.email, "role": u.role, "createdAt": iso8601(u.created_at) })
}

/// A user as the user administration answers one: as `POST /register` does, plus `disabled`
/// and a summary of their sign-in factors (how many passkeys, whether a confirmed authenticator
/// app). Never a hash.
pub fn admin_user_json(u: &User, factors: &FactorSummary) -> Value {
    let mut v = user_json(u);
    v["disabled"] = json!(u.disabled);
    v["factors"] = json!({ "passkeys": factors.passkeys, "totp": factors.totp });
    v
}

/// `admin_user_json` of each user, their factors read in one query.
pub async fn admin_users_json<S: Store>(app: &App<'_, S>, users: &[User]) -> OAuthResult<Vec<Value>> {
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let factors = app.provider.store.factor_summaries(&ids).await?;
    Ok(users.iter().zip(factors.iter().chain(std::iter::repeat(&FactorSummary::default()))).map(|(u, f)| admin_user_json(u, f)).collect())
}

/// A client as shown to admins: never the secret or its hash.
pub fn client_json(c: &Client) -> Value {
    json!({
        "client_id": c.client_id,
        "client_name": c.client_name,
        "client_type": if c.client_type == ClientType::Public { "public" } else { "confidential" },
        "grant_types": c.grant_types,
        "redirect_uris": c.redirect_uris,
        "post_logout_redirect_uris": c.post_logout_redirect_uris,
        "response_types": c.response_types,
        // The contract's type: one space-separated string; `scope` is RFC 7591's name for it.
        "scopes": ScopeList::text(&c.scopes),
        "scope": ScopeList::text(&c.scopes),
        "token_endpoint_auth_method": c.token_endpoint_auth_method,
        "id_token_signed_response_alg": c.id_token_signed_response_alg,
        "require_mfa": c.require_mfa,
        "is_active": c.is_active,
        "client_id_issued_at": c.created_at,
        "created_at": iso8601(c.created_at),
        "updated_at": iso8601(c.updated_at),
    })
}

fn with_secret(c: &Client, secret: Option<&ClientSecret>) -> Value {
    let mut v = client_json(c);
    if let Some(s) = secret {
        v["client_secret"] = json!(s.expose());
        // RFC 7591 §3.2.1: 0 means the secret does not expire.
        v["client_secret_expires_at"] = json!(0);
    }
    v
}

pub async fn list_clients<S: Store>(app: &App<'_, S>, req: &Incoming) -> OAuthResult<Outgoing> {
    require_admin(app, req).await?;
    let clients = app.provider.store.clients().await?;
    Ok(Outgoing::json(200, &clients.iter().map(client_json).collect::<Vec<_>>()))
}

/// Records an admin action on a client.
fn audit_client<S>(app: &App<'_, S>, kind: AuditKind, client_id: &str, actor: &Actor) {
    app.provider.audit(Audit::new(kind).client(client_id).detail(serde_json::json!({ "by": actor.label() })));
}

/// `POST /clients`: with an admin bearer, the administrator's registration (full control);
/// without any bearer, open dynamic registration (RFC 7591) when it is enabled.
pub async fn create_client<S: Store>(app: &App<'_, S>, req: &Incoming) -> OAuthResult<Outgoing> {
    let actor = match authorize_admin(app, req).await? {
        AdminCheck::Admin(actor) => actor,
        AdminCheck::Missing => return register_dynamic(app, req).await,
    };
    let meta: ClientMetadata = req.json()?;
    let (client, secret) = app.provider.create_client(meta).await?;
    audit_client(app, AuditKind::ClientCreated, &client.client_id, &actor);
    Ok(Outgoing::json(201, &with_secret(&client, secret.as_ref())))
}

/// RFC 7591 §3.2.1: the client, its secret (shown once), and the RFC 7592 registration access
/// token and client configuration URI that manage it.
async fn register_dynamic<S: Store>(app: &App<'_, S>, req: &Incoming) -> OAuthResult<Outgoing> {
    let body: Value = req.json()?;
    let r = app.provider.register_dynamic_client(&body).await?;
    app.provider.audit(Audit::new(AuditKind::ClientCreated).client(&r.client.client_id).detail(json!({ "by": "dynamic registration" })));
    let mut v = with_secret(&r.client, r.secret.as_ref());
    v["registration_access_token"] = json!(r.registration_access_token.expose());
    v["registration_client_uri"] = json!(format!("{}/clients/{}", app.provider.config.issuer, r.client.client_id));
    Ok(Outgoing::json(201, &v))
}

/// Who may manage one client: an admin bearer, or (RFC 7592) that client's own registration
/// access token. A registration token manages its client and nothing else.
enum Manager {
    Admin(Actor),
    Own(Box<Client>),
}

async fn client_manager<S: Store>(app: &App<'_, S>, req: &Incoming, client_id: &str) -> OAuthResult<Manager> {
    // Registration tokens are opaque (no dots); access tokens are JWTs.
    if let Some(token) = req.bearer()?.filter(|t| !t.contains('.')) {
        if app.bootstrap_token.is_none_or(|b| !constant_time_eq(token.as_bytes(), b.as_bytes())) {
            return match app.provider.client_by_registration_token(client_id, &token).await? {
                Some(client) => Ok(Manager::Own(Box::new(client))),
                None => Err(OAuthError::invalid_token("the registration access token does not manage this client")),
            };
        }
    }
    Ok(Manager::Admin(require_admin(app, req).await?))
}

fn no_such_client() -> OAuthError {
    OAuthError::not_found("no such client")
}

pub async fn get_client<S: Store>(app: &App<'_, S>, req: &Incoming, client_id: &str) -> OAuthResult<Outgoing> {
    match client_manager(app, req, client_id).await? {
        Manager::Own(client) => Ok(Outgoing::json(200, &client_json(&client))),
        Manager::Admin(_) => {
            let c = app.provider.store.client(client_id).await?.ok_or_else(no_such_client)?;
            Ok(Outgoing::json(200, &client_json(&c)))
        }
    }
}

pub async fn update_client<S: Store>(app: &App<'_, S>, req: &Incoming, client_id: &str) -> OAuthResult<Outgoing> {
    match client_manager(app, req, client_id).await? {
        Manager::Own(client) => {
            let body: Value = req.json()?;
            let c = app.provider.update_dynamic_client(&client, &body).await?;
            audit_client(app, AuditKind::ClientUpdated, client_id, &Actor::Client(client_id.to_string()));
            Ok(Outgoing::json(200, &client_json(&c)))
        }
        Manager::Admin(actor) => {
            let meta: ClientMetadata = req.json()?;
            let c = app.provider.update_client(client_id, meta).await?;
            audit_client(app, AuditKind::ClientUpdated, client_id, &actor);
            Ok(Outgoing::json(200, &client_json(&c)))
        }
    }
}

pub async fn delete_client<S: Store>(app: &App<'_, S>, req: &Incoming, client_id: &str) -> OAuthResult<Outgoing> {
    let actor = match client_manager(app, req, client_id).await? {
        Manager::Own(_) => Actor::Client(client_id.to_string()),
        Manager::Admin(actor) => actor,
    };
    if app.provider.store.delete_client(client_id).await? {
        audit_client(app, AuditKind::ClientDeleted, client_id, &actor);
        Ok(Outgoing::empty(204))
    } else {
        Err(no_such_client())
    }
}

pub async fn new_secret<S: Store>(app: &App<'_, S>, req: &Incoming, client_id: &str) -> OAuthResult<Outgoing> {
    let actor = require_admin(app, req).await?;
    let (client, secret) = app.provider.rotate_client_secret(client_id).await?;
    audit_client(app, AuditKind::ClientSecretRotated, client_id, &actor);
    Ok(Outgoing::json(200, &with_secret(&client, Some(&secret))))
}

/// `YYYY-MM-DDTHH:MM:SSZ` from Unix seconds (proleptic Gregorian, H. Hinnant's algorithm).
pub fn iso8601(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use crate::oauth::block_on;
    use crate::oauth::clients::ClientMetadata;
    use crate::oauth::secrets::Password;
    use crate::oauth::users::validate_registration;
    use crate::oauth::TokenRequest;
    use crate::store::UserStore;
    use crate::testing::{request, World};
    use serde_json::json;

    /// An access token for `username` through a confidential client registered with `scopes`.
    fn token_for(w: &World, username: &str, role: &str, client_scopes: &str, scope: Option<&str>) -> (String, String) {
        let p = w.at(1000);
        let new = validate_registration(username, &format!("{username}@example.com"), "correct horse", Some(role)).unwrap();
        block_on(p.register_user(new)).unwrap();
        let meta: ClientMetadata =
            serde_json::from_value(serde_json::json!({ "client_name": "C", "grant_types": ["password"], "scopes": client_scopes }))
                .unwrap();
        let (client, secret) = block_on(p.create_client(meta)).unwrap();
        let creds = crate::oauth::clients::ClientCredentials { basic: Some((client.client_id, secret.unwrap())), ..Default::default() };
        let req =
            TokenRequest::Password { username: username.into(), password: Password::new("correct horse"), scope: scope.map(String::from) };
        let t = block_on(p.token(&creds, &req)).unwrap();
        (t.access_token, t.scope)
    }

    fn list_clients(w: &World, token: &str) -> (u16, serde_json::Value) {
        let out = w.serve(1000, &request("GET", "/clients").with_bearer(token));
        (out.status, out.json_body())
    }

    #[test]
    fn only_an_admin_scoped_token_of_an_admin_opens_the_admin_endpoints() {
        let w = World::new();
        // An administrator signing in to an ordinary client gets an ordinary token.
        let (ordinary, _) = token_for(&w, "root1", "admin", "openid profile", Some("openid"));
        let (status, body) = list_clients(&w, &ordinary);
        assert_eq!((status, body["error"].as_str()), (403, Some("insufficient_scope")));
        // Through a client registered with `admin`, asking for it: an admin credential.
        let (scoped, granted) = token_for(&w, "root2", "admin", "openid admin", Some("openid admin"));
        assert_eq!(granted, "admin openid");
        assert_eq!(list_clients(&w, &scoped).0, 200);
        // Not asking for it: the default never includes it.
        let (default, granted) = token_for(&w, "root3", "admin", "openid admin", None);
        assert_eq!(granted, "openid");
        assert_eq!(list_clients(&w, &default).0, 403);
        // A user who is not an admin asking for it through that client: not granted.
        let (user, granted) = token_for(&w, "plain", "user", "openid admin", Some("openid admin"));
        assert_eq!(granted, "openid");
        assert_eq!(list_clients(&w, &user).0, 403);
    }

    #[test]
    fn a_demoted_administrators_tokens_lose_their_power_at_once() {
        let w = World::new();
        let (scoped, _) = token_for(&w, "root", "admin", "openid admin", Some("openid admin"));
        assert_eq!(list_clients(&w, &scoped).0, 200);
        let id = block_on(w.at(1000).verify_access_token(&scoped)).unwrap().unwrap().sub;
        // The role changes behind the token's back (a second admin's token for the PATCH).
        let mut user = block_on(w.store.user_by_id(&id)).unwrap().unwrap();
        user.role = "user".into();
        block_on(w.store.update_user(&user)).unwrap();
        assert_eq!(
            list_clients(&w, &scoped),
            (403, json!({ "error": "insufficient_scope", "error_description": "this needs an access token with the admin scope" })),
            "the current role counts, not the claim"
        );
        // Demoted through the user administration: the user's grants end too.
        user.role = "admin".into();
        block_on(w.store.update_user(&user)).unwrap();
        assert_eq!(list_clients(&w, &scoped).0, 200);
        let out = w.serve(
            1000,
            &request("PATCH", &format!("/users/{id}")).with_bearer(crate::testing::BOOTSTRAP).with_json(&json!({ "role": "user" })),
        );
        assert_eq!(out.status, 200);
        assert_eq!(list_clients(&w, &scoped).0, 401, "the token itself ended with the role change");
        assert!(block_on(w.at(1001).verify_access_token(&scoped)).unwrap().is_none());
    }

    #[test]
    fn an_admin_token_is_for_this_issuer_whatever_the_default_audience() {
        let mut w = World::new();
        w.config.access_token_audience = "https://api.example".into();
        let (scoped, _) = token_for(&w, "root", "admin", "admin", Some("admin"));
        let claims = block_on(w.at(1000).verify_access_token(&scoped)).unwrap().unwrap();
        assert_eq!(claims.aud, "https://issuer.example");
        assert_eq!(list_clients(&w, &scoped).0, 200);
        let (ordinary, _) = token_for(&w, "other", "user", "openid", None);
        assert_eq!(block_on(w.at(1000).verify_access_token(&ordinary)).unwrap().unwrap().aud, "https://api.example");
    }

    #[test]
    fn iso8601() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::iso8601(1_796_042_096), "2026-11-30T12:34:56Z");
    }
}
