//! The account page as a response (`account_page`, and its sign-in form without a session),
//! with what it lists (passkeys, two-step sign-in, sessions, connected apps), and what every
//! post of a signed-in account page runs first (`signed_in_post`: the session's user, then the
//! prologue). Shared by the account's and the passkeys' handlers, below both.

use super::cookies::{csrf_token, session_token, set_csrf_cookie};
use super::pages::factors::{self, PasskeyItem, SessionItem};
use super::pages::{self, ConnectedApp, Notice};
use super::prologue::{self, Callers, Refused};
use super::views::error_page;
use crate::crypto::sha256_b64url;
use crate::http::request::Params;
use crate::http::{iso8601, App, Incoming, Outgoing};
use crate::oauth::OAuthError;
use crate::store::{Platform, Store, User};
use maud::{html, Markup};

/// A page with a form: the browser's anti-CSRF token goes into `html` and its cookie.
pub fn with_token<S, P>(app: &App<'_, S, P>, req: &Incoming, status: u16, html: impl FnOnce(&str) -> String) -> Outgoing {
    let issuer = &app.provider.config.issuer;
    let token = csrf_token(req, issuer);
    set_csrf_cookie(Outgoing::html(status, html(&token)), issuer, &token)
}

/// The sign-in form of the account page (no session).
pub fn sign_in_page<S, P>(app: &App<'_, S, P>, req: &Incoming, status: u16, username: &str, notice: Option<Notice<'_>>) -> Outgoing {
    with_token(app, req, status, |token| pages::account_sign_in(&app.branding, token, username, notice.as_ref()))
}

/// The account page's sections between the password and the apps: passkeys, two-step sign-in
/// and the browser sessions.
async fn sections<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming, user: &User, csrf: &str) -> Result<Markup, OAuthError> {
    let p = &app.provider;
    let totp = p.has_totp(&user.id).await?;
    let left = if totp { p.recovery_codes_left(&user.id).await? } else { 0 };
    let current = session_token(req, &p.config.issuer).map(|t| sha256_b64url(t.expose()));
    let sessions: Vec<SessionItem> = p
        .store
        .sessions_of(&user.id, p.now)
        .await?
        .into_iter()
        .map(|s| SessionItem {
            current: current.as_deref() == Some(s.id_hash.as_str()),
            signed_in: iso8601(s.auth_time),
            browser: s.user_agent,
            id: s.id_hash,
        })
        .collect();
    let passkeys: Vec<PasskeyItem> = p
        .passkeys_of(&user.id)
        .await?
        .into_iter()
        .map(|k| PasskeyItem { added: iso8601(k.created_at), last_used: k.last_used_at.map(iso8601), name: k.name, id: k.credential_id })
        .collect();
    Ok(html! {
        (factors::passkeys_section(csrf, &passkeys))
        (factors::totp_section(csrf, totp, left))
        (factors::sessions_section(csrf, &sessions))
    })
}

/// The account page of `user`, with the clients they allowed.
pub async fn account_page<S: Store, P: Platform>(
    app: &App<'_, S, P>,
    req: &Incoming,
    status: u16,
    user: &User,
    notice: Option<Notice<'_>>,
) -> Outgoing {
    let apps = match app.provider.connected_apps(&user.id).await {
        Ok(a) => a,
        Err(e) => return Outgoing::error(&e),
    };
    let token = csrf_token(req, &app.provider.config.issuer);
    let sections = match sections(app, req, user, &token).await {
        Ok(s) => s,
        Err(e) => return Outgoing::error(&e),
    };
    let apps: Vec<ConnectedApp> = apps
        .into_iter()
        .map(|c| ConnectedApp {
            permissions: crate::oauth::consent::describe(&crate::oauth::scope::Scope::parse(&c.scope).unwrap_or_default()),
            client_id: c.client_id,
            name: c.client_name,
        })
        .collect();
    with_token(app, req, status, |token| {
        pages::account(&app.branding, token, &user.username, &user.email, sections, &apps, notice.as_ref())
    })
}

/// What every form post of a signed-in account page needs: the session's user (and its id
/// hash), and a form that passed the prologue; otherwise the page saying what is wrong.
pub async fn signed_in_post<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Result<(User, String, Params), Outgoing> {
    let (user, session) = match signed_in(app, req).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(sign_in_page(app, req, 401, "", Some(Notice::Error("Sign in first.")))),
        Err(e) => return Err(Outgoing::error(&e)),
    };
    match prologue::post(req, &app.provider.config.issuer, Callers::Browsers) {
        Ok(post) => Ok((user, session, post.form)),
        Err(Refused::CrossSite) => Err(error_page(app, 403, "Cannot continue", "Cross-site form posts are refused.")),
        Err(Refused::Malformed(e)) => Err(account_page(app, req, 400, &user, Some(Notice::Error(&e.description))).await),
        Err(Refused::Expired) => {
            Err(account_page(app, req, 403, &user, Some(Notice::Error("This form has expired. Please try again."))).await)
        }
    }
}

/// The signed-in user behind the request's session cookie, with the session's id hash.
pub async fn signed_in<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Result<Option<(User, String)>, OAuthError> {
    let Some(token) = session_token(req, &app.provider.config.issuer) else { return Ok(None) };
    Ok(app.provider.current_session(&token).await?.map(|(_, user)| (user, sha256_b64url(token.expose()))))
}

pub fn form_field(form: &Params, name: &str) -> String {
    form.get(name).ok().flatten().unwrap_or_default()
}
