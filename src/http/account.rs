//! `/account`: a signed-in person's own page (docs/API.md "Account"): who they are, "Change
//! password" (the current and a new password; every other session and grant ends), "Connected
//! apps" (third-party clients they allowed, each with "Remove access") and "Sign out". Without a session it asks them to sign in first (`/account/login`), then comes back.
//! Every form carries the browser's anti-CSRF token (`csrf.rs`).

use super::authorize::session_token;
use super::factor_pages::{self, PasskeyItem, SessionItem};
use super::pages::{self, ConnectedApp, Notice};
use super::{csrf, App, Incoming, Outgoing};
use crate::crypto::sha256_b64url;
use crate::oauth::amr::Authentication;
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
pub(super) fn sign_in_page<S>(app: &App<'_, S>, req: &Incoming, status: u16, username: &str, notice: Option<Notice<'_>>) -> Outgoing {
    with_token(app, req, status, |token| pages::account_sign_in(&app.branding, token, username, notice.as_ref()))
}

/// The account page's sections between the password and the apps: passkeys, two-step sign-in
/// and the browser sessions (`csrf` already escaped).
async fn sections<S: Store>(app: &App<'_, S>, req: &Incoming, user: &User, csrf: &str) -> Result<String, OAuthError> {
    let p = &app.provider;
    let totp = p.has_totp(&user.id).await?;
    let left = if totp { p.recovery_codes_left(&user.id).await? } else { 0 };
    let current = session_token(app, req).map(sha256_b64url);
    let sessions: Vec<SessionItem> = p
        .store
        .sessions_of(&user.id, p.now)
        .await?
        .into_iter()
        .map(|s| SessionItem {
            current: current.as_deref() == Some(s.id_hash.as_str()),
            signed_in: crate::http::admin::iso8601(s.auth_time),
            browser: s.user_agent,
            id: s.id_hash,
        })
        .collect();
    let iso = crate::http::admin::iso8601;
    let passkeys: Vec<PasskeyItem> = p
        .passkeys_of(&user.id)
        .await?
        .into_iter()
        .map(|k| PasskeyItem { added: iso(k.created_at), last_used: k.last_used_at.map(iso), name: k.name, id: k.credential_id })
        .collect();
    Ok(format!(
        "{}{}{}",
        factor_pages::passkeys_section(csrf, &passkeys),
        factor_pages::totp_section(csrf, totp, left),
        factor_pages::sessions_section(csrf, &sessions)
    ))
}

/// The account page of `user`, with the clients they allowed.
pub(super) async fn account_page<S: Store>(
    app: &App<'_, S>,
    req: &Incoming,
    status: u16,
    user: &User,
    notice: Option<Notice<'_>>,
) -> Outgoing {
    let apps = match app.provider.connected_apps(&user.id).await {
        Ok(a) => a,
        Err(e) => return Outgoing::error(&e),
    };
    let token = csrf::token(req, &app.provider.config.issuer);
    let sections = match sections(app, req, user, &super::pages::escape(&token)).await {
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
        pages::account(&app.branding, token, &user.username, &user.email, &sections, &apps, notice.as_ref())
    })
}

/// What every form post of a signed-in account page needs: the session's user (and its id
/// hash), the form, and the form's own anti-CSRF token; otherwise the page saying what is wrong.
pub(super) async fn signed_in_post<S: Store>(app: &App<'_, S>, req: &Incoming) -> Result<(User, String, super::request::Params), Outgoing> {
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
pub(super) async fn signed_in<S: Store>(app: &App<'_, S>, req: &Incoming) -> Result<Option<(User, String)>, OAuthError> {
    let Some(token) = session_token(app, req) else { return Ok(None) };
    Ok(app.provider.current_session(token).await?.map(|(_, user)| (user, sha256_b64url(token))))
}

pub(super) fn form_field(form: &super::request::Params, name: &str) -> String {
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
        // The second step, if the account has one, then a session and back to /account.
        Ok(Some(user)) => {
            super::second_factor::continue_sign_in(app, req, None, &user, Authentication::password(app.provider.now), true).await
        }
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

/// The set-up page of the account's authenticator app (its key, URI and QR code, and the field
/// for its first code).
async fn totp_setup_page<S: Store>(app: &App<'_, S>, req: &Incoming, user: &User, status: u16, notice: Option<Notice<'_>>) -> Outgoing {
    let setup = match app.provider.begin_totp_setup(user, false).await {
        Ok(s) => s,
        Err(e) if e.status() < 500 => return account_page(app, req, e.status(), user, Some(Notice::Error(&e.description))).await,
        Err(e) => return Outgoing::error(&e),
    };
    let qr = super::qr::svg(&setup.uri, "QR code of the authenticator app key");
    with_token(app, req, status, |token| {
        factor_pages::account_totp_setup(&app.branding, &setup, qr.as_deref(), &[("csrf", token), ("action", "confirm")], notice.as_ref())
    })
}

/// `POST /account/totp`: `action=setup` shows the app's key (a new one unless one is being set
/// up), `action=confirm` checks its first code and shows the recovery codes once,
/// `action=recovery` replaces the recovery codes, `action=disable` turns the app off (both with a
/// fresh code).
pub async fn totp<S: Store>(app: &App<'_, S>, req: &Incoming) -> Outgoing {
    let (user, _, form) = match signed_in_post(app, req).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    let p = &app.provider;
    let code = form_field(&form, "code");
    match form_field(&form, "action").as_str() {
        "setup" => totp_setup_page(app, req, &user, 200, None).await,
        "confirm" => match p.confirm_totp(&user, &code).await {
            Ok(codes) => Outgoing::html(200, factor_pages::recovery_codes(&app.branding, &codes, None)),
            Err(e) if e.code == ErrorCode::Http(HttpCode::RateLimited) => {
                totp_setup_page(app, req, &user, 429, Some(Notice::Error("Too many failed attempts. Try again later."))).await
            }
            Err(e) if e.status() < 500 => {
                totp_setup_page(app, req, &user, 400, Some(Notice::Error(&super::second_factor::capitalised(&e.description)))).await
            }
            Err(e) => Outgoing::error(&e),
        },
        "recovery" => match p.new_recovery_codes(&user, &code).await {
            Ok(codes) => Outgoing::html(200, factor_pages::recovery_codes(&app.branding, &codes, None)),
            Err(e) => code_refused(app, req, &user, &e).await,
        },
        "disable" => match p.disable_totp(&user, &code).await {
            Ok(()) => account_page(app, req, 200, &user, Some(Notice::Done("Two-step sign-in is off."))).await,
            Err(e) => code_refused(app, req, &user, &e).await,
        },
        _ => account_page(app, req, 400, &user, Some(Notice::Error("Unknown action."))).await,
    }
}

/// The account page after a refused code (a wrong or used one, or too many attempts), or the
/// error of a failure inside.
async fn code_refused<S: Store>(app: &App<'_, S>, req: &Incoming, user: &User, e: &OAuthError) -> Outgoing {
    if e.code == ErrorCode::Http(HttpCode::RateLimited) {
        account_page(app, req, 429, user, Some(Notice::Error("Too many failed attempts. Try again later."))).await
    } else if e.status() < 500 {
        account_page(app, req, 400, user, Some(Notice::Error("That code is not right, or was already used."))).await
    } else {
        Outgoing::error(e)
    }
}

/// `POST /account/sessions`: signs one of the person's browser sessions out.
pub async fn revoke_session<S: Store>(app: &App<'_, S>, req: &Incoming) -> Outgoing {
    let (user, _, form) = match signed_in_post(app, req).await {
        Ok(s) => s,
        Err(page) => return page,
    };
    let p = &app.provider;
    match p.store.delete_user_session(&user.id, &form_field(&form, "session")).await {
        Ok(true) => {
            p.audit(crate::oauth::audit::Audit::new(crate::oauth::audit::AuditKind::SessionRevoked).user(&user.id));
            account_page(app, req, 200, &user, Some(Notice::Done("That session was signed out."))).await
        }
        Ok(false) => account_page(app, req, 404, &user, Some(Notice::Error("No such session."))).await,
        Err(e) => Outgoing::error(&OAuthError::from(e)),
    }
}
