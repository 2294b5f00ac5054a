//! Proof Key for Code Exchange (RFC 7636). Only `S256` is accepted: `plain` offers no
//! protection once the challenge leaks, and OAuth 2.0 Security BCP §2.1.1 says to use S256.

use crate::crypto::{b64url, constant_time_eq};
use sha2::{Digest, Sha256};

/// RFC 7636 §4.1: code_verifier = 43*128unreserved.
pub fn is_valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// RFC 7636 §4.2: an S256 challenge is BASE64URL-ENCODE(SHA256(...)) without padding: exactly
/// 43 characters of the base64url alphabet. Anything else can never match a verifier.
pub fn is_valid_challenge(c: &str) -> bool {
    c.len() == 43 && c.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// RFC 7636 §4.2: code_challenge = BASE64URL-ENCODE(SHA256(ASCII(code_verifier))).
pub fn s256_challenge(verifier: &str) -> String {
    b64url(&Sha256::digest(verifier.as_bytes()))
}

/// RFC 7636 §4.6: the server recomputes the challenge from the verifier and compares.
pub fn verify_pkce(verifier: &str, challenge: &str) -> bool {
    is_valid_verifier(verifier) && constant_time_eq(s256_challenge(verifier).as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b_vector() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert_eq!(s256_challenge(verifier), challenge);
        assert!(verify_pkce(verifier, challenge));
        assert!(!verify_pkce("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK", challenge));
    }

    #[test]
    fn verifier_syntax() {
        assert!(!is_valid_verifier("short"));
        assert!(!is_valid_verifier(&"a".repeat(129)));
        assert!(is_valid_verifier(&"a".repeat(128)));
        assert!(!is_valid_verifier(&format!("{}+", "a".repeat(43))));
        // A verifier that is too short never verifies, even against its own hash.
        assert!(!verify_pkce("abc", &s256_challenge("abc")));
    }

    #[test]
    fn an_s256_challenge_is_exactly_43_base64url_characters() {
        assert!(is_valid_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(!is_valid_challenge(&"a".repeat(44)), "a plain-style 44-character value");
        assert!(!is_valid_challenge(&"a".repeat(128)));
        assert!(!is_valid_challenge(&"a".repeat(42)));
        assert!(!is_valid_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-c="), "padding");
        assert!(!is_valid_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw.cM"), "unreserved but not base64url");
    }
}
