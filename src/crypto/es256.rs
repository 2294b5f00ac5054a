//! ES256 with precomputed fixed-base tables. A table holds `j · 16^i · P` for the 64 nibbles of
//! a scalar, so `k·P` becomes 64 additions instead of ~256 doublings and 64 additions, which is
//! most of an ECDSA operation's cost. The generator's table is built once per isolate; a public
//! key's table once per key (`keys::PublicKey`).
//!
//! Signing is exactly ECDSA over P-256 with RFC 6979 deterministic nonces, so signatures are
//! byte-identical to the `p256` crate's (`same_signatures_as_p256` checks it); its table entries
//! are chosen with constant-time selection over all 16 candidates of a window, so memory access
//! does not depend on the secret nonce. Verification handles only public values and indexes the
//! tables directly; it agrees with `p256`'s verifier (`same_verdicts_as_p256`), gives Project
//! Wycheproof's verdict on every ECDSA P-256/SHA-256 (P1363 encoding, as JWS uses) test vector,
//! and the signer reproduces RFC 6979 §A.2.5.
//!
//! High-s policy: signatures are not normalised and both `s` and `n - s` verify. RFC 7518 §3.4
//! defines ES256 as plain ECDSA, which accepts either, and JOSE libraries sign with either; a
//! token is never identified by its signature bytes here (revocation and single use go by
//! `jti`, codes and grant ids), so a second valid encoding of a signature gains an attacker
//! nothing. `s = 0`, `r = 0`, values `>= n` and encodings that are not 64 bytes are refused.

use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::bigint::ArrayEncoding;
use p256::elliptic_curve::group::Group;
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::subtle::{ConditionallySelectable, ConstantTimeEq};
use p256::elliptic_curve::{Curve, PrimeField};
use p256::{FieldBytes, NistP256, ProjectivePoint, Scalar, U256};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// `self.0[i][j] = j · 16^i · P` for the 64 nibbles of a 256-bit scalar (~96 KB).
pub struct PointTable(Box<[[ProjectivePoint; 16]; 64]>);

impl PointTable {
    /// About 1,100 point additions: the cost of three plain signatures, paid once.
    pub fn new(point: ProjectivePoint) -> Self {
        let mut t = Box::new([[ProjectivePoint::IDENTITY; 16]; 64]);
        let mut base = point;
        for window in t.iter_mut() {
            for j in 1..16 {
                window[j] = window[j - 1] + base;
            }
            // 16 · base for the next window.
            base = window[15] + base;
        }
        Self(t)
    }

    /// Nibble `i` of a scalar, counted from the least significant end.
    fn nibble(bytes: &FieldBytes, i: usize) -> u8 {
        let byte = bytes[31 - i / 2];
        if i & 1 == 0 {
            byte & 0x0f
        } else {
            byte >> 4
        }
    }

    /// k·P in time independent of k's value (for secret scalars).
    fn mul_ct(&self, k: &Scalar) -> ProjectivePoint {
        let bytes = k.to_bytes();
        let mut acc = ProjectivePoint::IDENTITY;
        for (i, window) in self.0.iter().enumerate() {
            let nibble = Self::nibble(&bytes, i);
            let mut chosen = ProjectivePoint::IDENTITY;
            for (j, candidate) in window.iter().enumerate() {
                chosen.conditional_assign(candidate, (j as u8).ct_eq(&nibble));
            }
            acc += chosen;
        }
        acc
    }

    /// k·P for public scalars: entries indexed directly, zero nibbles skipped.
    fn mul_vartime(&self, k: &Scalar) -> ProjectivePoint {
        let bytes = k.to_bytes();
        let mut acc = ProjectivePoint::IDENTITY;
        for (i, window) in self.0.iter().enumerate() {
            let nibble = Self::nibble(&bytes, i) as usize;
            if nibble != 0 {
                acc += window[nibble];
            }
        }
        acc
    }
}

fn generator_table() -> &'static PointTable {
    static TABLE: OnceLock<PointTable> = OnceLock::new();
    TABLE.get_or_init(|| PointTable::new(ProjectivePoint::GENERATOR))
}

fn mul_generator(k: &Scalar) -> ProjectivePoint {
    generator_table().mul_ct(k)
}

/// Verifies an ES256 signature over `message` (SEC 1 §4.1.4): R = (z/s)·G + (r/s)·Q, and
/// x(R) mod n must equal r. `key` is the public key Q's table.
pub fn verify(key: &PointTable, message: &[u8], signature: &Signature) -> bool {
    let (r, s) = signature.split_scalars();
    let digest: FieldBytes = Sha256::digest(message);
    let z = <Scalar as Reduce<U256>>::reduce_bytes(&digest);
    // s is a NonZeroScalar, so its inverse exists.
    let Some(s_inv) = Option::<Scalar>::from(s.as_ref().invert()) else { return false };
    let u1 = z * s_inv;
    let u2 = *r * s_inv;
    let point = generator_table().mul_vartime(&u1) + key.mul_vartime(&u2);
    if bool::from(point.is_identity()) {
        return false;
    }
    let x = <Scalar as Reduce<U256>>::reduce_bytes(&point.to_affine().x());
    x == *r
}

/// Signs `message` (the JWS signing input) with ES256: SHA-256, RFC 6979 nonce, ECDSA.
pub fn sign(key: &SigningKey, message: &[u8]) -> Signature {
    let d: Scalar = *key.as_nonzero_scalar().as_ref();
    let digest: FieldBytes = Sha256::digest(message);
    // RFC 6979 §3.2 with SHA-256 and no additional data: what `SigningKey::sign` uses.
    let order = NistP256::ORDER.to_be_byte_array();
    let k_bytes = rfc6979::generate_k::<Sha256, _>(&d.to_repr(), &order, &digest, &[]);
    let k = Option::<Scalar>::from(Scalar::from_repr(k_bytes)).expect("RFC 6979 yields k < n");
    let z = <Scalar as Reduce<U256>>::reduce_bytes(&digest);
    let r_point = mul_generator(&k).to_affine();
    let r = <Scalar as Reduce<U256>>::reduce_bytes(&r_point.x());
    let k_inv = Option::<Scalar>::from(k.invert()).expect("k is non-zero");
    let s = k_inv * (z + r * d);
    // r and s are non-zero except with negligible probability; from_scalars checks.
    Signature::from_scalars(r, s).expect("r and s are non-zero")
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer;

    #[test]
    fn same_signatures_as_p256() {
        for seed in 1u8..=20 {
            let key = SigningKey::from_slice(&[seed; 32]).unwrap();
            for msg in [&b""[..], b"header.payload", &[seed; 300][..]] {
                let expected: Signature = key.sign(msg);
                assert_eq!(sign(&key, msg), expected, "seed {seed}");
            }
        }
    }

    #[test]
    fn table_matches_scalar_multiplication() {
        let q = ProjectivePoint::GENERATOR * Scalar::from(12345u64);
        let table_q = PointTable::new(q);
        let big = -Scalar::ONE; // n - 1: every nibble of the top windows is used.
        for k in [0u64, 1, 2, 15, 16, 255, 256, u64::MAX].map(Scalar::from).into_iter().chain([big]) {
            assert_eq!(mul_generator(&k).to_affine(), (ProjectivePoint::GENERATOR * k).to_affine());
            assert_eq!(generator_table().mul_vartime(&k).to_affine(), (ProjectivePoint::GENERATOR * k).to_affine());
            assert_eq!(table_q.mul_vartime(&k).to_affine(), (q * k).to_affine());
        }
    }

    #[test]
    fn same_verdicts_as_p256() {
        use p256::ecdsa::signature::Verifier;
        for seed in 1u8..=10 {
            let key = SigningKey::from_slice(&[seed; 32]).unwrap();
            let vk = *key.verifying_key();
            let table = PointTable::new(vk.as_affine().into());
            let other = PointTable::new((*SigningKey::from_slice(&[seed + 100; 32]).unwrap().verifying_key().as_affine()).into());
            let msg = format!("header.payload.{seed}");
            let sig = sign(&key, msg.as_bytes());
            assert!(verify(&table, msg.as_bytes(), &sig));
            assert!(vk.verify(msg.as_bytes(), &sig).is_ok());
            // Another message, another key, and every single-bit flip of the signature.
            assert!(!verify(&table, b"header.payload.x", &sig));
            assert!(!verify(&other, msg.as_bytes(), &sig));
            let bytes = sig.to_bytes();
            for bit in (0..512).step_by(7) {
                let mut b = bytes;
                b[bit / 8] ^= 1 << (bit % 8);
                if let Ok(bad) = Signature::from_slice(&b) {
                    assert_eq!(verify(&table, msg.as_bytes(), &bad), vk.verify(msg.as_bytes(), &bad).is_ok(), "bit {bit}");
                }
            }
        }
    }

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
        let table = PointTable::new(ProjectivePoint::from(*key.verifying_key().as_affine()));
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
            let table = PointTable::new(ProjectivePoint::from(*key.as_affine()));
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
        let table = PointTable::new(ProjectivePoint::from(*key.verifying_key().as_affine()));
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
