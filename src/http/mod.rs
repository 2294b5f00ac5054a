//! HTTP: the protocol API (`api/`: JSON and form endpoints) and the browser application
//! (`browser/`: pages and their forms), over plain request and response values (`Incoming`,
//! `Outgoing`), so the whole HTTP surface runs on the host in tests; `cloudflare/entry.rs` converts to and
//! from workerd's. This file dispatches each route to its handler and writes the log line.
//!
//! Below every handler: `request.rs`, `response.rs`, `app.rs` and `routes.rs`, which import no
//! handler and no page (docs/ARCHITECTURE.md shows the layers).

pub mod api;
pub mod app;
pub mod browser;
pub mod openapi;
pub mod request;
pub mod response;
pub mod routes;

use crate::oauth::OAuthError;
use crate::store::{Platform, Store};
use api::{accounts, clients, discovery, sign_up, token};
pub use app::{App, Branding};
use browser::{account, authorize, consent, logout, passkeys, second_factor};
pub use request::Incoming;
pub use response::{iso8601, page_csp, Outgoing, MAX_BODY};
use routes::{Endpoint, Method, Operation};

/// The per-request log line (one JSON object): the route template, never the query, body,
/// codes, tokens or secrets. Written through a struct rather than a `serde_json::Value` map: no
/// map is built per request.
pub fn log_line(request_id: &str, req: &Incoming, status: u16, duration_ms: u64, error_detail: Option<&str>) -> String {
    #[derive(serde::Serialize)]
    struct Line<'a> {
        request_id: &'a str,
        method: &'a str,
        route: &'a str,
        status: u16,
        duration_ms: u64,
        client_id: Option<String>,
        error_detail: Option<&'a str>,
    }
    let line = Line {
        request_id,
        method: &req.method,
        route: route_of(&req.path).unwrap_or("(unknown)"),
        status,
        duration_ms,
        client_id: client_of(req),
        error_detail,
    };
    serde_json::to_string(&line).unwrap_or_default()
}

/// The route template a path belongs to (for logs), if any.
pub fn route_of(path: &str) -> Option<&'static str> {
    routes::find(path).map(|(e, _)| e.path())
}

/// The client a request names, for logs: the Basic user name, or a `client_id` parameter in
/// the query or form body. Never a secret.
pub fn client_of(req: &Incoming) -> Option<String> {
    if let Ok(Some((id, _))) = req.basic() {
        return Some(id);
    }
    let from = |p: request::Params| p.opt("client_id").ok().flatten();
    req.query_params().ok().and_then(from).or_else(|| if req.is_form() { req.form().ok().and_then(from) } else { None })
}

/// Serves one request. Never panics on input; every failure is an `Outgoing` with a status.
pub async fn handle<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Outgoing {
    if req.body_too_large {
        return Outgoing::error(&OAuthError::payload_too_large("request body is over 64 KiB"));
    }
    let Some((endpoint, param)) = routes::find(&req.path) else {
        return Outgoing::error(&OAuthError::not_found("no such endpoint"));
    };
    if req.method == "OPTIONS" && endpoint.cors() {
        // CORS preflight: browser apps (SPAs with PKCE) call these endpoints directly. No
        // cookies are involved, so any origin may call them without credentials.
        return with_cors(Outgoing::empty(204), endpoint)
            .header("access-control-allow-headers", "authorization, content-type")
            .header("access-control-max-age", "86400");
    }
    let Some(op) = Method::parse(&req.method).and_then(|m| routes::operation(endpoint, m)) else {
        let allowed = endpoint.allowed_methods();
        return Outgoing::error(&OAuthError::method_not_allowed(format!("use {}", allowed.replace(", ", " or "))))
            .header("allow", &allowed);
    };
    // The one path parameter (`{client_id}` or `{id}`), when the route has one.
    let decoded = param.and_then(crate::form::decode_path);
    let client_id = decoded.as_deref().unwrap_or("");
    let result = match op {
        Operation::GetOpenIdConfiguration | Operation::GetAuthorizationServerMetadata => Ok(discovery::configuration(app)),
        Operation::GetJwks => discovery::jwks(app),
        Operation::GetOpenApi => Ok(openapi::document(app)),
        Operation::GetHealth => Ok(Outgoing::json(200, &serde_json::json!({ "status": "ok" }))),
        Operation::Authorize | Operation::PostAuthorize => Ok(shown(authorize::authorize(app, req).await)),
        Operation::Login => Ok(shown(authorize::login(app, req).await)),
        Operation::PostConsent => Ok(shown(consent::consent(app, req).await)),
        Operation::Token => token::token(app, req).await,
        Operation::Introspect => token::introspect(app, req).await,
        Operation::Revoke => token::revoke(app, req).await,
        Operation::GetUserInfo | Operation::PostUserInfo => token::userinfo(app, req).await,
        Operation::GetLogout | Operation::PostLogout => Ok(shown(logout::logout(app, req).await)),
        Operation::Register => sign_up::register(app, req).await,
        Operation::ListClients => clients::list_clients(app, req).await,
        Operation::CreateClient => clients::create_client(app, req).await,
        Operation::GetClient => clients::get_client(app, req, client_id).await,
        Operation::UpdateClient => clients::update_client(app, req, client_id).await,
        Operation::DeleteClient => clients::delete_client(app, req, client_id).await,
        Operation::NewClientSecret => clients::new_secret(app, req, client_id).await,
        Operation::ListUsers => accounts::list_users(app, req).await,
        Operation::GetUser => accounts::get_user(app, req, client_id).await,
        Operation::UpdateUser => accounts::update_user(app, req, client_id).await,
        Operation::DeleteUser => accounts::delete_user(app, req, client_id).await,
        Operation::ListAudit => accounts::list_audit(app, req).await,
        Operation::GetAccount => Ok(account::show(app, req).await),
        Operation::AccountSignIn => Ok(shown(account::sign_in(app, req).await)),
        Operation::SecondFactor => Ok(shown(second_factor::submit(app, req).await)),
        Operation::AccountTotp => Ok(shown(account::totp(app, req).await)),
        Operation::RevokeSession => Ok(shown(account::revoke_session(app, req).await)),
        Operation::GetPasskeyScript => Ok(passkeys::script()),
        Operation::PasskeyOptions => Ok(shown(passkeys::options(app, req).await)),
        Operation::PasskeySignIn => Ok(shown(passkeys::sign_in(app, req).await)),
        Operation::AccountPasskeys => Ok(shown(passkeys::manage(app, req).await)),
        Operation::ChangePassword => Ok(shown(account::change_password(app, req).await)),
        Operation::RemoveApp => Ok(shown(account::remove_app(app, req).await)),
    };
    let out = result.unwrap_or_else(|e| Outgoing::error(&e));
    if endpoint.cors() {
        with_cors(out, endpoint)
    } else {
        out
    }
}

/// A browser handler's page: the one that follows, or the one that says why not.
fn shown(answer: browser::views::Answer) -> Outgoing {
    answer.unwrap_or_else(|page| page)
}

fn with_cors(out: Outgoing, endpoint: Endpoint) -> Outgoing {
    out.header("access-control-allow-origin", "*")
        .header("access-control-allow-methods", &endpoint.allowed_methods())
        .header("access-control-expose-headers", "www-authenticate")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::{block_on, Config};
    use crate::store::memory::MemoryStore;
    use base64::{engine::general_purpose::STANDARD as STANDARD_B64, Engine};

    fn get(path: &str) -> Incoming {
        Incoming { method: "GET".into(), path: path.into(), origin: "http://127.0.0.1:8787".into(), ..Default::default() }
    }

    #[test]
    fn the_log_line_names_the_route_template_and_client_never_the_query_or_secret() {
        let req = Incoming {
            method: "POST".into(),
            path: "/clients/abc123/secret".into(),
            query: "code=s3cret-code".into(),
            headers: vec![("authorization".into(), format!("Basic {}", STANDARD_B64.encode("my-client:my-secret")))],
            ..Default::default()
        };
        let line: serde_json::Value = serde_json::from_str(&log_line("rid", &req, 201, 7, Some("detail"))).unwrap();
        assert_eq!(
            line,
            serde_json::json!({ "request_id": "rid", "method": "POST", "route": "/clients/{client_id}/secret", "status": 201,
                                "duration_ms": 7, "client_id": "my-client", "error_detail": "detail" })
        );
        let text = log_line("rid", &req, 201, 7, None);
        assert!(!text.contains("s3cret") && !text.contains("my-secret") && !text.contains("abc123"), "{text}");
    }

    #[test]
    fn a_backend_failure_is_a_generic_500_whose_detail_goes_only_to_the_log() {
        let w = crate::testing::World::new();
        w.store.set_mode(crate::store::memory::StorageMode::Break);
        let req = crate::testing::request("POST", "/token").with_form(&[("grant_type", "client_credentials"), ("client_id", "abc")]);
        let out = w.serve(1000, &req);
        assert_eq!(out.status, 500);
        assert_eq!(out.json_body(), serde_json::json!({ "error": "server_error", "error_description": "storage is unavailable" }));
        assert!(!String::from_utf8_lossy(&out.body).contains("injected"));
        assert_eq!(out.log_detail.as_deref(), Some("injected failure: client_for_auth"));
        // Pages fail the same way: /authorize shows an error page, the detail still logged.
        let page = w.serve(1000, &crate::testing::request("GET", "/authorize").with_query("client_id=abc&response_type=code"));
        assert_eq!(page.status, 500);
        assert!(!String::from_utf8_lossy(&page.body).contains("injected"));
        assert_eq!(page.log_detail.as_deref(), Some("injected failure: client"));
    }

    #[test]
    fn a_missing_signing_key_is_a_clear_503_not_a_panic() {
        let store = MemoryStore::default();
        let config = Config::for_issuer("http://127.0.0.1:8787");
        let app = App {
            provider: crate::oauth::Provider {
                store: &store,
                platform: &store,
                keys: Err("JWT_SIGNING_KEY is not set"),
                config: &config,
                now: 1,
                address: "192.0.2.1",
                audit_log: &Default::default(),
            },
            bootstrap_token: None,
            branding: Branding::default(),
        };
        let out = block_on(handle(&app, &get("/.well-known/jwks.json")));
        assert_eq!(out.status, 503);
        let body: serde_json::Value = serde_json::from_slice(&out.body).unwrap();
        assert_eq!(body["error"], "temporarily_unavailable");
        assert!(body["error_description"].as_str().unwrap().contains("JWT_SIGNING_KEY is not set"));
        // Discovery does not need the key.
        assert_eq!(block_on(handle(&app, &get("/.well-known/openid-configuration"))).status, 200);
        let mut big = get("/register");
        big.method = "POST".into();
        big.body_too_large = true;
        assert_eq!(block_on(handle(&app, &big)).status, 413);
        assert_eq!(block_on(handle(&app, &get("/nowhere"))).status, 404);
        assert_eq!(block_on(handle(&app, &get("/token"))).status, 405);
    }
}
