//! Sealing a small secret the server must read back (an authenticator app's shared secret), so
//! that D1 never holds it in the clear: encrypt-then-MAC with HMAC-SHA-256 as both the keystream
//! PRF and the MAC, under a key from the `TOTP_ENCRYPTION_KEY` secret.
//!
//! sealed = nonce (16 random bytes) ‖ secret ⊕ HMAC(k_enc, nonce) ‖ HMAC(k_mac, nonce ‖ ct ‖ context)[..16]
//!
//! A fresh random nonce per sealing makes the keystream single-use (HMAC-SHA-256 is a PRF); the
//! tag binds the ciphertext to its `context` (the user id), so a sealed value copied to another
//! row does not open. Secrets up to 32 bytes (one HMAC block of keystream).

use super::{b64url, b64url_decode, constant_time_eq, random_bytes};
use hmac::{Hmac, Mac};
use sha2::Sha256;

const NONCE: usize = 16;
const TAG: usize = 16;
/// The longest secret one sealing holds.
pub const MAX_SECRET: usize = 32;

/// The sealing key: two subkeys derived from the configured secret.
#[derive(Clone)]
pub struct SealKey {
    enc: [u8; 32],
    mac: [u8; 32],
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

impl SealKey {
    /// From the configured secret: base64url of at least 32 random bytes (`openssl rand -base64
    /// 32` output is accepted too, as standard base64).
    pub fn from_secret(secret: &str) -> Result<Self, String> {
        use base64::Engine;
        let secret = secret.trim();
        let bytes = b64url_decode(secret.trim_end_matches('='))
            .or_else(|| base64::engine::general_purpose::STANDARD.decode(secret).ok())
            .ok_or("TOTP_ENCRYPTION_KEY is not base64")?;
        if bytes.len() < 32 {
            return Err("TOTP_ENCRYPTION_KEY must hold at least 32 random bytes".into());
        }
        Ok(Self { enc: hmac(&bytes, &[b"edge-oidc seal v1 enc"]), mac: hmac(&bytes, &[b"edge-oidc seal v1 mac"]) })
    }

    /// Seals `secret` (at most `MAX_SECRET` bytes) for `context`; base64url.
    pub fn seal(&self, secret: &[u8], context: &str) -> String {
        assert!(secret.len() <= MAX_SECRET, "seal holds at most {MAX_SECRET} bytes");
        let nonce = random_bytes::<NONCE>();
        let stream = hmac(&self.enc, &[&nonce]);
        let ct: Vec<u8> = secret.iter().zip(stream.iter()).map(|(a, b)| a ^ b).collect();
        let tag = hmac(&self.mac, &[&nonce, &ct, context.as_bytes()]);
        let mut out = Vec::with_capacity(NONCE + ct.len() + TAG);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out.extend_from_slice(&tag[..TAG]);
        b64url(&out)
    }

    /// The secret sealed for `context`, or `None` when the value was sealed under another key,
    /// for another context, or altered.
    pub fn open(&self, sealed: &str, context: &str) -> Option<Vec<u8>> {
        let raw = b64url_decode(sealed)?;
        if raw.len() < NONCE + TAG || raw.len() > NONCE + MAX_SECRET + TAG {
            return None;
        }
        let (nonce, rest) = raw.split_at(NONCE);
        let (ct, tag) = rest.split_at(rest.len() - TAG);
        let expected = hmac(&self.mac, &[nonce, ct, context.as_bytes()]);
        if !constant_time_eq(&expected[..TAG], tag) {
            return None;
        }
        let stream = hmac(&self.enc, &[nonce]);
        Some(ct.iter().zip(stream.iter()).map(|(a, b)| a ^ b).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SealKey {
        SealKey::from_secret(&b64url(&[byte; 32])).unwrap()
    }

    #[test]
    fn a_sealed_secret_opens_only_with_its_key_and_context() {
        let k = key(1);
        let sealed = k.seal(b"12345678901234567890", "user-1");
        assert!(!sealed.contains("MTIzNDU2Nzg5MDEy"), "the secret is not in the clear");
        assert_eq!(k.open(&sealed, "user-1").unwrap(), b"12345678901234567890");
        assert_eq!(k.open(&sealed, "user-2"), None, "another row's context");
        assert_eq!(key(2).open(&sealed, "user-1"), None, "another key");
        assert_ne!(k.seal(b"12345678901234567890", "user-1"), sealed, "a fresh nonce each time");
        let mut raw = b64url_decode(&sealed).unwrap();
        raw[NONCE] ^= 1;
        assert_eq!(k.open(&b64url(&raw), "user-1"), None, "altered ciphertext");
        for junk in ["", "!!", &b64url(&[0u8; 10]), &b64url(&[0u8; 200])] {
            assert_eq!(k.open(junk, "user-1"), None);
        }
    }

    #[test]
    fn the_key_must_be_long_enough_and_base64() {
        assert!(SealKey::from_secret("short").is_err());
        assert!(SealKey::from_secret(&b64url(&[0u8; 16])).is_err());
        assert!(SealKey::from_secret("not base64 at all ***").is_err());
        use base64::Engine;
        assert!(SealKey::from_secret(&base64::engine::general_purpose::STANDARD.encode([9u8; 32])).is_ok());
        assert_eq!(format!("{:?}", key(1)), "SealKey(..)");
    }
}
