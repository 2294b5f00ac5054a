//! `/authorize` (the login page), `/login` (credentials → authorization code) and `/logout`
//! (RP-Initiated Logout 1.0).

use super::request::Params;
use super::{pages, App, Incoming, Outgoing};
use crate::crypto::jwt;
use crate::oauth::authorize::{error_redirect, AuthorizationParams, AuthorizationRequest, AuthorizeError};
use crate::oauth::{redirect, store_error, ErrorCode, OAuthError, OAuthResult};
use crate::store::Store;
use serde_json::Value;

fn params_from(p: &Params, redirect_key: &str) -> OAuthResult<AuthorizationParams> {
    Ok(AuthorizationParams {
        client_id: p.opt("client_id")?,
        redirect_uri: p.opt(redirect_key)?,
        response_type: p.opt("response_type")?,
        response_mode: p.opt("response_mode")?,
        scope: p.get("scope")?,
        state: p.opt("state")?,
        nonce: p.opt("nonce")?,
        code_challenge: p.opt("code_challenge")?,
        code_challenge_method: p.opt("code_challenge_method")?,
        prompt: p.opt("prompt")?,
    })
}

fn hidden_fields(r: &AuthorizationRequest) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("client_id", r.client.client_id.clone()),
        ("redirect", r.redirect_uri.clone()),
        ("state", r.state.clone().unwrap_or_default()),
        ("scope", r.scope.to_string()),
    ];
    if let Some(n) = &r.nonce {
        h.push(("nonce", n.clone()));
    }
    if let Some(c) = &r.code_challenge {
        h.push(("code_challenge", c.clone()));
        h.push(("code_challenge_method", "S256".into()));
    }
    h
}

fn login_page(status: u16, r: &AuthorizationRequest, username: &str, error: Option<&str>) -> Outgoing {
    let hidden = hidden_fields(r);
    let refs: Vec<(&str, &str)> = hidden.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Outgoing::html(status, pages::login(&r.client.client_name, &refs, username, error))
}

fn authorize_error<S: Store>(app: &App<'_, S>, e: AuthorizeError) -> Outgoing {
    match e {
        AuthorizeError::Show(err) => {
            Outgoing::html(err.status().max(400), pages::error("Cannot sign in", &err.description))
        }
        AuthorizeError::Redirect { redirect_uri, state, error } => {
            Outgoing::redirect(&error_redirect(&redirect_uri, state.as_deref(), &error, &app.provider.config.issuer))
        }
    }
}

/// `GET /authorize` (RFC 6749 §4.1.1, OIDC Core §3.1.2).
pub async fn authorize<S: Store>(app: &App<'_, S>, req: &Incoming) -> Outgoing {
    let p = match req.query_params().and_then(|q| params_from(&q, "redirect_uri")) {
        Ok(p) => p,
        Err(e) => return Outgoing::html(400, pages::error("Cannot sign in", &e.description)),
    };
    let r = match app.provider.validate_authorization(&p).await {
        Ok(r) => r,
        Err(e) => return authorize_error(app, e),
    };
    // No browser session yet: prompt=none cannot be satisfied (OIDC Core §3.1.2.6).
    if p.prompt.as_deref().is_some_and(|pr| pr.split(' ').any(|x| x == "none")) {
        let err = OAuthError::new(ErrorCode::LoginRequired, "the user is not signed in");
        return Outgoing::redirect(&error_redirect(&r.redirect_uri, r.state.as_deref(), &err, &app.provider.config.issuer));
    }
    login_page(200, &r, "", None)
}

/// A cross-site form post (login CSRF) is refused: the browser tells us through `Origin`
/// and `Sec-Fetch-Site`.
fn is_cross_site(issuer: &str, req: &Incoming) -> bool {
    if req.header("sec-fetch-site").is_some_and(|s| s.eq_ignore_ascii_case("cross-site")) {
        return true;
    }
    match req.header("origin") {
        None => false,
        Some(o) => !(o.eq_ignore_ascii_case(&origin_of(issuer)) || o.eq_ignore_ascii_case(&req.origin)),
    }
}

/// `scheme://authority` of an absolute URL.
fn origin_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or("")),
        None => url.to_string(),
    }
}

/// `POST /login` (seed): authenticates and issues a code.
pub async fn login<S: Store>(app: &App<'_, S>, req: &Incoming) -> Outgoing {
    let json = req.wants_json();
    let fail = |e: OAuthError| if json { Outgoing::error(&e) } else { Outgoing::html(e.status(), pages::error("Cannot sign in", &e.description)) };
    if is_cross_site(&app.provider.config.issuer, req) {
        return fail(OAuthError::access_denied("cross-site login form posts are refused"));
    }
    let form = match req.form() {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let fields = (|| -> OAuthResult<_> {
        let need = |k: &str| -> OAuthResult<String> {
            form.get(k)?.ok_or_else(|| OAuthError::invalid_request(format!("{k} is required")))
        };
        Ok((need("username")?, need("password")?, need("redirect")?, need("state")?))
    })();
    let (username, password, redirect_to, _state) = match fields {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let mut p = match params_from(&form, "redirect") {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    p.response_type = Some("code".into());
    if redirect_to.is_empty() {
        return fail(OAuthError::invalid_request("redirect is required"));
    }
    let r = match app.provider.validate_authorization(&p).await {
        Ok(r) => r,
        Err(e) if json => return Outgoing::error(e.error()),
        Err(e) => return authorize_error(app, e),
    };
    let user = match app.provider.authenticate_user(&username, &password).await {
        Ok(u) => u,
        Err(e) if e.code == ErrorCode::RateLimited && !json => {
            let wait = e.retry_after.unwrap_or(60);
            let msg = format!("Too many failed sign-in attempts. Try again in {wait} seconds.");
            return login_page(429, &r, &username, Some(&msg)).header("retry-after", &wait.to_string());
        }
        Err(e) => return fail(e),
    };
    let Some(user) = user else {
        let msg = "Invalid username or password.";
        return if json {
            Outgoing::error(&OAuthError::new(ErrorCode::AccessDenied, "invalid username or password")).with_status(401)
        } else {
            login_page(401, &r, &username, Some(msg))
        };
    };
    match app.provider.issue_code(&r, &user, app.provider.now).await {
        Ok(location) if json => Outgoing::json(200, &location),
        Ok(location) => Outgoing::redirect(&location),
        Err(e) => fail(e),
    }
}

/// `GET|POST /logout` (RP-Initiated Logout 1.0 §2-§3): redirects only to a URI registered for
/// the client named by `id_token_hint` or `client_id`; otherwise shows the signed-out page.
pub async fn logout<S: Store>(app: &App<'_, S>, req: &Incoming) -> Outgoing {
    let show_error = |msg: &str| Outgoing::html(400, pages::error("Cannot sign out", msg));
    let params = if req.method == "POST" && req.is_form() { req.form() } else { req.query_params() };
    let params = match params {
        Ok(p) => p,
        Err(e) => return show_error(&e.description),
    };
    let get = |k: &str| params.opt(k);
    let (hint, client_id, target, state) = match (get("id_token_hint"), get("client_id"), get("post_logout_redirect_uri"), get("state")) {
        (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
        _ => return show_error("a parameter is repeated"),
    };
    let mut hinted_client: Option<String> = None;
    if let Some(h) = &hint {
        let Ok(keys) = app.provider.keys() else { return show_error("signing keys are not configured") };
        // An expired ID token is still a valid hint (§2): only signature and issuer count.
        match jwt::verify::<Value>(keys, h, None) {
            Ok(c) if c["iss"] == app.provider.config.issuer.as_str() => {
                hinted_client = match &c["aud"] {
                    Value::String(s) => Some(s.clone()),
                    Value::Array(a) => a.first().and_then(|v| v.as_str()).map(String::from),
                    _ => None,
                };
            }
            _ => return show_error("id_token_hint is not an ID token issued here"),
        }
    }
    let client_id = match (hinted_client, client_id) {
        (Some(a), Some(b)) if a != b => return show_error("client_id does not match id_token_hint"),
        (a, b) => a.or(b),
    };
    let signed_out = || Outgoing::html(200, pages::signed_out()).header("clear-site-data", "\"cookies\"");
    let Some(target) = target else { return signed_out() };
    let Some(client_id) = client_id else {
        return show_error("post_logout_redirect_uri needs id_token_hint or client_id");
    };
    let client = match app.provider.store.client(&client_id).await.map_err(store_error) {
        Ok(Some(c)) => c,
        Ok(None) => return show_error("unknown client"),
        Err(e) => return Outgoing::error(&e),
    };
    let allowed = if client.post_logout_redirect_uris.is_empty() { &client.redirect_uris } else { &client.post_logout_redirect_uris };
    if !redirect::matches(&target, allowed) {
        return show_error("post_logout_redirect_uri is not registered for this client");
    }
    let mut q = vec![];
    if let Some(s) = &state {
        q.push(("state", s.as_str()));
    }
    Outgoing::redirect(&crate::form::append_query(&target, q))
}
