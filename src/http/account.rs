//! `/account`: a signed-in person's own page (docs/API.md "Account"): who they are, "Change
//! password" (the current and a new password; every other session and grant ends), "Connected
//! apps" (third-party clients they allowed, each with "Remove access") and "Sign out". Without a session it asks them to sign in first (`/account/login`), then comes back.
//! Every form carries the browser's anti-CSRF token (`csrf.rs`).

use super::authorize::{session_cookie, session_token};
use super::pages::{self, ConnectedApp, Notice};
use super::{csrf, App, Incoming, Outgoing};
use crate::crypto::sha256_b64url;
use crate::oauth::error::HttpCode;
use crate::oauth::{ErrorCode, OAuthError};
use crate::store::{Store, User};

/// A page with a form: the browser's anti-CSRF token goes into `html` and its cookie.
fn with_token<S>(app: &App<'_, S>, req: &Incoming, status: u16, html: impl FnOnce(&str) -> String) -> Outgoing {
    let issuer = &app.provider.config.issuer;
    let token = csrf::token(req, issuer);
    csrf::set_cookie(Outgoing::html(status, html(&token)), issuer, &token)
}

/// The sign-in form of the account page (no session).
fn sign_in_page<S>(app: &App<'_, S>, req: &Incoming, status: u16, username: &str, notice: Option<Notice<'_>>) -> Outgoing {
    with_token(app, req, status, |token| pages::account_sign_in(&app.branding, token, username, notice.as_ref()))
}

/// The account page of `user`, with the clients they allowed.
async fn account_page<S: Store>(app: &App<'_, S>, req: &Incoming, status: u16, user: &User, notice: Option<Notice<'_>>) -> Outgoing {
    let apps = match app.provider.connected_apps(&user.id).await {
        Ok(a) => a,
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
    with_token(app, req, status, |token| pages::account(&app.branding, token, &user.username, &user.email, &apps, notice.as_ref()))
}

/// What every form post of a signed-in account page needs: the session's user (and its id
/// hash), the form, and the form's own anti-CSRF token; otherwise the page saying what is wrong.
async fn signed_in_post<S: Store>(app: &App<'_, S>, req: &Incoming) -> Result<(User, String, super::request::Params), Outgoing> {
    let (user, session) = match signed_in(app, req).await {
        Ok(Some(s)) => s,
        Ok(None) => return Err(sign_in_page(app, req, 401, "", Some(Notice::Error("Sign in first.")))),
        Err(e) => return Err(Outgoing::error(&e)),
    };
    let form = match req.form() {
        Ok(f) => f,
        Err(e) => return Err(account_page(app, req, 400, &user, Some(Notice::Error(&e.description))).await),
    };
    if !csrf::verify(req, &app.provider.config.issuer, Some(&form_field(&form, csrf::FIELD))) {
        return Err(account_page(app, req, 403, &user, Some(Notice::Error("This form has expired. Please try again."))).await);
    }
    Ok((user, session, form))
}

/// The signed-in user behind the request's session cookie, with the session's id hash.
async fn signed_in<S: Store>(app: &App<'_, S>, req: &Incoming) -> Result<Option<(User, String)>, OAuthError> {
    let Some(token) = session_token(app, req) else { return Ok(None) };
    Ok(app.provider.current_session(token).await?.map(|(_, user)| (user, sha256_b64url(token))))
}

fn form_field(form: &super::request::Params, name: &str) -> String {
    form.get(name).ok().flatten().unwrap_or_default()
}

/// `GET /account`.
pub async fn show<S: Store>(app: &App<'_, S>, req: &Incoming) -> Outgoing {
    match signed_in(app, req).await {
        Ok(Some((user, _))) => account_page(app, req, 200, &user, None).await,
        Ok(None) => sign_in_page(app, req, 200, "", None),
        Err(e) => Outgoing::error(&e),
    }
}

/// `POST /account/login`: the same password check as everywhere (throttled), then a session.
pub async fn sign_in<S: Store>(app: &App<'_, S>, req: &Incoming) -> Outgoing {
    let form = match req.form() {
        Ok(f) => f,
        Err(e) => return sign_in_page(app, req, 400, "", Some(Notice::Error(&e.description))),
    };
    let username = form_field(&form, "username");
    let issuer = &app.provider.config.issuer;
    if !csrf::verify(req, issuer, Some(&form_field(&form, csrf::FIELD))) {
        return sign_in_page(app, req, 403, &username, Some(Notice::Error("This form has expired. Please sign in again.")));
    }
    match app.provider.authenticate_user(&username, &form_field(&form, "password")).await {
        Ok(Some(user)) => match app.provider.start_session(&user).await {
            Ok(token) => Outgoing::empty(303)
                .header("location", "/account")
                .header("set-cookie", &session_cookie(issuer, &token, app.provider.config.session_ttl)),
            Err(e) => Outgoing::error(&e),
        },
        Ok(None) => sign_in_page(app, req, 401, &username, Some(Notice::Error("Invalid username or password."))),
        Err(e) if e.code == ErrorCode::Http(HttpCode::RateLimited) => {
            let wait = e.retry_after.unwrap_or(60);
            sign_in_page(
                app,
                req,
                429,
                &username,
                Some(Notice::Error(&format!("Too many failed sign-in attempts. Try again in {wait} seconds."))),
            )
            .header("retry-after", &wait.to_string())
        }
        Err(e) => Outgoing::error(&e),
    }
}

/// `POST /account/password`: "Change password".
pub async fn change_password<S: Store>(app: &App<'_, S>, req: &Incoming) -> Outgoing {
    let (user, session, form) = match signed_in_post(app, req).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    let result = app
        .provider
        .change_own_password(&user, &form_field(&form, "current_password"), &form_field(&form, "new_password"), Some(&session))
        .await;
    match result {
        Ok(()) => {
            account_page(app, req, 200, &user, Some(Notice::Done("Your password was changed. Your other sessions were signed out."))).await
        }
        Err(e) if e.status() < 500 => account_page(app, req, e.status(), &user, Some(Notice::Error(&e.description))).await,
        Err(e) => Outgoing::error(&e),
    }
}

/// `POST /account/apps`: "Remove access" for one connected app: its consent goes and the
/// person's grants with it end.
pub async fn remove_app<S: Store>(app: &App<'_, S>, req: &Incoming) -> Outgoing {
    let (user, _, form) = match signed_in_post(app, req).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    match app.provider.withdraw_consent(&user.id, &form_field(&form, "client_id")).await {
        Ok(true) => account_page(app, req, 200, &user, Some(Notice::Done("Access removed. The application must ask again."))).await,
        Ok(false) => account_page(app, req, 404, &user, Some(Notice::Error("That application has no access."))).await,
        Err(e) => Outgoing::error(&e),
    }
}
