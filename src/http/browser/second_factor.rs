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
    too_many,
};
use crate::http::request::Params;
use crate::http::{App, Incoming, Outgoing};
use crate::oauth::amr::Authentication;
use crate::oauth::error::HttpCode;
use crate::oauth::second_factor::{sign_in_data, ChallengeKind, PendingSignIn};
use crate::oauth::ErrorCode;
use crate::store::{Platform, Store};

/// `POST /login/second-factor`.
pub async fn submit<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Outgoing {
    let issuer = &app.provider.config.issuer;
    let expired = || error_page(app, 403, "Cannot sign in", "This sign-in has expired. Go back to the application and start again.");
    let post = match prologue::post(req, issuer, Callers::Browsers) {
        Ok(post) => post,
        Err(Refused::CrossSite | Refused::Expired) => return expired(),
        Err(Refused::Malformed(e)) => return sign_in_error_page(app, &e),
    };
    let csrf_token = post.csrf.clone();
    let pending = post.field("pending");
    let kinds = [ChallengeKind::SecondFactor, ChallengeKind::Enroll, ChallengeKind::Verified];
    let challenge = match app.provider.find_challenge(&pending, &kinds, &csrf_token, false).await {
        Ok(Some(c)) => c,
        Ok(None) => return expired(),
        Err(e) => return sign_in_error_page(app, &e),
    };
    let PendingSignIn { user, auth, request } = match app.provider.pending_sign_in(&challenge).await {
        Ok(Some(x)) => x,
        Ok(None) => return expired(),
        Err(e) => return sign_in_error_page(app, &e),
    };
    // The request is the one the sign-in recorded (the form carries only the record's id),
    // checked again as if new.
    let r = match request_in_form(app, &Params::from(request.clone())).await {
        Ok(r) => r,
        Err(e) => return authorize_error(app, e),
    };
    let hidden = carried(&pending, &csrf_token);
    let code = post.field("code");
    let browser = Browser { csrf: &csrf_token, user_agent: req.header("user-agent").unwrap_or("") };
    // The sign-in goes on with the step `next_step` decides after this one.
    let go_on = |auth: Authentication| async {
        match flow::after_authentication(app, &browser, r.as_ref(), &user, auth, false).await {
            Ok(step) => views::step(app, r.as_ref(), &csrf_token, step),
            Err(e) => sign_in_error_page(app, &e),
        }
    };
    let take = || async { app.provider.find_challenge(&pending, &kinds, &csrf_token, true).await };
    if challenge.kind == ChallengeKind::Verified {
        return match take().await {
            Ok(Some(_)) => go_on(auth).await,
            Ok(None) => expired(),
            Err(e) => sign_in_error_page(app, &e),
        };
    }
    if challenge.kind == ChallengeKind::Enroll {
        let Some(r) = r.as_ref() else { return expired() };
        return match app.provider.confirm_totp(&user, &code).await {
            Ok(codes) => {
                if !matches!(take().await, Ok(Some(_))) {
                    return expired();
                }
                let strong = Authentication::password_and_code(app.provider.now);
                let next = match app
                    .provider
                    .start_challenge(ChallengeKind::Verified, Some(&user.id), &csrf_token, &sign_in_data(&strong, &request))
                    .await
                {
                    Ok(t) => t,
                    Err(e) => return sign_in_error_page(app, &e),
                };
                recovery_codes_page(app, &csrf_token, r, &codes, &next)
            }
            Err(e) if e.code == ErrorCode::Http(HttpCode::RateLimited) => too_many(app, &csrf_token, Some(r), &hidden, &e),
            Err(e) if e.status() < 500 => match app.provider.begin_totp_setup(&user, false).await {
                Ok(setup) => enroll_page(app, 400, r, &setup, &hidden, &csrf_token, Some(Notice::Error(&capitalised(&e.description)))),
                Err(e) => sign_in_error_page(app, &e),
            },
            Err(e) => sign_in_error_page(app, &e),
        };
    }
    match app.provider.check_second_factor(&user, &code).await {
        Ok(Some(_)) => match take().await {
            Ok(Some(_)) => go_on(Authentication::password_and_code(app.provider.now)).await,
            Ok(None) => expired(),
            Err(e) => sign_in_error_page(app, &e),
        },
        Ok(None) => {
            let notice = Notice::Error("That code is not right, or was already used.");
            second_factor_page(app, 401, &csrf_token, r.as_ref(), &hidden, Some(&notice))
        }
        Err(e) if e.code == ErrorCode::Http(HttpCode::RateLimited) => too_many(app, &csrf_token, r.as_ref(), &hidden, &e),
        Err(e) => sign_in_error_page(app, &e),
    }
}
