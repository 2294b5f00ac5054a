//! `GET|POST /authorize` (the sign-in page, or at once the code for a signed-in browser) and
//! `POST /login` (the sign-in form's target, and the contract's JSON login: credentials →
//! authorization code).

use super::cookies::{csrf_token, session_token};
use super::flow::{self, Browser};
use super::prologue::{self, authorization_params, Callers, Refused};
use super::views::{self, authorize_error, consent_page, error_page, login_page, sign_in_error_page, Answer};
use crate::http::request::Params;
use crate::http::{App, Incoming, Outgoing};
use crate::oauth::amr::Authentication;
use crate::oauth::authorize::{error_redirect, AuthorizationRequest};
use crate::oauth::error::HttpCode;
use crate::oauth::prompt::{NextStep, SignIn, SignInPolicy};
use crate::oauth::secrets::Password;
use crate::oauth::{ErrorCode, OAuthError, OAuthResult};
use crate::store::{Platform, Store, User};

/// `GET|POST /authorize` (RFC 6749 §4.1.1, OIDC Core §3.1.2). A signed-in browser (session cookie)
/// gets its code at once, unless `prompt=login` or an exceeded `max_age` asks for credentials
/// again; `prompt=none` without a usable session answers `login_required` (OIDC Core §3.1.2.6).
pub async fn authorize<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Answer {
    // GET carries the request in the query, POST as a form body (OIDC Core §3.1.2.1).
    let params = if req.method == "POST" { req.form() } else { req.query_params() };
    let p = params
        .and_then(|q| authorization_params(&q, "redirect_uri"))
        .map_err(|e| error_page(app, 400, "Cannot sign in", &e.description))?;
    let r = app.provider.validate_authorization(&p).await.map_err(|e| authorize_error(app, e))?;
    let issuer = &app.provider.config.issuer;
    let back = |err: OAuthError| {
        Outgoing::redirect(&error_redirect(&r.redirect_uri, r.state.as_deref(), &err, issuer)).with_log_detail(err.internal)
    };
    let policy = SignInPolicy::parse(p.prompt.as_deref(), p.max_age.as_deref()).map_err(back)?;
    let failed = |e: OAuthError| sign_in_error_page(app, &e);
    match app.provider.sign_in(&r, policy, session_token(req, issuer).as_ref()).await.map_err(back)? {
        SignIn::Redirect(location) => Ok(Outgoing::redirect(&location)),
        // OIDC Core §3.1.2.1 `login_hint`: the username field starts with it.
        SignIn::AskForCredentials => Ok(login_page(app, req, 200, &r, r.login_hint.as_deref().unwrap_or(""), None)),
        SignIn::AskForConsent(user, auth) => {
            let csrf = csrf_token(req, issuer);
            let pending = flow::ask_consent(app, &Browser::new(req, &csrf), &r, &user, &auth).await.map_err(failed)?;
            Ok(consent_page(app, &r, &pending, &csrf))
        }
        // The step `sign_in` decided (a second step, or setting one up) is the one shown.
        SignIn::StepUp(user, auth, next) => {
            let csrf = csrf_token(req, issuer);
            let step = flow::continue_with(app, &Browser::new(req, &csrf), Some(&r), &user, auth, next).await.map_err(failed)?;
            Ok(views::step(app, Some(&r), &csrf, step))
        }
    }
}

/// `POST /login` (docs/API.md): authenticates and issues a code. A browser gets pages; an API
/// caller (`Accept: application/json`) the JSON answers of the contract.
pub async fn login<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> Answer {
    let json = req.wants_json();
    let issuer = &app.provider.config.issuer;
    let fail = |e: OAuthError| if json { Outgoing::error(&e) } else { sign_in_error_page(app, &e) };
    // The form's anti-CSRF token is checked once the request it carries is known, so that an
    // expired form is shown again for that request.
    let (form, fresh) = match prologue::post(req, issuer, Callers::BrowsersAndApiClients) {
        Ok(post) => (post.form, true),
        Err(Refused::CrossSite) => return Err(fail(OAuthError::access_denied("cross-site login form posts are refused"))),
        Err(Refused::Malformed(e)) => return Err(fail(e)),
        Err(Refused::Expired) => (req.form().map_err(fail)?, false),
    };
    let need = |k: &str| -> Result<String, Outgoing> {
        form.get(k).map_err(fail)?.ok_or_else(|| fail(OAuthError::invalid_request(format!("{k} is required"))))
    };
    let (username, password, redirect_to, _state) =
        (need("username")?, Password::new(need("password")?), need("redirect")?, need("state")?);
    let mut p = authorization_params(&form, "redirect").map_err(fail)?;
    p.response_type = Some("code".into());
    if redirect_to.is_empty() {
        return Err(fail(OAuthError::invalid_request("redirect is required")));
    }
    let r =
        app.provider
            .validate_authorization(&p)
            .await
            .map_err(|e| if json { Outgoing::error(e.error()) } else { authorize_error(app, e) })?;
    // A browser's post must carry its own anti-CSRF token (the prologue); API clients need none.
    if !fresh {
        let e = OAuthError::access_denied("the sign-in form is missing its anti-CSRF token or has expired; load it again");
        return Err(if json {
            Outgoing::error(&e)
        } else {
            login_page(app, req, 403, &r, &username, Some("This sign-in form has expired. Please sign in again."))
        });
    }
    let user = app.provider.authenticate_user(&username, &password).await.map_err(|e| {
        if e.code == ErrorCode::Http(HttpCode::RateLimited) && !json {
            let wait = e.retry_after.unwrap_or(60);
            let msg = format!("Too many failed sign-in attempts. Try again in {wait} seconds.");
            login_page(app, req, 429, &r, &username, Some(&msg)).header("retry-after", &wait.to_string())
        } else {
            fail(e)
        }
    })?;
    let Some(user) = user else {
        return Err(if json {
            Outgoing::error(&OAuthError::new(ErrorCode::AccessDenied, "invalid username or password")).with_status(401)
        } else {
            login_page(app, req, 401, &r, &username, Some("Invalid username or password."))
        });
    };
    let auth = Authentication::password(app.provider.now);
    let next = app.provider.next_step(Some(&r), &user, &auth, true).await.map_err(fail)?;
    if json {
        return api_sign_in(app, &form, &r, &user, next).await.map_err(|e| Outgoing::error(&e));
    }
    // A browser: the second step, set-up, consent or the code (flow.rs).
    let csrf = csrf_token(req, issuer);
    let browser = Browser::new(req, &csrf);
    let step = flow::continue_with(app, &browser, Some(&r), &user, auth, next).await.map_err(fail)?;
    Ok(views::step(app, Some(&r), &csrf, step))
}

/// The contract's JSON `/login` after the password: the same steps `next_step` decides for a
/// browser, where each page is a parameter or an OIDC error instead. A person with an
/// authenticator app sends its code as `otp` with the password; what needs a page (setting an
/// app up, consent) is refused with the error that says so.
async fn api_sign_in<S: Store, P: Platform>(
    app: &App<'_, S, P>,
    form: &Params,
    r: &AuthorizationRequest,
    user: &User,
    next: NextStep,
) -> OAuthResult<Outgoing> {
    let p = &app.provider;
    let next = match next {
        NextStep::SecondFactor => {
            let Some(code) = form.opt("otp").ok().flatten() else {
                return Err(OAuthError::new(
                    ErrorCode::InteractionRequired,
                    "this account has two-step sign-in: send the authenticator code as otp, or sign in in a browser",
                ));
            };
            if p.check_second_factor(user, &code).await?.is_none() {
                return Ok(Outgoing::error(&OAuthError::new(
                    ErrorCode::AccessDenied,
                    "the authentication code is not right, or was already used",
                ))
                .with_status(401));
            }
            let auth = Authentication::password_and_code(p.now);
            (p.next_step(Some(r), user, &auth, false).await?, auth)
        }
        next => (next, Authentication::password(p.now)),
    };
    match next {
        (NextStep::Enroll, _) => Err(OAuthError::new(
            ErrorCode::InteractionRequired,
            "this client requires two-step sign-in: set up an authenticator app in a browser first",
        )),
        // A third-party client needs the person's consent, which needs a browser.
        (NextStep::Consent, _) => Err(OAuthError::new(
            ErrorCode::ConsentRequired,
            "this client is third-party: the person must allow it in a browser (GET /authorize)",
        )),
        // (`next_step` after a code asks for no second one.)
        (NextStep::SecondFactor, _) => Err(OAuthError::server_error("the second step was asked for twice")),
        (NextStep::Finish, auth) => Ok(Outgoing::json(200, &p.issue_code(r, user, &auth).await?)),
    }
}
