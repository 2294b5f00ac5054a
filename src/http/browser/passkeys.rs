//! Passkeys over HTTP: the pages' script (`GET /passkeys.js`), a ceremony's options
//! (`POST /passkeys/options`), signing in (`POST /login/passkey`) and the account page's
//! "Add a passkey" / "Remove" (`POST /account/passkeys`). The rules are in `oauth::passkeys` and
//! `crate::webauthn`; every post carries the page's anti-CSRF token, to which the ceremony's
//! challenge is bound.

use super::account_page::{account_page, form_field, signed_in, signed_in_post};
use super::cookies::CSRF_FIELD;
use super::flow::{self, Browser};
use super::pages::Notice;
use super::prologue::{self, request_in_form, Callers, Refused};
use super::views::{self, authorize_error, capitalised, error_page, sign_in_error_page, Answer};
use crate::http::{App, Incoming, Outgoing};
use crate::oauth::error::HttpCode;
use crate::oauth::passkeys::CredentialJson;
use crate::oauth::{ErrorCode, OAuthError};
use crate::store::{Platform, Store};

const SCRIPT: &str = include_str!("assets/passkeys.js");

/// `GET /passkeys.js`.
pub fn script() -> Outgoing {
    let mut out = Outgoing::empty(200)
        .header("content-type", "text/javascript; charset=utf-8")
        .header("cache-control", "public, max-age=3600")
        .header("x-content-type-options", "nosniff");
    out.body = SCRIPT.as_bytes().to_vec();
    out
}

/// `POST /passkeys/options` (form: `purpose`, `csrf`): JSON options with a fresh challenge bound
/// to this browser. `register` needs a signed-in session.
pub async fn options<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Answer {
    let failed = |e: OAuthError| Outgoing::error(&e);
    let post = prologue::post(req, &app.provider.config.issuer, Callers::Browsers).map_err(|refused| match refused {
        Refused::CrossSite => failed(OAuthError::access_denied("cross-site requests are refused")),
        Refused::Malformed(e) => failed(e),
        Refused::Expired => failed(OAuthError::access_denied("the page's anti-CSRF token is missing or has expired; reload the page")),
    })?;
    let token = &post.csrf;
    let options = match post.field("purpose").as_str() {
        "sign_in" => app.provider.passkey_sign_in_options(token).await,
        "register" => {
            let Some((user, _)) = signed_in(app, req).await.map_err(failed)? else {
                return Err(failed(OAuthError::new(ErrorCode::AccessDenied, "sign in first")).with_status(401));
            };
            app.provider.passkey_registration_options(&user, token, &app.branding.product_name).await
        }
        _ => Err(OAuthError::invalid_request("purpose must be register or sign_in")),
    };
    Ok(Outgoing::json(200, &options.map_err(failed)?))
}

/// `POST /login/passkey`: the assertion (`credential`, JSON) with the page's anti-CSRF token and
/// the authorization request (none: the account page's sign-in).
pub async fn sign_in<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Answer {
    let refuse = |status: u16, msg: &str| error_page(app, status, "Cannot sign in", msg);
    let post = prologue::post(req, &app.provider.config.issuer, Callers::Browsers).map_err(|refused| match refused {
        Refused::CrossSite => refuse(403, "Cross-site sign-in posts are refused."),
        Refused::Malformed(e) => refuse(400, &capitalised(&e.description)),
        Refused::Expired => refuse(403, "This sign-in form has expired. Go back and sign in again."),
    })?;
    let credential = CredentialJson::parse(&post.field("credential")).map_err(|e| refuse(400, &capitalised(&e.description)))?;
    let r = request_in_form(app, &post.form).await.map_err(|e| authorize_error(app, e))?;
    let (user, auth) = app.provider.sign_in_with_passkey(&credential, &post.csrf).await.map_err(|e| {
        if e.code == ErrorCode::Http(HttpCode::RateLimited) {
            let wait = e.retry_after.unwrap_or(60);
            refuse(429, &format!("Too many sign-in attempts. Try again in {wait} seconds.")).header("retry-after", &wait.to_string())
        } else if e.code == ErrorCode::AccessDenied {
            refuse(401, &capitalised(&e.description))
        } else if e.status() < 500 {
            refuse(400, &capitalised(&e.description))
        } else {
            sign_in_error_page(app, &e)
        }
    })?;
    let browser = Browser::new(req, &post.csrf);
    let step = flow::after_authentication(app, &browser, r.as_ref(), &user, auth, false).await.map_err(|e| sign_in_error_page(app, &e))?;
    Ok(views::step(app, r.as_ref(), &post.csrf, step))
}

/// `POST /account/passkeys`: `action=register` (the new credential as JSON in `credential`,
/// its `name`) or `action=remove` (`credential_id`).
pub async fn manage<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Answer {
    let (user, _, form) = signed_in_post(app, req).await?;
    let p = &app.provider;
    Ok(match form_field(&form, "action").as_str() {
        "register" => {
            let added = match CredentialJson::parse(&form_field(&form, "credential")) {
                Ok(c) => p.register_passkey(&user, &form_field(&form, "name"), &c, &form_field(&form, CSRF_FIELD)).await,
                Err(e) => Err(e),
            };
            match added {
                Ok(k) => {
                    account_page(app, req, 200, &user, Some(Notice::Done(&format!("Passkey \u{201c}{}\u{201d} added.", k.name)))).await
                }
                Err(e) if e.status() < 500 => account_page(app, req, 400, &user, Some(Notice::Error(&capitalised(&e.description)))).await,
                Err(e) => Outgoing::error(&e),
            }
        }
        "remove" => match p.remove_passkey(&user, &form_field(&form, "credential_id")).await {
            Ok(true) => account_page(app, req, 200, &user, Some(Notice::Done("Passkey removed."))).await,
            Ok(false) => account_page(app, req, 404, &user, Some(Notice::Error("No such passkey."))).await,
            Err(e) => Outgoing::error(&e),
        },
        _ => account_page(app, req, 400, &user, Some(Notice::Error("Unknown action."))).await,
    })
}
