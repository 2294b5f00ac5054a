//! Password hashing: PBKDF2-HMAC-SHA256 with a per-user random salt, stored as a PHC-style
//! string that carries its parameters, `$pbkdf2-sha256$i=<iterations>,l=32$<salt>$<hash>`
//! (salt and hash base64url without padding), so the cost can be raised later: a stored hash
//! with fewer iterations than configured is rehashed on the next successful login.

use super::{b64url, b64url_decode, constant_time_eq, random_bytes};
use pbkdf2::pbkdf2_hmac;
use sha2::Sha256;

const PREFIX: &str = "$pbkdf2-sha256$";
const HASH_LEN: usize = 32;
/// OWASP Password Storage Cheat Sheet figure for PBKDF2-HMAC-SHA256.
pub const DEFAULT_ITERATIONS: u32 = 600_000;
/// Below this a configured cost is refused (a typo must not weaken every new hash).
pub const MIN_ITERATIONS: u32 = 10_000;
pub const MAX_ITERATIONS: u32 = 10_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordHash {
    pub iterations: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

impl PasswordHash {
    /// Hashes `password` with a fresh 16-byte salt.
    pub fn create(password: &str, iterations: u32) -> Self {
        let salt = random_bytes::<16>().to_vec();
        let hash = derive(password, &salt, iterations);
        Self { iterations, salt, hash }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let rest = s.strip_prefix(PREFIX)?;
        let mut parts = rest.split('$');
        let params = parts.next()?;
        let salt = b64url_decode(parts.next()?)?;
        let hash = b64url_decode(parts.next()?)?;
        if parts.next().is_some() || hash.len() != HASH_LEN || salt.len() < 8 {
            return None;
        }
        let mut iterations = None;
        for p in params.split(',') {
            match p.split_once('=')? {
                ("i", v) => iterations = v.parse::<u32>().ok(),
                ("l", v) if v == "32" => {}
                _ => return None,
            }
        }
        let iterations = iterations.filter(|i| (1..=MAX_ITERATIONS).contains(i))?;
        Some(Self { iterations, salt, hash })
    }

    pub fn encode(&self) -> String {
        format!("{PREFIX}i={},l={HASH_LEN}${}${}", self.iterations, b64url(&self.salt), b64url(&self.hash))
    }

    /// Constant-time check of a candidate password.
    pub fn verify(&self, password: &str) -> bool {
        constant_time_eq(&derive(password, &self.salt, self.iterations), &self.hash)
    }

    /// True when the stored cost is below the configured one.
    pub fn needs_rehash(&self, iterations: u32) -> bool {
        self.iterations < iterations
    }
}

fn derive(password: &str, salt: &[u8], iterations: u32) -> Vec<u8> {
    let mut out = vec![0u8; HASH_LEN];
    pbkdf2_hmac::<Sha256>(password.as_bytes(), salt, iterations, &mut out);
    out
}

/// Spends the same PBKDF2 work as a real check, for a user that does not exist: the answer
/// and its timing must not reveal whether the account exists.
pub fn burn_equal_work(password: &str, iterations: u32) {
    let _ = std::hint::black_box(derive(password, b"no-such-user-salt", iterations));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_roundtrip_and_verify() {
        let h = PasswordHash::create("correct horse", 1000);
        let s = h.encode();
        assert!(s.starts_with("$pbkdf2-sha256$i=1000,l=32$"), "{s}");
        let parsed = PasswordHash::parse(&s).unwrap();
        assert_eq!(parsed, h);
        assert!(parsed.verify("correct horse"));
        assert!(!parsed.verify("correct horsE"));
        assert!(parsed.needs_rehash(2000));
        assert!(!parsed.needs_rehash(1000));
    }

    #[test]
    fn salts_differ_per_hash() {
        assert_ne!(PasswordHash::create("x", 1000).encode(), PasswordHash::create("x", 1000).encode());
    }

    #[test]
    fn known_vector() {
        // RFC 7914 §11 PBKDF2-HMAC-SHA256 vector: P="passwd", S="salt", c=1, dkLen=32 (prefix).
        let dk = derive("passwd", b"salt", 1);
        assert_eq!(
            dk[..8],
            [0x55, 0xac, 0x04, 0x6e, 0x56, 0xe3, 0x08, 0x9f]
        );
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "",
            "plain",
            "$pbkdf2-sha256$i=0,l=32$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$pbkdf2-sha256$i=x,l=32$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "$pbkdf2-sha256$i=10,l=32$c2FsdHNhbHQ$AAAA",
            "$pbkdf2-sha1$i=10,l=32$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(PasswordHash::parse(s).is_none(), "{s}");
        }
    }
}
