//! `POST /consent`: the person's "Allow" or "Deny" on the consent page (`views::consent_page`)
//! for a third-party client. The question is a record (`flow::ask_consent`): the page carries its
//! id, the record holds the authorization request, and the answer is taken once. The decision
//! rules are `oauth::consent`.

use super::cookies::session_token;
use super::prologue::{self, request_in_form, Callers, Refused};
use super::views::{authorize_error, error_page, Answer};
use crate::http::request::Params;
use crate::http::{App, Incoming, Outgoing};
use crate::oauth::amr::Authentication;
use crate::oauth::authorize::error_redirect;
use crate::oauth::second_factor::{ChallengeKind, PendingSignIn};
use crate::oauth::OAuthError;
use crate::store::{Platform, Store};

/// `POST /consent`: the person's decision on the question `pending` names. It must come from
/// this site's own page (same-origin, with the browser's anti-CSRF token, to which the question
/// is bound) in a browser signed in as the person asked; "Allow" remembers the consent and
/// redirects with a code, "Deny" redirects with `access_denied` (RFC 6749 §4.1.2.1: "The resource
/// owner or authorization server denied the request"). A form that carries request fields of
/// its own is not the page's and is refused: the request is the question's.
pub async fn consent<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Answer {
    let issuer = &app.provider.config.issuer;
    let refuse = |status: u16, msg: &str| error_page(app, status, "Cannot continue", msg);
    let expired = || refuse(403, "This form has expired. Go back to the application and start again.");
    let failed = |e: OAuthError| Outgoing::error(&e);
    let post = prologue::post(req, issuer, Callers::Browsers).map_err(|refused| match refused {
        Refused::CrossSite => refuse(403, "Cross-site form posts are refused."),
        Refused::Malformed(e) => refuse(e.status().max(400), &e.description),
        Refused::Expired => expired(),
    })?;
    let pending = post.field("pending");
    let kinds = [ChallengeKind::Consent];
    let question = app.provider.find_challenge(&pending, &kinds, &post.csrf, false).await.map_err(failed)?.ok_or_else(expired)?;
    let PendingSignIn { user: asked, request, .. } = app.provider.pending_sign_in(&question).await.map_err(failed)?.ok_or_else(expired)?;
    if request.iter().any(|(k, v)| post.form.get(k).ok().flatten().is_some_and(|sent| &sent != v)) {
        return Err(refuse(400, "This form does not belong to this question. Go back to the application and start again."));
    }
    // The request is the question's, checked again as if new.
    let r = request_in_form(app, &Params::from(request)).await.map_err(|e| authorize_error(app, e))?.ok_or_else(expired)?;
    let session = match session_token(req, issuer) {
        Some(t) => app.provider.current_session(&t).await.map_err(failed)?,
        None => None,
    };
    let Some((session, user)) = session.filter(|(_, user)| user.id == asked.id) else {
        return Err(refuse(401, "You are no longer signed in. Go back to the application and start again."));
    };
    let back =
        |e: OAuthError| Outgoing::redirect(&error_redirect(&r.redirect_uri, r.state.as_deref(), &e, issuer)).with_log_detail(e.internal);
    let decision = post.field("decision");
    if decision != "allow" && decision != "deny" {
        return Err(refuse(400, "Choose Allow or Deny."));
    }
    // Answered once: of two posts of the same page, one decides.
    app.provider.find_challenge(&pending, &kinds, &post.csrf, true).await.map_err(failed)?.ok_or_else(expired)?;
    if decision == "deny" {
        app.provider.deny_consent(&r, &user.id);
        return Ok(back(OAuthError::access_denied("the user denied the request")));
    }
    let auth = Authentication::of_session(&session);
    // The consent page follows a complete sign-in; a session too weak for this request (two
    // factors demanded) never gets a code from it.
    if r.requires_strong && !auth.is_strong() {
        return Err(refuse(403, "This application requires two-step sign-in. Go back to the application and start again."));
    }
    app.provider.allow_consent(&r, &user.id).await.map_err(back)?;
    let location = app.provider.issue_code(&r, &user, &auth).await.map_err(back)?;
    Ok(Outgoing::redirect(&location))
}
