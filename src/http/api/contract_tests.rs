//! The contract's base schemas, field by field: every field the original "Authentication
//! Service" document names is present with its JSON type, in requests we accept and answers we
//! give, and `/openapi.json` states the same types. One table per schema serves both checks.

use crate::testing::{request, World, BOOTSTRAP};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Str,
    Int,
    Bool,
    Strings,
}
use Kind::*;

const DISCOVERY: &[(&str, Kind)] = &[
    ("authorization_endpoint", Str),
    ("claims_supported", Strings),
    ("end_session_endpoint", Str),
    ("id_token_signing_alg_values_supported", Strings),
    ("issuer", Str),
    ("jwks_uri", Str),
    ("registration_endpoint", Str),
    ("response_types_supported", Strings),
    ("scopes_supported", Strings),
    ("subject_types_supported", Strings),
    ("token_endpoint", Str),
    ("token_endpoint_auth_methods_supported", Strings),
    ("userinfo_endpoint", Str),
];

/// An active access token's introspection (`error`, `error_description` belong to failures).
const INTROSPECTION: &[(&str, Kind)] = &[
    ("active", Bool),
    ("aud", Str),
    ("client_id", Str),
    ("exp", Int),
    ("iat", Int),
    ("jti", Str),
    ("nbf", Int),
    ("scope", Str),
    ("sub", Str),
    ("token_type", Str),
    ("username", Str),
];
const INTROSPECTION_SCHEMA_ONLY: &[(&str, Kind)] = &[("error", Str), ("error_description", Str)];

const CLIENT: &[(&str, Kind)] = &[
    ("client_id", Str),
    ("client_name", Str),
    ("client_type", Str),
    ("grant_types", Strings),
    ("is_active", Bool),
    ("redirect_uris", Strings),
    ("response_types", Strings),
    ("scopes", Str),
    ("token_endpoint_auth_method", Str),
];

const REGISTERED_CLIENT: &[(&str, Kind)] = &[
    ("client_id", Str),
    ("client_name", Str),
    ("client_secret", Str),
    ("client_secret_expires_at", Int),
    ("client_type", Str),
    ("grant_types", Strings),
    ("redirect_uris", Strings),
    ("response_types", Strings),
    ("scopes", Str),
    ("token_endpoint_auth_method", Str),
];

const CLIENT_REGISTRATION: &[(&str, Kind)] = &[
    ("client_name", Str),
    ("client_type", Str),
    ("grant_types", Strings),
    ("redirect_uris", Strings),
    ("response_types", Strings),
    ("scopes", Str),
    ("token_endpoint_auth_method", Str),
];

const CLIENT_UPDATE: &[(&str, Kind)] = &[
    ("client_name", Str),
    ("grant_types", Strings),
    ("is_active", Bool),
    ("redirect_uris", Strings),
    ("response_types", Strings),
    ("scopes", Str),
    ("token_endpoint_auth_method", Str),
];

const TOKEN: &[(&str, Kind)] = &[("access_token", Str), ("expires_in", Int), ("refresh_token", Str), ("scope", Str), ("token_type", Str)];
const TOKEN_FORM: &[&str] = &["grant_type", "code", "redirect_uri", "client_id", "username", "password"];
const LOGIN_FORM: &[&str] = &["username", "password", "redirect", "state"];

const USER_REGISTRATION: &[(&str, Kind)] = &[("email", Str), ("password", Str), ("role", Str), ("username", Str)];
const USER: &[(&str, Kind)] = &[("createdAt", Str), ("email", Str), ("id", Str), ("role", Str), ("username", Str)];

fn kind_of(v: &Value) -> Option<Kind> {
    match v {
        Value::String(_) => Some(Str),
        Value::Number(n) if n.is_u64() || n.is_i64() => Some(Int),
        Value::Bool(_) => Some(Bool),
        Value::Array(a) if a.iter().all(Value::is_string) => Some(Strings),
        _ => None,
    }
}

/// Every field of `table` is in `v` with its type.
fn assert_shape(what: &str, v: &Value, table: &[(&str, Kind)]) {
    for (field, kind) in table {
        let found = v.get(field).unwrap_or_else(|| panic!("{what}: no `{field}` in {v}"));
        assert_eq!(kind_of(found), Some(*kind), "{what}: `{field}` is {found}, not {kind:?}");
    }
}

fn kind_of_schema(s: &Value) -> Option<Kind> {
    match s["type"].as_str()? {
        "string" => Some(Str),
        "integer" => Some(Int),
        "boolean" => Some(Bool),
        "array" if s["items"]["type"] == "string" => Some(Strings),
        _ => None,
    }
}

/// The OpenAPI schema (`$ref`s followed) states every field of `table` with its type.
fn assert_schema(doc: &Value, what: &str, schema: &Value, table: &[(&str, Kind)]) {
    let schema = resolve(doc, schema);
    for (field, kind) in table {
        let prop = resolve(doc, &schema["properties"][field]);
        assert_eq!(kind_of_schema(&prop), Some(*kind), "openapi {what}: `{field}` is {prop}");
    }
}

fn resolve(doc: &Value, s: &Value) -> Value {
    match s["$ref"].as_str() {
        Some(r) => doc.pointer(r.trim_start_matches('#')).cloned().unwrap_or_else(|| panic!("dangling {r}")),
        None => s.clone(),
    }
}

/// The contract's example registration, exactly as a client written from it sends it.
fn contract_client_body() -> Value {
    json!({
        "client_name": "Seed app",
        "client_type": "confidential",
        "grant_types": ["authorization_code", "password", "refresh_token"],
        "redirect_uris": ["https://app.example/cb"],
        "response_types": ["code"],
        "scopes": "openid profile",
        "token_endpoint_auth_method": "client_secret_basic",
    })
}

fn admin_post(path: &str, body: &Value) -> crate::http::Incoming {
    request("POST", path).with_bearer(BOOTSTRAP).with_json(body)
}

const NOW: u64 = 1_800_000_000;

#[test]
fn discovery_has_every_field_with_its_type_and_names_client_registration() {
    let w = World::new();
    for path in ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"] {
        let out = w.serve(NOW, &request("GET", path));
        assert_eq!(out.status, 200, "{path}");
        let d = out.json_body();
        assert_shape(path, &d, DISCOVERY);
        // OIDC Discovery §3 / RFC 8414 §2: the client registration endpoint (RFC 7591).
        assert_eq!(d["registration_endpoint"], "https://issuer.example/clients");
    }
}

#[test]
fn user_registration_takes_and_answers_the_contract_types() {
    let w = World::new();
    let body = json!({ "email": "contract@example.com", "password": "correct horse", "role": "user", "username": "contract" });
    assert_shape("registration body", &body, USER_REGISTRATION);
    let out = w.serve(NOW, &request("POST", "/register").with_json(&body));
    assert_eq!(out.status, 201);
    let user = out.json_body();
    assert_shape("registered user", &user, USER);
    assert!(user.get("password").is_none());
}

#[test]
fn clients_take_and_answer_scopes_as_one_string() {
    let w = World::new();
    let body = contract_client_body();
    assert_shape("client registration", &body, CLIENT_REGISTRATION);
    let created = w.serve(NOW, &admin_post("/clients", &body));
    assert_eq!(created.status, 201, "{}", String::from_utf8_lossy(&created.body));
    let created = created.json_body();
    assert_shape("registered client", &created, REGISTERED_CLIENT);
    assert_eq!(created["scopes"], "openid profile");
    assert_eq!(created["scope"], "openid profile", "RFC 7591's name for the same string");
    assert_eq!(created["client_secret_expires_at"], 0);
    let id = created["client_id"].as_str().unwrap();

    let got = w.serve(NOW, &request("GET", &format!("/clients/{id}")).with_bearer(BOOTSTRAP)).json_body();
    assert_shape("client", &got, CLIENT);
    assert_eq!(got["scopes"], "openid profile");

    let listed = w.serve(NOW, &request("GET", "/clients").with_bearer(BOOTSTRAP)).json_body();
    let listed = listed.as_array().expect("a list of clients");
    assert_eq!(listed.len(), 1);
    assert_shape("listed client", &listed[0], CLIENT);
    assert!(listed[0].get("client_secret").is_none());

    // Update with the contract's body: a string.
    let update = json!({
        "client_name": "Seed app 2", "grant_types": ["authorization_code", "refresh_token"], "is_active": true,
        "redirect_uris": ["https://app.example/cb"], "response_types": ["code"], "scopes": "openid email profile",
        "token_endpoint_auth_method": "client_secret_post",
    });
    assert_shape("client update", &update, CLIENT_UPDATE);
    let put = |body: &Value| {
        let out = w.serve(NOW, &request("PUT", &format!("/clients/{id}")).with_bearer(BOOTSTRAP).with_json(body));
        assert_eq!(out.status, 200, "{}", String::from_utf8_lossy(&out.body));
        out.json_body()
    };
    let updated = put(&update);
    assert_shape("updated client", &updated, CLIENT);
    assert_eq!(updated["scopes"], "openid email profile");
    // A JSON list stays accepted on input; the answer is still a string.
    assert_eq!(put(&json!({ "scopes": ["openid", "api:read"] }))["scopes"], "openid api:read");
    // RFC 7591's `scope`, alone or agreeing with `scopes`.
    assert_eq!(put(&json!({ "scope": "openid profile" }))["scopes"], "openid profile");
    assert_eq!(put(&json!({ "scope": "openid", "scopes": "openid" }))["scope"], "openid");
    let clash = w.serve(
        NOW,
        &request("PUT", &format!("/clients/{id}")).with_bearer(BOOTSTRAP).with_json(&json!({ "scope": "openid", "scopes": "email" })),
    );
    assert_eq!((clash.status, clash.json_body()["error"].as_str()), (400, Some("invalid_request")));
    for bad in [json!({ "scopes": 5 }), json!({ "scopes": "a\"b" }), json!({ "scopes": ["has space"] }), json!({ "scopes": [1] })] {
        let out = w.serve(NOW, &request("PUT", &format!("/clients/{id}")).with_bearer(BOOTSTRAP).with_json(&bad));
        assert_eq!(out.status, 400, "{bad}");
    }
    // Nothing of the refused updates was stored.
    let got = w.serve(NOW, &request("GET", &format!("/clients/{id}")).with_bearer(BOOTSTRAP)).json_body();
    assert_eq!(got["scopes"], "openid");
}

#[test]
fn token_and_introspection_answer_the_contract_types() {
    let w = World::new();
    let created = w.serve(NOW, &admin_post("/clients", &contract_client_body())).json_body();
    let (id, secret) = (created["client_id"].as_str().unwrap(), created["client_secret"].as_str().unwrap());
    let body = json!({ "email": "tok@example.com", "password": "correct horse", "username": "tok" });
    assert_eq!(w.serve(NOW, &request("POST", "/register").with_json(&body)).status, 201);

    let form =
        [("grant_type", "password"), ("username", "tok"), ("password", "correct horse"), ("client_id", id), ("client_secret", secret)];
    // Registered for client_secret_basic: credentials in the header.
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"));
    let out = w.serve(NOW, &request("POST", "/token").with_header("authorization", &format!("Basic {basic}")).with_form(&form[..4]));
    assert_eq!(out.status, 200, "{}", String::from_utf8_lossy(&out.body));
    let tokens = out.json_body();
    assert_shape("token response", &tokens, TOKEN);
    assert_eq!(tokens["token_type"], "Bearer");

    // The contract's JSON body {"token": ...}, as an admin.
    let out = w.serve(NOW, &admin_post("/introspect", &json!({ "token": tokens["access_token"] })));
    assert_eq!(out.status, 200);
    let answer = out.json_body();
    assert_shape("introspection", &answer, INTROSPECTION);
    assert_eq!(answer["active"], true);
    assert_eq!(answer["username"], "tok");
}

#[test]
fn login_answers_the_redirect_as_a_json_string() {
    let w = World::new();
    let created = w.serve(NOW, &admin_post("/clients", &contract_client_body())).json_body();
    let body = json!({ "email": "log@example.com", "password": "correct horse", "username": "log" });
    assert_eq!(w.serve(NOW, &request("POST", "/register").with_json(&body)).status, 201);
    let form = [("username", "log"), ("password", "correct horse"), ("redirect", "https://app.example/cb"), ("state", "xyz")];
    let out = w.serve(NOW, &request("POST", "/login").with_form(&form));
    assert_eq!(out.status, 302, "{}", String::from_utf8_lossy(&out.body));
    let location = out.json_body();
    let location = location.as_str().expect("the body is a JSON string");
    assert_eq!(Some(location), out.header_value("location"));
    assert!(location.starts_with("https://app.example/cb?code="), "{location}");
    assert!(location.contains("state=xyz"));
    let _ = created;
}

#[test]
fn openapi_states_the_contract_types() {
    let w = World::new();
    let doc = w.serve(NOW, &request("GET", "/openapi.json")).json_body();
    let json_schema = |path: &str, method: &str, status: &str| {
        doc["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"].clone()
    };
    let body_schema = |path: &str, method: &str, ct: &str| doc["paths"][path][method]["requestBody"]["content"][ct]["schema"].clone();

    assert_schema(&doc, "discovery", &json_schema("/.well-known/openid-configuration", "get", "200"), DISCOVERY);
    assert_schema(&doc, "RFC 8414 metadata", &json_schema("/.well-known/oauth-authorization-server", "get", "200"), DISCOVERY);
    let introspection = json_schema("/introspect", "post", "200");
    assert_schema(&doc, "introspection", &introspection, INTROSPECTION);
    assert_schema(&doc, "introspection", &introspection, INTROSPECTION_SCHEMA_ONLY);
    assert_schema(&doc, "introspection body", &body_schema("/introspect", "post", "application/json"), &[("token", Str)]);
    let login = body_schema("/login", "post", "application/x-www-form-urlencoded");
    assert_schema(&doc, "login form", &login, &LOGIN_FORM.iter().map(|f| (*f, Str)).collect::<Vec<_>>());
    assert_eq!(login["required"], json!(LOGIN_FORM));
    assert_eq!(json_schema("/login", "post", "302")["type"], "string");
    let list = json_schema("/clients", "get", "200");
    assert_eq!(list["type"], "array");
    assert_schema(&doc, "client list", &list["items"], CLIENT);
    assert_schema(&doc, "client registration", &body_schema("/clients", "post", "application/json"), CLIENT_REGISTRATION);
    assert_schema(&doc, "registered client", &json_schema("/clients", "post", "201"), REGISTERED_CLIENT);
    assert_schema(&doc, "client", &json_schema("/clients/{client_id}", "get", "200"), CLIENT);
    assert_schema(&doc, "client update", &body_schema("/clients/{client_id}", "put", "application/json"), CLIENT_UPDATE);
    assert_schema(&doc, "updated client", &json_schema("/clients/{client_id}", "put", "200"), CLIENT);
    let token_form = body_schema("/token", "post", "application/x-www-form-urlencoded");
    assert_schema(&doc, "token form", &token_form, &TOKEN_FORM.iter().map(|f| (*f, Str)).collect::<Vec<_>>());
    assert_schema(&doc, "token response", &json_schema("/token", "post", "200"), TOKEN);
    assert_schema(&doc, "user registration", &body_schema("/register", "post", "application/json"), USER_REGISTRATION);
    assert_schema(&doc, "user", &json_schema("/register", "post", "201"), USER);

    // `scopes` (and `scope`) is a string in every schema that has it.
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut seen = 0;
    for (name, schema) in schemas {
        for field in ["scopes", "scope"] {
            if let Some(p) = schema["properties"].get(field) {
                assert_eq!(p["type"], "string", "{name}.{field}");
                seen += 1;
            }
        }
    }
    assert!(seen >= 8, "the client schemas state scopes ({seen})");
}
