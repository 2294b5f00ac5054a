//! The consent page (shown by `/authorize` and `/login` for a third-party client) and
//! `POST /consent`, where the person's "Allow" or "Deny" comes back. The decision rules are
//! `oauth::consent`; this file is the page and the form.

use super::authorize::{authorize_error, error_page, form_action, hidden_fields, is_cross_site, params_from, session_token};
use super::{csrf, pages, App, Incoming, Outgoing};
use crate::oauth::amr::Authentication;
use crate::oauth::authorize::{error_redirect, AuthorizationRequest};
use crate::oauth::consent::{describe, redirect_host};
use crate::oauth::OAuthError;
use crate::store::Store;

/// The page asking the signed-in person whether `r.client` may have `r.scope`; its form posts
/// the request back to `/consent` with the browser's anti-CSRF token.
pub fn consent_page<S>(app: &App<'_, S>, req: &Incoming, r: &AuthorizationRequest) -> Outgoing {
    let issuer = &app.provider.config.issuer;
    let token = csrf::token(req, issuer);
    let mut hidden = hidden_fields(r);
    hidden.push((csrf::FIELD, token.clone()));
    let refs: Vec<(&str, &str)> = hidden.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let resources: Vec<&str> = r.resources.iter().map(|x| x.as_str()).collect();
    let page = pages::Consent {
        client_name: &r.client.client_name,
        redirect_host: redirect_host(&r.redirect_uri),
        client_uri: r.client.client_uri.as_deref(),
        permissions: &describe(&r.scope),
        resources: &resources,
        hidden: &refs,
    };
    let out = Outgoing::html(200, pages::consent(&app.branding, &page))
        .header("content-security-policy", &super::page_csp(&form_action(&r.redirect_uri)));
    csrf::set_cookie(out, issuer, &token)
}

/// `POST /consent`: the person's decision for the authorization request in the form. It must
/// come from this site's own page (same-origin, with the browser's anti-CSRF token) in a signed-in
/// browser; "Allow" remembers the consent and redirects with a code, "Deny" redirects with
/// `access_denied` (RFC 6749 §4.1.2.1: "The resource owner or authorization server denied the
/// request").
pub async fn consent<S: Store>(app: &App<'_, S>, req: &Incoming) -> Outgoing {
    let issuer = &app.provider.config.issuer;
    let refuse = |status: u16, msg: &str| error_page(app, status, "Cannot continue", msg);
    if is_cross_site(issuer, req) {
        return refuse(403, "Cross-site form posts are refused.");
    }
    let form = match req.form() {
        Ok(f) => f,
        Err(e) => return refuse(e.status().max(400), &e.description),
    };
    if !csrf::verify(req, issuer, form.get(csrf::FIELD).ok().flatten().as_deref()) {
        return refuse(403, "This form has expired. Go back to the application and start again.");
    }
    let mut p = match params_from(&form, "redirect") {
        Ok(p) => p,
        Err(e) => return refuse(400, &e.description),
    };
    p.response_type = Some("code".into());
    // The request is checked again as if new: nothing in the form is trusted.
    let r = match app.provider.validate_authorization(&p).await {
        Ok(r) => r,
        Err(e) => return authorize_error(app, e),
    };
    let session = match session_token(app, req) {
        Some(t) => app.provider.current_session(t).await,
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
