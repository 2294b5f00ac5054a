//! What follows a successful authentication step in a browser (`continue_sign_in`): the second
//! step (`POST /login/second-factor`), setting an app up when the client demands two factors,
//! consent, then the code (or the account page) and the session.
//!
//! A pending sign-in is a `Challenge` bound to the browser's anti-CSRF cookie, short-lived, and
//! taken (deleted) when its step succeeds; the authorization request travels in the forms'
//! hidden fields and is validated again at each step, as at `/login`.

use super::authorize::{authorize_error, form_action, hidden_fields, is_cross_site, params_from, session_cookie, sign_in_error_page};
use super::factor_pages;
use super::pages::Notice;
use super::request::Params;
use super::{csrf, qr, App, Incoming, Outgoing};
use crate::oauth::amr::Authentication;
use crate::oauth::authorize::AuthorizationRequest;
use crate::oauth::error::HttpCode;
use crate::oauth::prompt::NextStep;
use crate::oauth::second_factor::{sign_in_data, ChallengeKind};
use crate::oauth::{ErrorCode, OAuthError};
use crate::store::{Store, User};

/// The pending sign-in's form fields: its token, the anti-CSRF token, and the request.
fn carried(r: Option<&AuthorizationRequest>, pending: &str, csrf_token: &str) -> Vec<(&'static str, String)> {
    let mut h = vec![("pending", pending.to_string()), (csrf::FIELD, csrf_token.to_string())];
    if let Some(r) = r {
        h.extend(hidden_fields(r));
    }
    h
}

fn refs<'a>(h: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    h.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

/// A page of this flow, with the browser's anti-CSRF cookie. Its form ends in a redirect to the
/// client (`r`'s redirect URI), which Chromium checks against CSP `form-action` as well, so the
/// client's origin is allowed there as on the sign-in page.
fn html<S>(app: &App<'_, S>, status: u16, csrf_token: &str, r: Option<&AuthorizationRequest>, body: String) -> Outgoing {
    let mut page = Outgoing::html(status, body);
    if let Some(r) = r {
        page = page.header("content-security-policy", &super::page_csp(&form_action(&r.redirect_uri)));
    }
    csrf::set_cookie(page, &app.provider.config.issuer, csrf_token)
}

/// Signs the browser in (a session of `auth`) on `out`.
async fn with_session<S: Store>(app: &App<'_, S>, req: &Incoming, out: Outgoing, user: &User, auth: &Authentication) -> Outgoing {
    let agent = req.header("user-agent").unwrap_or("");
    match app.provider.start_session(user, auth, agent).await {
        Ok(token) => out.header("set-cookie", &session_cookie(&app.provider.config.issuer, &token, app.provider.config.session_ttl)),
        Err(_) => out,
    }
}

/// Carries a browser sign-in on after `auth` succeeded for `user` (`fresh_password`: it was
/// the password form). `r` is the authorization request; `None` for the account page.
pub async fn continue_sign_in<S: Store>(
    app: &App<'_, S>,
    req: &Incoming,
    r: Option<&AuthorizationRequest>,
    user: &User,
    auth: Authentication,
    fresh_password: bool,
) -> Outgoing {
    let issuer = &app.provider.config.issuer;
    let step = match app.provider.next_step(r, user, &auth, fresh_password).await {
        Ok(s) => s,
        Err(e) => return sign_in_error_page(app, &e),
    };
    let csrf_token = csrf::token(req, issuer);
    match step {
        NextStep::SecondFactor | NextStep::Enroll => {
            let kind = if step == NextStep::Enroll { ChallengeKind::Enroll } else { ChallengeKind::SecondFactor };
            let pending = match app.provider.start_challenge(kind, Some(&user.id), &csrf_token, &sign_in_data(&auth)).await {
                Ok(t) => t,
                Err(e) => return sign_in_error_page(app, &e),
            };
            let hidden = carried(r, &pending, &csrf_token);
            match (step, r) {
                (NextStep::Enroll, Some(r)) => enroll_page(app, 200, r, user, &hidden, &csrf_token, None).await,
                _ => html(app, 200, &csrf_token, r, factor_pages::second_factor(&app.branding, &refs(&hidden), None)),
            }
        }
        NextStep::Consent => match r {
            Some(r) => {
                let page = super::consent::consent_page(app, req, r);
                with_session(app, req, page, user, &auth).await
            }
            None => with_session(app, req, Outgoing::empty(303).header("location", "/account"), user, &auth).await,
        },
        NextStep::Finish => {
            let out = match r {
                Some(r) => match app.provider.issue_code(r, user, &auth).await {
                    Ok(location) => Outgoing::redirect(&location),
                    Err(e) => return sign_in_error_page(app, &e),
                },
                None => Outgoing::empty(303).header("location", "/account"),
            };
            with_session(app, req, out, user, &auth).await
        }
    }
}

/// The set-up page of a sign-in whose client demands two factors.
async fn enroll_page<S: Store>(
    app: &App<'_, S>,
    status: u16,
    r: &AuthorizationRequest,
    user: &User,
    hidden: &[(&'static str, String)],
    csrf_token: &str,
    notice: Option<Notice<'_>>,
) -> Outgoing {
    let setup = match app.provider.begin_totp_setup(user, false).await {
        Ok(s) => s,
        Err(e) => return sign_in_error_page(app, &e),
    };
    let qr = qr::svg(&setup.uri, "QR code of the authenticator app key");
    let body = factor_pages::enroll(&app.branding, &r.client.client_name, &setup, qr.as_deref(), &refs(hidden), notice.as_ref());
    html(app, status, csrf_token, Some(r), body)
}

/// The authorization request a sign-in step's form carries, checked again as if new (nothing
/// in a form is trusted); `None` without `client_id` (the account page's sign-in).
pub(super) async fn request_in_form<S: Store>(app: &App<'_, S>, form: &Params) -> Result<Option<AuthorizationRequest>, Outgoing> {
    if form.get("client_id").ok().flatten().unwrap_or_default().is_empty() {
        return Ok(None);
    }
    let mut p = params_from(form, "redirect").map_err(|e| sign_in_error_page(app, &e))?;
    p.response_type = Some("code".into());
    app.provider.validate_authorization(&p).await.map(Some).map_err(|e| authorize_error(app, e))
}

/// `POST /login/second-factor`.
pub async fn submit<S: Store>(app: &App<'_, S>, req: &Incoming) -> Outgoing {
    let issuer = &app.provider.config.issuer;
    let expired = || {
        super::authorize::error_page(app, 403, "Cannot sign in", "This sign-in has expired. Go back to the application and start again.")
    };
    if is_cross_site(issuer, req) {
        return expired();
    }
    let form = match req.form() {
        Ok(f) => f,
        Err(e) => return sign_in_error_page(app, &e),
    };
    let field = |k: &str| form.get(k).ok().flatten().unwrap_or_default();
    let csrf_token = field(csrf::FIELD);
    if !csrf::verify(req, issuer, Some(&csrf_token)) {
        return expired();
    }
    let pending = field("pending");
    let kinds = [ChallengeKind::SecondFactor, ChallengeKind::Enroll, ChallengeKind::Verified];
    let challenge = match app.provider.find_challenge(&pending, &kinds, &csrf_token, false).await {
        Ok(Some(c)) => c,
        Ok(None) => return expired(),
        Err(e) => return sign_in_error_page(app, &e),
    };
    let (user, auth) = match app.provider.pending_sign_in(&challenge).await {
        Ok(Some(x)) => x,
        Ok(None) => return expired(),
        Err(e) => return sign_in_error_page(app, &e),
    };
    let r = match request_in_form(app, &form).await {
        Ok(r) => r,
        Err(page) => return page,
    };
    let hidden = carried(r.as_ref(), &pending, &csrf_token);
    let code = field("code");
    let take = || async { app.provider.find_challenge(&pending, &kinds, &csrf_token, true).await };
    let kind = challenge.kind.as_str();
    if kind == ChallengeKind::Verified.as_str() {
        return match take().await {
            Ok(Some(_)) => continue_sign_in(app, req, r.as_ref(), &user, auth, false).await,
            Ok(None) => expired(),
            Err(e) => sign_in_error_page(app, &e),
        };
    }
    if kind == ChallengeKind::Enroll.as_str() {
        let Some(r) = r.as_ref() else { return expired() };
        return match app.provider.confirm_totp(&user, &code).await {
            Ok(codes) => {
                if !matches!(take().await, Ok(Some(_))) {
                    return expired();
                }
                let strong = Authentication::password_and_code(app.provider.now);
                let next = match app
                    .provider
                    .start_challenge(ChallengeKind::Verified, Some(&user.id), &csrf_token, &sign_in_data(&strong))
                    .await
                {
                    Ok(t) => t,
                    Err(e) => return sign_in_error_page(app, &e),
                };
                let carry = carried(Some(r), &next, &csrf_token);
                html(app, 200, &csrf_token, Some(r), factor_pages::recovery_codes(&app.branding, &codes, Some(&refs(&carry))))
            }
            Err(e) if e.code == ErrorCode::Http(HttpCode::RateLimited) => too_many(app, &csrf_token, Some(r), &hidden, &e),
            Err(e) if e.status() < 500 => {
                enroll_page(app, 400, r, &user, &hidden, &csrf_token, Some(Notice::Error(&capitalised(&e.description)))).await
            }
            Err(e) => sign_in_error_page(app, &e),
        };
    }
    match app.provider.check_second_factor(&user, &code).await {
        Ok(Some(_)) => match take().await {
            Ok(Some(_)) => continue_sign_in(app, req, r.as_ref(), &user, Authentication::password_and_code(app.provider.now), false).await,
            Ok(None) => expired(),
            Err(e) => sign_in_error_page(app, &e),
        },
        Ok(None) => {
            let notice = Notice::Error("That code is not right, or was already used.");
            html(app, 401, &csrf_token, r.as_ref(), factor_pages::second_factor(&app.branding, &refs(&hidden), Some(&notice)))
        }
        Err(e) if e.code == ErrorCode::Http(HttpCode::RateLimited) => too_many(app, &csrf_token, r.as_ref(), &hidden, &e),
        Err(e) => sign_in_error_page(app, &e),
    }
}

fn too_many<S>(
    app: &App<'_, S>,
    csrf_token: &str,
    r: Option<&AuthorizationRequest>,
    hidden: &[(&'static str, String)],
    e: &OAuthError,
) -> Outgoing {
    let wait = e.retry_after.unwrap_or(60);
    let msg = format!("Too many failed attempts. Try again in {wait} seconds.");
    html(app, 429, csrf_token, r, factor_pages::second_factor(&app.branding, &refs(hidden), Some(&Notice::Error(&msg))))
        .header("retry-after", &wait.to_string())
}

/// A description as a sentence for a page.
pub(super) fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => format!("{}{}.", f.to_uppercase(), c.as_str().trim_end_matches('.')),
        None => String::new(),
    }
}
