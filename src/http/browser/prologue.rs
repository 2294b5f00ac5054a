//! The one prologue of every browser form post: refused when it comes from another site, the form
//! parsed, and the browser's own anti-CSRF token checked (`cookies.rs`); then, for a post that
//! carries an authorization request, the request checked again as if new (nothing in a form is
//! trusted). Each handler runs `post` first and says in its own page what a refusal means; the
//! checks themselves are written here only.

use super::cookies::{csrf_verified, from_browser, CSRF_FIELD};
use super::origin_of;
use crate::http::request::Params;
use crate::http::{App, Incoming};
use crate::oauth::authorize::{AuthorizationParams, AuthorizationRequest, AuthorizeError};
use crate::oauth::{OAuthError, OAuthResult};
use crate::store::{Platform, Store};

/// Who may post without the anti-CSRF token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Callers {
    /// Browsers only: every post carries the page's token.
    Browsers,
    /// Also API clients: a request with no sign of a browser (no `Origin`, `Cookie` or
    /// `Sec-Fetch-Site`, such as curl), which no other site can steer, needs no token. The
    /// contract's `/login` is an API as well as the sign-in form's target.
    BrowsersAndApiClients,
}

/// A post that passed the prologue.
#[derive(Debug)]
pub struct Post {
    pub form: Params,
    /// The form's anti-CSRF token (the browser's own, checked), to which ceremonies are bound.
    pub csrf: String,
}

impl Post {
    /// A field of the form, empty when absent (or sent twice).
    pub fn field(&self, name: &str) -> String {
        self.form.get(name).ok().flatten().unwrap_or_default()
    }
}

/// Why the prologue refused a post.
#[derive(Debug)]
pub enum Refused {
    /// From another site (login CSRF, `is_cross_site`).
    CrossSite,
    /// Not a form this server reads.
    Malformed(OAuthError),
    /// The browser's anti-CSRF token is missing or not its own: the form expired (or was
    /// forged).
    Expired,
}

/// A cross-site form post (login CSRF) is refused. Browsers say where a post comes from in
/// `Sec-Fetch-Site` and `Origin`; either naming another site is enough to refuse. `Origin: null`
/// is what a same-origin form sends under `Referrer-Policy: no-referrer` (our pages' policy), but
/// also what sandboxed frames and older browsers send for anyone: it passes only together with
/// `Sec-Fetch-Site: same-origin`. (The form's anti-CSRF token is checked as well.)
pub fn is_cross_site(issuer: &str, req: &Incoming) -> bool {
    let fetch_site = req.header("sec-fetch-site").map(str::to_ascii_lowercase);
    if matches!(fetch_site.as_deref(), Some("cross-site") | Some("same-site")) {
        return true;
    }
    match req.header("origin") {
        None => false,
        Some("null") => fetch_site.as_deref() != Some("same-origin"),
        Some(o) => !(o.eq_ignore_ascii_case(&origin_of(issuer)) || o.eq_ignore_ascii_case(&req.origin)),
    }
}

/// The prologue: cross-site check, form, anti-CSRF token, in that order.
pub fn post(req: &Incoming, issuer: &str, callers: Callers) -> Result<Post, Refused> {
    if is_cross_site(issuer, req) {
        return Err(Refused::CrossSite);
    }
    let form = req.form().map_err(Refused::Malformed)?;
    let csrf = form.get(CSRF_FIELD).ok().flatten().unwrap_or_default();
    let api_client = callers == Callers::BrowsersAndApiClients && !from_browser(req);
    if !api_client && !csrf_verified(req, issuer, Some(&csrf)) {
        return Err(Refused::Expired);
    }
    Ok(Post { form, csrf })
}

/// An authorization request's parameters from a query or form; the sign-in forms carry the
/// redirect URI as `redirect` (the contract's `/login` field), `/authorize` as `redirect_uri`.
pub fn authorization_params(p: &Params, redirect_key: &str) -> OAuthResult<AuthorizationParams> {
    Ok(AuthorizationParams {
        client_id: p.opt("client_id")?,
        redirect_uri: p.opt(redirect_key)?,
        response_type: p.opt("response_type")?,
        response_mode: p.opt("response_mode")?,
        scope: p.get("scope")?,
        state: p.opt("state")?,
        nonce: p.opt("nonce")?,
        code_challenge: p.opt("code_challenge")?,
        code_challenge_method: p.opt("code_challenge_method")?,
        prompt: p.opt("prompt")?,
        max_age: p.opt("max_age")?,
        login_hint: p.opt("login_hint")?,
        request: p.opt("request")?,
        request_uri: p.opt("request_uri")?,
        resource: p.all("resource"),
        acr_values: p.opt("acr_values")?,
    })
}

/// The authorization request a sign-in step's form carries, checked again as if new; `None`
/// without `client_id` (the account page's sign-in).
pub async fn request_in_form<S: Store, P: Platform>(
    app: &App<'_, S, P>,
    form: &Params,
) -> Result<Option<AuthorizationRequest>, AuthorizeError> {
    if form.get("client_id").ok().flatten().unwrap_or_default().is_empty() {
        return Ok(None);
    }
    let mut p = authorization_params(form, "redirect").map_err(AuthorizeError::Show)?;
    p.response_type = Some("code".into());
    app.provider.validate_authorization(&p).await.map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::request;

    #[test]
    fn every_post_is_refused_cross_site_then_without_its_token() {
        let issuer = "https://issuer.example";
        let token = crate::crypto::random_token();
        let browser = |r: Incoming| {
            r.with_header("origin", "https://issuer.example")
                .with_header("cookie", &format!("__Host-edge_oidc_csrf={token}"))
                .with_form(&[("csrf", &token), ("a", "b")])
        };
        let ok = post(&browser(request("POST", "/consent")), issuer, Callers::Browsers).unwrap();
        assert_eq!((ok.field("a"), ok.csrf.as_str()), ("b".to_string(), token.as_str()));
        let cross = browser(request("POST", "/consent")).with_header("sec-fetch-site", "cross-site");
        assert!(matches!(post(&cross, issuer, Callers::Browsers), Err(Refused::CrossSite)));
        let foreign = request("POST", "/consent").with_header("origin", "https://evil.example").with_form(&[("csrf", &token)]);
        assert!(matches!(post(&foreign, issuer, Callers::BrowsersAndApiClients), Err(Refused::CrossSite)));
        let no_token = request("POST", "/consent").with_header("origin", "https://issuer.example").with_form(&[("a", "b")]);
        assert!(matches!(post(&no_token, issuer, Callers::Browsers), Err(Refused::Expired)));
        assert!(matches!(post(&no_token, issuer, Callers::BrowsersAndApiClients), Err(Refused::Expired)), "a browser needs it");
        // An API client (no sign of a browser) needs no token where API clients are allowed.
        let curl = request("POST", "/login").with_form(&[("a", "b")]);
        assert!(post(&curl, issuer, Callers::BrowsersAndApiClients).is_ok());
        assert!(matches!(post(&curl, issuer, Callers::Browsers), Err(Refused::Expired)));
        let json = request("POST", "/login").with_json(&serde_json::json!({}));
        assert!(matches!(post(&json, issuer, Callers::BrowsersAndApiClients), Err(Refused::Malformed(_))));
    }
}
