//! ES256 signing with a precomputed fixed-base table for the generator G, built once per isolate:
//! k·G becomes 64 additions of table entries instead of ~256 doublings and 64 additions, which
//! is most of an ECDSA signature's cost. Everything else is exactly ECDSA over P-256 with
//! RFC 6979 deterministic nonces, so signatures are byte-identical to the `p256` crate's
//! (`same_signatures_as_p256` checks it). Table entries are chosen with constant-time selection
//! over all 16 candidates of a window, so memory access does not depend on the secret nonce.

use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::bigint::ArrayEncoding;
use p256::elliptic_curve::ops::Reduce;
use p256::elliptic_curve::point::AffineCoordinates;
use p256::elliptic_curve::subtle::{ConditionallySelectable, ConstantTimeEq};
use p256::elliptic_curve::{Curve, PrimeField};
use p256::{FieldBytes, NistP256, ProjectivePoint, Scalar, U256};
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// `TABLE[i][j] = j · 16^i · G` for the 64 nibbles of a 256-bit scalar.
struct GeneratorTable([[ProjectivePoint; 16]; 64]);

fn table() -> &'static GeneratorTable {
    static TABLE: OnceLock<Box<GeneratorTable>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Box::new(GeneratorTable([[ProjectivePoint::IDENTITY; 16]; 64]));
        let mut base = ProjectivePoint::GENERATOR;
        for window in t.0.iter_mut() {
            for j in 1..16 {
                window[j] = window[j - 1] + base;
            }
            // 16 · base for the next window.
            base = window[15] + base;
        }
        t
    })
}

/// k·G with the table, in time independent of k's value.
fn mul_generator(k: &Scalar) -> ProjectivePoint {
    let bytes = k.to_bytes(); // big-endian
    let t = table();
    let mut acc = ProjectivePoint::IDENTITY;
    for (i, window) in t.0.iter().enumerate() {
        // Nibble i counts from the least significant end.
        let byte = bytes[31 - i / 2];
        let nibble = if i % 2 == 0 { byte & 0x0f } else { byte >> 4 };
        let mut chosen = ProjectivePoint::IDENTITY;
        for (j, candidate) in window.iter().enumerate() {
            chosen.conditional_assign(candidate, (j as u8).ct_eq(&nibble));
        }
        acc += chosen;
    }
    acc
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
        for v in [0u64, 1, 2, 15, 16, 255, 256, u64::MAX] {
            let k = Scalar::from(v);
            assert_eq!(mul_generator(&k).to_affine(), (ProjectivePoint::GENERATOR * k).to_affine(), "{v}");
        }
        let big = -Scalar::ONE; // n - 1: every nibble of the top windows is used.
        assert_eq!(mul_generator(&big).to_affine(), (ProjectivePoint::GENERATOR * big).to_affine());
    }
}
