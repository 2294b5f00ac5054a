//! `POST /login/second-factor`: the second step of a browser sign-in (an authenticator or
//! recovery code), or setting an app up when the client demands two factors, then the steps the
//! flow decides after it. The pending sign-in (`Challenge`, `PendingSignIn`) is bound to the
//! browser's anti-CSRF cookie, short-lived, and taken when its step succeeds; it records the
//! authorization request, which is checked again here as at `/login`. The form carries only the
//! record's id (`pending`) and the anti-CSRF token.

use super::flow::{self, Browser};
use super::pages::Notice;
use super::prologue::{self, request_in_form, Callers, Refused};
use super::views::{
    self, authorize_error, capitalised, carried, enroll_page, error_page, recovery_codes_page, second_factor_page, sign_in_error_page,
    too_many, Answer,
};
use crate::http::request::Params;
use crate::http::{App, Incoming};
use crate::oauth::amr::Authentication;
use crate::oauth::error::HttpCode;
use crate::oauth::second_factor::{sign_in_data, ChallengeKind, PendingSignIn};
use crate::oauth::{ErrorCode, OAuthError};
use crate::store::{Platform, Store};

/// `POST /login/second-factor`.
pub async fn submit<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Answer {
    let issuer = &app.provider.config.issuer;
    let expired = || error_page(app, 403, "Cannot sign in", "This sign-in has expired. Go back to the application and start again.");
    let failed = |e: OAuthError| sign_in_error_page(app, &e);
    let post = prologue::post(req, issuer, Callers::Browsers).map_err(|refused| match refused {
        Refused::CrossSite | Refused::Expired => expired(),
        Refused::Malformed(e) => failed(e),
    })?;
    let csrf_token = post.csrf.clone();
    let pending = post.field("pending");
    let kinds = [ChallengeKind::SecondFactor, ChallengeKind::Enroll, ChallengeKind::Verified];
    let challenge = app.provider.find_challenge(&pending, &kinds, &csrf_token, false).await.map_err(failed)?.ok_or_else(expired)?;
    let PendingSignIn { user, auth, request } = app.provider.pending_sign_in(&challenge).await.map_err(failed)?.ok_or_else(expired)?;
    // The request is the one the sign-in recorded (the form carries only the record's id),
    // checked again as if new.
    let r = request_in_form(app, &Params::from(request.clone())).await.map_err(|e| authorize_error(app, e))?;
    let hidden = carried(&pending, &csrf_token);
    let code = post.field("code");
    let browser = Browser::new(req, &csrf_token);
    // Each step is taken once: of two posts of the same page, one goes on.
    let take = || async { app.provider.find_challenge(&pending, &kinds, &csrf_token, true).await.map_err(failed)?.ok_or_else(expired) };
    let strong = || Authentication::password_and_code(app.provider.now);
    let auth = match challenge.kind {
        // Both steps were done (the recovery codes of a new app were shown): go on.
        ChallengeKind::Verified => {
            take().await?;
            auth
        }
        ChallengeKind::Enroll => {
            let Some(r) = r.as_ref() else { return Err(expired()) };
            let codes = match app.provider.confirm_totp(&user, &code).await {
                Ok(codes) => codes,
                Err(e) if e.code == ErrorCode::Http(HttpCode::RateLimited) => return Err(too_many(app, &csrf_token, Some(r), &hidden, &e)),
                // A wrong code: the set-up page again (the key being set up stays the same).
                Err(e) if e.status() < 500 => {
                    let setup = app.provider.begin_totp_setup(&user, false).await.map_err(failed)?;
                    let notice = Notice::Error(&capitalised(&e.description));
                    return Err(enroll_page(app, 400, r, &setup, &hidden, &csrf_token, Some(notice)));
                }
                Err(e) => return Err(failed(e)),
            };
            take().await?;
            let data = sign_in_data(&strong(), &request);
            let next = app.provider.start_challenge(ChallengeKind::Verified, Some(&user.id), &csrf_token, &data).await.map_err(failed)?;
            return Ok(recovery_codes_page(app, &csrf_token, r, &codes, &next));
        }
        _ => match app.provider.check_second_factor(&user, &code).await {
            Ok(Some(_)) => {
                take().await?;
                strong()
            }
            Ok(None) => {
                let notice = Notice::Error("That code is not right, or was already used.");
                return Err(second_factor_page(app, 401, &csrf_token, r.as_ref(), &hidden, Some(&notice)));
            }
            Err(e) if e.code == ErrorCode::Http(HttpCode::RateLimited) => return Err(too_many(app, &csrf_token, r.as_ref(), &hidden, &e)),
            Err(e) => return Err(failed(e)),
        },
    };
    // The sign-in goes on with the step `next_step` decides after this one.
    let step = flow::after_authentication(app, &browser, r.as_ref(), &user, auth, false).await.map_err(failed)?;
    Ok(views::step(app, r.as_ref(), &csrf_token, step))
}
