//! Users: registration rules and password authentication.

use super::secrets::Password;
use super::{OAuthError, OAuthResult, Provider};
use crate::crypto::password::{burn_equal_work, PasswordHash};
use crate::crypto::{random_id, sha256_b64url};
use crate::store::{Store, User};

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
    if !is_plausible_email(email) {
        return Err(OAuthError::invalid_request("email: not a valid email address"));
    }
    let chars = password.chars().count();
    if !(8..=256).contains(&chars) {
        return Err(OAuthError::invalid_request("password: 8 to 256 characters"));
    }
    if password.chars().any(char::is_control) {
        return Err(OAuthError::invalid_request("password: must not contain control characters"));
    }
    let role = role.unwrap_or(DEFAULT_ROLE);
    if !(1..=32).contains(&role.len()) || !role.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-') {
        return Err(OAuthError::invalid_request("role: 1 to 32 characters, lowercase letters, digits, '_' or '-'"));
    }
    Ok(NewUser { username: username.to_string(), email: email.to_string(), password: Password::new(password), role: role.to_string() })
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

/// The throttle row's key: SHA-256 of the lower-cased username (usernames are matched
/// case-insensitively, and mistyped passwords in the username field are not stored).
fn throttle_key(username: &str) -> String {
    sha256_b64url(&username.to_lowercase())
}

impl<S: Store> Provider<'_, S> {
    pub async fn register_user(&self, new: NewUser) -> OAuthResult<User> {
        let user = User {
            id: random_id(),
            username: new.username,
            email: new.email,
            password_hash: PasswordHash::create(new.password.expose(), self.config.pbkdf2_iterations).encode(),
            role: new.role,
            created_at: self.now,
        };
        self.store.insert_user(&user).await?;
        Ok(user)
    }

    /// Checks a username and password. `None` for an unknown user or a wrong password: both
    /// cost the same PBKDF2 work, so neither answer nor timing tells them apart. A hash made
    /// with fewer iterations than configured is replaced after a successful check.
    ///
    /// Brute force: failures are counted per username whether or not it exists (so a lock says
    /// nothing about existence); after `LOCK_AFTER_FAILURES` the username is locked for a
    /// doubling time and every check answers `rate_limited` with the seconds left, without
    /// spending PBKDF2 work. A success clears the count.
    pub async fn authenticate_user(&self, username: &str, password: &str) -> OAuthResult<Option<User>> {
        let key = throttle_key(username);
        let throttle = self.store.throttle(&key).await?;
        if throttle.locked_until > self.now {
            return Err(OAuthError::rate_limited(throttle.locked_until - self.now));
        }
        let user = self.check_password(username, password).await?;
        match &user {
            Some(_) if throttle.failures > 0 => self.store.clear_failures(&key).await?,
            Some(_) => {}
            None => {
                let t = self.store.record_failure(&key, self.now).await?;
                if t.locked_until > self.now {
                    return Err(OAuthError::rate_limited(t.locked_until - self.now));
                }
            }
        }
        Ok(user)
    }

    async fn check_password(&self, username: &str, password: &str) -> OAuthResult<Option<User>> {
        if username.is_empty() || username.len() > 64 || password.len() > 1024 {
            burn_equal_work(password, self.config.pbkdf2_iterations);
            return Ok(None);
        }
        let user = self.store.user_by_username(username).await?;
        let Some(user) = user else {
            burn_equal_work(password, self.config.pbkdf2_iterations);
            return Ok(None);
        };
        let Some(hash) = PasswordHash::parse(&user.password_hash) else {
            burn_equal_work(password, self.config.pbkdf2_iterations);
            return Ok(None);
        };
        if !hash.verify(password) {
            return Ok(None);
        }
        if hash.needs_rehash(self.config.pbkdf2_iterations) {
            let new = PasswordHash::create(password, self.config.pbkdf2_iterations).encode();
            // A failed upgrade is not a failed login; the next login retries it.
            let _ = self.store.set_password_hash(&user.id, &new).await;
        }
        Ok(Some(user))
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
        assert!(block_on(p.authenticate_user("alice", "correct horse")).unwrap().is_some());
        assert!(block_on(p.authenticate_user("ALICE", "correct horse")).unwrap().is_some());
        assert!(block_on(p.authenticate_user("alice", "wrong horse")).unwrap().is_none());
        assert!(block_on(p.authenticate_user("nobody", "correct horse")).unwrap().is_none());
        // Raising the cost upgrades the stored hash on the next successful login.
        w.config.pbkdf2_iterations = 2000;
        let p = w.at(1);
        block_on(p.authenticate_user("alice", "correct horse")).unwrap().unwrap();
        let stored = block_on(w.store.user_by_username("alice")).unwrap().unwrap().password_hash;
        assert!(stored.contains("i=2000"), "{stored}");
        // Five failures lock the username (known or not) with a Retry-After; success clears.
        for name in ["alice", "nobody-else"] {
            for i in 0..5 {
                let r = block_on(p.authenticate_user(name, "bad password"));
                if i < 4 {
                    assert!(r.unwrap().is_none());
                } else {
                    assert_eq!(r.unwrap_err().retry_after, Some(crate::store::LOCK_BASE_SECONDS));
                }
            }
            let locked = block_on(p.authenticate_user(name, "correct horse")).unwrap_err();
            assert_eq!(locked.code, crate::oauth::ErrorCode::Http(crate::oauth::error::HttpCode::RateLimited));
        }
        let later = w.at(1 + crate::store::LOCK_BASE_SECONDS);
        assert!(block_on(later.authenticate_user("alice", "correct horse")).unwrap().is_some());
        assert!(block_on(later.authenticate_user("alice", "bad password")).unwrap().is_none(), "success cleared the count");
        // Duplicates are conflicts.
        let dup = validate_registration("Alice", "other@example.com", "correct horse", None).unwrap();
        assert_eq!(block_on(p.register_user(dup)).unwrap_err().status(), 409);
    }
}
