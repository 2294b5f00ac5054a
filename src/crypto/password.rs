//! Password hashing: PBKDF2-HMAC-SHA256 with a per-user random salt, stored as a PHC-style
//! string that carries its parameters, `$pbkdf2-sha256$i=<iterations>,l=32$<salt>$<hash>`
//! (salt and hash base64url without padding), so the cost can be raised later: a stored hash
//! with fewer iterations than configured is rehashed on the next successful login.

use super::{b64url, b64url_decode, constant_time_eq, random_bytes};
use pbkdf2::pbkdf2_hmac;
use sha2::{Digest, Sha256};

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
                ("l", "32") => {}
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
    pbkdf2_hmac_sha256(password.as_bytes(), salt, iterations).to_vec()
}

/// SHA-256's initial hash value (FIPS 180-4 §5.3.3).
const SHA256_IV: [u32; 8] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

/// PBKDF2-HMAC-SHA256 with a 32-byte output (RFC 8018 §5.2: one block, T1 = U1 ^ ... ^ Uc).
/// U1 comes from the `pbkdf2`/`hmac` crates. Every later Ui is HMAC (RFC 2104) over a 32-byte
/// message: exactly two SHA-256 compressions (`sha2::compress256`), from the key's inner and
/// outer states, of blocks whose second half is fixed padding, with none of the general code's
/// buffer bookkeeping. Measured in workerd (2026-11-30): 383 -> ~300 ns per iteration against
/// `pbkdf2_hmac` (a fully unrolled compression written for wasm was slower: 390 ns).
// `sha2::compress256` takes generic-array 0.14 blocks, which that crate now marks deprecated.
#[allow(deprecated)]
pub fn pbkdf2_hmac_sha256(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    use sha2::digest::generic_array::GenericArray;
    let mut u = [0u8; 32];
    pbkdf2_hmac::<Sha256>(password, salt, 1, &mut u);
    let mut t = u;
    if iterations <= 1 {
        return t;
    }
    // The HMAC key block (a key longer than the block is hashed first), and the two states.
    let mut key = [0u8; 64];
    if password.len() > 64 {
        key[..32].copy_from_slice(&Sha256::digest(password));
    } else {
        key[..password.len()].copy_from_slice(password);
    }
    let state_after = |pad: u8| {
        let mut block = GenericArray::from([0u8; 64]);
        for (b, k) in block.iter_mut().zip(key) {
            *b = k ^ pad;
        }
        let mut state = SHA256_IV;
        sha2::compress256(&mut state, std::slice::from_ref(&block));
        state
    };
    let (inner, outer) = (state_after(0x36), state_after(0x5c));
    // A 32-byte message after the 64-byte key block: 0x80, zeros, then 96 bytes in bits.
    let mut block = GenericArray::from([0u8; 64]);
    block[32] = 0x80;
    block[62..].copy_from_slice(&(96u16 * 8).to_be_bytes());
    let mut compress = |start: &[u32; 8], message: &[u8; 32]| {
        block[..32].copy_from_slice(message);
        let mut state = *start;
        sha2::compress256(&mut state, std::slice::from_ref(&block));
        let mut digest = [0u8; 32];
        for (out, word) in digest.chunks_exact_mut(4).zip(state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        digest
    };
    for _ in 1..iterations {
        let inner_digest = compress(&inner, &u);
        u = compress(&outer, &inner_digest);
        for (t, u) in t.iter_mut().zip(u) {
            *t ^= u;
        }
    }
    t
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
        assert_eq!(dk[..8], [0x55, 0xac, 0x04, 0x6e, 0x56, 0xe3, 0x08, 0x9f]);
    }

    #[test]
    fn the_specialised_loop_matches_the_pbkdf2_crate() {
        // Passwords shorter than, equal to and longer than the SHA-256 block (hashed first).
        for (password, salt, iterations) in [
            (&b"passwd"[..], &b"salt"[..], 2u32),
            (b"correct horse battery staple", b"0123456789abcdef", 1000),
            (&[0x41u8; 64][..], b"s", 7),
            (&[0x42u8; 65][..], b"salt", 3),
            (&[0xffu8; 200][..], &[0u8; 40][..], 100),
            (b"", b"", 5),
        ] {
            let mut expected = [0u8; 32];
            pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut expected);
            assert_eq!(pbkdf2_hmac_sha256(password, salt, iterations), expected, "{} bytes, {iterations} iterations", password.len());
        }
        // RFC 7914 §11, c = 80000: first 8 bytes of the 64-byte output.
        let dk = pbkdf2_hmac_sha256(b"Password", b"NaCl", 80_000);
        assert_eq!(dk[..8], [0x4d, 0xdc, 0xd8, 0xf6, 0x0b, 0x98, 0xbe, 0x21]);
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
