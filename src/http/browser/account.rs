//! `/account`: a signed-in person's own page (docs/API.md "Account"): who they are, "Change
//! password" (the current and a new password; every other session and grant ends), passkeys,
//! two-step sign-in, the browser sessions, "Connected apps" (third-party clients they allowed,
//! each with "Remove access") and "Sign out". Without a session it asks them to sign in first
//! (`/account/login`), then comes back. Every post goes through the prologue (`prologue.rs`).

use super::account_page::{account_page, form_field, sign_in_page, signed_in, signed_in_post, with_token};
use super::cookies::CSRF_FIELD;
use super::flow::{self, Browser};
use super::pages::factors;
use super::pages::{qr, Notice};
use super::prologue::{self, Callers, Refused};
use super::views::{self, capitalised, sign_in_error_page, Answer};
use crate::http::{App, Incoming, Outgoing};
use crate::oauth::amr::Authentication;
use crate::oauth::error::HttpCode;
use crate::oauth::secrets::Password;
use crate::oauth::{ErrorCode, OAuthError};
use crate::store::{Platform, Store, User};

/// `GET /account`.
pub async fn show<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Outgoing {
    match signed_in(app, req).await {
        Ok(Some((user, _))) => account_page(app, req, 200, &user, None).await,
        Ok(None) => sign_in_page(app, req, 200, "", None),
        Err(e) => Outgoing::error(&e),
    }
}

/// `POST /account/login`: the same password check as everywhere (throttled), then a session.
pub async fn sign_in<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Answer {
    let issuer = &app.provider.config.issuer;
    let refused = |status: u16, username: &str, msg: &str| sign_in_page(app, req, status, username, Some(Notice::Error(msg)));
    let post = prologue::post(req, issuer, Callers::Browsers).map_err(|r| match r {
        Refused::CrossSite => refused(403, "", "Cross-site sign-in posts are refused."),
        Refused::Malformed(e) => refused(400, "", &e.description),
        Refused::Expired => {
            let username = req.form().map(|f| form_field(&f, "username")).unwrap_or_default();
            refused(403, &username, "This form has expired. Please sign in again.")
        }
    })?;
    let username = post.field("username");
    let user = app.provider.authenticate_user(&username, &Password::new(post.field("password"))).await.map_err(|e| {
        if e.code == ErrorCode::Http(HttpCode::RateLimited) {
            let wait = e.retry_after.unwrap_or(60);
            refused(429, &username, &format!("Too many failed sign-in attempts. Try again in {wait} seconds."))
                .header("retry-after", &wait.to_string())
        } else {
            Outgoing::error(&e)
        }
    })?;
    let Some(user) = user else { return Err(refused(401, &username, "Invalid username or password.")) };
    // The second step, if the account has one, then a session and back to /account.
    let browser = Browser::new(req, &post.csrf);
    let step = flow::after_authentication(app, &browser, None, &user, Authentication::password(app.provider.now), true)
        .await
        .map_err(|e| sign_in_error_page(app, &e))?;
    Ok(views::step(app, None, &post.csrf, step))
}

/// `POST /account/password`: "Change password".
pub async fn change_password<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Answer {
    let (user, session, form) = signed_in_post(app, req).await?;
    let result = app
        .provider
        .change_own_password(
            &user,
            &Password::new(form_field(&form, "current_password")),
            &Password::new(form_field(&form, "new_password")),
            Some(&session),
        )
        .await;
    Ok(match result {
        Ok(()) => {
            account_page(app, req, 200, &user, Some(Notice::Done("Your password was changed. Your other sessions were signed out."))).await
        }
        Err(e) if e.status() < 500 => account_page(app, req, e.status(), &user, Some(Notice::Error(&e.description))).await,
        Err(e) => Outgoing::error(&e),
    })
}

/// `POST /account/apps`: "Remove access" for one connected app: its consent goes and the
/// person's grants with it end.
pub async fn remove_app<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Answer {
    let (user, _, form) = signed_in_post(app, req).await?;
    Ok(match app.provider.withdraw_consent(&user.id, &form_field(&form, "client_id")).await {
        Ok(true) => account_page(app, req, 200, &user, Some(Notice::Done("Access removed. The application must ask again."))).await,
        Ok(false) => account_page(app, req, 404, &user, Some(Notice::Error("That application has no access."))).await,
        Err(e) => Outgoing::error(&e),
    })
}

/// The set-up page of the account's authenticator app (its key, URI and QR code, and the field
/// for its first code).
async fn totp_setup_page<S: Store, P: Platform>(
    app: &App<'_, S, P>,
    req: &Incoming,
    user: &User,
    status: u16,
    notice: Option<Notice<'_>>,
) -> Outgoing {
    let setup = match app.provider.begin_totp_setup(user, false).await {
        Ok(s) => s,
        Err(e) if e.status() < 500 => return account_page(app, req, e.status(), user, Some(Notice::Error(&e.description))).await,
        Err(e) => return Outgoing::error(&e),
    };
    let qr = qr::svg(&setup.uri, "QR code of the authenticator app key");
    with_token(app, req, status, |token| {
        factors::account_totp_setup(&app.branding, &setup, qr.as_deref(), &[(CSRF_FIELD, token), ("action", "confirm")], notice.as_ref())
    })
}

/// `POST /account/totp`: `action=setup` shows the app's key (a new one unless one is being set
/// up), `action=confirm` checks its first code and shows the recovery codes once,
/// `action=recovery` replaces the recovery codes, `action=disable` turns the app off (both with a
/// fresh code).
pub async fn totp<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Answer {
    let (user, _, form) = signed_in_post(app, req).await?;
    let p = &app.provider;
    let code = form_field(&form, "code");
    Ok(match form_field(&form, "action").as_str() {
        "setup" => totp_setup_page(app, req, &user, 200, None).await,
        "confirm" => match p.confirm_totp(&user, &code).await {
            Ok(codes) => Outgoing::html(200, factors::recovery_codes(&app.branding, &codes, None)),
            Err(e) if e.code == ErrorCode::Http(HttpCode::RateLimited) => {
                totp_setup_page(app, req, &user, 429, Some(Notice::Error("Too many failed attempts. Try again later."))).await
            }
            Err(e) if e.status() < 500 => totp_setup_page(app, req, &user, 400, Some(Notice::Error(&capitalised(&e.description)))).await,
            Err(e) => Outgoing::error(&e),
        },
        "recovery" => match p.new_recovery_codes(&user, &code).await {
            Ok(codes) => Outgoing::html(200, factors::recovery_codes(&app.branding, &codes, None)),
            Err(e) => code_refused(app, req, &user, &e).await,
        },
        "disable" => match p.disable_totp(&user, &code).await {
            Ok(()) => account_page(app, req, 200, &user, Some(Notice::Done("Two-step sign-in is off."))).await,
            Err(e) => code_refused(app, req, &user, &e).await,
        },
        _ => account_page(app, req, 400, &user, Some(Notice::Error("Unknown action."))).await,
    })
}

/// The account page after a refused code (a wrong or used one, or too many attempts), or the
/// error of a failure inside.
async fn code_refused<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming, user: &User, e: &OAuthError) -> Outgoing {
    if e.code == ErrorCode::Http(HttpCode::RateLimited) {
        account_page(app, req, 429, user, Some(Notice::Error("Too many failed attempts. Try again later."))).await
    } else if e.status() < 500 {
        account_page(app, req, 400, user, Some(Notice::Error("That code is not right, or was already used."))).await
    } else {
        Outgoing::error(e)
    }
}

/// `POST /account/sessions`: signs one of the person's browser sessions out.
pub async fn revoke_session<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Answer {
    let (user, _, form) = signed_in_post(app, req).await?;
    let p = &app.provider;
    Ok(match p.store.delete_user_session(&user.id, &form_field(&form, "session")).await {
        Ok(true) => {
            p.audit(crate::oauth::audit::Audit::new(crate::oauth::audit::AuditKind::SessionRevoked).user(&user.id));
            account_page(app, req, 200, &user, Some(Notice::Done("That session was signed out."))).await
        }
        Ok(false) => account_page(app, req, 404, &user, Some(Notice::Error("No such session."))).await,
        Err(e) => Outgoing::error(&OAuthError::from(e)),
    })
}
