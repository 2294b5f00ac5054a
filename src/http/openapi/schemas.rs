//! The component schemas of the OpenAPI document: the contract's JSON types (docs/API.md), one
//! builder per schema.

use super::generate::schema_ref;
use serde_json::{json, Map, Value};

/// `components.schemas`.
pub(crate) fn component_schemas() -> Value {
    json!({
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
        "AdminUser": admin_user_schema(),
        "UserPage": {
            "type": "object",
            "required": ["users", "next_cursor"],
            "properties": {
                "users": { "type": "array", "items": schema_ref("AdminUser") },
                "next_cursor": { "type": ["string", "null"], "description": "absent (null) on the last page" },
            },
        },
        "UserUpdate": {
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "role": { "type": "string" }, "email": { "type": "string" }, "disabled": { "type": "boolean" },
                "password": { "type": "string", "description": "a new password: ends the user's sessions and grants" },
                "totp": { "type": "boolean", "enum": [false], "description": "false removes the user's authenticator app and recovery codes" },
            },
        },
        "AuditEvent": {
            "type": "object",
            "required": ["id", "at", "type", "detail"],
            "properties": {
                "id": { "type": "integer" }, "at": { "type": "integer", "description": "Unix seconds" },
                "type": { "type": "string" }, "user_id": { "type": "string" }, "client_id": { "type": "string" },
                "address": { "type": "string" }, "detail": { "type": "object" },
            },
        },
        "AuditPage": {
            "type": "object",
            "required": ["events", "next_cursor"],
            "properties": {
                "events": { "type": "array", "items": schema_ref("AuditEvent") },
                "next_cursor": { "type": ["string", "null"] },
            },
        },
        "IntrospectionResponse": introspection_schema(),
        "Client": client_schema(false),
        "RegisteredClient": client_schema(true),
        "ClientRegistration": client_request_schema(true),
        "ClientUpdate": client_request_schema(false),
    })
}

/// A user as the administration answers one: the registration answer plus `disabled` and factors.
pub(crate) fn admin_user_schema() -> Value {
    let s = json!({ "type": "string" });
    json!({
        "type": "object",
        "required": ["id", "username", "email", "role", "createdAt", "disabled", "factors"],
        "properties": {
            "id": s, "username": s, "email": s, "role": s, "createdAt": { "type": "string", "format": "date-time" },
            "disabled": { "type": "boolean" },
            "factors": { "type": "object", "properties": { "passkeys": { "type": "integer" }, "totp": { "type": "boolean" } } },
        },
    })
}

pub(crate) fn strings() -> Value {
    json!({ "type": "array", "items": { "type": "string" } })
}

/// Every field of discovery with its JSON type; `required` is the contract's base set.
pub(crate) fn provider_metadata_schema() -> Value {
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
pub(crate) fn introspection_schema() -> Value {
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
pub(crate) fn scopes_schema(input: bool) -> Value {
    let mut v = json!({ "type": "string", "description": "space-separated scope names, e.g. \"openid profile\"" });
    if input {
        v["description"] = json!("space-separated scope names, e.g. \"openid profile\" (a JSON array of names is also accepted)");
    }
    v
}

/// A client as answered: never the secret's hash; `with_secret` for the answers that show a
/// new secret once (registration, secret rotation).
pub(crate) fn client_schema(with_secret: bool) -> Value {
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
        ("id_token_signed_response_alg", json!({ "type": "string", "enum": ["ES256", "RS256"] })),
        ("require_mfa", json!({ "type": "boolean" })),
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
        props.insert(
            "registration_access_token".into(),
            json!({ "type": "string", "description": "open registration only (RFC 7592): the bearer that manages this client; shown once" }),
        );
        props.insert("registration_client_uri".into(), json!({ "type": "string", "description": "open registration only (RFC 7592)" }));
    }
    json!({ "type": "object", "required": required, "properties": props })
}

/// The body of `POST /clients` (`creating`) or `PUT /clients/{client_id}`.
pub(crate) fn client_request_schema(creating: bool) -> Value {
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
    props.insert(
        "token_endpoint_auth_method".into(),
        json!({ "type": "string", "enum": crate::store::AuthMethod::ALL.map(crate::store::AuthMethod::as_str) }),
    );
    props.insert(
        "id_token_signed_response_alg".into(),
        json!({ "type": "string", "enum": crate::oauth::clients::ID_TOKEN_ALGS, "description": "ES256 (default); RS256 where the deployment has an RS256 key" }),
    );
    props.insert(
        "require_mfa".into(),
        json!({ "type": "boolean", "description": "every sign-in for this client needs two factors or a passkey (default false)" }),
    );
    let mut v = json!({ "type": "object", "additionalProperties": false, "properties": props });
    if creating {
        v["required"] = json!(["client_name"]);
    }
    v
}
