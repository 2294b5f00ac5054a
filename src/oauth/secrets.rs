//! Secret values as types: a password, a client secret, a refresh token, an authorization code,
//! a PKCE verifier and a browser session's cookie each have their own newtype, whose `Debug` prints `[redacted]`, so a
//! secret never reaches a log line or a panic message by accident (a `{:?}` of a request, a
//! credential or a new user is safe). The value is read only through `expose`, which says at the
//! call site that a secret is being used.

macro_rules! secret {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            /// The secret itself: for hashing, comparing or sending it to its owner once.
            pub fn expose(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map(Self)
            }
        }

        impl serde::Serialize for $name {
            /// Serialised only into the answer that hands the secret to its owner.
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
    };
}

secret!(
    /// A user's password as presented at sign-in or registration.
    Password
);
secret!(
    /// A confidential client's secret (RFC 6749 §2.3.1), presented or newly issued.
    ClientSecret
);
secret!(
    /// A refresh token (RFC 6749 §1.5), presented or newly issued; stored only as its SHA-256.
    RefreshTokenSecret
);
secret!(
    /// An authorization code (RFC 6749 §4.1.2) as presented at the token endpoint.
    CodeSecret
);
secret!(
    /// A PKCE `code_verifier` (RFC 7636 §4.1).
    CodeVerifier
);
secret!(
    /// A browser session's cookie value; stored only as its SHA-256.
    SessionToken
);
secret!(
    /// The deployment's `BOOTSTRAP_ADMIN_TOKEN`, an admin bearer for setting up.
    BootstrapToken
);
secret!(
    /// A token presented as `Authorization: Bearer` (RFC 6750 §2.1): an access token, an RFC
    /// 7592 registration access token or the bootstrap token.
    BearerToken
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_secret() {
        let shown = format!(
            "{:?} {:?} {:?} {:?} {:?}",
            Password::new("hunter2-password"),
            ClientSecret::new("hunter2-client"),
            RefreshTokenSecret::new("hunter2-refresh"),
            CodeSecret::new("hunter2-code"),
            CodeVerifier::new("hunter2-verifier"),
        ) + &format!(
            "{:?} {:?} {:?}",
            SessionToken::new("hunter2-session"),
            BootstrapToken::new("hunter2-bootstrap"),
            BearerToken::new("hunter2-bearer")
        );
        assert!(!shown.contains("hunter2"), "{shown}");
        assert_eq!(format!("{:?}", Password::new("x")), "Password([redacted])");
        assert_eq!(Password::new("x").expose(), "x");
        assert_eq!(serde_json::to_string(&RefreshTokenSecret::new("rt")).unwrap(), "\"rt\"");
    }
}
