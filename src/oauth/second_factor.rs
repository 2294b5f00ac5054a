//! Two-step sign-in with an authenticator app (RFC 6238 TOTP: SHA-1, 6 digits, 30 s, ±1 step)
//! and one-time recovery codes; and the ceremony state that carries a sign-in from its password
//! to its second step (`Challenge`, bound to the browser).
//!
//! Rules: a code is accepted once (the last accepted time step is stored, and only a later step
//! is accepted, in one conditional write); each recovery code once; every code checked at sign-in
//! counts in the same throttling as passwords (an attempt reserved before the check, per
//! account and address); the shared secret is sealed at rest (`crypto::seal`), the recovery
//! codes stored as SHA-256 only.

use super::amr::Authentication;
use super::audit::{Audit, AuditKind};
use super::users::Factor;
use super::{OAuthError, OAuthResult, Provider};
use crate::crypto::seal::SealKey;
use crate::crypto::{random_bytes, random_token, sha256_b64url, totp};
pub use crate::store::ChallengeKind;
use crate::store::{Challenge, Platform, Store, TotpFactor, User};
use serde_json::json;

/// Steps either side of now a code may be from (RFC 6238 §5.2 recommends at most one).
const WINDOW: u64 = 1;
/// How many recovery codes a set-up gives.
pub const RECOVERY_CODES: usize = 10;
/// How long a sign-in may wait for its second step, and a passkey challenge for its answer.
pub const CHALLENGE_TTL: u64 = 300;

/// An authenticator app being set up: what the person copies or scans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpSetup {
    /// The secret in base32, grouped by four for reading.
    pub secret: String,
    /// The `otpauth://` key URI (the QR code's content).
    pub uri: String,
}

/// What a second-step code turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeKind {
    Authenticator,
    Recovery,
}

/// Normalises what a person typed: authenticator codes are shown as "123 456", recovery codes
/// as "ABCD-EFGH-…"; spaces and hyphens go, letters are upper-cased.
fn normalise(code: &str) -> String {
    code.chars().filter(|c| !c.is_whitespace() && *c != '-').flat_map(char::to_uppercase).take(64).collect()
}

/// A recovery code's stored form, bound to its user.
fn recovery_hash(user_id: &str, normalised: &str) -> String {
    sha256_b64url(&format!("{user_id}:{normalised}"))
}

/// A new recovery code: 16 base32 characters (80 bits), shown in groups of four.
fn new_recovery_code() -> String {
    grouped(&totp::base32(&random_bytes::<10>()), "-")
}

/// A fresh set of recovery codes for `user_id`, and their hashes as stored.
fn recovery_code_set(user_id: &str) -> (Vec<String>, Vec<String>) {
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| new_recovery_code()).collect();
    let hashes = codes.iter().map(|c| recovery_hash(user_id, &normalise(c))).collect();
    (codes, hashes)
}

/// Base32 text in groups of four characters, joined by `separator`, for reading and typing.
fn grouped(base32: &str, separator: &str) -> String {
    base32.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect::<Vec<_>>().join(separator)
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    fn seal_key(&self) -> OAuthResult<&SealKey> {
        self.config
            .totp_key
            .as_ref()
            .ok_or_else(|| OAuthError::unavailable("authenticator apps are not configured on this server (TOTP_ENCRYPTION_KEY is not set)"))
    }

    fn setup_of(&self, user: &User, secret: &[u8]) -> TotpSetup {
        let issuer_name = self.config.issuer.split("://").nth(1).unwrap_or(&self.config.issuer);
        TotpSetup { secret: grouped(&totp::base32(secret), " "), uri: totp::otpauth_uri(issuer_name, &user.username, secret) }
    }

    /// Whether the user has a confirmed authenticator app.
    pub async fn has_totp(&self, user_id: &str) -> OAuthResult<bool> {
        Ok(self.store.totp(user_id).await?.is_some_and(|f| f.confirmed))
    }

    /// Starts setting an app up (or shows the one being set up): a new secret, sealed and
    /// stored unconfirmed. Refused when the user already has one.
    pub async fn begin_totp_setup(&self, user: &User, fresh: bool) -> OAuthResult<TotpSetup> {
        let key = self.seal_key()?;
        match self.store.totp(&user.id).await? {
            Some(f) if f.confirmed => return Err(OAuthError::invalid_request("an authenticator app is already set up")),
            Some(f) if !fresh => {
                if let Some(secret) = key.open(&f.sealed_secret, &user.id) {
                    return Ok(self.setup_of(user, &secret));
                }
            }
            _ => {}
        }
        let secret = random_bytes::<{ totp::SECRET_BYTES }>();
        let factor = TotpFactor {
            user_id: user.id.clone(),
            sealed_secret: key.seal(&secret, &user.id),
            confirmed: false,
            last_step: 0,
            created_at: self.now,
        };
        if !self.store.put_pending_totp(&factor).await? {
            return Err(OAuthError::invalid_request("an authenticator app is already set up"));
        }
        Ok(self.setup_of(user, &secret))
    }

    /// Confirms the app being set up with a code from it; returns the new recovery codes (shown
    /// once: only their hashes are kept).
    pub async fn confirm_totp(&self, user: &User, code: &str) -> OAuthResult<Vec<String>> {
        let key = self.seal_key()?;
        let factor = match self.store.totp(&user.id).await? {
            Some(f) if !f.confirmed => f,
            Some(_) => return Err(OAuthError::invalid_request("an authenticator app is already set up")),
            None => return Err(OAuthError::invalid_request("start setting up an authenticator app first")),
        };
        let secret = key.open(&factor.sealed_secret, &user.id).ok_or_else(|| OAuthError::server_error("a stored secret did not open"))?;
        let attempt = self.reserve_sign_in_attempt(Factor::Code, &user.username).await?;
        let step = self
            .settle(user, attempt, totp::matching_step(&secret, &normalise(code), self.now, WINDOW))
            .await?
            .ok_or_else(|| OAuthError::invalid_request("that code is not right; enter the current code from your app"))?;
        let (codes, hashes) = recovery_code_set(&user.id);
        if !self.store.confirm_totp(&user.id, step, &hashes, self.now).await? {
            return Err(OAuthError::invalid_request("an authenticator app is already set up"));
        }
        self.audit(Audit::new(AuditKind::TotpEnabled).user(&user.id));
        Ok(codes)
    }

    /// Turns the app off; needs a fresh code from it (or a recovery code).
    pub async fn disable_totp(&self, user: &User, code: &str) -> OAuthResult<()> {
        if self.check_second_factor(user, code).await?.is_none() {
            return Err(OAuthError::invalid_request("that code is not right"));
        }
        self.store.delete_totp(&user.id).await?;
        self.audit(Audit::new(AuditKind::TotpDisabled).user(&user.id));
        Ok(())
    }

    /// New recovery codes in place of the old ones (all of them, used or not); needs a fresh
    /// code (an authenticator code, or one of the old recovery codes). Shown once.
    pub async fn new_recovery_codes(&self, user: &User, code: &str) -> OAuthResult<Vec<String>> {
        if self.check_second_factor(user, code).await?.is_none() {
            return Err(OAuthError::invalid_request("that code is not right"));
        }
        let (codes, hashes) = recovery_code_set(&user.id);
        self.store.replace_recovery_codes(&user.id, &hashes).await?;
        self.audit(Audit::new(AuditKind::RecoveryCodesReplaced).user(&user.id));
        Ok(codes)
    }

    /// How many unused recovery codes the user has.
    pub async fn recovery_codes_left(&self, user_id: &str) -> OAuthResult<u32> {
        Ok(self.store.recovery_codes_left(user_id).await?)
    }

    /// The outcome of a reserved attempt at a second-step code: a success clears the count; a
    /// failure is audited, and answered 429 when it earned a lock.
    async fn settle<T>(&self, user: &User, attempt: crate::oauth::users::Attempt, result: Option<T>) -> OAuthResult<Option<T>> {
        if result.is_some() {
            self.attempt_succeeded(&attempt).await?;
            return Ok(result);
        }
        // A lock's event carries its seconds, not the method (as for passwords).
        let event = |kind| match kind {
            AuditKind::SignInFailed => Audit::new(kind).user(&user.id).detail(json!({ "method": "second_factor" })),
            _ => Audit::new(kind).user(&user.id),
        };
        self.attempt_failed(&attempt, event)?;
        Ok(None)
    }

    /// Checks a second-step code (an authenticator code, or a recovery code) for a user with a
    /// confirmed app: throttled, and each code accepted once. `None`: not right (or replayed).
    pub async fn check_second_factor(&self, user: &User, code: &str) -> OAuthResult<Option<CodeKind>> {
        let key = self.seal_key()?;
        let factor = match self.store.totp(&user.id).await? {
            Some(f) if f.confirmed => f,
            _ => return Err(OAuthError::invalid_request("this account has no authenticator app")),
        };
        let code = normalise(code);
        let attempt = self.reserve_sign_in_attempt(Factor::Code, &user.username).await?;
        let result = if code.len() == totp::DIGITS as usize && code.bytes().all(|b| b.is_ascii_digit()) {
            let secret =
                key.open(&factor.sealed_secret, &user.id).ok_or_else(|| OAuthError::server_error("a stored secret did not open"))?;
            match totp::matching_step(&secret, &code, self.now, WINDOW) {
                // Only a step later than the last accepted one: a code is accepted once.
                Some(step) if self.store.use_totp_step(&user.id, step).await? => Some(CodeKind::Authenticator),
                _ => None,
            }
        } else if !code.is_empty() && self.store.use_recovery_code(&user.id, &recovery_hash(&user.id, &code), self.now).await? {
            let left = self.store.recovery_codes_left(&user.id).await?;
            self.audit(Audit::new(AuditKind::RecoveryCodeUsed).user(&user.id).detail(json!({ "left": left })));
            Some(CodeKind::Recovery)
        } else {
            None
        };
        self.settle(user, attempt, result).await
    }

    /// Starts a ceremony for this browser (`binding`: its anti-CSRF cookie); returns the value
    /// the browser presents to continue it.
    pub async fn start_challenge(&self, kind: ChallengeKind, user_id: Option<&str>, binding: &str, data: &str) -> OAuthResult<String> {
        let token = random_token();
        let challenge = Challenge {
            id_hash: sha256_b64url(&token),
            kind,
            user_id: user_id.map(str::to_string),
            binding: sha256_b64url(binding),
            data: data.to_string(),
            expires_at: self.now + CHALLENGE_TTL,
        };
        self.store.put_challenge(&challenge).await?;
        Ok(token)
    }

    /// The live challenge behind `token`, if it is of `kinds` and was issued to this browser;
    /// `take` deletes it (single use: of concurrent takers one gets it).
    pub async fn find_challenge(&self, token: &str, kinds: &[ChallengeKind], binding: &str, take: bool) -> OAuthResult<Option<Challenge>> {
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        let id_hash = sha256_b64url(token);
        let found =
            if take { self.store.take_challenge(&id_hash, self.now).await? } else { self.store.challenge(&id_hash, self.now).await? };
        let bound = sha256_b64url(binding);
        Ok(found.filter(|c| kinds.contains(&c.kind) && crate::crypto::constant_time_eq(c.binding.as_bytes(), bound.as_bytes())))
    }

    /// The user of a sign-in's pending second step, and the sign-in so far.
    pub async fn pending_sign_in(&self, c: &Challenge) -> OAuthResult<Option<PendingSignIn>> {
        let Some(user_id) = &c.user_id else { return Ok(None) };
        let Some(user) = self.store.user_by_id(user_id).await?.filter(|u| !u.disabled) else { return Ok(None) };
        let data: serde_json::Value = serde_json::from_str(&c.data).unwrap_or_default();
        let auth_time = data["auth_time"].as_u64().unwrap_or(self.now);
        let strings = |v: &serde_json::Value| -> Vec<String> {
            v.as_array().map(|a| a.iter().filter_map(|m| m.as_str().map(str::to_string)).collect()).unwrap_or_default()
        };
        let request = data["request"]
            .as_array()
            .map(|pairs| pairs.iter().filter_map(|p| Some((p[0].as_str()?.to_string(), p[1].as_str()?.to_string()))).collect())
            .unwrap_or_default();
        Ok(Some(PendingSignIn { user, auth: Authentication { auth_time, amr: strings(&data["amr"]) }, request }))
    }
}

/// A sign-in in progress (node-oidc-provider's `Interaction`, Hydra's `login_challenge`): who,
/// how far (the authentication so far), and for which authorization request, as its
/// parameters. Kept server-side in a `Challenge`; the browser's pages carry only its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignIn {
    pub user: User,
    pub auth: Authentication,
    /// The authorization request's parameters (empty for the account page's sign-in), checked
    /// again as if new whenever the sign-in goes on.
    pub request: Vec<(String, String)>,
}

/// The data of a sign-in challenge: the authentication so far and the request's parameters.
pub fn sign_in_data(auth: &Authentication, request: &[(String, String)]) -> String {
    let request: Vec<[&str; 2]> = request.iter().map(|(k, v)| [k.as_str(), v.as_str()]).collect();
    json!({ "auth_time": auth.auth_time, "amr": auth.amr, "request": request }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::block_on;
    use crate::oauth::secrets::Password;
    use crate::oauth::users::validate_registration;
    use crate::oauth::ErrorCode;
    use crate::store::FactorStore;
    use crate::testing::World;

    fn code_from(setup: &TotpSetup, now: u64) -> String {
        totp::code_at_step(&totp::base32_decode(&setup.secret).unwrap(), totp::step_at(now))
    }

    fn world_with_user() -> (World, User) {
        let w = World::new();
        let user = block_on(w.at(1000).register_user(validate_registration("alice", "a@example.com", "password1", None).unwrap())).unwrap();
        (w, user)
    }

    #[test]
    fn setting_up_confirming_and_using_an_app() {
        let (w, user) = world_with_user();
        let t0 = 1_700_000_000;
        let p = w.at(t0);
        let setup = block_on(p.begin_totp_setup(&user, false)).unwrap();
        assert!(setup.uri.starts_with("otpauth://totp/") && setup.uri.contains("&digits=6&period=30"), "{}", setup.uri);
        // The stored secret is sealed: neither its base32 nor raw bytes appear.
        let stored = block_on(w.store.totp(&user.id)).unwrap().unwrap();
        assert!(!stored.confirmed);
        assert!(!stored.sealed_secret.contains(&setup.secret.replace(' ', "")));
        // Showing the set-up again keeps the same secret; a wrong code does not confirm it.
        assert_eq!(block_on(p.begin_totp_setup(&user, false)).unwrap(), setup);
        assert_eq!(block_on(p.confirm_totp(&user, "000000")).unwrap_err().code, ErrorCode::InvalidRequest);
        assert!(!block_on(p.has_totp(&user.id)).unwrap());
        let codes = block_on(p.confirm_totp(&user, &code_from(&setup, t0))).unwrap();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert!(codes.iter().all(|c| c.len() == 19 && c.matches('-').count() == 3), "{codes:?}");
        assert!(block_on(p.has_totp(&user.id)).unwrap());
        assert_eq!(block_on(p.recovery_codes_left(&user.id)).unwrap(), 10);
        assert!(block_on(p.begin_totp_setup(&user, true)).is_err(), "one app per user");

        // The code that confirmed it is used: not accepted again, nor any earlier one.
        assert_eq!(block_on(p.check_second_factor(&user, &code_from(&setup, t0))).unwrap(), None);
        let later = w.at(t0 + 30);
        assert_eq!(block_on(later.check_second_factor(&user, &code_from(&setup, t0 + 30))).unwrap(), Some(CodeKind::Authenticator));
        assert_eq!(block_on(later.check_second_factor(&user, &code_from(&setup, t0 + 30))).unwrap(), None, "replay");
        // ±1 step: the next step's code is accepted now; two steps away is not.
        let at = w.at(t0 + 90);
        assert_eq!(block_on(at.check_second_factor(&user, &code_from(&setup, t0 + 150))).unwrap(), None);
        let spaced = code_from(&setup, t0 + 120);
        let spaced = format!("{} {}", &spaced[..3], &spaced[3..]);
        assert_eq!(block_on(at.check_second_factor(&user, &spaced)).unwrap(), Some(CodeKind::Authenticator));

        // A recovery code works once, typed in any case and with or without hyphens.
        let rc = codes[3].to_lowercase().replace('-', "");
        assert_eq!(block_on(at.check_second_factor(&user, &rc)).unwrap(), Some(CodeKind::Recovery));
        assert_eq!(block_on(at.check_second_factor(&user, &codes[3])).unwrap(), None);
        assert_eq!(block_on(at.recovery_codes_left(&user.id)).unwrap(), 9);

        // New recovery codes need a right code and replace every old one.
        assert!(block_on(at.new_recovery_codes(&user, "000000")).is_err());
        let fresh = block_on(at.new_recovery_codes(&user, &codes[5])).unwrap();
        assert_eq!(block_on(at.recovery_codes_left(&user.id)).unwrap(), 10);
        assert_eq!(block_on(at.check_second_factor(&user, &codes[6])).unwrap(), None, "the old codes are gone");
        let codes = fresh;

        // Turning it off needs a right code; then it is gone with its recovery codes.
        assert!(block_on(at.disable_totp(&user, "123")).is_err());
        block_on(at.disable_totp(&user, &codes[0])).unwrap();
        assert!(!block_on(at.has_totp(&user.id)).unwrap());
        assert_eq!(block_on(at.recovery_codes_left(&user.id)).unwrap(), 0);
        let kinds: Vec<String> = w.audit_kinds();
        for k in ["totp.enabled", "recovery_code.used", "recovery_codes.replaced", "totp.disabled"] {
            assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
        }
    }

    /// A user whose authenticator app was set up and confirmed at `t0`.
    fn world_with_app(t0: u64) -> (World, User, TotpSetup) {
        let (w, user) = world_with_user();
        let p = w.at(t0);
        let setup = block_on(p.begin_totp_setup(&user, false)).unwrap();
        block_on(p.confirm_totp(&user, &code_from(&setup, t0))).unwrap();
        (w, user, setup)
    }

    #[test]
    fn wrong_codes_count_in_the_sign_in_throttling() {
        let t0 = 1_700_000_000;
        let (w, user, setup) = world_with_app(t0);
        let p = w.at(t0);
        for i in 0..4 {
            assert_eq!(block_on(p.check_second_factor(&user, "999999")).unwrap(), None, "attempt {i}");
        }
        let locked = block_on(p.check_second_factor(&user, "999999")).unwrap_err();
        assert_eq!(locked.code, ErrorCode::Http(crate::oauth::error::HttpCode::RateLimited));
        // Locked: even the right code is refused from this address. The password has a count of
        // its own, which the codes' failures do not spend.
        let right = code_from(&setup, t0 + 30);
        assert!(block_on(w.at(t0 + 30).check_second_factor(&user, &right)).is_err());
        assert!(block_on(w.at(t0 + 30).authenticate_user("alice", &Password::new("password1"))).unwrap().is_some());
        assert!(block_on(w.at(t0 + 30).check_second_factor(&user, &right)).is_err(), "and the password does not lift the lock");
    }

    #[test]
    fn a_correct_password_does_not_clear_the_count_of_wrong_codes() {
        let t0 = 1_700_000_000;
        let (w, user, setup) = world_with_app(t0);
        // Who knows the password signs in with it before every guess at the code, as the JSON
        // `/login` and the browser's second step each let them.
        for i in 0..4 {
            let p = w.at(t0 + i);
            assert!(block_on(p.authenticate_user("alice", &Password::new("password1"))).unwrap().is_some());
            assert_eq!(block_on(p.check_second_factor(&user, "999999")).unwrap(), None, "guess {i}");
        }
        let p = w.at(t0 + 4);
        assert!(block_on(p.authenticate_user("alice", &Password::new("password1"))).unwrap().is_some());
        let fifth = block_on(p.check_second_factor(&user, "999999")).unwrap_err();
        assert_eq!(fifth.code, ErrorCode::Http(crate::oauth::error::HttpCode::RateLimited), "the fifth wrong code earns the lock");
        assert!(block_on(w.at(t0 + 5).check_second_factor(&user, &code_from(&setup, t0 + 5))).is_err(), "locked");
        // Recovery codes count toward the same lock.
        assert!(block_on(w.at(t0 + 6).check_second_factor(&user, "aaaa-bbbb-cccc")).is_err());
        // Another address is not locked (the owner is not locked out from elsewhere), and a right
        // code there clears only that address's count.
        let home = w.at_from(t0 + 30, "192.0.2.50");
        assert_eq!(block_on(home.check_second_factor(&user, &code_from(&setup, t0 + 30))).unwrap(), Some(CodeKind::Authenticator));
    }

    #[test]
    fn second_step_attempts_are_audited_and_budgeted_like_passwords() {
        let t0 = 1_700_000_000;
        let (w, user, _) = world_with_app(t0);
        let p = w.at(t0);
        w.audit_log.take();
        for _ in 0..5 {
            let _ = block_on(p.check_second_factor(&user, "999999"));
        }
        let events = w.audit_log.take();
        let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["sign_in.failed", "sign_in.failed", "sign_in.failed", "sign_in.failed", "sign_in.failed", "sign_in.locked"]);
        assert!(events.iter().all(|e| e.user_id.as_deref() == Some(user.id.as_str())));
        assert_eq!(events[0].detail["method"], "second_factor");
        assert!(events[5].detail["seconds"].as_u64().is_some_and(|s| s > 0), "{}", events[5].detail);
        // The address's budget across accounts is spent by second-step attempts too, and its
        // refusal is audited as for passwords (another address is not limited).
        let elsewhere = w.at_from(t0, "192.0.2.99");
        let refused = (0..crate::store::AddressLimit::SignIn.budget() + 1)
            .map(|_| block_on(elsewhere.check_second_factor(&user, "000000")))
            .filter(|r| r.as_ref().is_err_and(|e| e.description.contains("from this address")))
            .count();
        assert!(refused >= 1);
        assert!(w.audit_log.take().iter().any(|e| e.kind == "address.limited"));
    }

    #[test]
    fn without_a_sealing_key_nothing_is_set_up() {
        let (mut w, user) = world_with_user();
        w.config.totp_key = None;
        let e = block_on(w.at(1).begin_totp_setup(&user, false)).unwrap_err();
        assert_eq!(e.status(), 503);
    }

    #[test]
    fn challenges_are_single_use_bound_to_their_browser_and_short_lived() {
        let (w, user) = world_with_user();
        let p = w.at(1000);
        let auth = Authentication::password(1000);
        let request = vec![("client_id".to_string(), "c1".to_string()), ("resource".to_string(), "urn:a".to_string())];
        let data = sign_in_data(&auth, &request);
        let token = block_on(p.start_challenge(ChallengeKind::SecondFactor, Some(&user.id), "browser-a", &data)).unwrap();
        let kinds = [ChallengeKind::SecondFactor];
        assert!(block_on(p.find_challenge(&token, &kinds, "browser-b", false)).unwrap().is_none(), "another browser");
        assert!(block_on(p.find_challenge(&token, &[ChallengeKind::Enroll], "browser-a", false)).unwrap().is_none(), "another kind");
        let c = block_on(p.find_challenge(&token, &kinds, "browser-a", false)).unwrap().unwrap();
        let pending = block_on(p.pending_sign_in(&c)).unwrap().unwrap();
        assert_eq!((pending.user.id, pending.auth, pending.request), (user.id.clone(), auth, request), "the record of the sign-in");
        assert!(block_on(w.at(1000 + CHALLENGE_TTL).find_challenge(&token, &kinds, "browser-a", false)).unwrap().is_none(), "expired");
        assert!(block_on(p.find_challenge(&token, &kinds, "browser-a", true)).unwrap().is_some());
        assert!(block_on(p.find_challenge(&token, &kinds, "browser-a", true)).unwrap().is_none(), "taken once");
    }
}
