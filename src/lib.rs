//! edge-oidc: an OAuth 2.0 / OpenID Connect authorization server as a Cloudflare Worker.
//! This file is the `#[event(fetch)]` entry: it turns workerd's request into an `Incoming`,
//! builds the per-request context from the environment, and hands over to `http::handle`.

pub mod bench;
pub mod crypto;
pub mod form;
pub mod http;
pub mod oauth;
pub mod store;
#[cfg(test)]
mod testing;

use crypto::keys::KeySet;
use http::{App, Incoming, Outgoing, MAX_BODY};
use oauth::{Config, Provider};
use std::cell::RefCell;
use std::rc::Rc;
use store::cloudflare::CloudflareStore;
use store::Maintenance;
use worker::{event, Context, Env, Headers, Request, Response, Result, ScheduleContext, ScheduledEvent};

/// Everything read from the environment, once per isolate: a secret or var change deploys a
/// new version, which starts new isolates. Parsing the key (and its thumbprint) costs more than
/// a signature, and each binding read crosses into JavaScript, so none of it is per request.
struct Settings {
    keys: std::result::Result<KeySet, String>,
    /// The configuration; its issuer is replaced per request unless `ISSUER` is set.
    config: Config,
    fixed_issuer: bool,
    fixed_audience: bool,
    bootstrap_token: Option<String>,
    branding: http::pages::Branding,
    log_requests: bool,
    bench: bool,
    /// Seconds a client record may be reused from this isolate's cache (store/cache.rs).
    client_cache_ttl: u64,
}

/// See store/cache.rs for what a cached client can get wrong within this many seconds.
const DEFAULT_CLIENT_CACHE_TTL: u64 = 30;

thread_local! {
    static SETTINGS: RefCell<Option<Rc<Settings>>> = const { RefCell::new(None) };
}

fn text_binding(env: &Env, name: &str) -> Option<String> {
    env.secret(name).ok().map(|v| v.to_string()).or_else(|| env.var(name).ok().map(|v| v.to_string()))
}

fn number<T: std::str::FromStr + PartialOrd + Copy>(env: &Env, name: &str, default: T, min: T, max: T) -> T {
    text_binding(env, name).and_then(|v| v.trim().parse().ok()).filter(|v| *v >= min && *v <= max).unwrap_or(default)
}

fn load_settings(env: &Env) -> Settings {
    let signing = text_binding(env, "JWT_SIGNING_KEY").unwrap_or_default();
    let previous = text_binding(env, "JWT_PREVIOUS_KEYS");
    let issuer = text_binding(env, "ISSUER").map(|s| s.trim().trim_end_matches('/').to_string()).filter(|s| !s.is_empty());
    let audience = text_binding(env, "ACCESS_TOKEN_AUDIENCE").map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let mut c = Config::for_issuer(issuer.as_deref().unwrap_or(""));
    if let Some(aud) = &audience {
        c.access_token_audience = aud.clone();
    }
    c.access_token_ttl = number(env, "ACCESS_TOKEN_TTL", c.access_token_ttl, 60, 86_400);
    c.id_token_ttl = number(env, "ID_TOKEN_TTL", c.id_token_ttl, 60, 86_400);
    c.refresh_token_ttl = number(env, "REFRESH_TOKEN_TTL", c.refresh_token_ttl, 60, 365 * 86_400);
    c.auth_code_ttl = number(env, "AUTH_CODE_TTL", c.auth_code_ttl, 10, 600);
    c.session_ttl = number(env, "SESSION_TTL", c.session_ttl, 60, 30 * 86_400);
    c.pbkdf2_iterations =
        number(env, "PBKDF2_ITERATIONS", c.pbkdf2_iterations, crypto::password::MIN_ITERATIONS, crypto::password::MAX_ITERATIONS);
    Settings {
        keys: KeySet::load(&signing, previous.as_deref()).map_err(|e| e.0),
        config: c,
        fixed_issuer: issuer.is_some(),
        fixed_audience: audience.is_some(),
        bootstrap_token: text_binding(env, "BOOTSTRAP_ADMIN_TOKEN").filter(|s| !s.is_empty()),
        branding: http::pages::Branding::new(text_binding(env, "PRODUCT_NAME"), text_binding(env, "BRAND_COLOR")),
        log_requests: text_binding(env, "LOG_REQUESTS").as_deref() != Some("0"),
        bench: text_binding(env, "BENCH").as_deref() == Some("1"),
        client_cache_ttl: number(env, "CLIENT_CACHE_TTL", DEFAULT_CLIENT_CACHE_TTL, 0, 300),
    }
}

fn settings(env: &Env) -> Rc<Settings> {
    SETTINGS.with(|cell| cell.borrow_mut().get_or_insert_with(|| Rc::new(load_settings(env))).clone())
}

impl Settings {
    /// The configuration for one request: the issuer is the request's origin unless `ISSUER`
    /// is set (docs/API.md), and the default audience follows the issuer.
    fn config_for(&self, origin: &str) -> Config {
        let mut c = self.config.clone();
        if !self.fixed_issuer {
            c.issuer = origin.to_string();
        }
        if !self.fixed_audience {
            c.access_token_audience = c.issuer.clone();
        }
        c
    }
}

async fn incoming(mut req: Request) -> Result<Incoming> {
    let (origin, path, query) = http::request::split_url(&req.inner().url());
    let headers: Vec<(String, String)> = req.headers().entries().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
    let declared = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.trim().parse::<usize>().ok());
    let method = req.method().to_string();
    let (body, too_large) = if declared.is_some_and(|n| n > MAX_BODY) {
        (Vec::new(), true)
    } else if matches!(method.as_str(), "GET" | "HEAD") {
        (Vec::new(), false)
    } else {
        let b = req.bytes().await.unwrap_or_default();
        let too_large = b.len() > MAX_BODY;
        (b, too_large)
    };
    Ok(Incoming { method, path, query, headers, body, body_too_large: too_large, origin })
}

fn outgoing(out: Outgoing, head: bool) -> Result<Response> {
    let headers = Headers::new();
    for (k, v) in &out.headers {
        headers.set(k, v)?;
    }
    let body = if head { Vec::new() } else { out.body };
    let resp = if body.is_empty() { Response::empty()? } else { Response::from_bytes(body)? };
    Ok(resp.with_status(out.status).with_headers(headers))
}

#[event(fetch)]
pub async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let started = worker::Date::now().as_millis();
    let req = incoming(req).await?;
    let settings = settings(&env);
    if settings.bench && req.path == "/__bench" {
        return bench_route(&req, &settings.keys, env).await;
    }
    let config = settings.config_for(&req.origin);
    let store = CloudflareStore::new(env, settings.client_cache_ttl);
    let app = App {
        provider: Provider { store: &store, keys: settings.keys.as_ref().map_err(|e| e.as_str()), config: &config, now: started / 1000 },
        bootstrap_token: settings.bootstrap_token.as_deref(),
        branding: settings.branding.clone(),
    };
    let request_id = req.header("cf-ray").map(str::to_string).unwrap_or_else(crypto::random_id);
    let out = http::handle(&app, &req).await.header("x-request-id", &request_id);
    // One structured line per request (wrangler dev and wrangler tail show it): the route
    // template, never the query, body, codes, tokens or secrets. LOG_REQUESTS = "0" turns it off.
    if settings.log_requests {
        worker::console_log!(
            "{}",
            serde_json::json!({
                "request_id": request_id,
                "method": req.method,
                "route": http::route_of(&req.path).unwrap_or("(unknown)"),
                "status": out.status,
                "duration_ms": worker::Date::now().as_millis().saturating_sub(started),
                "client_id": http::client_of(&req),
            })
        );
    }
    outgoing(out, req.method == "HEAD")
}

/// Cron trigger (`[triggers] crons` in wrangler.toml): deletes expired refresh tokens,
/// consumed-code records, revoked-token records and stale sign-in throttle rows.
#[event(scheduled)]
pub async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let now = worker::Date::now().as_millis() / 1000;
    let result = CloudflareStore::new(env, 0).purge_expired(now).await.map_err(|e| format!("{e:?}"));
    match result {
        Ok(n) => worker::console_log!("{}", serde_json::json!({ "event": "purge", "deleted": n })),
        Err(e) => worker::console_error!("{}", serde_json::json!({ "event": "purge", "error": e })),
    }
}

/// `GET /__bench?op=sign|sign_plain|verify|pbkdf2|d1|kv&n=N`: runs a crypto loop inside workerd so
/// `npm run bench` can read its CPU cost from the runtime process, or `n` sequential storage round
/// trips (`SELECT 1` on D1, a missing key on KV) and answers their wall time in ms. Served only when
/// the `BENCH` var is "1".
async fn bench_route(req: &Incoming, keys: &std::result::Result<KeySet, String>, env: Env) -> Result<Response> {
    let params = form::parse(&req.query).unwrap_or_default();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let n: u32 = get("n").and_then(|v| v.parse().ok()).unwrap_or(1).min(10_000_000);
    if let Some(op @ ("d1" | "kv")) = get("op") {
        let started = worker::Date::now().as_millis();
        for _ in 0..n {
            if op == "d1" {
                env.d1("DB")?.prepare("SELECT 1 AS one").first::<serde_json::Value>(None).await?;
            } else {
                env.kv("AUTH_CODES")?.get("__bench_missing").text().await?;
            }
        }
        return Response::ok((worker::Date::now().as_millis() - started).to_string());
    }
    let Ok(keys) = keys else { return Response::error("no signing key", 503) };
    let result = match get("op") {
        Some("sign") => bench::es256_sign(keys, n),
        Some("sign_plain") => bench::es256_sign_plain(keys, n),
        Some("verify") => bench::es256_verify(keys, n),
        Some("pbkdf2") => bench::pbkdf2(n),
        _ => return Response::error("op: sign, sign_plain, verify, pbkdf2, d1 or kv", 400),
    };
    Response::ok(result.to_string())
}
