//! Cryptography the protocol needs, free of the worker runtime: password hashing, random
//! tokens, SHA-256 digests, constant-time comparison, and ES256 keys and JWTs.

pub mod es256;
pub mod jose;
pub mod jwt;
pub mod keys;
pub mod password;
pub mod rs256;
pub mod seal;
pub mod totp;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// base64url without padding (RFC 7515 §2), the encoding of every token and hash we emit.
pub fn b64url(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s).ok()
}

/// Fills a buffer from the platform CSPRNG (crypto.getRandomValues in workerd).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::getrandom(&mut buf).expect("the platform random source is available");
    buf
}

/// A high-entropy opaque secret (256 bits): codes, refresh tokens, client secrets.
pub fn random_token() -> String {
    b64url(&random_bytes::<32>())
}

/// A random identifier (128 bits): user ids, client ids, jti, family ids.
pub fn random_id() -> String {
    b64url(&random_bytes::<16>())
}

/// SHA-256 of a secret, base64url: the only form in which secrets are stored or used as keys.
pub fn sha256_b64url(secret: &str) -> String {
    b64url(&Sha256::digest(secret.as_bytes()))
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    // black_box keeps the optimiser from turning the fold into an early exit.
    std::hint::black_box(diff) == 0
}

/// Compares a presented secret with a stored SHA-256 hash in constant time.
pub fn secret_matches_hash(presented: &str, stored_hash: &str) -> bool {
    constant_time_eq(sha256_b64url(presented).as_bytes(), stored_hash.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_tokens_are_distinct_and_url_safe() {
        let a = random_token();
        let b = random_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(a.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn secret_hash_comparison() {
        let h = sha256_b64url("s3cret");
        assert!(secret_matches_hash("s3cret", &h));
        assert!(!secret_matches_hash("s3creT", &h));
        assert!(!constant_time_eq(b"ab", b"abc"));
    }
}
