//! Whether an authorization request may use the browser's existing session or must ask for
//! credentials (OpenID Connect Core §3.1.2.1 `prompt` and `max_age`, §3.1.2.6 `login_required`).

use super::amr::Authentication;
use super::authorize::AuthorizationRequest;
use super::secrets::SessionToken;
use super::{ErrorCode, OAuthError, OAuthResult, Provider};
use crate::store::{Platform, Store, User};

/// What the request's `prompt` and `max_age` ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SignInPolicy {
    /// `prompt=none`: "The Authorization Server MUST NOT display any authentication or consent
    /// user interface pages" (§3.1.2.1).
    pub none: bool,
    /// `prompt=login`: "SHOULD prompt the End-User for reauthentication".
    pub login: bool,
    /// `max_age`: seconds since the last active authentication beyond which the End-User
    /// must authenticate again.
    pub max_age: Option<u64>,
}

impl SignInPolicy {
    /// Parses `prompt` (space-delimited) and `max_age`. Errors go back to the client.
    pub fn parse(prompt: Option<&str>, max_age: Option<&str>) -> OAuthResult<Self> {
        let values: Vec<&str> = prompt.unwrap_or("").split(' ').filter(|x| !x.is_empty()).collect();
        let none = values.contains(&"none");
        // "If this parameter contains none with any other value, an error is returned" (§3.1.2.1).
        if none && values.len() > 1 {
            return Err(OAuthError::invalid_request("prompt=none cannot be combined with other values"));
        }
        let max_age = match max_age.map(str::parse::<u64>) {
            None => None,
            Some(Ok(m)) => Some(m),
            Some(Err(_)) => return Err(OAuthError::invalid_request("max_age must be a non-negative integer")),
        };
        Ok(Self { none, login: values.contains(&"login"), max_age })
    }

    /// Whether a session whose user authenticated at `auth_time` may sign this request in at
    /// `now`. `max_age=0` asks for authentication every time (as node-oidc-provider reads it).
    pub fn accepts_session(&self, auth_time: u64, now: u64) -> bool {
        !self.login && self.max_age.is_none_or(|m| m > 0 && now.saturating_sub(auth_time) <= m)
    }
}

/// What `/authorize` does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignIn {
    /// The session signed the request in: redirect to this location (with the code).
    Redirect(String),
    /// Show the sign-in page.
    AskForCredentials,
    /// The session's user is signed in, and a third-party client needs their consent first
    /// (the consent page's answer comes with the same session, `POST /consent`).
    AskForConsent(Box<User>, Authentication),
    /// The session's user is signed in, but this request demands two factors or a passkey,
    /// which that sign-in was not: the second step (or setting one up) comes first.
    StepUp(Box<User>, Authentication, NextStep),
}

/// What follows a successful authentication step, for an authorization request (`Some`) or the
/// account page (`None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    /// The person's authenticator code (their account has an app), before anything else.
    SecondFactor,
    /// The client demands two factors, and the person has neither an app nor a passkey: set
    /// an app up now (then its first code counts as the second factor).
    Enroll,
    /// A third-party client's consent.
    Consent,
    /// Done: issue the code (or, for the account page, sign in).
    Finish,
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// The step after `auth` (`fresh_password`: it was a password typed just now, not an
    /// existing session or a second step). A password alone is never enough for a person with
    /// an authenticator app; a request that demands two factors (`requires_strong`) gets them.
    pub async fn next_step(
        &self,
        r: Option<&AuthorizationRequest>,
        user: &User,
        auth: &Authentication,
        fresh_password: bool,
    ) -> OAuthResult<NextStep> {
        let strong_needed = r.is_some_and(|r| r.requires_strong) && !auth.is_strong();
        if (fresh_password && !auth.is_strong()) || strong_needed {
            if self.has_totp(&user.id).await? {
                return Ok(NextStep::SecondFactor);
            }
            if strong_needed {
                return Ok(NextStep::Enroll);
            }
        }
        match r {
            Some(r) if self.needs_consent(r, &user.id, r.prompt_consent).await? => Ok(NextStep::Consent),
            _ => Ok(NextStep::Finish),
        }
    }

    /// Decides an authorization request for a browser with the session cookie `session` (if
    /// any): a code at once from a usable session, else the sign-in page, or `login_required`
    /// when `prompt=none` forbids asking (§3.1.2.6).
    pub async fn sign_in(&self, r: &AuthorizationRequest, policy: SignInPolicy, session: Option<&SessionToken>) -> OAuthResult<SignIn> {
        let session = match session {
            Some(token) if !policy.login => self.current_session(token).await?,
            _ => None,
        };
        let Some((s, user)) = session.filter(|(s, _)| policy.accepts_session(s.auth_time, self.now)) else {
            if policy.none {
                return Err(OAuthError::new(ErrorCode::LoginRequired, "the user is not signed in"));
            }
            return Ok(SignIn::AskForCredentials);
        };
        let auth = Authentication::of_session(&s);
        match self.next_step(Some(r), &user, &auth, false).await? {
            NextStep::Finish => Ok(SignIn::Redirect(self.issue_code(r, &user, &auth).await?)),
            // §3.1.2.6: "The Authorization Server requires End-User consent", and prompt=none
            // forbids showing the page.
            NextStep::Consent if policy.none => Err(OAuthError::new(ErrorCode::ConsentRequired, "the user has not allowed this client")),
            NextStep::Consent => Ok(SignIn::AskForConsent(Box::new(user), auth)),
            // §3.1.2.6 `interaction_required`: a second step is needed and may not be shown.
            NextStep::SecondFactor | NextStep::Enroll if policy.none => {
                Err(OAuthError::new(ErrorCode::InteractionRequired, "this request needs two-step sign-in"))
            }
            step => Ok(SignIn::StepUp(Box::new(user), auth, step)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::authorize::AuthorizationParams;
    use crate::oauth::block_on;
    use crate::oauth::clients::ClientMetadata;
    use crate::oauth::users::validate_registration;
    use crate::testing::World;

    #[test]
    fn prompt_and_max_age_parse() {
        assert_eq!(SignInPolicy::parse(None, None).unwrap(), SignInPolicy::default());
        let p = SignInPolicy::parse(Some("login consent"), Some("300")).unwrap();
        assert_eq!((p.none, p.login, p.max_age), (false, true, Some(300)));
        assert!(SignInPolicy::parse(Some("none"), None).unwrap().none);
        assert_eq!(SignInPolicy::parse(Some("none login"), None).unwrap_err().code, ErrorCode::InvalidRequest);
        for bad in ["-1", "soon", "1.5", ""] {
            assert_eq!(SignInPolicy::parse(None, Some(bad)).unwrap_err().code, ErrorCode::InvalidRequest, "{bad}");
        }
    }

    #[test]
    fn a_session_is_accepted_within_max_age_and_never_with_prompt_login() {
        let any = SignInPolicy::default();
        assert!(any.accepts_session(0, 1_000_000));
        let recent = SignInPolicy { max_age: Some(60), ..Default::default() };
        assert!(recent.accepts_session(1000, 1060));
        assert!(!recent.accepts_session(1000, 1061));
        assert!(!SignInPolicy { max_age: Some(0), ..Default::default() }.accepts_session(1000, 1000));
        assert!(!SignInPolicy { login: true, ..Default::default() }.accepts_session(1000, 1000));
    }

    #[test]
    fn sign_in_uses_the_session_or_asks_or_answers_login_required() {
        let w = World::new();
        let p = w.at(1000);
        let meta: ClientMetadata =
            serde_json::from_str(r#"{"client_name":"App","redirect_uris":["https://app.example/cb"],"scopes":"openid"}"#).unwrap();
        let (client, _) = block_on(p.create_client(meta)).unwrap();
        let params = AuthorizationParams {
            client_id: Some(client.client_id.clone()),
            redirect_uri: Some("https://app.example/cb".into()),
            response_type: Some("code".into()),
            scope: Some("openid".into()),
            state: Some("st".into()),
            ..Default::default()
        };
        let r = block_on(p.validate_authorization(&params)).unwrap();
        let user = block_on(p.register_user(validate_registration("alice", "a@example.com", "password1", None).unwrap())).unwrap();
        let cookie = block_on(p.start_session(&user, &crate::oauth::amr::Authentication::password(p.now), "test")).unwrap();

        let later = w.at(1100);
        let policy = |prompt: Option<&str>, max_age: Option<&str>| SignInPolicy::parse(prompt, max_age).unwrap();
        match block_on(later.sign_in(&r, policy(None, None), Some(&cookie))).unwrap() {
            SignIn::Redirect(loc) => assert!(loc.starts_with("https://app.example/cb?code=") && loc.contains("state=st"), "{loc}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(block_on(later.sign_in(&r, policy(Some("login"), None), Some(&cookie))).unwrap(), SignIn::AskForCredentials);
        assert_eq!(block_on(later.sign_in(&r, policy(None, Some("50")), Some(&cookie))).unwrap(), SignIn::AskForCredentials);
        assert_eq!(block_on(later.sign_in(&r, policy(None, None), None)).unwrap(), SignIn::AskForCredentials);
        assert_eq!(block_on(later.sign_in(&r, policy(None, None), Some(&SessionToken::new("forged")))).unwrap(), SignIn::AskForCredentials);
        let e = block_on(later.sign_in(&r, policy(Some("none"), Some("50")), Some(&cookie))).unwrap_err();
        assert_eq!(e.code, ErrorCode::LoginRequired);
        assert!(matches!(block_on(later.sign_in(&r, policy(Some("none"), None), Some(&cookie))).unwrap(), SignIn::Redirect(_)));
    }

    #[test]
    fn the_step_after_a_sign_in_follows_the_factors_and_the_request() {
        use crate::oauth::amr::Authentication;
        let w = World::new();
        let t0 = 1_700_000_000;
        let p = w.at(t0);
        let meta = |mfa: bool| -> ClientMetadata {
            serde_json::from_str(&format!(
                r#"{{"client_name":"App","redirect_uris":["https://app.example/cb"],"scopes":"openid","require_mfa":{mfa}}}"#
            ))
            .unwrap()
        };
        let request = |client_id: &str, acr: Option<&str>| {
            let params = AuthorizationParams {
                client_id: Some(client_id.into()),
                redirect_uri: Some("https://app.example/cb".into()),
                response_type: Some("code".into()),
                scope: Some("openid".into()),
                acr_values: acr.map(str::to_string),
                ..Default::default()
            };
            block_on(p.validate_authorization(&params)).unwrap()
        };
        let (plain, _) = block_on(p.create_client(meta(false))).unwrap();
        let (strict, _) = block_on(p.create_client(meta(true))).unwrap();
        let user = block_on(p.register_user(validate_registration("alice", "a@example.com", "password1", None).unwrap())).unwrap();
        let pwd = Authentication::password(t0);
        let step = |r: Option<&AuthorizationRequest>, a: &Authentication, fresh| block_on(p.next_step(r, &user, a, fresh)).unwrap();

        // Without an app: a password is enough, unless the client or acr_values demand more.
        assert_eq!(step(Some(&request(&plain.client_id, None)), &pwd, true), NextStep::Finish);
        assert_eq!(step(Some(&request(&strict.client_id, None)), &pwd, true), NextStep::Enroll);
        assert_eq!(step(Some(&request(&plain.client_id, Some("2"))), &pwd, true), NextStep::Enroll);
        assert_eq!(step(Some(&request(&plain.client_id, Some("2 1"))), &pwd, true), NextStep::Finish);
        assert_eq!(step(Some(&request(&strict.client_id, None)), &Authentication::passkey(t0, false), false), NextStep::Finish);
        assert_eq!(step(None, &pwd, true), NextStep::Finish);

        // With an app: a fresh password always goes on to the code; a strong session does not.
        let setup = block_on(p.begin_totp_setup(&user, false)).unwrap();
        let secret = crate::crypto::totp::base32_decode(&setup.secret).unwrap();
        block_on(p.confirm_totp(&user, &crate::crypto::totp::code_at_step(&secret, crate::crypto::totp::step_at(t0)))).unwrap();
        assert_eq!(step(Some(&request(&plain.client_id, None)), &pwd, true), NextStep::SecondFactor);
        assert_eq!(step(None, &pwd, true), NextStep::SecondFactor, "the account page too");
        assert_eq!(step(Some(&request(&plain.client_id, None)), &pwd, false), NextStep::Finish, "an existing session");
        assert_eq!(step(Some(&request(&strict.client_id, None)), &pwd, false), NextStep::SecondFactor, "step-up");
        assert_eq!(step(Some(&request(&strict.client_id, None)), &Authentication::password_and_code(t0), false), NextStep::Finish);

        // From a password-only session, prompt=none cannot step up.
        let cookie = block_on(p.start_session(&user, &pwd, "test")).unwrap();
        let none = SignInPolicy::parse(Some("none"), None).unwrap();
        let e = block_on(p.sign_in(&request(&strict.client_id, None), none, Some(&cookie))).unwrap_err();
        assert_eq!(e.code, ErrorCode::InteractionRequired);
        match block_on(p.sign_in(&request(&strict.client_id, None), SignInPolicy::default(), Some(&cookie))).unwrap() {
            SignIn::StepUp(u, a, NextStep::SecondFactor) => assert_eq!((u.id, a), (user.id.clone(), pwd.clone())),
            other => panic!("{other:?}"),
        }
    }
}
