//! The Worker's entries (`#[event(fetch)]`, `#[event(scheduled)]`), reached through
//! `src/entry.mjs`: workerd's request to an `Incoming`, the per-request `Provider` built from the
//! settings and the D1/KV store, `http::handle`, the log line, and the response back.

use super::platform::CloudflarePlatform;
use super::settings::settings;
use super::store::CloudflareStore;
use crate::http::{self, App, Incoming, Outgoing, MAX_BODY};
use crate::oauth::audit::AuditLog;
use crate::oauth::{self, Provider};
use crate::store::{AuditStore, ClientStore, Maintenance};
use worker::js_sys::{Function, Reflect};
use worker::wasm_bindgen::{JsCast, JsValue};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{event, web_sys, Context, Env, Headers, Request, Result, ScheduleContext, ScheduledEvent};

/// The runtime's request as an `Incoming`. It takes workerd's `Request` itself rather than
/// `worker::Request`, whose conversion also reads `request.cf` (the runtime builds that object
/// on each access: a measurable share of a request's CPU) and the URL a second time.
async fn incoming(req: web_sys::Request) -> Result<Incoming> {
    let (origin, path, query) = http::request::split_url(&req.url());
    let headers: Vec<(String, String)> = Headers(req.headers()).entries().map(|(k, v)| (k.to_ascii_lowercase(), v)).collect();
    let declared = headers.iter().find(|(k, _)| k == "content-length").and_then(|(_, v)| v.trim().parse::<usize>().ok());
    let method = req.method();
    let (body, too_large) = if declared.is_some_and(|n| n > MAX_BODY) {
        (Vec::new(), true)
    } else if matches!(method.as_str(), "GET" | "HEAD") {
        (Vec::new(), false)
    } else if declared.is_some() && !headers.iter().any(|(k, _)| k == "transfer-encoding") {
        // A declared length within the limit bounds the body (HTTP/1.1 framing; RFC 9112 §6.3):
        // one arrayBuffer() call, no stream reader and its per-chunk promises. Not when a
        // Transfer-Encoding is also named: it overrides the length (§6.3 item 3), so such a body
        // is read chunk by chunk and capped like any body of undeclared length.
        let body = match req.array_buffer() {
            Ok(promise) => JsFuture::from(promise).await.map(|b| worker::js_sys::Uint8Array::new(&b).to_vec()).unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        let too_large = body.len() > MAX_BODY;
        (if too_large { Vec::new() } else { body }, too_large)
    } else {
        read_capped(&mut Request::from(req)).await
    };
    Ok(Incoming { method, path, query, headers, body, body_too_large: too_large, origin })
}

/// How much of an oversized body is read and dropped before answering 413, so that an ordinary
/// client that sends it whole still reads the answer; past this the connection is closed.
const DRAIN_LIMIT: usize = 1024 * 1024;

/// A body without a declared length, read chunk by chunk: a chunked body is never buffered beyond
/// `MAX_BODY`; what follows is read and dropped (up to `DRAIN_LIMIT`). `(body, too_large)`.
async fn read_capped(req: &mut Request) -> (Vec<u8>, bool) {
    use futures_core::Stream;
    let Ok(stream) = req.stream() else { return (Vec::new(), false) };
    let mut stream = std::pin::pin!(stream);
    let mut body = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = std::future::poll_fn(|cx| stream.as_mut().poll_next(cx)).await {
        let Ok(chunk) = chunk else { break };
        seen += chunk.len();
        if seen > MAX_BODY {
            body = Vec::new();
            if seen > DRAIN_LIMIT {
                break;
            }
            continue;
        }
        body.extend_from_slice(&chunk);
    }
    (body, seen > MAX_BODY)
}

/// The time in milliseconds since the epoch (`Date.now()`: one call, no `Date` object).
pub fn now_ms() -> u64 {
    worker::js_sys::Date::now() as u64
}

thread_local! {
    /// `console`, its `log` and `error`, and `queueMicrotask`, looked up once per isolate.
    static CONSOLE: Option<[JsValue; 4]> = {
        let global = worker::js_sys::global();
        let get = |target: &JsValue, name: &str| Reflect::get(target, &JsValue::from_str(name)).ok().filter(|f| f.is_function());
        Reflect::get(&global, &JsValue::from_str("console")).ok().and_then(|console| {
            Some([get(&console, "log")?, get(&console, "error")?, get(&global, "queueMicrotask")?, console])
        })
    };
}

/// Writes one line to the Worker's log (`console.error` when `error`, else `console.log`),
/// from a microtask that calls the console method itself, once the wasm call has returned: the
/// line and its order are unchanged, but the call is made from an empty stack. Measured under
/// `wrangler dev` (interleaved A/B, 6 rounds of 800 requests at c16, runtime CPU per request
/// against logging from inside the wasm call): discovery 0.86×, `client_credentials` 0.85×,
/// introspection 0.98×. The likely cause is the stack trace V8's inspector records with each
/// console call, which from inside the call holds the wasm frames; production has no inspector.
fn log(line: &str, error: bool) {
    CONSOLE.with(|console| match console {
        Some([log_fn, error_fn, queue, console]) => {
            let method: &Function = (if error { error_fn } else { log_fn }).unchecked_ref();
            let call = method.bind1(console, &JsValue::from_str(line));
            if queue.unchecked_ref::<Function>().call1(&JsValue::UNDEFINED, &call).is_ok() {
                return;
            }
            let _ = call.call0(&JsValue::UNDEFINED);
        }
        None if error => worker::console_error!("{line}"),
        None => worker::console_log!("{line}"),
    })
}

/// The runtime's `Response`, made directly: one `Headers`, one `ResponseInit`, one copy of the
/// body. (`worker::Response` makes a second `Headers` that is dropped, and passes the same values
/// through its builder first.)
fn outgoing(out: Outgoing, head: bool) -> Result<web_sys::Response> {
    let headers = web_sys::Headers::new()?;
    for (k, v) in &out.headers {
        headers.append(k, v)?;
    }
    let init = web_sys::ResponseInit::new();
    init.set_status(out.status);
    init.set_headers(&headers);
    let response = if head || out.body.is_empty() {
        web_sys::Response::new_with_opt_str_and_init(None, &init)
    } else {
        let body = worker::js_sys::Uint8Array::from(out.body.as_slice());
        web_sys::Response::new_with_opt_buffer_source_and_init(Some(&body), &init)
    };
    Ok(response?)
}

#[event(fetch)]
pub async fn fetch(req: web_sys::Request, env: Env, ctx: Context) -> Result<web_sys::Response> {
    let started = now_ms();
    let req = incoming(req).await?;
    let settings = settings(&env).await;
    #[cfg(feature = "bench")]
    if settings.bench && req.path == "/__bench" {
        return super::bench::route(&req, &settings.keys, env).await.map(Into::into);
    }
    let config = settings.config_for(&req.origin);
    let store = CloudflareStore::new(env.clone(), settings.client_cache_ttl);
    let platform = CloudflarePlatform::new(env.clone(), settings.webcrypto_es256);
    let audit_log = AuditLog::default();
    let app = App {
        provider: Provider {
            store: &store,
            platform: &platform,
            keys: settings.keys.as_ref().map_err(|e| e.as_str()),
            config: &config,
            now: started / 1000,
            // Cloudflare sets it on every request (a client cannot spoof it there); without it
            // (a direct local call) every such request shares one budget.
            address: req.header("cf-connecting-ip").unwrap_or("unknown"),
            audit_log: &audit_log,
        },
        bootstrap_token: settings.bootstrap_token.as_ref(),
        branding: settings.branding.clone(),
    };
    let request_id = req.header("cf-ray").map(str::to_string).unwrap_or_else(crate::crypto::random_id);
    let out = http::handle(&app, &req).await.header("x-request-id", &request_id);
    // The request's audit events, written after the response: no round trip on its path.
    let events = audit_log.take();
    if !events.is_empty() {
        let log_store = CloudflareStore::new(env, 0);
        ctx.wait_until(async move {
            if let Err(e) = log_store.record_events(&events).await {
                log(&serde_json::json!({ "event": "audit", "error": e.to_string() }).to_string(), true);
            }
        });
    }
    // One structured line per request (wrangler dev and wrangler tail show it): the route
    // template, never the query, body, codes, tokens or secrets. LOG_REQUESTS = "0" turns it
    // off. A failure inside (a storage backend's message) is logged once here, whatever that
    // setting, and never sent to the caller.
    if settings.log_requests || out.log_detail.is_some() {
        let duration = now_ms().saturating_sub(started);
        let line = http::log_line(&request_id, &req, out.status, duration, out.log_detail.as_deref());
        log(&line, out.log_detail.is_some());
    }
    outgoing(out, req.method == "HEAD")
}

/// Cron trigger (`[triggers] crons` in wrangler.toml): deletes expired refresh tokens,
/// consumed-code records, revoked-token records, stale sign-in throttle rows, and audit events
/// older than `AUDIT_RETENTION_DAYS`.
#[event(scheduled)]
pub async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let now = now_ms() / 1000;
    let retention = settings(&env).await.audit_retention_days * 86_400;
    let store = CloudflareStore::new(env, 0);
    let result = match store.purge_expired(now).await {
        Ok(n) => match store.purge_unused_dynamic_clients(now.saturating_sub(oauth::registration::UNUSED_CLIENT_TTL)).await {
            Ok(c) => store.purge_events(now.saturating_sub(retention)).await.map(|m| (n + c, m)),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    match result {
        Ok((n, m)) => log(&serde_json::json!({ "event": "purge", "deleted": n, "audit_events_deleted": m }).to_string(), false),
        Err(e) => log(&serde_json::json!({ "event": "purge", "error": e.to_string() }).to_string(), true),
    }
}
