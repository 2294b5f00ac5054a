//! HTTP: one file per endpoint group. Each parses the request, calls the protocol core and
//! shapes the response. Requests and responses are plain values (`Incoming`, `Outgoing`), so
//! the whole HTTP surface runs on the host in tests; `lib.rs` converts to and from workerd's.

pub mod admin;
pub mod authorize;
#[cfg(test)]
mod contract_tests;
pub mod discovery;
pub mod pages;
pub mod request;
pub mod token;

use crate::oauth::{ErrorCode, OAuthError, Provider};
use crate::store::Store;
pub use request::Incoming;
use serde::Serialize;

/// Bodies over this are refused with 413 (the contract's 64 KiB).
pub const MAX_BODY: usize = 64 * 1024;

/// A response as a value.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Outgoing {
    pub fn json<T: Serialize>(status: u16, value: &T) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
        Self { status, headers: vec![("content-type".into(), "application/json".into())], body }.header("cache-control", "no-store")
    }

    pub fn html(status: u16, html: String) -> Self {
        Self { status, headers: vec![("content-type".into(), "text/html; charset=utf-8".into())], body: html.into_bytes() }
            .header("cache-control", "no-store")
            .header("x-frame-options", "DENY")
            .header("referrer-policy", "no-referrer")
            .header("x-content-type-options", "nosniff")
            .header("content-security-policy", &page_csp("'self'"))
    }

    pub fn empty(status: u16) -> Self {
        Self { status, headers: vec![], body: vec![] }.header("cache-control", "no-store")
    }

    /// A 302 to `location` whose body is the URL as a JSON string (the contract's `/login` shape, docs/API.md).
    pub fn redirect(location: &str) -> Self {
        Self::json(302, &location).header("location", location)
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Sets a header, replacing one of the same name.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The JSON error answer, with the headers its code requires.
    pub fn error(e: &OAuthError) -> Self {
        let body = serde_json::json!({ "error": e.code.as_str(), "error_description": e.description });
        let out = Self::json(e.status(), &body);
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
            ErrorCode::RateLimited => out.header("retry-after", &e.retry_after.unwrap_or(60).to_string()),
            _ => out,
        }
    }
}

/// The pages' CSP: nothing loads but inline styles; forms post only to `form_action`; no framing.
pub fn page_csp(form_action: &str) -> String {
    format!(
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
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

/// One route of the router: the single source for dispatch, 405 answers and `/openapi.json`.
pub struct Route {
    pub path: &'static str,
    pub methods: &'static [&'static str],
    pub summary: &'static str,
    pub tag: &'static str,
}

pub const ROUTES: &[Route] = &[
    Route {
        path: "/.well-known/openid-configuration",
        methods: &["GET"],
        summary: "OpenID Provider metadata (OIDC Discovery 1.0)",
        tag: "discovery",
    },
    Route {
        path: "/.well-known/oauth-authorization-server",
        methods: &["GET"],
        summary: "OAuth 2.0 Authorization Server Metadata (RFC 8414): the same document",
        tag: "discovery",
    },
    Route { path: "/.well-known/jwks.json", methods: &["GET"], summary: "Public ES256 keys (RFC 7517)", tag: "discovery" },
    Route { path: "/openapi.json", methods: &["GET"], summary: "This OpenAPI 3.1 document", tag: "discovery" },
    Route { path: "/health", methods: &["GET"], summary: "Liveness check", tag: "discovery" },
    Route {
        path: "/authorize",
        methods: &["GET"],
        summary: "Authorization endpoint: validates the request and serves the login page (RFC 6749 §4.1.1)",
        tag: "oauth",
    },
    Route { path: "/login", methods: &["POST"], summary: "Authenticates the user and issues an authorization code", tag: "oauth" },
    Route { path: "/token", methods: &["POST"], summary: "Token endpoint (RFC 6749 §3.2)", tag: "oauth" },
    Route { path: "/introspect", methods: &["POST"], summary: "Token introspection (RFC 7662)", tag: "oauth" },
    Route { path: "/revoke", methods: &["POST"], summary: "Token revocation (RFC 7009)", tag: "oauth" },
    Route { path: "/userinfo", methods: &["GET", "POST"], summary: "UserInfo endpoint (OIDC Core §5.3)", tag: "oauth" },
    Route { path: "/logout", methods: &["GET", "POST"], summary: "RP-Initiated Logout 1.0 end_session_endpoint", tag: "oauth" },
    Route { path: "/register", methods: &["POST"], summary: "Registers a user", tag: "users" },
    Route { path: "/clients", methods: &["GET", "POST"], summary: "Lists or registers clients (admin)", tag: "clients" },
    Route {
        path: "/clients/{client_id}",
        methods: &["GET", "PUT", "DELETE"],
        summary: "Reads, updates or deletes a client (admin)",
        tag: "clients",
    },
    Route {
        path: "/clients/{client_id}/secret",
        methods: &["POST"],
        summary: "Issues a new client secret, shown once (admin)",
        tag: "clients",
    },
];

/// Matches a concrete path against a route template; returns the `{client_id}` segment if any.
fn match_route<'p>(template: &str, path: &'p str) -> Option<Option<&'p str>> {
    let mut param = None;
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(param),
            (Some(ts), Some(ps)) if ts.starts_with('{') => {
                if ps.is_empty() {
                    return None;
                }
                param = Some(ps);
            }
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return None,
        }
    }
}

/// The route a path belongs to (a trailing slash is ignored) and its `{client_id}`, if any.
fn find_route(path: &str) -> Option<(&'static Route, Option<&str>)> {
    let path = if path.len() > 1 { path.trim_end_matches('/') } else { path };
    ROUTES.iter().find_map(|r| match_route(r.path, path).map(|p| (r, p)))
}

/// The route template a path belongs to (for logs), if any.
pub fn route_of(path: &str) -> Option<&'static str> {
    find_route(path).map(|(r, _)| r.path)
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
        return Outgoing::error(&OAuthError::new(ErrorCode::PayloadTooLarge, "request body is over 64 KiB"));
    }
    let Some((route, param)) = find_route(&req.path) else {
        return Outgoing::error(&OAuthError::not_found("no such endpoint"));
    };
    let method = if req.method == "HEAD" { "GET" } else { req.method.as_str() };
    let cors = cors_allowed(route.path);
    if method == "OPTIONS" && cors {
        // CORS preflight: browser apps (SPAs with PKCE) call these endpoints directly. No
        // cookies are involved, so any origin may call them without credentials.
        return with_cors(Outgoing::empty(204), route)
            .header("access-control-allow-headers", "authorization, content-type")
            .header("access-control-max-age", "86400");
    }
    if !route.methods.contains(&method) {
        return Outgoing::error(&OAuthError::new(ErrorCode::MethodNotAllowed, format!("use {}", route.methods.join(" or "))))
            .header("allow", &route.methods.join(", "));
    }
    let result = match (route.path, method) {
        ("/.well-known/openid-configuration" | "/.well-known/oauth-authorization-server", _) => Ok(discovery::configuration(app)),
        ("/.well-known/jwks.json", _) => discovery::jwks(app),
        ("/openapi.json", _) => Ok(discovery::openapi(app)),
        ("/health", _) => Ok(Outgoing::json(200, &serde_json::json!({ "status": "ok" }))),
        ("/authorize", _) => Ok(authorize::authorize(app, req).await),
        ("/login", _) => Ok(authorize::login(app, req).await),
        ("/token", _) => token::token(app, req).await,
        ("/introspect", _) => token::introspect(app, req).await,
        ("/revoke", _) => token::revoke(app, req).await,
        ("/userinfo", _) => token::userinfo(app, req).await,
        ("/logout", _) => Ok(authorize::logout(app, req).await),
        ("/register", _) => admin::register(app, req).await,
        ("/clients", "GET") => admin::list_clients(app, req).await,
        ("/clients", _) => admin::create_client(app, req).await,
        ("/clients/{client_id}", m) => admin::client(app, req, param.unwrap_or(""), m).await,
        _ => admin::new_secret(app, req, param.unwrap_or("")).await,
    };
    let out = result.unwrap_or_else(|e| Outgoing::error(&e));
    if cors {
        with_cors(out, route)
    } else {
        out
    }
}

/// Endpoints a browser application may call cross-origin (tokens travel in headers or bodies,
/// never in cookies). The login, authorize, logout and admin endpoints are not among them.
fn cors_allowed(path: &str) -> bool {
    matches!(
        path,
        "/.well-known/openid-configuration"
            | "/.well-known/oauth-authorization-server"
            | "/.well-known/jwks.json"
            | "/openapi.json"
            | "/token"
            | "/userinfo"
            | "/revoke"
    )
}

fn with_cors(out: Outgoing, route: &Route) -> Outgoing {
    out.header("access-control-allow-origin", "*")
        .header("access-control-allow-methods", &route.methods.join(", "))
        .header("access-control-expose-headers", "www-authenticate")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::{block_on, Config};
    use crate::store::memory::MemoryStore;

    fn get(path: &str) -> Incoming {
        Incoming { method: "GET".into(), path: path.into(), origin: "http://127.0.0.1:8787".into(), ..Default::default() }
    }

    #[test]
    fn a_missing_signing_key_is_a_clear_503_not_a_panic() {
        let store = MemoryStore::default();
        let config = Config::for_issuer("http://127.0.0.1:8787");
        let app = App {
            provider: Provider { store: &store, keys: Err("JWT_SIGNING_KEY is not set"), config: &config, now: 1 },
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

    #[test]
    fn route_matching() {
        assert_eq!(match_route("/clients/{client_id}", "/clients/abc"), Some(Some("abc")));
        assert_eq!(match_route("/clients/{client_id}", "/clients/"), None);
        assert_eq!(match_route("/clients/{client_id}/secret", "/clients/abc/secret"), Some(Some("abc")));
        assert_eq!(match_route("/clients", "/clients/abc"), None);
        assert_eq!(match_route("/token", "/token"), Some(None));
    }
}
