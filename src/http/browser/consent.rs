//! `POST /consent`: the person's "Allow" or "Deny" on the consent page (`views::consent_page`)
//! for a third-party client. The question is a record (`flow::ask_consent`): the page carries its
//! id, the record holds the authorization request, and the answer is taken once. The decision
//! rules are `oauth::consent`.

use super::cookies::session_token;
use super::prologue::{self, request_in_form, Callers, Refused};
use super::views::{authorize_error, error_page};
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
pub async fn consent<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Outgoing {
    let issuer = &app.provider.config.issuer;
    let refuse = |status: u16, msg: &str| error_page(app, status, "Cannot continue", msg);
    let expired = || refuse(403, "This form has expired. Go back to the application and start again.");
    let post = match prologue::post(req, issuer, Callers::Browsers) {
        Ok(post) => post,
        Err(Refused::CrossSite) => return refuse(403, "Cross-site form posts are refused."),
        Err(Refused::Malformed(e)) => return refuse(e.status().max(400), &e.description),
        Err(Refused::Expired) => return expired(),
    };
    let pending = post.field("pending");
    let kinds = [ChallengeKind::Consent];
    let question = match app.provider.find_challenge(&pending, &kinds, &post.csrf, false).await {
        Ok(Some(c)) => c,
        Ok(None) => return expired(),
        Err(e) => return Outgoing::error(&e),
    };
    let PendingSignIn { user: asked, request, .. } = match app.provider.pending_sign_in(&question).await {
        Ok(Some(p)) => p,
        Ok(None) => return expired(),
        Err(e) => return Outgoing::error(&e),
    };
    if request.iter().any(|(k, v)| post.form.get(k).ok().flatten().is_some_and(|sent| &sent != v)) {
        return refuse(400, "This form does not belong to this question. Go back to the application and start again.");
    }
    // The request is the question's, checked again as if new.
    let r = match request_in_form(app, &Params::from(request)).await {
        Ok(Some(r)) => r,
        Ok(None) => return expired(),
        Err(e) => return authorize_error(app, e),
    };
    let session = match session_token(req, issuer) {
        Some(t) => app.provider.current_session(&t).await,
        None => Ok(None),
    };
    let (session, user) = match session {
        Ok(Some(s)) if s.1.id == asked.id => s,
        Ok(_) => return refuse(401, "You are no longer signed in. Go back to the application and start again."),
        Err(e) => return Outgoing::error(&e),
    };
    let back =
        |e: OAuthError| Outgoing::redirect(&error_redirect(&r.redirect_uri, r.state.as_deref(), &e, issuer)).with_log_detail(e.internal);
    let decision = post.field("decision");
    if decision != "allow" && decision != "deny" {
        return refuse(400, "Choose Allow or Deny.");
    }
    // Answered once: of two posts of the same page, one decides.
    match app.provider.find_challenge(&pending, &kinds, &post.csrf, true).await {
        Ok(Some(_)) => {}
        Ok(None) => return expired(),
        Err(e) => return Outgoing::error(&e),
    }
    if decision == "deny" {
        app.provider.deny_consent(&r, &user.id);
        return back(OAuthError::access_denied("the user denied the request"));
    }
    let auth = Authentication::of_session(&session);
    // The consent page follows a complete sign-in; a session too weak for this request (two
    // factors demanded) never gets a code from it.
    if r.requires_strong && !auth.is_strong() {
        return refuse(403, "This application requires two-step sign-in. Go back to the application and start again.");
    }
    let issued = match app.provider.allow_consent(&r, &user.id).await {
        Ok(()) => app.provider.issue_code(&r, &user, &auth).await,
        Err(e) => Err(e),
    };
    match issued {
        Ok(location) => Outgoing::redirect(&location),
        Err(e) => back(e),
    }
}
