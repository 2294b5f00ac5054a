//! `POST /consent`: the person's "Allow" or "Deny" on the consent page (`views::consent_page`)
//! for a third-party client. The decision rules are `oauth::consent`.

use super::cookies::session_token;
use super::prologue::{self, authorization_params, Callers, Refused};
use super::views::{authorize_error, error_page};
use crate::http::{App, Incoming, Outgoing};
use crate::oauth::amr::Authentication;
use crate::oauth::authorize::error_redirect;
use crate::oauth::OAuthError;
use crate::store::Store;

/// `POST /consent`: the person's decision for the authorization request in the form. It must
/// come from this site's own page (same-origin, with the browser's anti-CSRF token) in a signed-in
/// browser; "Allow" remembers the consent and redirects with a code, "Deny" redirects with
/// `access_denied` (RFC 6749 §4.1.2.1: "The resource owner or authorization server denied the
/// request").
pub async fn consent<S: Store>(app: &App<'_, S>, req: &Incoming) -> Outgoing {
    let issuer = &app.provider.config.issuer;
    let refuse = |status: u16, msg: &str| error_page(app, status, "Cannot continue", msg);
    let form = match prologue::post(req, issuer, Callers::Browsers) {
        Ok(post) => post.form,
        Err(Refused::CrossSite) => return refuse(403, "Cross-site form posts are refused."),
        Err(Refused::Malformed(e)) => return refuse(e.status().max(400), &e.description),
        Err(Refused::Expired) => return refuse(403, "This form has expired. Go back to the application and start again."),
    };
    let mut p = match authorization_params(&form, "redirect") {
        Ok(p) => p,
        Err(e) => return refuse(400, &e.description),
    };
    p.response_type = Some("code".into());
    // The request is checked again as if new: nothing in the form is trusted.
    let r = match app.provider.validate_authorization(&p).await {
        Ok(r) => r,
        Err(e) => return authorize_error(app, e),
    };
    let session = match session_token(req, issuer) {
        Some(t) => app.provider.current_session(&t).await,
        None => Ok(None),
    };
    let (session, user) = match session {
        Ok(Some(s)) => s,
        Ok(None) => return refuse(401, "You are no longer signed in. Go back to the application and start again."),
        Err(e) => return Outgoing::error(&e),
    };
    let back =
        |e: OAuthError| Outgoing::redirect(&error_redirect(&r.redirect_uri, r.state.as_deref(), &e, issuer)).with_log_detail(e.internal);
    match form.opt("decision").ok().flatten().as_deref() {
        Some("allow") => {
            let auth = Authentication::of_session(&session);
            // The consent page follows a complete sign-in; a session too weak for this request
            // (two factors demanded) never gets a code from it.
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
        Some("deny") => {
            app.provider.deny_consent(&r, &user.id);
            back(OAuthError::access_denied("the user denied the request"))
        }
        _ => refuse(400, "Choose Allow or Deny."),
    }
}
