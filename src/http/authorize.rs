//! `/authorize` (the login page), `/login` (credentials → authorization code) and `/logout`
//! (RP-Initiated Logout 1.0).

use super::request::Params;
use super::{csrf, pages, App, Incoming, Outgoing};
use crate::oauth::amr::Authentication;
use crate::oauth::authorize::{error_redirect, AuthorizationParams, AuthorizationRequest, AuthorizeError};
use crate::oauth::error::HttpCode;
use crate::oauth::logout::{LogoutError, LogoutRequest};
use crate::oauth::prompt::{SignIn, SignInPolicy};
use crate::oauth::{ErrorCode, OAuthError, OAuthResult};
use crate::store::Store;

pub(super) fn params_from(p: &Params, redirect_key: &str) -> OAuthResult<AuthorizationParams> {
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
        max_age: p.opt("max_age")?,
        login_hint: p.opt("login_hint")?,
        request: p.opt("request")?,
        request_uri: p.opt("request_uri")?,
        resource: p.all("resource"),
        acr_values: p.opt("acr_values")?,
    })
}

pub(super) fn hidden_fields(r: &AuthorizationRequest) -> Vec<(&'static str, String)> {
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
    h.extend(r.resources.iter().map(|res| ("resource", res.clone())));
    if r.prompt_consent {
        h.push(("prompt", "consent".into()));
    }
    if let Some(acr) = &r.acr_values {
        h.push(("acr_values", acr.clone()));
    }
    h
}

/// The sign-in page, with the browser's anti-CSRF token in the form and its cookie.
fn login_page<S>(app: &App<'_, S>, req: &Incoming, status: u16, r: &AuthorizationRequest, username: &str, error: Option<&str>) -> Outgoing {
    let issuer = &app.provider.config.issuer;
    let token = csrf::token(req, issuer);
    let mut hidden = hidden_fields(r);
    hidden.push((csrf::FIELD, token.clone()));
    let refs: Vec<(&str, &str)> = hidden.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let page = Outgoing::html(status, pages::login(&app.branding, &r.client.client_name, &refs, username, error))
        .header("content-security-policy", &super::page_csp(&form_action(&r.redirect_uri)));
    csrf::set_cookie(page, issuer, &token)
}

/// The CSP `form-action` of a page whose form ends in a redirect to `redirect_uri`: Chromium
/// applies form-action to the redirect that follows the post, so the client's origin is allowed
/// too (any port for a loopback redirect URI, as RFC 8252 §7.3 matches).
pub(super) fn form_action(redirect_uri: &str) -> String {
    let target = origin_of(redirect_uri);
    let target = match target.rsplit_once(':') {
        Some((host, port)) if (host == "http://127.0.0.1" || host == "http://[::1]") && port.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{host}:*")
        }
        _ if target == "http://127.0.0.1" || target == "http://[::1]" => format!("{target}:*"),
        _ => target,
    };
    format!("'self' {target}")
}

pub(super) fn error_page<S>(app: &App<'_, S>, status: u16, title: &str, message: &str) -> Outgoing {
    Outgoing::html(status, pages::error(&app.branding, title, message))
}

/// The session cookie: `__Host-` prefixed and `Secure` when the issuer is https (the prefix
/// requires Secure); a plain name over http (local development), where Secure cannot be set.
fn session_cookie_name(issuer: &str) -> &'static str {
    if issuer.starts_with("https://") {
        "__Host-edge_oidc_session"
    } else {
        "edge_oidc_session"
    }
}

pub(super) fn session_cookie(issuer: &str, value: &str, max_age: u64) -> String {
    let secure = if issuer.starts_with("https://") { "; Secure" } else { "" };
    format!("{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}", session_cookie_name(issuer))
}

pub(super) fn session_token<'r, S>(app: &App<'_, S>, req: &'r Incoming) -> Option<&'r str> {
    req.cookie(session_cookie_name(&app.provider.config.issuer))
}

/// The error page for a failed sign-in step; an internal failure's detail goes to the log.
pub(super) fn sign_in_error_page<S>(app: &App<'_, S>, e: &OAuthError) -> Outgoing {
    error_page(app, e.status().max(400), "Cannot sign in", &e.description).with_log_detail(e.internal.clone())
}

pub(super) fn authorize_error<S: Store>(app: &App<'_, S>, e: AuthorizeError) -> Outgoing {
    match e {
        AuthorizeError::Show(err) => sign_in_error_page(app, &err),
        AuthorizeError::Redirect { redirect_uri, state, error } => {
            Outgoing::redirect(&error_redirect(&redirect_uri, state.as_deref(), &error, &app.provider.config.issuer))
                .with_log_detail(error.internal)
        }
    }
}

/// `GET|POST /authorize` (RFC 6749 §4.1.1, OIDC Core §3.1.2). A signed-in browser (session cookie)
/// gets its code at once, unless `prompt=login` or an exceeded `max_age` asks for credentials
/// again; `prompt=none` without a usable session answers `login_required` (OIDC Core §3.1.2.6).
pub async fn authorize<S: Store>(app: &App<'_, S>, req: &Incoming) -> Outgoing {
    // GET carries the request in the query, POST as a form body (OIDC Core §3.1.2.1).
    let params = if req.method == "POST" { req.form() } else { req.query_params() };
    let p = match params.and_then(|q| params_from(&q, "redirect_uri")) {
        Ok(p) => p,
        Err(e) => return error_page(app, 400, "Cannot sign in", &e.description),
    };
    let r = match app.provider.validate_authorization(&p).await {
        Ok(r) => r,
        Err(e) => return authorize_error(app, e),
    };
    let issuer = &app.provider.config.issuer;
    let back = |err: OAuthError| {
        Outgoing::redirect(&error_redirect(&r.redirect_uri, r.state.as_deref(), &err, issuer)).with_log_detail(err.internal)
    };
    let policy = match SignInPolicy::parse(p.prompt.as_deref(), p.max_age.as_deref()) {
        Ok(policy) => policy,
        Err(e) => return back(e),
    };
    match app.provider.sign_in(&r, policy, session_token(app, req)).await {
        Ok(SignIn::Redirect(location)) => Outgoing::redirect(&location),
        // OIDC Core §3.1.2.1 `login_hint`: the username field starts with it.
        Ok(SignIn::AskForCredentials) => login_page(app, req, 200, &r, r.login_hint.as_deref().unwrap_or(""), None),
        Ok(SignIn::AskForConsent) => super::consent::consent_page(app, req, &r),
        Ok(SignIn::StepUp(user, auth, _)) => super::second_factor::continue_sign_in(app, req, Some(&r), &user, auth, false).await,
        Err(e) => back(e),
    }
}

/// A cross-site form post (login CSRF) is refused. Browsers say where a post comes from in
/// `Sec-Fetch-Site` and `Origin`; either naming another site is enough to refuse. `Origin: null`
/// is what a same-origin form sends under `Referrer-Policy: no-referrer` (our pages' policy), but
/// also what sandboxed frames and older browsers send for anyone: it passes only together with
/// `Sec-Fetch-Site: same-origin`. (The form's anti-CSRF token is checked as well, `csrf.rs`.)
pub(super) fn is_cross_site(issuer: &str, req: &Incoming) -> bool {
    let fetch_site = req.header("sec-fetch-site").map(str::to_ascii_lowercase);
    if matches!(fetch_site.as_deref(), Some("cross-site") | Some("same-site")) {
        return true;
    }
    match req.header("origin") {
        None => false,
        Some("null") => fetch_site.as_deref() != Some("same-origin"),
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

/// `POST /login` (docs/API.md): authenticates and issues a code.
pub async fn login<S: Store>(app: &App<'_, S>, req: &Incoming) -> Outgoing {
    let json = req.wants_json();
    let fail = |e: OAuthError| if json { Outgoing::error(&e) } else { sign_in_error_page(app, &e) };
    if is_cross_site(&app.provider.config.issuer, req) {
        return fail(OAuthError::access_denied("cross-site login form posts are refused"));
    }
    let form = match req.form() {
        Ok(f) => f,
        Err(e) => return fail(e),
    };
    let fields = (|| -> OAuthResult<_> {
        let need = |k: &str| -> OAuthResult<String> { form.get(k)?.ok_or_else(|| OAuthError::invalid_request(format!("{k} is required"))) };
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
    // A browser's post must carry its own anti-CSRF token (csrf.rs); API clients need none.
    if csrf::from_browser(req) && !csrf::verify(req, &app.provider.config.issuer, form.get(csrf::FIELD).ok().flatten().as_deref()) {
        let e = OAuthError::access_denied("the sign-in form is missing its anti-CSRF token or has expired; load it again");
        return if json {
            Outgoing::error(&e)
        } else {
            login_page(app, req, 403, &r, &username, Some("This sign-in form has expired. Please sign in again."))
        };
    }
    let user = match app.provider.authenticate_user(&username, &password).await {
        Ok(u) => u,
        Err(e) if e.code == ErrorCode::Http(HttpCode::RateLimited) && !json => {
            let wait = e.retry_after.unwrap_or(60);
            let msg = format!("Too many failed sign-in attempts. Try again in {wait} seconds.");
            return login_page(app, req, 429, &r, &username, Some(&msg)).header("retry-after", &wait.to_string());
        }
        Err(e) => return fail(e),
    };
    let Some(user) = user else {
        let msg = "Invalid username or password.";
        return if json {
            Outgoing::error(&OAuthError::new(ErrorCode::AccessDenied, "invalid username or password")).with_status(401)
        } else {
            login_page(app, req, 401, &r, &username, Some(msg))
        };
    };
    if !json {
        // A browser: the second step, set-up, consent or the code (second_factor.rs).
        let auth = Authentication::password(app.provider.now);
        return super::second_factor::continue_sign_in(app, req, Some(&r), &user, auth, true).await;
    }
    // An API caller (the contract's JSON `/login`): a person with an authenticator app sends
    // its code as `otp` with the password; what needs a page (setting an app up, consent) is
    // refused with the OIDC error that says so.
    let mut auth = Authentication::password(app.provider.now);
    match app.provider.has_totp(&user.id).await {
        Ok(false) => {}
        Ok(true) => match form.opt("otp").ok().flatten() {
            None => {
                return Outgoing::error(&OAuthError::new(
                    ErrorCode::InteractionRequired,
                    "this account has two-step sign-in: send the authenticator code as otp, or sign in in a browser",
                ))
            }
            Some(code) => match app.provider.check_second_factor(&user, &code).await {
                Ok(Some(_)) => auth = Authentication::password_and_code(app.provider.now),
                Ok(None) => {
                    return Outgoing::error(&OAuthError::new(
                        ErrorCode::AccessDenied,
                        "the authentication code is not right, or was already used",
                    ))
                    .with_status(401)
                }
                Err(e) => return fail(e),
            },
        },
        Err(e) => return fail(e),
    }
    if r.requires_strong && !auth.is_strong() {
        return Outgoing::error(&OAuthError::new(
            ErrorCode::InteractionRequired,
            "this client requires two-step sign-in: set up an authenticator app in a browser first",
        ));
    }
    // A third-party client needs the person's consent (consent.rs), which needs a browser.
    match app.provider.needs_consent(&r, &user.id, r.prompt_consent).await {
        Ok(true) => Outgoing::error(&OAuthError::new(
            ErrorCode::ConsentRequired,
            "this client is third-party: the person must allow it in a browser (GET /authorize)",
        )),
        Ok(false) => match app.provider.issue_code(&r, &user, &auth).await {
            Ok(location) => Outgoing::json(200, &location),
            Err(e) => fail(e),
        },
        Err(e) => fail(e),
    }
}

/// `GET|POST /logout` (RP-Initiated Logout 1.0 §2-§3): ends the browser session and redirects
/// only to a URI registered for the client named by `id_token_hint` or `client_id`, otherwise
/// shows the signed-out page. Without a valid `id_token_hint`, a signed-in browser is first asked
/// to confirm ("the OP SHOULD ask the End-User whether to log out", §2): a page whose "Sign out"
/// button posts back with the browser's anti-CSRF token, so no cross-site link or form can end
/// the session. A request that cannot be followed ends nothing.
pub async fn logout<S: Store>(app: &App<'_, S>, req: &Incoming) -> Outgoing {
    let issuer = &app.provider.config.issuer;
    let show_error = |msg: &str| error_page(app, 400, "Cannot sign out", msg);
    let params = if req.method == "POST" && req.is_form() { req.form() } else { req.query_params() };
    let parsed = params.and_then(|p| {
        let logout = LogoutRequest {
            id_token_hint: p.opt("id_token_hint")?,
            client_id: p.opt("client_id")?,
            post_logout_redirect_uri: p.opt("post_logout_redirect_uri")?,
            state: p.opt("state")?,
        };
        Ok((logout, p.opt(csrf::FIELD)?))
    });
    let (logout, token) = match parsed {
        Ok(l) => l,
        Err(e) => return show_error(&e.description),
    };
    let target = match app.provider.logout_redirect(&logout).await {
        Ok(t) => t,
        Err(LogoutError::Show(msg)) => return show_error(msg),
        Err(LogoutError::Server(e)) => return Outgoing::error(&e),
    };
    let session = session_token(app, req);
    // `logout_redirect` accepted the hint, if there was one: an ID token of this issuer. It
    // stands for the person's request only when it is for the session's own user; anyone's ID
    // token (a forced sign-out) gets the confirmation page like no hint at all.
    let hint_is_the_sessions = match (&target.hinted_subject, session) {
        (Some(sub), Some(t)) => match app.provider.current_session(t).await {
            Ok(found) => found.is_some_and(|(_, user)| &user.id == sub),
            Err(e) => return Outgoing::error(&e),
        },
        _ => false,
    };
    let confirmed = hint_is_the_sessions || (req.method == "POST" && csrf::verify(req, issuer, token.as_deref()));
    if session.is_some() && !confirmed {
        // The confirmation carries the client the hint named, so that its redirect still works.
        let logout = LogoutRequest { client_id: target.client_id.clone().or(logout.client_id), ..logout };
        return confirm_sign_out(app, req, &logout);
    }
    if let Some(t) = session {
        if let Err(e) = app.provider.end_session(t).await {
            return Outgoing::error(&e);
        }
    }
    let out = match target.location {
        Some(location) => Outgoing::redirect(&location),
        None => Outgoing::html(200, pages::signed_out(&app.branding)),
    };
    out.header("set-cookie", &session_cookie(issuer, "", 0))
}

/// The page asking a signed-in person to confirm signing out; its form carries the request's
/// parameters and the browser's anti-CSRF token back to `POST /logout`.
fn confirm_sign_out<S>(app: &App<'_, S>, req: &Incoming, logout: &LogoutRequest) -> Outgoing {
    let issuer = &app.provider.config.issuer;
    let token = csrf::token(req, issuer);
    let mut hidden: Vec<(&str, &str)> = vec![(csrf::FIELD, token.as_str())];
    for (k, v) in
        [("client_id", &logout.client_id), ("post_logout_redirect_uri", &logout.post_logout_redirect_uri), ("state", &logout.state)]
    {
        if let Some(v) = v {
            hidden.push((k, v));
        }
    }
    // As on the sign-in page, form-action must allow the redirect that follows the post.
    let form_action = match &logout.post_logout_redirect_uri {
        Some(uri) => format!("'self' {}", origin_of(uri)),
        None => "'self'".to_string(),
    };
    let page = Outgoing::html(200, pages::confirm_sign_out(&app.branding, &hidden))
        .header("content-security-policy", &super::page_csp(&form_action));
    csrf::set_cookie(page, issuer, &token)
}
