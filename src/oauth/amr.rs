//! How a person signed in, in RFC 8176 Authentication Method Reference values (the `amr` of ID
//! tokens, OIDC Core §2), and what an authorization request demands of it: the `acr_values`
//! parameter (OIDC Core §3.1.2.1) and a client's `require_mfa`.
//!
//! Authentication context classes (`acr`, `acr_values_supported`), as Keycloak numbers its
//! levels of authentication: `"1"` is any sign-in; `"2"` is two factors (password and an
//! authenticator code) or a passkey.

/// RFC 8176 §2 values this server emits.
pub const PWD: &str = "pwd";
pub const OTP: &str = "otp";
pub const MFA: &str = "mfa";
pub const POP: &str = "pop";
pub const USER: &str = "user";

/// `acr` values (OIDC Core §2), weakest first.
pub const ACR_ONE_FACTOR: &str = "1";
pub const ACR_TWO_FACTORS: &str = "2";
pub const ACR_VALUES_SUPPORTED: [&str; 2] = [ACR_ONE_FACTOR, ACR_TWO_FACTORS];

/// A completed sign-in: when, and with what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authentication {
    pub auth_time: u64,
    pub amr: Vec<String>,
}

impl Authentication {
    pub fn new(auth_time: u64, methods: &[&str]) -> Self {
        Self { auth_time, amr: methods.iter().map(|m| m.to_string()).collect() }
    }

    /// The sign-in behind a browser session.
    pub fn of_session(session: &crate::store::Session) -> Self {
        Self { auth_time: session.auth_time, amr: session.amr.clone() }
    }

    /// A password alone.
    pub fn password(now: u64) -> Self {
        Self::new(now, &[PWD])
    }

    /// A password, then an authenticator code or a recovery code (a one-time password too).
    pub fn password_and_code(now: u64) -> Self {
        Self::new(now, &[PWD, OTP, MFA])
    }

    /// A passkey: proof of possession of its key (RFC 8176 `pop`); with user verification (a
    /// PIN or biometric on the authenticator) it is also `user`, and two factors (`mfa`).
    pub fn passkey(now: u64, user_verified: bool) -> Self {
        if user_verified {
            Self::new(now, &[POP, USER, MFA])
        } else {
            Self::new(now, &[POP])
        }
    }

    /// Two factors or a passkey: what `acr_values=2` and `require_mfa` ask for.
    pub fn is_strong(&self) -> bool {
        self.amr.iter().any(|m| m == MFA || m == POP)
    }

    /// The `acr` this sign-in reaches.
    pub fn acr(&self) -> &'static str {
        if self.is_strong() {
            ACR_TWO_FACTORS
        } else {
            ACR_ONE_FACTOR
        }
    }
}

/// Whether `acr_values` (space-separated, in order of preference) demands two factors: every
/// value it names that this server knows is `"2"`. Unknown values are ignored (the claim is
/// voluntary, OIDC Core §3.1.2.1), so only a request that names "2" and nothing weaker demands
/// it.
pub fn demands_two_factors(acr_values: Option<&str>) -> bool {
    let known: Vec<&str> = acr_values.unwrap_or("").split(' ').filter(|v| ACR_VALUES_SUPPORTED.contains(v)).collect();
    !known.is_empty() && known.iter().all(|v| *v == ACR_TWO_FACTORS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_and_levels() {
        assert_eq!(Authentication::password(5).amr, ["pwd"]);
        assert_eq!(Authentication::password_and_code(5).amr, ["pwd", "otp", "mfa"]);
        assert_eq!(Authentication::passkey(5, true).amr, ["pop", "user", "mfa"]);
        assert_eq!(Authentication::passkey(5, false).amr, ["pop"]);
        assert!(!Authentication::password(5).is_strong());
        assert!(Authentication::password_and_code(5).is_strong());
        assert!(Authentication::passkey(5, false).is_strong(), "a passkey is enough");
        assert_eq!(Authentication::password(5).acr(), "1");
        assert_eq!(Authentication::passkey(5, true).acr(), "2");
    }

    #[test]
    fn acr_values_demand_two_factors_only_when_nothing_weaker_is_acceptable() {
        assert!(demands_two_factors(Some("2")));
        assert!(demands_two_factors(Some("urn:unknown 2")));
        assert!(!demands_two_factors(Some("2 1")));
        assert!(!demands_two_factors(Some("1")));
        assert!(!demands_two_factors(Some("urn:unknown")));
        assert!(!demands_two_factors(Some("")));
        assert!(!demands_two_factors(None));
    }
}
