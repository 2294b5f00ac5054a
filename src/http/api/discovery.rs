//! Discovery (OpenID Connect Discovery 1.0 §3, and the same document as RFC 8414
//! authorization server metadata) and the JWKS (RFC 7517).

use crate::http::{App, Outgoing};
use crate::oauth::{scope, GrantType, OAuthResult};
use crate::store::{Platform, Store};
use serde_json::json;

pub fn configuration<S: Store, P: Platform>(app: &App<'_, S, P>) -> Outgoing {
    let iss = &app.provider.config.issuer;
    // ES256 always; RS256 where the deployment has its key (OIDC Core §15.1 requires it of a
    // certified OP). Discovery answers even without keys configured.
    let id_token_algs = app.provider.keys.map(|k| k.id_token_algs()).unwrap_or_else(|_| vec!["ES256"]);
    // RFC 7523 §2.2 and OIDC Core §9: the assertion methods; client_secret_jwt needs the sealing
    // key (the secret must be read back for an HS256 check).
    let sealing = app.provider.config.totp_key.is_some();
    let secret_methods = |none: bool| {
        let mut m = vec!["client_secret_basic", "client_secret_post", "private_key_jwt"];
        if sealing {
            m.push("client_secret_jwt");
        }
        if none {
            m.push("none");
        }
        m
    };
    let assertion_algs: Vec<&str> = crate::oauth::client_auth::ASSERTION_ALGS.into_iter().filter(|a| sealing || *a != "HS256").collect();
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
        "id_token_signing_alg_values_supported": id_token_algs,
        "token_endpoint_auth_methods_supported": secret_methods(true),
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "introspection_endpoint_auth_methods_supported": secret_methods(false),
        "introspection_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "revocation_endpoint_auth_methods_supported": secret_methods(true),
        "revocation_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "code_challenge_methods_supported": ["S256"],
        // RFC 9449 §5.1.
        "dpop_signing_alg_values_supported": crate::oauth::dpop::DPOP_ALGS,
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "amr", "acr",
                             "preferred_username", "email", "email_verified", "role"],
        "prompt_values_supported": ["none", "login", "consent"],
        // OIDC Core §3.1.2.1 `acr_values`: "1" any sign-in, "2" two factors or a passkey.
        "acr_values_supported": crate::oauth::amr::ACR_VALUES_SUPPORTED,
        "authorization_response_iss_parameter_supported": true,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
        "claims_parameter_supported": false,
        // draft-ietf-oauth-client-id-metadata-document: an https URL as client_id.
        "client_id_metadata_document_supported": app.provider.config.client_metadata_documents,
    });
    Outgoing::json(200, &doc).header("cache-control", "public, max-age=300")
}

pub fn jwks<S: Store, P: Platform>(app: &App<'_, S, P>) -> OAuthResult<Outgoing> {
    let keys = app.provider.keys()?;
    Ok(Outgoing::json(200, &keys.jwks()).header("cache-control", "public, max-age=300").header("content-type", "application/jwk-set+json"))
}
