//! ES256 with precomputed fixed-base tables. A table holds `j · 16^i · P` for the 64 nibbles of
//! a scalar, so `k·P` becomes 64 additions instead of ~256 doublings and 64 additions, which is
//! most of an ECDSA operation's cost. The generator's table is built once per isolate; a public
//! key's table once per key (`keys::PublicKey`).
//!
//! Signing is exactly ECDSA over P-256 with RFC 6979 deterministic nonces, so signatures are
//! byte-identical to the `p256` crate's (`same_signatures_as_p256` checks it); its table entries
//! are chosen with constant-time selection over all 16 candidates of a window, so memory access
//! does not depend on the secret nonce. Verification handles only public values and indexes the
//! tables directly; it agrees with `p256`'s verifier (`same_verdicts_as_p256`).

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
}
