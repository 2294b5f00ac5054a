//! The pages as responses: a page of `pages/` with its status, its CSP and the browser's
//! cookies (anti-CSRF token, session), and the flow's steps rendered (`step`). What to show is
//! decided by the handlers and the flow; nothing here decides or stores anything.

use super::cookies::{csrf_token, session_cookie, set_csrf_cookie, CSRF_FIELD};
use super::flow::{request_fields, Step};
use super::origin_of;
use super::pages::{self, factors, qr, Notice};
use crate::http::{page_csp, App, Incoming, Outgoing};
use crate::oauth::authorize::{error_redirect, AuthorizationRequest, AuthorizeError};
use crate::oauth::consent::{describe, redirect_host};
use crate::oauth::second_factor::TotpSetup;
use crate::oauth::secrets::SessionToken;
use crate::oauth::OAuthError;

/// A browser handler's answer: the page that follows, or (`Err`) the page that says why the
/// request cannot go on. Handlers return it as the API's return `OAuthResult`, so that `?`
/// carries a refusal out; the dispatcher shows either.
pub type Answer = Result<Outgoing, Outgoing>;

pub fn error_page<S, P>(app: &App<'_, S, P>, status: u16, title: &str, message: &str) -> Outgoing {
    Outgoing::html(status, pages::error(&app.branding, title, message))
}

/// The error page for a failed sign-in step; an internal failure's detail goes to the log.
pub fn sign_in_error_page<S, P>(app: &App<'_, S, P>, e: &OAuthError) -> Outgoing {
    error_page(app, e.status().max(400), "Cannot sign in", &e.description).with_log_detail(e.internal.clone())
}

/// An authorization request that cannot go on: shown (a bad client or redirect URI is never
/// redirected to), or back to the client with the error (RFC 6749 §4.1.2.1).
pub fn authorize_error<S, P>(app: &App<'_, S, P>, e: AuthorizeError) -> Outgoing {
    match e {
        AuthorizeError::Show(err) => sign_in_error_page(app, &err),
        AuthorizeError::Redirect { redirect_uri, state, error } => {
            Outgoing::redirect(&error_redirect(&redirect_uri, state.as_deref(), &error, &app.provider.config.issuer))
                .with_log_detail(error.internal)
        }
    }
}

fn refs<'a>(h: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    h.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// The CSP `form-action` of a page whose form ends in a redirect to `redirect_uri`: Chromium
/// applies form-action to the redirect that follows the post, so the client's origin is allowed
/// too (any port for a loopback redirect URI, as RFC 8252 §7.3 matches).
pub fn form_action(redirect_uri: &str) -> String {
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

/// The sign-in page, with the browser's anti-CSRF token in the form and its cookie.
pub fn login_page<S, P>(
    app: &App<'_, S, P>,
    req: &Incoming,
    status: u16,
    r: &AuthorizationRequest,
    username: &str,
    error: Option<&str>,
) -> Outgoing {
    let issuer = &app.provider.config.issuer;
    let token = csrf_token(req, issuer);
    let mut hidden = request_fields(r);
    hidden.push((CSRF_FIELD, token.clone()));
    let page = Outgoing::html(status, pages::login(&app.branding, &r.client.client_name, &refs(&hidden), username, error))
        .header("content-security-policy", &page_csp(&form_action(&r.redirect_uri)));
    set_csrf_cookie(page, issuer, &token)
}

/// The page asking the signed-in person whether `r.client` may have `r.scope`; its form posts
/// the question's record id (`pending`) back to `/consent` with the browser's anti-CSRF token
/// `csrf`, to which the record is bound.
pub fn consent_page<S, P>(app: &App<'_, S, P>, r: &AuthorizationRequest, pending: &str, csrf: &str) -> Outgoing {
    let issuer = &app.provider.config.issuer;
    let hidden = carried(pending, csrf);
    let hidden = refs(&hidden);
    let resources: Vec<&str> = r.resources.iter().map(|x| x.as_str()).collect();
    let page = pages::Consent {
        client_name: &r.client.client_name,
        redirect_host: redirect_host(&r.redirect_uri),
        client_uri: r.client.client_uri.as_deref(),
        permissions: &describe(&r.scope),
        resources: &resources,
        hidden: &hidden,
    };
    let out = Outgoing::html(200, pages::consent(&app.branding, &page))
        .header("content-security-policy", &page_csp(&form_action(&r.redirect_uri)));
    set_csrf_cookie(out, issuer, csrf)
}

/// The form fields of a pending sign-in's page: the record's id and the anti-CSRF token (the
/// request is in the record).
pub fn carried(pending: &str, csrf: &str) -> Vec<(&'static str, String)> {
    vec![("pending", pending.to_string()), (CSRF_FIELD, csrf.to_string())]
}

/// A page of the sign-in flow, with the browser's anti-CSRF cookie. Its form ends in a redirect
/// to the client (`r`'s redirect URI), which Chromium checks against CSP `form-action` as well,
/// so the client's origin is allowed there as on the sign-in page.
pub fn flow_page<S, P>(app: &App<'_, S, P>, status: u16, csrf: &str, r: Option<&AuthorizationRequest>, body: String) -> Outgoing {
    let mut page = Outgoing::html(status, body);
    if let Some(r) = r {
        page = page.header("content-security-policy", &page_csp(&form_action(&r.redirect_uri)));
    }
    set_csrf_cookie(page, &app.provider.config.issuer, csrf)
}

/// The second step's page ("Authentication code").
pub fn second_factor_page<S, P>(
    app: &App<'_, S, P>,
    status: u16,
    csrf: &str,
    r: Option<&AuthorizationRequest>,
    hidden: &[(&'static str, String)],
    notice: Option<&Notice<'_>>,
) -> Outgoing {
    flow_page(app, status, csrf, r, factors::second_factor(&app.branding, &refs(hidden), notice))
}

/// The set-up page of a sign-in whose client demands two factors.
pub fn enroll_page<S, P>(
    app: &App<'_, S, P>,
    status: u16,
    r: &AuthorizationRequest,
    setup: &TotpSetup,
    hidden: &[(&'static str, String)],
    csrf: &str,
    notice: Option<Notice<'_>>,
) -> Outgoing {
    let qr = qr::svg(&setup.uri, "QR code of the authenticator app key");
    let body = factors::enroll(&app.branding, &r.client.client_name, setup, qr.as_deref(), &refs(hidden), notice.as_ref());
    flow_page(app, status, csrf, Some(r), body)
}

/// The recovery codes shown once after an app was set up in a sign-in, with the form that goes on.
pub fn recovery_codes_page<S, P>(app: &App<'_, S, P>, csrf: &str, r: &AuthorizationRequest, codes: &[String], pending: &str) -> Outgoing {
    let carry = carried(pending, csrf);
    flow_page(app, 200, csrf, Some(r), factors::recovery_codes(&app.branding, codes, Some(&refs(&carry))))
}

/// Too many wrong codes: the second step's page again, with how long to wait.
pub fn too_many<S, P>(
    app: &App<'_, S, P>,
    csrf: &str,
    r: Option<&AuthorizationRequest>,
    hidden: &[(&'static str, String)],
    e: &OAuthError,
) -> Outgoing {
    let wait = e.retry_after.unwrap_or(60);
    let msg = format!("Too many failed attempts. Try again in {wait} seconds.");
    second_factor_page(app, 429, csrf, r, hidden, Some(&Notice::Error(&msg))).header("retry-after", &wait.to_string())
}

/// A step of the sign-in flow as the browser gets it; a started session comes as its cookie.
pub fn step<S, P>(app: &App<'_, S, P>, r: Option<&AuthorizationRequest>, csrf: &str, step: Step) -> Outgoing {
    let with_session = |out: Outgoing, session: Option<SessionToken>| match session {
        Some(token) => {
            out.header("set-cookie", &session_cookie(&app.provider.config.issuer, token.expose(), app.provider.config.session_ttl))
        }
        None => out,
    };
    let to_account = || Outgoing::empty(303).header("location", "/account");
    match (step, r) {
        (Step::SecondFactor { pending }, r) => second_factor_page(app, 200, csrf, r, &carried(&pending, csrf), None),
        (Step::Enroll { pending, setup }, Some(r)) => enroll_page(app, 200, r, &setup, &carried(&pending, csrf), csrf, None),
        (Step::Enroll { pending, .. }, None) => second_factor_page(app, 200, csrf, None, &carried(&pending, csrf), None),
        (Step::Consent { pending, session }, Some(r)) => with_session(consent_page(app, r, &pending, csrf), session),
        (Step::Consent { session, .. }, None) => with_session(to_account(), session),
        (Step::Done { location: Some(location), session }, _) => with_session(Outgoing::redirect(&location), session),
        (Step::Done { location: None, session }, _) => with_session(to_account(), session),
    }
}

/// A description as a sentence for a page.
pub fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_uppercase(), c.as_str().trim_end_matches('.')),
        None => String::new(),
    }
}
