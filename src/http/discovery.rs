//! Discovery (OIDC Discovery 1.0 §3), the JWKS (RFC 7517) and the OpenAPI document, which is
//! generated from the router's own table so the two cannot drift.

use super::{App, Outgoing, ROUTES};
use crate::oauth::{scope, GrantType, OAuthResult};
use crate::store::Store;
use serde_json::{json, Map, Value};

pub fn configuration<S: Store>(app: &App<'_, S>) -> Outgoing {
    let iss = &app.provider.config.issuer;
    let doc = json!({
        "issuer": iss,
        "authorization_endpoint": format!("{iss}/authorize"),
        "token_endpoint": format!("{iss}/token"),
        "userinfo_endpoint": format!("{iss}/userinfo"),
        "jwks_uri": format!("{iss}/.well-known/jwks.json"),
        // OIDC Discovery §3 / RFC 8414 §2: the *client* registration endpoint (RFC 7591),
        // never user sign-up (`/register`).
        "registration_endpoint": format!("{iss}/clients"),
        "end_session_endpoint": format!("{iss}/logout"),
        "introspection_endpoint": format!("{iss}/introspect"),
        "revocation_endpoint": format!("{iss}/revoke"),
        "scopes_supported": scope::STANDARD,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": GrantType::ALL.map(GrantType::as_str),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp",
                             "preferred_username", "email", "email_verified", "role"],
        "prompt_values_supported": ["none", "login"],
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
    });
    Outgoing::json(200, &doc).header("cache-control", "public, max-age=300")
}

pub fn jwks<S: Store>(app: &App<'_, S>) -> OAuthResult<Outgoing> {
    let keys = app.provider.keys()?;
    Ok(Outgoing::json(200, &keys.jwks()).header("cache-control", "public, max-age=300").header("content-type", "application/jwk-set+json"))
}

fn strings() -> Value {
    json!({ "type": "array", "items": { "type": "string" } })
}

/// Every field of discovery with its JSON type; `required` is the contract's base set.
fn provider_metadata_schema() -> Value {
    let s = json!({ "type": "string" });
    let required = [
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "registration_endpoint",
        "end_session_endpoint",
        "scopes_supported",
        "response_types_supported",
        "subject_types_supported",
        "id_token_signing_alg_values_supported",
        "token_endpoint_auth_methods_supported",
        "claims_supported",
    ];
    let mut props = Map::new();
    for k in required.iter().chain(&["introspection_endpoint", "revocation_endpoint"]) {
        let list = k.ends_with("_supported");
        props.insert(k.to_string(), if list { strings() } else { s.clone() });
    }
    for k in [
        "response_modes_supported",
        "grant_types_supported",
        "introspection_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
        "code_challenge_methods_supported",
        "prompt_values_supported",
    ] {
        props.insert(k.into(), strings());
    }
    for k in [
        "authorization_response_iss_parameter_supported",
        "request_parameter_supported",
        "request_uri_parameter_supported",
        "claims_parameter_supported",
    ] {
        props.insert(k.into(), json!({ "type": "boolean" }));
    }
    json!({ "type": "object", "required": required, "properties": props })
}

/// RFC 7662 §2.2 with the contract's field types; an inactive token is `{"active": false}`.
fn introspection_schema() -> Value {
    let s = json!({ "type": "string" });
    let i = json!({ "type": "integer" });
    json!({
        "type": "object",
        "required": ["active"],
        "properties": {
            "active": { "type": "boolean" }, "aud": s, "client_id": s, "error": s, "error_description": s,
            "exp": i, "iat": i, "iss": s, "jti": s, "nbf": i, "role": s, "scope": s, "sub": s, "token_type": s, "username": s,
        },
    })
}

/// `scopes` is one space-separated string everywhere (the contract's type); `scope` is RFC
/// 7591's name for the same string.
fn scopes_schema(input: bool) -> Value {
    let mut v = json!({ "type": "string", "description": "space-separated scope names, e.g. \"openid profile\"" });
    if input {
        v["description"] = json!("space-separated scope names, e.g. \"openid profile\" (a JSON array of names is also accepted)");
    }
    v
}

/// A client as answered: never the secret's hash; `with_secret` for the answers that show a
/// new secret once (registration, secret rotation).
fn client_schema(with_secret: bool) -> Value {
    let s = json!({ "type": "string" });
    let mut props = Map::new();
    for (k, v) in [
        ("client_id", s.clone()),
        ("client_name", s.clone()),
        ("client_type", json!({ "type": "string", "enum": ["confidential", "public"] })),
        ("grant_types", strings()),
        ("is_active", json!({ "type": "boolean" })),
        ("redirect_uris", strings()),
        ("post_logout_redirect_uris", strings()),
        ("response_types", strings()),
        ("scopes", scopes_schema(false)),
        ("scope", scopes_schema(false)),
        ("token_endpoint_auth_method", s.clone()),
        ("client_id_issued_at", json!({ "type": "integer" })),
        ("created_at", json!({ "type": "string", "format": "date-time" })),
        ("updated_at", json!({ "type": "string", "format": "date-time" })),
    ] {
        props.insert(k.into(), v);
    }
    let mut required = vec![
        "client_id",
        "client_name",
        "client_type",
        "grant_types",
        "is_active",
        "redirect_uris",
        "response_types",
        "scopes",
        "token_endpoint_auth_method",
    ];
    if with_secret {
        props.insert("client_secret".into(), json!({ "type": "string", "description": "shown once; absent for public clients" }));
        props.insert("client_secret_expires_at".into(), json!({ "type": "integer", "description": "0: never expires" }));
        required.push("client_secret_expires_at");
    }
    json!({ "type": "object", "required": required, "properties": props })
}

/// The body of `POST /clients` (`creating`) or `PUT /clients/{client_id}`.
fn client_request_schema(creating: bool) -> Value {
    let s = json!({ "type": "string" });
    let mut props = Map::new();
    props.insert("client_name".into(), s.clone());
    if creating {
        props.insert("client_type".into(), json!({ "type": "string", "enum": ["confidential", "public"] }));
    } else {
        props.insert("is_active".into(), json!({ "type": "boolean" }));
    }
    for k in ["grant_types", "redirect_uris", "post_logout_redirect_uris", "response_types"] {
        props.insert(k.into(), strings());
    }
    props.insert("scopes".into(), scopes_schema(true));
    props.insert("scope".into(), scopes_schema(true));
    props.insert("token_endpoint_auth_method".into(), json!({ "type": "string", "enum": crate::oauth::clients::AUTH_METHODS }));
    let mut v = json!({ "type": "object", "additionalProperties": false, "properties": props });
    if creating {
        v["required"] = json!(["client_name"]);
    }
    v
}

/// OpenAPI 3.1, one operation per method of each route in `ROUTES`.
pub fn openapi<S: Store>(app: &App<'_, S>) -> Outgoing {
    let mut paths = Map::new();
    for r in ROUTES {
        let mut ops = Map::new();
        for m in r.methods {
            let mut op = json!({
                "summary": r.summary,
                "tags": [r.tag],
                "operationId": operation_id(m, r.path),
                "responses": responses(r.path, m),
            });
            if r.path.contains("{client_id}") {
                op["parameters"] = json!([{ "name": "client_id", "in": "path", "required": true, "schema": { "type": "string" } }]);
            }
            if let Some(body) = request_body(r.path, m) {
                op["requestBody"] = body;
            }
            if let Some(sec) = security(r.path) {
                op["security"] = sec;
            }
            ops.insert(m.to_ascii_lowercase(), op);
        }
        paths.insert(r.path.to_string(), Value::Object(ops));
    }
    let doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": "edge-oidc authorization server",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "OAuth 2.0 / OpenID Connect provider running as a Cloudflare Worker.",
        },
        "servers": [{ "url": app.provider.config.issuer }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": { "type": "http", "scheme": "bearer", "bearerFormat": "JWT" },
                "clientBasic": { "type": "http", "scheme": "basic" },
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": { "error": { "type": "string" }, "error_description": { "type": "string" } },
                },
                "TokenResponse": {
                    "type": "object",
                    "required": ["access_token", "token_type", "expires_in", "scope"],
                    "properties": {
                        "access_token": { "type": "string" }, "token_type": { "type": "string", "const": "Bearer" },
                        "expires_in": { "type": "integer" }, "refresh_token": { "type": "string" },
                        "scope": { "type": "string" }, "id_token": { "type": "string" },
                    },
                },
                "User": {
                    "type": "object",
                    "required": ["id", "username", "email", "role", "createdAt"],
                    "properties": {
                        "id": { "type": "string" }, "username": { "type": "string" }, "email": { "type": "string" },
                        "role": { "type": "string" }, "createdAt": { "type": "string", "format": "date-time" },
                    },
                },
                "UserRegistration": {
                    "type": "object",
                    "required": ["username", "email", "password"],
                    "additionalProperties": false,
                    "properties": {
                        "username": { "type": "string" }, "email": { "type": "string" }, "password": { "type": "string" },
                        "role": { "type": "string", "description": "optional role assignment (non-default roles need an admin bearer)" },
                    },
                },
                "ProviderMetadata": provider_metadata_schema(),
                "IntrospectionResponse": introspection_schema(),
                "Client": client_schema(false),
                "RegisteredClient": client_schema(true),
                "ClientRegistration": client_request_schema(true),
                "ClientUpdate": client_request_schema(false),
            },
        },
    });
    Outgoing::json(200, &doc).header("cache-control", "public, max-age=300")
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

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn content(schema: Value) -> Value {
    json!({ "application/json": { "schema": schema } })
}

fn responses(path: &str, method: &str) -> Value {
    let err = json!({ "description": "Error", "content": content(schema_ref("Error")) });
    let ok = |desc: &str, schema: Value| json!({ "description": desc, "content": content(schema) });
    let obj = json!({ "type": "object" });
    let mut r = Map::new();
    match (path, method) {
        ("/token", _) => {
            r.insert("200".into(), ok("Tokens", schema_ref("TokenResponse")));
        }
        ("/register", _) => {
            r.insert("201".into(), ok("The user, without the password", schema_ref("User")));
            r.insert("409".into(), err.clone());
        }
        ("/clients", "GET") => {
            r.insert("200".into(), ok("Clients, without secrets", json!({ "type": "array", "items": schema_ref("Client") })));
        }
        ("/clients", "POST") => {
            r.insert("201".into(), ok("The client and its secret (shown once)", schema_ref("RegisteredClient")));
        }
        ("/clients/{client_id}", "DELETE") => {
            r.insert("204".into(), json!({ "description": "Deleted" }));
            r.insert("404".into(), err.clone());
        }
        ("/clients/{client_id}/secret", _) => {
            r.insert("200".into(), ok("The client and its new secret (shown once)", schema_ref("RegisteredClient")));
            r.insert("404".into(), err.clone());
        }
        ("/clients/{client_id}", _) => {
            r.insert("200".into(), ok("The client", schema_ref("Client")));
            r.insert("404".into(), err.clone());
        }
        ("/.well-known/openid-configuration" | "/.well-known/oauth-authorization-server", _) => {
            r.insert("200".into(), ok("Provider metadata", schema_ref("ProviderMetadata")));
        }
        ("/introspect", _) => {
            r.insert("200".into(), ok("The token's state", schema_ref("IntrospectionResponse")));
        }
        ("/authorize", _) => {
            r.insert("200".into(), json!({ "description": "Login page", "content": { "text/html": { "schema": { "type": "string" } } } }));
            r.insert("302".into(), json!({ "description": "Error redirect to the client (RFC 6749 §4.1.2.1)" }));
        }
        ("/login", _) => {
            r.insert("200".into(), ok("With Accept: application/json, the redirect URL", json!({ "type": "string" })));
            r.insert(
                "302".into(),
                json!({ "description": "Redirect to the client with code and state", "content": content(json!({ "type": "string" })) }),
            );
            r.insert("401".into(), err.clone());
        }
        ("/logout", _) => {
            r.insert(
                "200".into(),
                json!({ "description": "Signed-out page", "content": { "text/html": { "schema": { "type": "string" } } } }),
            );
            r.insert("302".into(), json!({ "description": "Redirect to the registered post_logout_redirect_uri" }));
        }
        ("/revoke", _) => {
            r.insert("200".into(), json!({ "description": "Revoked (or unknown token)" }));
        }
        _ => {
            r.insert("200".into(), ok("OK", obj));
        }
    }
    r.insert("400".into(), err.clone());
    if security(path).is_some() {
        r.insert("401".into(), err.clone());
    }
    r.insert("default".into(), err);
    Value::Object(r)
}

fn form_body(props: Value, required: &[&str]) -> Value {
    json!({ "required": true, "content": { "application/x-www-form-urlencoded": {
        "schema": { "type": "object", "properties": props, "required": required } } } })
}

fn request_body(path: &str, method: &str) -> Option<Value> {
    let s = json!({ "type": "string" });
    Some(match (path, method) {
        ("/token", _) => form_body(
            json!({ "grant_type": { "type": "string", "enum": GrantType::ALL.map(GrantType::as_str) }, "code": s, "redirect_uri": s, "client_id": s,
                    "client_secret": s, "code_verifier": s, "refresh_token": s, "username": s, "password": s, "scope": s }),
            &["grant_type"],
        ),
        ("/login", _) => form_body(
            json!({ "username": s, "password": s, "redirect": s, "state": s, "client_id": s, "scope": s, "nonce": s,
                    "code_challenge": s, "code_challenge_method": { "type": "string", "enum": ["S256"] } }),
            &["username", "password", "redirect", "state"],
        ),
        ("/introspect", _) => {
            let mut b = form_body(json!({ "token": s, "token_type_hint": s }), &["token"]);
            b["content"]["application/json"] =
                json!({ "schema": { "type": "object", "properties": { "token": s }, "required": ["token"] } });
            b
        }
        ("/revoke", _) => form_body(json!({ "token": s, "token_type_hint": s, "client_id": s, "client_secret": s }), &["token"]),
        ("/register", _) => json!({ "required": true, "content": content(schema_ref("UserRegistration")) }),
        ("/clients", "POST") => json!({ "required": true, "content": content(schema_ref("ClientRegistration")) }),
        ("/clients/{client_id}", "PUT") => json!({ "required": true, "content": content(schema_ref("ClientUpdate")) }),
        _ => return None,
    })
}

fn security(path: &str) -> Option<Value> {
    match path {
        "/clients" | "/clients/{client_id}" | "/clients/{client_id}/secret" | "/userinfo" => Some(json!([{ "bearerAuth": [] }])),
        "/introspect" => Some(json!([{ "clientBasic": [] }, { "bearerAuth": [] }])),
        "/token" | "/revoke" => Some(json!([{ "clientBasic": [] }, {}])),
        "/register" => Some(json!([{}, { "bearerAuth": [] }])),
        _ => None,
    }
}
