//! HTTP: one file per endpoint group. Each parses the request, calls the protocol core and
//! shapes the response. Requests and responses are plain values (`Incoming`, `Outgoing`), so
//! the whole HTTP surface runs on the host in tests; `lib.rs` converts to and from workerd's.

pub mod account;
pub mod admin;
pub mod authorize;
#[cfg(test)]
mod browser_tests;
pub mod consent;
#[cfg(test)]
mod consent_tests;
#[cfg(test)]
mod contract_tests;
pub mod csrf;
pub mod discovery;
pub mod factor_pages;
pub mod openapi;
pub mod pages;
pub mod passkeys;
mod qr;
#[cfg(test)]
mod registration_tests;
pub mod request;
pub mod routes;
pub mod second_factor;
pub mod token;
pub mod users;
#[cfg(test)]
mod users_tests;

use crate::oauth::error::HttpCode;
use crate::oauth::{ErrorCode, OAuthError, Provider};
use crate::store::Store;
pub use request::Incoming;
use routes::{Endpoint, Method, Operation};
use serde::Serialize;

/// Bodies over this are refused with 413 (the contract's 64 KiB).
pub const MAX_BODY: usize = 64 * 1024;

/// A response as a value.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// What went wrong inside, for the request's log line only (never sent).
    pub log_detail: Option<String>,
}

impl Outgoing {
    pub fn json<T: Serialize>(status: u16, value: &T) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
        Self { status, headers: vec![("content-type".into(), "application/json".into())], body, log_detail: None }
            .header("cache-control", "no-store")
    }

    pub fn html(status: u16, html: String) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: html.into_bytes(),
            log_detail: None,
        }
        .header("cache-control", "no-store")
        .header("x-frame-options", "DENY")
        .header("referrer-policy", "no-referrer")
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", &page_csp("'self'"))
    }

    pub fn empty(status: u16) -> Self {
        Self { status, headers: vec![], body: vec![], log_detail: None }.header("cache-control", "no-store")
    }

    /// A 302 to `location` whose body is the URL as a JSON string (the contract's `/login` shape, docs/API.md).
    pub fn redirect(location: &str) -> Self {
        Self::json(302, &location).header("location", location)
    }

    /// Attaches what went wrong inside, for the log line only.
    pub fn with_log_detail(mut self, detail: Option<String>) -> Self {
        if detail.is_some() {
            self.log_detail = detail;
        }
        self
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Sets a header, replacing one of the same name.
    /// Sets a header, replacing any of that name, except `Set-Cookie`, which is added (each
    /// cookie is a header of its own, RFC 6265 §3).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if !name.eq_ignore_ascii_case("set-cookie") {
            self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        }
        self.headers.push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The JSON error answer, with the headers its code requires.
    pub fn error(e: &OAuthError) -> Self {
        let body = serde_json::json!({ "error": e.code.as_str(), "error_description": e.description });
        let mut out = Self::json(e.status(), &body);
        out.log_detail = e.internal.clone();
        match e.code {
            // RFC 6750 §3: the challenge names the error.
            ErrorCode::InvalidToken | ErrorCode::InsufficientScope => out.header(
                "www-authenticate",
                &format!(
                    "Bearer realm=\"edge-oidc\", error=\"{}\", error_description=\"{}\"",
                    e.code.as_str(),
                    header_safe(&e.description)
                ),
            ),
            // RFC 6749 §5.2: 401 invalid_client carries a challenge for the scheme used.
            ErrorCode::InvalidClient => out.header("www-authenticate", "Basic realm=\"edge-oidc\""),
            ErrorCode::Http(HttpCode::RateLimited) => out.header("retry-after", &e.retry_after.unwrap_or(60).to_string()),
            _ => out,
        }
    }
}

/// The pages' CSP: nothing loads but inline styles; forms post only to `form_action`; no framing.
pub fn page_csp(form_action: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src data:; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )
}

fn header_safe(s: &str) -> String {
    s.chars().filter(|c| *c != '"' && *c != '\\' && !c.is_control()).collect()
}

/// What every handler gets: the core provider plus the request-independent settings.
pub struct App<'a, S> {
    pub provider: Provider<'a, S>,
    pub bootstrap_token: Option<&'a str>,
    pub branding: pages::Branding,
}

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
pub async fn handle<S: Store>(app: &App<'_, S>, req: &Incoming) -> Outgoing {
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
        Operation::Authorize | Operation::PostAuthorize => Ok(authorize::authorize(app, req).await),
        Operation::Login => Ok(authorize::login(app, req).await),
        Operation::PostConsent => Ok(consent::consent(app, req).await),
        Operation::Token => token::token(app, req).await,
        Operation::Introspect => token::introspect(app, req).await,
        Operation::Revoke => token::revoke(app, req).await,
        Operation::GetUserInfo | Operation::PostUserInfo => token::userinfo(app, req).await,
        Operation::GetLogout | Operation::PostLogout => Ok(authorize::logout(app, req).await),
        Operation::Register => admin::register(app, req).await,
        Operation::ListClients => admin::list_clients(app, req).await,
        Operation::CreateClient => admin::create_client(app, req).await,
        Operation::GetClient => admin::get_client(app, req, client_id).await,
        Operation::UpdateClient => admin::update_client(app, req, client_id).await,
        Operation::DeleteClient => admin::delete_client(app, req, client_id).await,
        Operation::NewClientSecret => admin::new_secret(app, req, client_id).await,
        Operation::ListUsers => users::list_users(app, req).await,
        Operation::GetUser => users::get_user(app, req, client_id).await,
        Operation::UpdateUser => users::update_user(app, req, client_id).await,
        Operation::DeleteUser => users::delete_user(app, req, client_id).await,
        Operation::ListAudit => users::list_audit(app, req).await,
        Operation::GetAccount => Ok(account::show(app, req).await),
        Operation::AccountSignIn => Ok(account::sign_in(app, req).await),
        Operation::SecondFactor => Ok(second_factor::submit(app, req).await),
        Operation::AccountTotp => Ok(account::totp(app, req).await),
        Operation::RevokeSession => Ok(account::revoke_session(app, req).await),
        Operation::GetPasskeyScript => Ok(passkeys::script()),
        Operation::PasskeyOptions => Ok(passkeys::options(app, req).await),
        Operation::PasskeySignIn => Ok(passkeys::sign_in(app, req).await),
        Operation::AccountPasskeys => Ok(passkeys::manage(app, req).await),
        Operation::ChangePassword => Ok(account::change_password(app, req).await),
        Operation::RemoveApp => Ok(account::remove_app(app, req).await),
    };
    let out = result.unwrap_or_else(|e| Outgoing::error(&e));
    if endpoint.cors() {
        with_cors(out, endpoint)
    } else {
        out
    }
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
            provider: Provider {
                store: &store,
                keys: Err("JWT_SIGNING_KEY is not set"),
                config: &config,
                now: 1,
                address: "192.0.2.1",
                audit_log: &Default::default(),
            },
            bootstrap_token: None,
            branding: pages::Branding::default(),
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
