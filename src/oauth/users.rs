//! Users: registration rules and password authentication.

use super::audit::{Audit, AuditKind};
use super::secrets::Password;
use super::{OAuthError, OAuthResult, Provider};
use crate::crypto::password::{burn_equal_work, PasswordHash};
use crate::crypto::{random_id, sha256_b64url};
use crate::store::{AddressLimit, Platform, Reservation, Store, User, ADDRESS_WINDOW};
use serde_json::json;

pub const DEFAULT_ROLE: &str = "user";
pub const ADMIN_ROLE: &str = "admin";

/// A registration request after field checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub password: Password,
    pub role: String,
}

/// Checks each field and names the first that is wrong (400 `invalid_request`).
pub fn validate_registration(username: &str, email: &str, password: &str, role: Option<&str>) -> OAuthResult<NewUser> {
    if !(3..=64).contains(&username.len()) || !username.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
        return Err(OAuthError::invalid_request("username: 3 to 64 characters, letters, digits, '.', '_' or '-'"));
    }
    validate_email(email)?;
    validate_password(password)?;
    let role = role.unwrap_or(DEFAULT_ROLE);
    validate_role(role)?;
    Ok(NewUser { username: username.to_string(), email: email.to_string(), password: Password::new(password), role: role.to_string() })
}

pub fn validate_email(email: &str) -> OAuthResult<()> {
    if !is_plausible_email(email) {
        return Err(OAuthError::invalid_request("email: not a valid email address"));
    }
    Ok(())
}

pub fn validate_password(password: &str) -> OAuthResult<()> {
    let chars = password.chars().count();
    if !(8..=256).contains(&chars) {
        return Err(OAuthError::invalid_request("password: 8 to 256 characters"));
    }
    if password.chars().any(char::is_control) {
        return Err(OAuthError::invalid_request("password: must not contain control characters"));
    }
    Ok(())
}

pub fn validate_role(role: &str) -> OAuthResult<()> {
    if !(1..=32).contains(&role.len()) || !role.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-') {
        return Err(OAuthError::invalid_request("role: 1 to 32 characters, lowercase letters, digits, '_' or '-'"));
    }
    Ok(())
}

/// A deliberately simple check (one '@', a dot in the domain, no spaces): deliverability is
/// the mail system's to judge, not a regex's.
fn is_plausible_email(email: &str) -> bool {
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = email.rsplit_once('@') else { return false };
    !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
        && domain.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// What a sign-in attempt checks. Each kind is counted toward a lock of its own: a correct
/// password must not clear the count of the authenticator or recovery codes that follow it, or
/// whoever knows the password could guess codes for ever at the address budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Factor {
    Password,
    /// An authenticator-app or recovery code (the second step, or managing the app).
    Code,
}

/// The throttle row's key: SHA-256 of the factor, the lower-cased username (usernames are
/// matched case-insensitively, and mistyped passwords in the username field are not stored) and
/// the client address. An account is locked only for the address its failures come from, so an
/// attacker elsewhere cannot lock its owner out.
fn throttle_key(factor: Factor, username: &str, address: &str) -> String {
    match factor {
        Factor::Password => sha256_b64url(&format!("{}\n{address}", username.to_lowercase())),
        Factor::Code => sha256_b64url(&format!("code\n{}\n{address}", username.to_lowercase())),
    }
}

/// A sign-in attempt reserved for (account, address) before any secret is checked; its outcome
/// is settled with `Provider::attempt_succeeded` or `attempt_failed`.
pub(crate) struct Attempt {
    key: String,
    reservation: Reservation,
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// Registers a user. Each registration costs a full password hash, so one address gets
    /// `AddressLimit::Registration` of them per minute (429 beyond).
    pub async fn register_user(&self, new: NewUser) -> OAuthResult<User> {
        if !self.platform.allow(AddressLimit::Registration, self.address, self.now).await? {
            self.audit(Audit::new(AuditKind::AddressLimited).detail(json!({ "budget": "registration" })));
            return Err(OAuthError::too_many("too many registrations from this address; try again later", ADDRESS_WINDOW));
        }
        let user = User {
            id: random_id(),
            username: new.username,
            email: new.email,
            password_hash: PasswordHash::create(new.password.expose(), self.config.pbkdf2_iterations).encode(),
            role: new.role,
            created_at: self.now,
            disabled: false,
        };
        self.store.insert_user(&user).await?;
        self.audit(Audit::new(AuditKind::UserRegistered).user(&user.id).detail(json!({ "role": user.role })));
        Ok(user)
    }

    /// Checks a username and password. `None` for an unknown user or a wrong password: both
    /// cost the same PBKDF2 work, so neither answer nor timing tells them apart. A hash made
    /// with fewer iterations than configured is replaced after a successful check.
    ///
    /// Brute force (docs/API.md "Sign-in throttling"), before any PBKDF2 work:
    /// - the address's budget across accounts (`AddressLimit::SignIn`, against spraying);
    /// - the attempt is reserved for (account, address) in one atomic write
    ///   (`ThrottleStore::reserve_attempt`), refused while that pair is locked, so concurrent
    ///   guesses cannot exceed `LOCK_AFTER_FAILURES` per lock window. Unknown usernames count
    ///   the same (a lock says nothing about existence). A success clears the count.
    ///
    /// Refusals are `rate_limited` with the seconds to wait.
    pub async fn authenticate_user(&self, username: &str, password: &Password) -> OAuthResult<Option<User>> {
        let attempt = self.reserve_sign_in_attempt(Factor::Password, username).await?;
        let (account, verified) = self.check_password(username, password.expose()).await?;
        if verified {
            self.attempt_succeeded(&attempt).await?;
            let user = account.expect("a verified password has an account");
            self.audit(Audit::new(AuditKind::SignInSucceeded).user(&user.id).detail(json!({ "method": "password" })));
            return Ok(Some(user));
        }
        // The event names the account only when it exists: an unknown "username" may be a
        // password typed into the wrong field, and is never recorded.
        let failed = |kind| match &account {
            Some(u) => Audit::new(kind).user(&u.id),
            None => Audit::new(kind).detail(json!({ "account": "unknown" })),
        };
        self.attempt_failed(&attempt, failed)?;
        Ok(None)
    }

    /// Reserves one sign-in attempt at `factor` for `username` at this address, before any
    /// password or code is checked (docs/API.md "Sign-in throttling"): refused when the address
    /// has spent its budget across accounts, or while (factor, account, address) is locked;
    /// counted now.
    pub(crate) async fn reserve_sign_in_attempt(&self, factor: Factor, username: &str) -> OAuthResult<Attempt> {
        if !self.platform.allow(AddressLimit::SignIn, self.address, self.now).await? {
            self.audit(Audit::new(AuditKind::AddressLimited).detail(json!({ "budget": "sign_in" })));
            return Err(OAuthError::too_many("too many sign-in attempts from this address; try again later", ADDRESS_WINDOW));
        }
        let key = throttle_key(factor, username, self.address);
        let reservation = self.store.reserve_attempt(&key, self.now, &super::lockout::lock_curve(self.now)).await?;
        if !reservation.granted {
            return Err(OAuthError::rate_limited(reservation.throttle.locked_until.saturating_sub(self.now)));
        }
        Ok(Attempt { key, reservation })
    }

    /// A reserved attempt succeeded: the failures counted for its (factor, account, address)
    /// are cleared, and only those.
    pub(crate) async fn attempt_succeeded(&self, attempt: &Attempt) -> OAuthResult<()> {
        Ok(self.store.clear_failures(&attempt.key).await?)
    }

    /// A reserved attempt failed: audited as `SignInFailed` through `event` (which names the
    /// account and method), and answered 429 now when this attempt earned the lock, rather
    /// than at the next one.
    pub(crate) fn attempt_failed(&self, attempt: &Attempt, event: impl Fn(AuditKind) -> Audit) -> OAuthResult<()> {
        self.audit(event(AuditKind::SignInFailed));
        let locked_until = attempt.reservation.throttle.locked_until;
        if locked_until > self.now {
            let seconds = locked_until - self.now;
            self.audit(event(AuditKind::SignInLocked).detail(json!({ "seconds": seconds })));
            return Err(OAuthError::rate_limited(seconds));
        }
        Ok(())
    }

    /// The account (if any) and whether the password is its own. A disabled account never
    /// verifies (the caller answers as for a wrong password). Unknown accounts cost the same work.
    async fn check_password(&self, username: &str, password: &str) -> OAuthResult<(Option<User>, bool)> {
        if username.is_empty() || username.len() > 64 || password.len() > 1024 {
            burn_equal_work(password, self.config.pbkdf2_iterations);
            return Ok((None, false));
        }
        let Some(user) = self.store.user_by_username(username).await? else {
            burn_equal_work(password, self.config.pbkdf2_iterations);
            return Ok((None, false));
        };
        let Some(hash) = PasswordHash::parse(&user.password_hash) else {
            burn_equal_work(password, self.config.pbkdf2_iterations);
            return Ok((Some(user), false));
        };
        if !hash.verify(password) || user.disabled {
            return Ok((Some(user), false));
        }
        if hash.needs_rehash(self.config.pbkdf2_iterations) {
            let new = PasswordHash::create(password, self.config.pbkdf2_iterations).encode();
            // A failed upgrade is not a failed login; the next login retries it.
            let _ = self.store.set_password_hash(&user.id, &new).await;
        }
        Ok((Some(user), true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::block_on;
    use crate::store::UserStore;
    use crate::testing::World;

    #[test]
    fn registration_field_rules() {
        assert!(validate_registration("alice", "alice@example.com", "correct horse", None).is_ok());
        let e = |u: &str, m: &str, p: &str, r: Option<&str>| validate_registration(u, m, p, r).unwrap_err().description;
        assert!(e("al", "a@example.com", "password1", None).starts_with("username"));
        assert!(e("al ice", "a@example.com", "password1", None).starts_with("username"));
        assert!(e("alice", "not-an-email", "password1", None).starts_with("email"));
        assert!(e("alice", "a@b", "password1", None).starts_with("email"));
        assert!(e("alice", "a@example.com", "short", None).starts_with("password"));
        assert!(e("alice", "a@example.com", "password1", Some("Admin!")).starts_with("role"));
        assert_eq!(validate_registration("bob", "b@example.com", "password1", None).unwrap().role, "user");
    }

    #[test]
    fn authenticate_and_rehash() {
        let mut w = World::new();
        let p = w.at(1);
        let new = validate_registration("alice", "alice@example.com", "correct horse", None).unwrap();
        block_on(p.register_user(new)).unwrap();
        assert!(block_on(p.authenticate_user("alice", &Password::new("correct horse"))).unwrap().is_some());
        assert!(block_on(p.authenticate_user("ALICE", &Password::new("correct horse"))).unwrap().is_some());
        assert!(block_on(p.authenticate_user("alice", &Password::new("wrong horse"))).unwrap().is_none());
        assert!(block_on(p.authenticate_user("nobody", &Password::new("correct horse"))).unwrap().is_none());
        // Raising the cost upgrades the stored hash on the next successful login.
        w.config.pbkdf2_iterations = 2000;
        let p = w.at(1);
        block_on(p.authenticate_user("alice", &Password::new("correct horse"))).unwrap().unwrap();
        let stored = block_on(w.store.user_by_username("alice")).unwrap().unwrap().password_hash;
        assert!(stored.contains("i=2000"), "{stored}");
        // Five failures lock the username (known or not) with a Retry-After; success clears.
        for name in ["alice", "nobody-else"] {
            for i in 0..5 {
                let r = block_on(p.authenticate_user(name, &Password::new("bad password")));
                if i < 4 {
                    assert!(r.unwrap().is_none());
                } else {
                    assert_eq!(r.unwrap_err().retry_after, Some(crate::oauth::lockout::LOCK_BASE_SECONDS));
                }
            }
            let locked = block_on(p.authenticate_user(name, &Password::new("correct horse"))).unwrap_err();
            assert_eq!(locked.code, crate::oauth::ErrorCode::Http(crate::oauth::error::HttpCode::RateLimited));
        }
        let later = w.at(1 + crate::oauth::lockout::LOCK_BASE_SECONDS);
        assert!(block_on(later.authenticate_user("alice", &Password::new("correct horse"))).unwrap().is_some());
        assert!(block_on(later.authenticate_user("alice", &Password::new("bad password"))).unwrap().is_none(), "success cleared the count");
        // Duplicates are conflicts.
        let dup = validate_registration("Alice", "other@example.com", "correct horse", None).unwrap();
        assert_eq!(block_on(p.register_user(dup)).unwrap_err().status(), 409);
    }

    #[test]
    fn a_lock_holds_for_the_attackers_address_only() {
        let w = World::new();
        let p = w.at(1);
        block_on(p.register_user(validate_registration("owner", "owner@example.com", "correct horse", None).unwrap())).unwrap();
        let attacker = w.at_from(10, "198.51.100.66");
        for _ in 0..crate::oauth::lockout::LOCK_AFTER_FAILURES {
            let _ = block_on(attacker.authenticate_user("owner", &Password::new("guess")));
        }
        // The attacker's address is locked, even with the right password...
        let e = block_on(attacker.authenticate_user("owner", &Password::new("correct horse"))).unwrap_err();
        assert_eq!(e.code, crate::oauth::ErrorCode::Http(crate::oauth::error::HttpCode::RateLimited));
        // ...the owner, elsewhere, signs in.
        assert!(block_on(w.at_from(10, "203.0.113.5").authenticate_user("owner", &Password::new("correct horse"))).unwrap().is_some());
    }

    #[test]
    fn one_address_is_limited_across_accounts_and_registrations() {
        let w = World::new();
        let sprayer = w.at_from(100, "198.51.100.7");
        // Password spraying: one guess at each of many accounts.
        for i in 0..crate::store::AddressLimit::SignIn.budget() {
            assert!(block_on(sprayer.authenticate_user(&format!("victim{i}"), &Password::new("Summer2026!"))).unwrap().is_none());
        }
        let e = block_on(sprayer.authenticate_user("victim-last", &Password::new("Summer2026!"))).unwrap_err();
        assert_eq!((e.status(), e.retry_after), (429, Some(crate::store::ADDRESS_WINDOW)));
        assert!(
            block_on(w.at_from(100, "203.0.113.9").authenticate_user("victim-last", &Password::new("x"))).unwrap().is_none(),
            "others are not"
        );
        // Registrations (each a full password hash) from one address.
        let registrar = w.at_from(100, "198.51.100.8");
        for i in 0..crate::store::AddressLimit::Registration.budget() {
            let new = validate_registration(&format!("bot{i}"), &format!("bot{i}@example.com"), "password123", None).unwrap();
            block_on(registrar.register_user(new)).unwrap();
        }
        let new = validate_registration("bot-last", "bot-last@example.com", "password123", None).unwrap();
        assert_eq!(block_on(registrar.register_user(new)).unwrap_err().status(), 429);
        // A minute later the budget is back.
        let new = validate_registration("bot-later", "bot-later@example.com", "password123", None).unwrap();
        assert!(block_on(w.at_from(100 + crate::store::ADDRESS_WINDOW, "198.51.100.8").register_user(new)).is_ok());
    }
}
