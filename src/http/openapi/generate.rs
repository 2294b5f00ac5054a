//! Generates the OpenAPI 3.1 document from the route types: every `Operation` is described by
//! the exhaustive matches below, so the document cannot miss an endpoint or a method the router
//! serves. Schemas state the contract's JSON types (docs/API.md). Compiled for tests only: the
//! worker serves the document this generates, committed as `openapi.json` (`super`), and a test
//! fails when the two differ.

use super::super::routes::{Endpoint, Operation};
use super::schemas::component_schemas;
use crate::oauth::GrantType;
use serde_json::{json, Map, Value};

/// The query parameters of an operation (all optional strings).
fn query_parameters(op: Operation) -> &'static [(&'static str, &'static str)] {
    match op {
        Operation::ListUsers => {
            &[("q", "username or email prefix"), ("limit", "1 to 200, default 50"), ("cursor", "next_cursor of the page before")]
        }
        Operation::ListAudit => &[
            ("user_id", "only this user's events"),
            ("type", "only events of this type"),
            ("limit", "1 to 200, default 50"),
            ("cursor", "next_cursor of the page before"),
        ],
        Operation::GetOpenIdConfiguration
        | Operation::GetAuthorizationServerMetadata
        | Operation::GetJwks
        | Operation::GetOpenApi
        | Operation::GetHealth
        | Operation::Authorize
        | Operation::PostAuthorize
        | Operation::Login
        | Operation::PostConsent
        | Operation::Token
        | Operation::Introspect
        | Operation::Revoke
        | Operation::GetUserInfo
        | Operation::PostUserInfo
        | Operation::GetLogout
        | Operation::PostLogout
        | Operation::Register
        | Operation::ListClients
        | Operation::CreateClient
        | Operation::GetClient
        | Operation::UpdateClient
        | Operation::DeleteClient
        | Operation::NewClientSecret
        | Operation::GetUser
        | Operation::UpdateUser
        | Operation::DeleteUser
        | Operation::GetAccount
        | Operation::AccountSignIn
        | Operation::ChangePassword
        | Operation::RemoveApp
        | Operation::SecondFactor
        | Operation::AccountTotp
        | Operation::RevokeSession
        | Operation::GetPasskeyScript
        | Operation::PasskeyOptions
        | Operation::PasskeySignIn
        | Operation::AccountPasskeys => &[],
    }
}

/// OpenAPI 3.1: one operation per `Operation`, each described by exhaustive matches below;
/// `issuer` is the server's URL.
pub fn document(issuer: &str) -> Value {
    let mut paths = Map::new();
    for endpoint in Endpoint::ALL {
        let path = endpoint.path();
        let mut ops = Map::new();
        for op in endpoint.operations() {
            let method = op.method().as_str();
            let mut o = json!({
                "summary": summary(op),
                "tags": [tag(*endpoint)],
                "operationId": operation_id(method, path),
                "responses": responses(op),
            });
            let mut parameters: Vec<Value> = Vec::new();
            if let Some(name) = path.split('/').find_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}'))) {
                parameters.push(json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }));
            }
            for (name, description) in query_parameters(op) {
                parameters.push(
                    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": { "type": "string" } }),
                );
            }
            if !parameters.is_empty() {
                o["parameters"] = Value::Array(parameters);
            }
            if let Some(body) = request_body(op) {
                o["requestBody"] = body;
            }
            if let Some(sec) = security(op) {
                o["security"] = sec;
            }
            ops.insert(method.to_ascii_lowercase(), o);
        }
        paths.insert(path.to_string(), Value::Object(ops));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "edge-oidc authorization server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "OAuth 2.0 / OpenID Connect provider running as a Cloudflare Worker.",
        },
        "servers": [{ "url": issuer }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" },
                "clientBasic": { "type": "http", "scheme": "basic" },
            },
            "schemas": component_schemas(),
        },
    })
}

fn operation_id(method: &str, path: &str) -> String {
    let words: Vec<String> = path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect();
    format!("{}{}", method.to_ascii_lowercase(), words.join(""))
}

pub(super) fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

fn summary(op: Operation) -> &'static str {
    match op {
        Operation::GetOpenIdConfiguration => "OpenID Provider metadata (OIDC Discovery 1.0)",
        Operation::GetAuthorizationServerMetadata => "OAuth 2.0 Authorization Server Metadata (RFC 8414): the same document",
        Operation::GetJwks => "Public ES256 keys (RFC 7517)",
        Operation::GetOpenApi => "This OpenAPI 3.1 document",
        Operation::GetHealth => "Liveness check",
        Operation::Authorize => "Authorization endpoint: validates the request and serves the login page (RFC 6749 §4.1.1)",
        Operation::PostAuthorize => "Authorization endpoint with the request as a form body (OIDC Core §3.1.2.1)",
        Operation::Login => "Authenticates the user and issues an authorization code",
        Operation::PostConsent => "The signed-in person allows or denies a third-party client (the consent page's form)",
        Operation::Token => "Token endpoint (RFC 6749 §3.2)",
        Operation::Introspect => "Token introspection (RFC 7662)",
        Operation::Revoke => "Token revocation (RFC 7009)",
        Operation::GetUserInfo | Operation::PostUserInfo => "UserInfo endpoint (OIDC Core §5.3)",
        Operation::GetLogout | Operation::PostLogout => "RP-Initiated Logout 1.0 end_session_endpoint",
        Operation::Register => "Registers a user",
        Operation::ListClients => "Lists clients, never with secrets (admin)",
        Operation::CreateClient => {
            "Registers a client (the registration_endpoint): full control with an admin bearer; without one, open RFC 7591 registration of a third-party client"
        }
        Operation::GetClient => "Reads a client (admin)",
        Operation::UpdateClient => "Updates a client (admin)",
        Operation::DeleteClient => "Deletes a client and ends its tokens (admin)",
        Operation::NewClientSecret => "Issues a new client secret, shown once (admin)",
        Operation::ListUsers => "Lists users, by username or email prefix, a page at a time (admin)",
        Operation::GetUser => "Reads a user (admin)",
        Operation::UpdateUser => "Changes a user's role, email, disabled flag or password (admin)",
        Operation::DeleteUser => "Deletes a user and ends their sessions and grants (admin)",
        Operation::ListAudit => "The audit log, newest first, a page at a time (admin)",
        Operation::GetAccount => "The signed-in person's account page (or its sign-in form)",
        Operation::AccountSignIn => "Signs in to the account page (form; anti-CSRF token)",
        Operation::ChangePassword => "Changes the signed-in person's password (form; the other sessions and grants end)",
        Operation::RemoveApp => "Removes a connected app's access: its consent goes and the person's grants with it end (form)",
        Operation::SecondFactor => {
            "The second step of a browser sign-in: an authenticator or recovery code, or setting an app up when the client demands two factors (form)"
        }
        Operation::AccountTotp => {
            "Sets up (action=setup, then confirm with a code), replaces the recovery codes (action=recovery) or turns off (action=disable) the authenticator app (form; a code for each but setup)"
        }
        Operation::RevokeSession => "Signs one of the person's browser sessions out (form)",
        Operation::GetPasskeyScript => "The sign-in and account pages' passkey script (JavaScript)",
        Operation::PasskeyOptions => {
            "A WebAuthn ceremony's options with a fresh single-use challenge: purpose=register (signed in) or purpose=sign_in (form; anti-CSRF token)"
        }
        Operation::PasskeySignIn => "Signs in with a passkey: the assertion as JSON in `credential`, with the authorization request (form)",
        Operation::AccountPasskeys => "Adds (action=register: `credential`, `name`) or removes (action=remove: `credential_id`) a passkey (form)",
    }
}

fn tag(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::OpenIdConfiguration | Endpoint::AuthorizationServerMetadata | Endpoint::Jwks | Endpoint::OpenApi | Endpoint::Health => {
            "discovery"
        }
        Endpoint::Authorize
        | Endpoint::Login
        | Endpoint::Consent
        | Endpoint::Token
        | Endpoint::Introspect
        | Endpoint::Revoke
        | Endpoint::UserInfo
        | Endpoint::Logout => "oauth",
        Endpoint::Register => "users",
        Endpoint::Clients | Endpoint::Client | Endpoint::ClientSecret => "clients",
        Endpoint::Users | Endpoint::User => "users",
        Endpoint::Audit => "audit",
        Endpoint::Account
        | Endpoint::AccountSignIn
        | Endpoint::AccountPassword
        | Endpoint::AccountApps
        | Endpoint::SecondFactor
        | Endpoint::AccountTotp
        | Endpoint::AccountSessions
        | Endpoint::PasskeyScript
        | Endpoint::PasskeyOptions
        | Endpoint::PasskeySignIn
        | Endpoint::AccountPasskeys => "account",
    }
}

fn responses(op: Operation) -> Value {
    let err = json!({ "description": "Error", "content": content(schema_ref("Error")) });
    let ok = |desc: &str, schema: Value| json!({ "description": desc, "content": content(schema) });
    let html = |desc: &str| json!({ "description": desc, "content": { "text/html": { "schema": { "type": "string" } } } });
    // What several browser forms answer alike.
    let csrf_refused = html("A form without its anti-CSRF token");
    let not_signed_in = html("Not signed in");
    let signed_in = json!({ "description": "Signed in: to the client's redirect URI with the code (or to /account)" });
    let mut r = Map::new();
    let mut add = |status: &str, v: Value| {
        r.insert(status.into(), v);
    };
    match op {
        Operation::GetOpenIdConfiguration | Operation::GetAuthorizationServerMetadata => {
            add("200", ok("Provider metadata", schema_ref("ProviderMetadata")))
        }
        Operation::GetJwks => add("200", ok("The JWK Set", json!({ "type": "object", "required": ["keys"] }))),
        Operation::GetOpenApi => add("200", ok("This document", json!({ "type": "object" }))),
        Operation::GetHealth => add("200", ok("Alive", json!({ "type": "object", "properties": { "status": { "type": "string" } } }))),
        Operation::Authorize | Operation::PostAuthorize => {
            add("200", html("Login page"));
            add("302", json!({ "description": "Error redirect to the client (RFC 6749 §4.1.2.1), or a code for a signed-in browser" }));
        }
        Operation::Login => {
            add("200", ok("With Accept: application/json, the redirect URL", json!({ "type": "string" })));
            add(
                "302",
                json!({ "description": "Redirect to the client with code and state", "content": content(json!({ "type": "string" })) }),
            );
            add("401", err.clone());
            add("429", err.clone());
        }
        Operation::PostConsent => {
            add("302", json!({ "description": "Redirect to the client: a code (Allow) or error=access_denied (Deny)" }));
            add("401", html("Not signed in any more"));
            add("403", html("A cross-site post, or the form's anti-CSRF token is missing or expired"));
        }
        Operation::Token => add("200", ok("Tokens", schema_ref("TokenResponse"))),
        Operation::Introspect => add("200", ok("The token's state", schema_ref("IntrospectionResponse"))),
        Operation::Revoke => add("200", json!({ "description": "Revoked (or unknown token)" })),
        Operation::GetUserInfo | Operation::PostUserInfo => {
            add("200", ok("The user's claims", json!({ "type": "object", "required": ["sub"] })));
            add("403", err.clone());
        }
        Operation::GetLogout | Operation::PostLogout => {
            add("200", html("Signed-out page, or a page asking to confirm"));
            add("302", json!({ "description": "Redirect to the registered post_logout_redirect_uri" }));
        }
        Operation::Register => {
            add("201", ok("The user, without the password", schema_ref("User")));
            add("403", err.clone());
            add("409", err.clone());
        }
        Operation::ListClients => add("200", ok("Clients, without secrets", json!({ "type": "array", "items": schema_ref("Client") }))),
        Operation::CreateClient => add("201", ok("The client and its secret (shown once)", schema_ref("RegisteredClient"))),
        Operation::GetClient | Operation::UpdateClient => {
            add("200", ok("The client", schema_ref("Client")));
            add("404", err.clone());
        }
        Operation::DeleteClient => {
            add("204", json!({ "description": "Deleted" }));
            add("404", err.clone());
        }
        Operation::NewClientSecret => {
            add("200", ok("The client and its new secret (shown once)", schema_ref("RegisteredClient")));
            add("404", err.clone());
        }
        Operation::ListUsers => add("200", ok("A page of users", schema_ref("UserPage"))),
        Operation::GetUser | Operation::UpdateUser => {
            add("200", ok("The user", schema_ref("AdminUser")));
            add("404", err.clone());
            if op == Operation::UpdateUser {
                add("409", err.clone());
            }
        }
        Operation::DeleteUser => {
            add("204", json!({ "description": "Deleted" }));
            add("404", err.clone());
        }
        Operation::ListAudit => add("200", ok("A page of events, newest first", schema_ref("AuditPage"))),
        Operation::GetAccount => add("200", html("The account page, or its sign-in form")),
        Operation::AccountSignIn => {
            add("303", json!({ "description": "Signed in: back to /account" }));
            add("401", html("Wrong username or password: the form again"));
            add("403", csrf_refused.clone());
            add("429", html("Too many failed attempts"));
        }
        Operation::ChangePassword => {
            add("200", html("The account page, saying whether the password changed"));
            add("401", html("Not signed in, or the current password is wrong"));
            add("403", csrf_refused.clone());
        }
        Operation::RemoveApp => {
            add("200", html("The account page, saying the access was removed"));
            add("401", not_signed_in.clone());
            add("403", csrf_refused.clone());
            add("404", html("The app had no access"));
        }
        Operation::SecondFactor => {
            add("302", signed_in.clone());
            add("200", html("The consent page, the recovery codes of a new app, or the set-up page again"));
            add("401", html("A wrong or used code: the page again"));
            add("403", html("A form without its anti-CSRF token, or a sign-in that expired"));
            add("429", html("Too many failed attempts"));
        }
        Operation::AccountTotp => {
            add("200", html("The set-up page, the new recovery codes, or the account page saying what changed"));
            add("401", not_signed_in.clone());
            add("403", csrf_refused.clone());
            add("429", html("Too many failed attempts"));
        }
        Operation::GetPasskeyScript => {
            add("200", json!({ "description": "JavaScript", "content": { "text/javascript": { "schema": { "type": "string" } } } }))
        }
        Operation::PasskeyOptions => {
            add(
                "200",
                ok(
                    "PublicKeyCredentialCreationOptionsJSON or PublicKeyCredentialRequestOptionsJSON (WebAuthn L3 §5.1.10)",
                    json!({ "type": "object" }),
                ),
            );
            add("401", err.clone());
            add("403", err.clone());
            add("429", err.clone());
        }
        Operation::PasskeySignIn => {
            add("302", signed_in.clone());
            add("200", html("The consent page"));
            add("401", html("The passkey was refused: the sign-in page again"));
            add("403", csrf_refused.clone());
            add("429", html("Too many sign-in attempts from this address"));
        }
        Operation::AccountPasskeys => {
            add("200", html("The account page, saying what changed"));
            add("401", not_signed_in.clone());
            add("403", csrf_refused.clone());
            add("404", html("No such passkey"));
        }
        Operation::RevokeSession => {
            add("200", html("The account page, saying the session was signed out"));
            add("401", not_signed_in.clone());
            add("403", csrf_refused.clone());
            add("404", html("No such session"));
        }
    }
    r.insert("400".into(), err.clone());
    if security(op).is_some() {
        r.insert("401".into(), err.clone());
    }
    r.insert("default".into(), err);
    Value::Object(r)
}

fn form_body(props: Value, required: &[&str]) -> Value {
    json!({ "required": true, "content": { "application/x-www-form-urlencoded": {
        "schema": { "type": "object", "properties": props, "required": required } } } })
}

fn request_body(op: Operation) -> Option<Value> {
    let s = json!({ "type": "string" });
    // RFC 8707 `resource`: repeatable (a form array is exploded into repeated fields).
    let resource = json!({ "type": "array", "items": { "type": "string", "format": "uri" } });
    Some(match op {
        Operation::Token => form_body(
            json!({ "grant_type": { "type": "string", "enum": GrantType::ALL.map(GrantType::as_str) }, "code": s,
                    "redirect_uri": s, "client_id": s, "client_secret": s, "code_verifier": s, "refresh_token": s,
                    "username": s, "password": s, "scope": s, "resource": resource }),
            &["grant_type"],
        ),
        Operation::Login => form_body(
            json!({ "username": s, "password": s, "redirect": s, "state": s, "client_id": s, "scope": s, "nonce": s,
                    "code_challenge": s, "code_challenge_method": { "type": "string", "enum": ["S256"] },
                    "resource": resource }),
            &["username", "password", "redirect", "state"],
        ),
        Operation::Introspect => {
            let mut b = form_body(json!({ "token": s, "token_type_hint": s }), &["token"]);
            b["content"]["application/json"] =
                json!({ "schema": { "type": "object", "properties": { "token": s }, "required": ["token"] } });
            b
        }
        Operation::Revoke => form_body(json!({ "token": s, "token_type_hint": s, "client_id": s, "client_secret": s }), &["token"]),
        Operation::PostAuthorize => form_body(
            json!({ "response_type": { "type": "string", "enum": ["code"] }, "client_id": s, "redirect_uri": s, "scope": s,
                    "state": s, "nonce": s, "code_challenge": s, "code_challenge_method": { "type": "string", "enum": ["S256"] },
                    "prompt": s, "max_age": s, "response_mode": s, "login_hint": s, "resource": resource }),
            &["response_type", "client_id"],
        ),
        Operation::PostUserInfo => {
            let mut b = form_body(json!({ "access_token": s }), &[]);
            b["required"] = json!(false);
            b
        }
        Operation::PostLogout => {
            let mut b = form_body(json!({ "id_token_hint": s, "post_logout_redirect_uri": s, "state": s, "client_id": s }), &[]);
            b["required"] = json!(false);
            b
        }
        Operation::Register => json!({ "required": true, "content": content(schema_ref("UserRegistration")) }),
        Operation::CreateClient => json!({ "required": true, "content": content(schema_ref("ClientRegistration")) }),
        Operation::UpdateClient => json!({ "required": true, "content": content(schema_ref("ClientUpdate")) }),
        Operation::UpdateUser => json!({ "required": true, "content": content(schema_ref("UserUpdate")) }),
        Operation::AccountSignIn => form_body(json!({ "username": s, "password": s, "csrf": s }), &["username", "password", "csrf"]),
        Operation::PostConsent => form_body(
            json!({ "decision": { "type": "string", "enum": ["allow", "deny"] }, "csrf": s, "client_id": s, "redirect": s,
                    "state": s, "scope": s, "nonce": s, "code_challenge": s, "code_challenge_method": s, "prompt": s, "resource": resource }),
            &["decision", "csrf", "client_id", "redirect"],
        ),
        Operation::ChangePassword => {
            form_body(json!({ "current_password": s, "new_password": s, "csrf": s }), &["current_password", "new_password", "csrf"])
        }
        Operation::RemoveApp => form_body(json!({ "client_id": s, "csrf": s }), &["client_id", "csrf"]),
        Operation::SecondFactor => form_body(
            json!({ "pending": s, "code": s, "csrf": s, "client_id": s, "redirect": s, "state": s, "scope": s, "nonce": s,
                    "code_challenge": s, "code_challenge_method": s, "prompt": s, "acr_values": s, "resource": resource }),
            &["pending", "csrf"],
        ),
        Operation::AccountTotp => form_body(
            json!({ "action": { "type": "string", "enum": ["setup", "confirm", "recovery", "disable"] }, "code": s, "csrf": s }),
            &["action", "csrf"],
        ),
        Operation::RevokeSession => form_body(json!({ "session": s, "csrf": s }), &["session", "csrf"]),
        Operation::PasskeyOptions => {
            form_body(json!({ "purpose": { "type": "string", "enum": ["register", "sign_in"] }, "csrf": s }), &["purpose", "csrf"])
        }
        Operation::PasskeySignIn => form_body(
            json!({ "credential": s, "csrf": s, "client_id": s, "redirect": s, "state": s, "scope": s, "nonce": s,
                    "code_challenge": s, "code_challenge_method": s, "prompt": s, "acr_values": s, "resource": resource }),
            &["credential", "csrf"],
        ),
        Operation::AccountPasskeys => form_body(
            json!({ "action": { "type": "string", "enum": ["register", "remove"] }, "credential": s, "name": s, "credential_id": s, "csrf": s }),
            &["action", "csrf"],
        ),
        Operation::GetOpenIdConfiguration
        | Operation::GetAuthorizationServerMetadata
        | Operation::GetJwks
        | Operation::GetOpenApi
        | Operation::GetHealth
        | Operation::Authorize
        | Operation::GetUserInfo
        | Operation::GetLogout
        | Operation::ListClients
        | Operation::GetClient
        | Operation::DeleteClient
        | Operation::NewClientSecret
        | Operation::ListUsers
        | Operation::GetUser
        | Operation::DeleteUser
        | Operation::ListAudit
        | Operation::GetAccount
        | Operation::GetPasskeyScript => return None,
    })
}

/// An operation's credentials: its endpoint's, except that open registration (RFC 7591) lets
/// `POST /clients` answer without any.
fn security(op: Operation) -> Option<Value> {
    match op {
        Operation::CreateClient => Some(json!([{}, { "bearerAuth": [] }])),
        _ => endpoint_security(op.endpoint()),
    }
}

fn endpoint_security(endpoint: Endpoint) -> Option<Value> {
    match endpoint {
        Endpoint::Clients
        | Endpoint::Client
        | Endpoint::ClientSecret
        | Endpoint::UserInfo
        | Endpoint::Users
        | Endpoint::User
        | Endpoint::Audit => Some(json!([{ "bearerAuth": [] }])),
        Endpoint::Introspect => Some(json!([{ "clientBasic": [] }, { "bearerAuth": [] }])),
        Endpoint::Token | Endpoint::Revoke => Some(json!([{ "clientBasic": [] }, {}])),
        Endpoint::Register => Some(json!([{}, { "bearerAuth": [] }])),
        Endpoint::OpenIdConfiguration
        | Endpoint::AuthorizationServerMetadata
        | Endpoint::Jwks
        | Endpoint::OpenApi
        | Endpoint::Health
        | Endpoint::Authorize
        | Endpoint::Login
        | Endpoint::Consent
        | Endpoint::Logout
        | Endpoint::Account
        | Endpoint::AccountSignIn
        | Endpoint::AccountPassword
        | Endpoint::AccountApps
        | Endpoint::SecondFactor
        | Endpoint::AccountTotp
        | Endpoint::AccountSessions
        | Endpoint::PasskeyScript
        | Endpoint::PasskeyOptions
        | Endpoint::PasskeySignIn
        | Endpoint::AccountPasskeys => None,
    }
}
