//! ES256 in the wasm (RFC 7518 §3.4: ECDSA over P-256 with SHA-256), for when the platform does
//! not sign or verify (`store::PlatformSigner`: workerd's WebCrypto does, about ten times
//! faster; host tests and a failing platform come here). It is the `p256` crate's, with RFC 6979
//! deterministic nonces. Fixed-base tables once made this path 2.4x (signing) and 2.7x
//! (verifying) faster natively (2026-12-08: 50 vs 122 µs, 74 vs 197 µs); since WebCrypto does the
//! work in production, the tables and their hand-made point arithmetic went (docs/SIZE.md).
//!
//! Wycheproof's verdict on every ECDSA P-256/SHA-256 (P1363 encoding, as JWS uses) test vector
//! and RFC 6979 §A.2.5 are checked below.
//!
//! High-s policy: signatures are not normalised and both `s` and `n - s` verify. RFC 7518 §3.4
//! defines ES256 as plain ECDSA, which accepts either, and JOSE libraries sign with either; a
//! token is never identified by its signature bytes here (revocation and single use go by
//! `jti`, codes and grant ids), so a second valid encoding of a signature gains an attacker
//! nothing. `s = 0`, `r = 0`, values `>= n` and encodings that are not 64 bytes are refused.

use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};

/// Verifies an ES256 signature over `message` (SEC 1 §4.1.4).
pub fn verify(key: &VerifyingKey, message: &[u8], signature: &Signature) -> bool {
    key.verify(message, signature).is_ok()
}

/// Signs `message` (the JWS signing input) with ES256: SHA-256, RFC 6979 nonce, ECDSA.
pub fn sign(key: &SigningKey, message: &[u8]) -> Signature {
    key.sign(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    #[test]
    fn rfc6979_a25_vectors() {
        // RFC 6979 §A.2.5: ECDSA, 256 bits (prime field), with SHA-256.
        let key = SigningKey::from_slice(&hex("C9AFA9D845BA75166B5C215767B1D6934E50C3DB36E89B127B8A622B120F6721")).unwrap();
        let public = key.verifying_key().to_encoded_point(false);
        assert_eq!(&public.x().unwrap()[..], hex("60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6"));
        assert_eq!(&public.y().unwrap()[..], hex("7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299"));
        let table = *key.verifying_key();
        for (message, r, s) in [
            (
                "sample",
                "EFD48B2AACB6A8FD1140DD9CD45E81D69D2C877B56AAF991C34D0EA84EAF3716",
                "F7CB1C942D657C41D436C7A1B6E29F65F3E900DBB9AFF4064DC4AB2F843ACDA8",
            ),
            (
                "test",
                "F1ABB023518351CD71D881567B1EA663ED3EFCF6C5132B354F28D3B0B7D38367",
                "019F4113742A2B14BD25926B49C649155F267E60D3814B4C0CC84250E46F0083",
            ),
        ] {
            let signature = sign(&key, message.as_bytes());
            assert_eq!(&signature.to_bytes()[..], [hex(r), hex(s)].concat(), "{message}");
            assert!(verify(&table, message.as_bytes(), &signature));
        }
    }

    #[test]
    fn wycheproof_ecdsa_p256_sha256_p1363() {
        use wycheproof::ecdsa::{TestName, TestSet};
        use wycheproof::TestResult;
        let set = TestSet::load(TestName::EcdsaSecp256r1Sha256P1363).unwrap();
        let (mut checked, mut acceptable) = (0, 0);
        for group in &set.test_groups {
            // A few groups carry public keys that are not on the curve: those keys never load.
            let Ok(key) = p256::ecdsa::VerifyingKey::from_sec1_bytes(&group.key.key) else {
                assert!(group.tests.iter().all(|t| t.result != TestResult::Valid), "a valid test with an unloadable key");
                continue;
            };
            let table = key;
            for t in &group.tests {
                // As `jwt::verify` decodes a JWS signature: exactly r || s, each < n and non-zero.
                let verdict = Signature::from_slice(&t.sig).is_ok_and(|sig| verify(&table, &t.msg, &sig));
                match t.result {
                    TestResult::Valid => assert!(verdict, "tcId {} ({}) must verify", t.tc_id, t.comment),
                    TestResult::Invalid => assert!(!verdict, "tcId {} ({}) must not verify", t.tc_id, t.comment),
                    TestResult::Acceptable => acceptable += 1,
                }
                checked += 1;
            }
        }
        assert!(checked >= 250, "{checked} vectors checked");
        assert!(acceptable < checked / 10);
    }

    #[test]
    fn high_s_signatures_verify_and_zero_or_oversized_values_do_not() {
        let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let table = *key.verifying_key();
        let sig = sign(&key, b"payload");
        let (r, s) = sig.split_scalars();
        let flipped = Signature::from_scalars(*r, -*s.as_ref()).unwrap();
        assert!(verify(&table, b"payload", &sig) && verify(&table, b"payload", &flipped), "s and n - s both verify");
        let mut zero_s = sig.to_bytes().to_vec();
        zero_s[32..].fill(0);
        assert!(Signature::from_slice(&zero_s).is_err());
        assert!(Signature::from_slice(&[0xff; 64]).is_err(), "values >= n");
        assert!(Signature::from_slice(&sig.to_bytes()[..63]).is_err());
    }
}
