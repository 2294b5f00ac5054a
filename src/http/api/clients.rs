//! The client endpoints (`/clients`, `/clients/{id}`, `/clients/{id}/secret`): an
//! administrator's registration and management, open dynamic registration (RFC 7591) without a
//! bearer, and a dynamic client managing itself with its registration access token (RFC 7592).

use super::admin::{authorize_admin, require_admin, AdminCheck};
use crate::crypto::constant_time_eq;
use crate::http::{iso8601, App, Incoming, Outgoing};
use crate::oauth::accounts::Actor;
use crate::oauth::audit::{Audit, AuditKind};
use crate::oauth::clients::{ClientMetadata, ScopeList};
use crate::oauth::secrets::ClientSecret;
use crate::oauth::{OAuthError, OAuthResult};
use crate::store::{Client, ClientType, Platform, Store};
use serde_json::{json, Value};

/// A client as shown to admins: never the secret or its hash.
pub fn client_json(c: &Client) -> Value {
    with_keys(
        c,
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
            "dpop_bound_access_tokens": c.key_binding.dpop_bound_access_tokens,
            "require_pushed_authorization_requests": c.key_binding.require_pushed_authorization_requests,
            "client_id_issued_at": c.created_at,
            "created_at": iso8601(c.created_at),
            "updated_at": iso8601(c.updated_at),
        }),
    )
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

/// The key members a client registered (RFC 7591 §2), where set.
fn with_keys(c: &Client, mut v: Value) -> Value {
    let keys = &c.key_binding;
    for (name, value) in [
        ("jwks", keys.jwks.clone()),
        ("jwks_uri", keys.jwks_uri.clone().map(Value::String)),
        ("token_endpoint_auth_signing_alg", keys.token_endpoint_auth_signing_alg.clone().map(Value::String)),
        ("fapi", keys.fapi.clone().map(Value::String)),
    ] {
        if let Some(value) = value {
            v[name] = value;
        }
    }
    v
}

pub async fn list_clients<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> OAuthResult<Outgoing> {
    require_admin(app, req).await?;
    let clients = app.provider.store.clients().await?;
    Ok(Outgoing::json(200, &clients.iter().map(client_json).collect::<Vec<_>>()))
}

/// Records an admin action on a client.
fn audit_client<S, P>(app: &App<'_, S, P>, kind: AuditKind, client_id: &str, actor: &Actor) {
    app.provider.audit(Audit::new(kind).client(client_id).detail(serde_json::json!({ "by": actor.label() })));
}

/// `POST /clients`: with an admin bearer, the administrator's registration (full control);
/// without any bearer, open dynamic registration (RFC 7591) when it is enabled.
pub async fn create_client<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> OAuthResult<Outgoing> {
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
async fn register_dynamic<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> OAuthResult<Outgoing> {
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

async fn client_manager<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming, client_id: &str) -> OAuthResult<Manager> {
    // Registration tokens are opaque (no dots); access tokens are JWTs.
    if let Some(token) = req.bearer()?.filter(|t| !t.expose().contains('.')) {
        if app.bootstrap_token.is_none_or(|b| !constant_time_eq(token.expose().as_bytes(), b.expose().as_bytes())) {
            return match app.provider.client_by_registration_token(client_id, token.expose()).await? {
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

pub async fn get_client<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming, client_id: &str) -> OAuthResult<Outgoing> {
    match client_manager(app, req, client_id).await? {
        Manager::Own(client) => Ok(Outgoing::json(200, &client_json(&client))),
        Manager::Admin(_) => {
            let c = app.provider.store.client(client_id).await?.ok_or_else(no_such_client)?;
            Ok(Outgoing::json(200, &client_json(&c)))
        }
    }
}

pub async fn update_client<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming, client_id: &str) -> OAuthResult<Outgoing> {
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

pub async fn delete_client<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming, client_id: &str) -> OAuthResult<Outgoing> {
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

pub async fn new_secret<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming, client_id: &str) -> OAuthResult<Outgoing> {
    let actor = require_admin(app, req).await?;
    let (client, secret) = app.provider.rotate_client_secret(client_id).await?;
    audit_client(app, AuditKind::ClientSecretRotated, client_id, &actor);
    Ok(Outgoing::json(200, &with_secret(&client, Some(&secret))))
}
