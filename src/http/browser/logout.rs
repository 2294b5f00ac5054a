//! `GET|POST /logout` (RP-Initiated Logout 1.0): the browser session ends, after a question when
//! the request may not be the person's own. A relying party may send the request cross-site (a
//! link, or a form post), so it does not go through the prologue: what confirms it is a valid
//! `id_token_hint` for the session's user, or the question's form posted back with the
//! browser's anti-CSRF token.

use super::cookies::{csrf_token, csrf_verified, session_cookie, session_token, set_csrf_cookie, CSRF_FIELD};
use super::origin_of;
use super::pages;
use super::views::{error_page, Answer};
use crate::http::{page_csp, App, Incoming, Outgoing};
use crate::oauth::logout::{LogoutError, LogoutRequest};
use crate::store::{Platform, Store};

/// `GET|POST /logout` (RP-Initiated Logout 1.0 §2-§3): ends the browser session and redirects
/// only to a URI registered for the client named by `id_token_hint` or `client_id`, otherwise
/// shows the signed-out page. Without a valid `id_token_hint`, a signed-in browser is first asked
/// to confirm ("the OP SHOULD ask the End-User whether to log out", §2): a page whose "Sign out"
/// button posts back with the browser's anti-CSRF token, so no cross-site link or form can end
/// the session. A request that cannot be followed ends nothing.
pub async fn logout<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Answer {
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
        Ok((logout, p.opt(CSRF_FIELD)?))
    });
    let (logout, token) = parsed.map_err(|e| show_error(&e.description))?;
    let target = app.provider.logout_redirect(&logout).await.map_err(|e| match e {
        LogoutError::Show(msg) => show_error(msg),
        LogoutError::Server(e) => Outgoing::error(&e),
    })?;
    let session = session_token(req, issuer);
    // `logout_redirect` accepted the hint, if there was one: an ID token of this issuer. It
    // stands for the person's request only when it is for the session's own user; anyone's ID
    // token (a forced sign-out) gets the confirmation page like no hint at all.
    let hint_is_the_sessions = match (&target.hinted_subject, &session) {
        (Some(sub), Some(t)) => {
            app.provider.current_session(t).await.map_err(|e| Outgoing::error(&e))?.is_some_and(|(_, user)| &user.id == sub)
        }
        _ => false,
    };
    let confirmed = hint_is_the_sessions || (req.method == "POST" && csrf_verified(req, issuer, token.as_deref()));
    if session.is_some() && !confirmed {
        // The confirmation carries the client the hint named, so that its redirect still works.
        let logout = LogoutRequest { client_id: target.client_id.clone().or(logout.client_id), ..logout };
        return Ok(confirm_sign_out(app, req, &logout));
    }
    if let Some(t) = &session {
        app.provider.end_session(t).await.map_err(|e| Outgoing::error(&e))?;
    }
    let out = match target.location {
        Some(location) => Outgoing::redirect(&location),
        None => Outgoing::html(200, pages::signed_out(&app.branding)),
    };
    Ok(out.header("set-cookie", &session_cookie(issuer, "", 0)))
}

/// The page asking a signed-in person to confirm signing out; its form carries the request's
/// parameters and the browser's anti-CSRF token back to `POST /logout`.
fn confirm_sign_out<S, P>(app: &App<'_, S, P>, req: &Incoming, logout: &LogoutRequest) -> Outgoing {
    let issuer = &app.provider.config.issuer;
    let token = csrf_token(req, issuer);
    let mut hidden: Vec<(&str, &str)> = vec![(CSRF_FIELD, token.as_str())];
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
    let page =
        Outgoing::html(200, pages::confirm_sign_out(&app.branding, &hidden)).header("content-security-policy", &page_csp(&form_action));
    set_csrf_cookie(page, issuer, &token)
}
