//! The sign-in flow of a browser: what follows a successful authentication step. It decides
//! and does (the pending second step, the session, the code) and returns the step for the
//! handler to render (`views::step`); it never renders. The rule of which step comes next is
//! `oauth::prompt::Provider::next_step`, computed once and passed in.
//!
//! A pending sign-in is a `Challenge` bound to the browser's anti-CSRF cookie, short-lived, and
//! taken (deleted) when its step succeeds. It records the authorization request
//! (`PendingSignIn`), so that the later pages of one sign-in carry only the record's id, not the
//! request replayed in hidden fields.

use crate::http::{App, Incoming};
use crate::oauth::amr::Authentication;
use crate::oauth::authorize::AuthorizationRequest;
use crate::oauth::prompt::NextStep;
use crate::oauth::second_factor::{sign_in_data, ChallengeKind, TotpSetup};
use crate::oauth::secrets::SessionToken;
use crate::oauth::OAuthResult;
use crate::store::{Platform, Store, User};

/// What the browser is shown next.
#[derive(Debug)]
pub enum Step {
    /// The second step: the pending sign-in's token.
    SecondFactor { pending: String },
    /// Setting an authenticator app up, because the client demands two factors: the pending
    /// sign-in and the new app's key.
    Enroll { pending: String, setup: TotpSetup },
    /// A third-party client's consent page: the question's record (`ask_consent`); the session
    /// has started when this step follows a sign-in (its token, unless starting it failed).
    Consent { pending: String, session: Option<SessionToken> },
    /// Signed in: to the client with its code (`Some(location)`), or back to the account page
    /// (`None`); the session has started.
    Done { location: Option<String>, session: Option<SessionToken> },
}

/// The browser that signs in: its anti-CSRF token (ceremonies are bound to it) and its
/// `User-Agent` (kept with its session for the account page).
pub struct Browser<'r> {
    pub csrf: &'r str,
    pub user_agent: &'r str,
}

impl<'r> Browser<'r> {
    /// The browser that sent `req`, whose anti-CSRF token is `csrf`.
    pub fn new(req: &'r Incoming, csrf: &'r str) -> Self {
        Self { csrf, user_agent: req.header("user-agent").unwrap_or("") }
    }
}

/// After `auth` succeeded for `user` (`fresh_password`: it was the password form): the next
/// step, computed by `next_step`, then `continue_with` it. `r` is the authorization request;
/// `None` for the account page.
pub async fn after_authentication<S: Store, P: Platform>(
    app: &App<'_, S, P>,
    browser: &Browser<'_>,
    r: Option<&AuthorizationRequest>,
    user: &User,
    auth: Authentication,
    fresh_password: bool,
) -> OAuthResult<Step> {
    let next = app.provider.next_step(r, user, &auth, fresh_password).await?;
    continue_with(app, browser, r, user, auth, next).await
}

/// Carries the sign-in on with `next`, the step `next_step` decided.
pub async fn continue_with<S: Store, P: Platform>(
    app: &App<'_, S, P>,
    browser: &Browser<'_>,
    r: Option<&AuthorizationRequest>,
    user: &User,
    auth: Authentication,
    next: NextStep,
) -> OAuthResult<Step> {
    let p = &app.provider;
    match (next, r) {
        (NextStep::Enroll, Some(_)) => {
            let data = sign_in_data(&auth, &recorded(r));
            let pending = p.start_challenge(ChallengeKind::Enroll, Some(&user.id), browser.csrf, &data).await?;
            Ok(Step::Enroll { pending, setup: p.begin_totp_setup(user, false).await? })
        }
        // (`next_step` asks to enroll only for an authorization request.)
        (NextStep::SecondFactor | NextStep::Enroll, _) => {
            let kind = if next == NextStep::Enroll { ChallengeKind::Enroll } else { ChallengeKind::SecondFactor };
            let data = sign_in_data(&auth, &recorded(r));
            Ok(Step::SecondFactor { pending: p.start_challenge(kind, Some(&user.id), browser.csrf, &data).await? })
        }
        (NextStep::Consent, Some(r)) => {
            let pending = ask_consent(app, browser, r, user, &auth).await?;
            Ok(Step::Consent { pending, session: start_session(app, browser, user, &auth).await })
        }
        (NextStep::Consent, None) => Ok(Step::Done { location: None, session: start_session(app, browser, user, &auth).await }),
        (NextStep::Finish, r) => {
            let location = match r {
                Some(r) => Some(p.issue_code(r, user, &auth).await?),
                None => None,
            };
            Ok(Step::Done { location, session: start_session(app, browser, user, &auth).await })
        }
    }
}

/// The authorization request as parameters: what the sign-in page's form carries, and what a
/// pending sign-in records.
pub fn request_fields(r: &AuthorizationRequest) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("client_id", r.client.client_id.clone()),
        ("redirect", r.redirect_uri.clone()),
        ("state", r.state.clone().unwrap_or_default()),
        ("scope", r.scope.to_string()),
    ];
    if let Some(n) = &r.nonce {
        h.push(("nonce", n.clone()));
    }
    if let Some(c) = &r.code_challenge {
        h.push(("code_challenge", c.clone()));
        h.push(("code_challenge_method", "S256".into()));
    }
    h.extend(r.resources.iter().map(|res| ("resource", res.clone())));
    if r.prompt_consent {
        h.push(("prompt", "consent".into()));
    }
    if let Some(acr) = &r.acr_values {
        h.push(("acr_values", acr.clone()));
    }
    h
}

/// The consent question's record: for `user`, about `r`, bound to this browser. `POST /consent`
/// answers it once.
pub async fn ask_consent<S: Store, P: Platform>(
    app: &App<'_, S, P>,
    browser: &Browser<'_>,
    r: &AuthorizationRequest,
    user: &User,
    auth: &Authentication,
) -> OAuthResult<String> {
    app.provider.start_challenge(ChallengeKind::Consent, Some(&user.id), browser.csrf, &sign_in_data(auth, &recorded(Some(r)))).await
}

/// A pending sign-in's record of `r` (none for the account page).
fn recorded(r: Option<&AuthorizationRequest>) -> Vec<(String, String)> {
    r.map(|r| request_fields(r).into_iter().map(|(k, v)| (k.to_string(), v)).collect()).unwrap_or_default()
}

/// A session of `auth` for the browser; `None` when it could not be stored (the sign-in goes on
/// without single sign-on).
async fn start_session<S: Store, P: Platform>(
    app: &App<'_, S, P>,
    browser: &Browser<'_>,
    user: &User,
    auth: &Authentication,
) -> Option<SessionToken> {
    app.provider.start_session(user, auth, browser.user_agent).await.ok()
}
