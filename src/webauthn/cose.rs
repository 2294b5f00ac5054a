//! The credential public key: a COSE_Key (RFC 9052 §7), a CBOR map with integer labels, and the
//! signature checks for its algorithm (WebAuthn §6.5.5 Signature Formats: ASN.1 DER for ECDSA,
//! PKCS#1 v1.5 for RSA).
//!
//! | kty (1) | alg (3) | parameters |
//! |---|---|---|
//! | EC2 (2), RFC 9053 §7.1 | ES256 (-7) | crv (-1) = P-256 (1), x (-2) and y (-3): 32 bytes each (uncompressed, WebAuthn §5.8.5) |
//! | RSA (3), RFC 8230 §4 | RS256 (-257) | n (-1): 256 bytes, e (-2): 1 to 8 bytes |
//!
//! A repeated label is refused, and the algorithm must be one of our `pubKeyCredParams` (§7.1).
//! WebAuthn §6.5.1 requires "alg" and forbids other optional parameters in the key: those are
//! skipped rather than refused, as they change nothing about the key.

use super::{CoseAlgorithm, WebAuthnError, MAX_PUBLIC_KEY};
use crate::crypto::rs256::{self, RsaPublic};
use minicbor::data::Type;
use minicbor::Decoder;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};

const KTY: i64 = 1;
const ALG: i64 = 3;
/// EC2's crv, RSA's n.
const CRV_OR_N: i64 = -1;
/// EC2's x, RSA's e.
const X_OR_E: i64 = -2;
const Y: i64 = -3;
const KTY_EC2: i64 = 2;
const KTY_RSA: i64 = 3;
const CRV_P256: i64 = 1;

/// Parameters in a key at most: an RS256 key has 4, an ES256 key 5.
const MAX_PARAMETERS: u64 = 16;
/// The longest DER encoding of a P-256 ECDSA signature: SEQUENCE { INTEGER (33), INTEGER (33) }.
const MAX_ES256_DER: usize = 72;

#[derive(Clone, Copy)]
enum Value<'a> {
    Int(i64),
    Bytes(&'a [u8]),
    Other,
}

pub(crate) enum PublicKey {
    Es256(VerifyingKey),
    Rs256(Box<RsaPublic>),
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({:?})", self.algorithm())
    }
}

/// Reads a COSE_Key: `bytes` must be exactly one key.
pub(crate) fn parse(bytes: &[u8]) -> Result<PublicKey, WebAuthnError> {
    use WebAuthnError::*;
    if bytes.len() > MAX_PUBLIC_KEY {
        return Err(PublicKeyTooLarge);
    }
    let mut d = Decoder::new(bytes);
    let count = match d.map() {
        Ok(Some(n)) if n <= MAX_PARAMETERS => n,
        _ => return Err(PublicKeyMalformed),
    };
    let mut parameters: Vec<(i64, Value)> = Vec::with_capacity(MAX_PARAMETERS as usize);
    for _ in 0..count {
        let label = d.i64().map_err(|_| PublicKeyMalformed)?;
        if parameters.iter().any(|(l, _)| *l == label) {
            return Err(PublicKeyDuplicateLabel);
        }
        let value = match d.datatype().map_err(|_| PublicKeyMalformed)? {
            Type::U8 | Type::U16 | Type::U32 | Type::U64 | Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::Int => {
                Value::Int(d.i64().map_err(|_| PublicKeyMalformed)?)
            }
            Type::Bytes => Value::Bytes(d.bytes().map_err(|_| PublicKeyMalformed)?),
            _ => {
                d.skip().map_err(|_| PublicKeyMalformed)?;
                Value::Other
            }
        };
        parameters.push((label, value));
    }
    if d.position() != bytes.len() {
        return Err(PublicKeyMalformed);
    }
    let get = |label: i64| parameters.iter().find(|(l, _)| *l == label).map(|(_, v)| *v);
    let int = |label| match get(label) {
        Some(Value::Int(i)) => Some(i),
        _ => None,
    };
    let bytes_of = |label| match get(label) {
        Some(Value::Bytes(b)) => Some(b),
        _ => None,
    };
    let (Some(kty), Some(alg)) = (int(KTY), int(ALG)) else {
        return Err(PublicKeyMalformed);
    };
    match CoseAlgorithm::from_id(alg).ok_or(UnsupportedAlgorithm)? {
        CoseAlgorithm::Es256 => {
            if kty != KTY_EC2 {
                return Err(PublicKeyMalformed);
            }
            // WebAuthn §5.8.5: "Keys with algorithm -7 (ES256) MUST specify 1 (P-256) as the crv
            // parameter and MUST NOT use the compressed point form".
            if int(CRV_OR_N) != Some(CRV_P256) {
                return Err(UnsupportedAlgorithm);
            }
            // A boolean y (point compression) is not allowed by WebAuthn and is refused here.
            let (Some(x), Some(y)) = (bytes_of(X_OR_E), bytes_of(Y)) else {
                return Err(PublicKeyMalformed);
            };
            if x.len() != 32 || y.len() != 32 {
                return Err(PublicKeyMalformed);
            }
            let mut sec1 = [0u8; 65];
            sec1[0] = 0x04;
            sec1[1..33].copy_from_slice(x);
            sec1[33..].copy_from_slice(y);
            // p256 refuses coordinates outside the field and points off the curve.
            VerifyingKey::from_sec1_bytes(&sec1).map(PublicKey::Es256).map_err(|_| InvalidPublicKey)
        }
        CoseAlgorithm::Rs256 => {
            if kty != KTY_RSA {
                return Err(PublicKeyMalformed);
            }
            let (Some(n), Some(e)) = (bytes_of(CRV_OR_N), bytes_of(X_OR_E)) else {
                return Err(PublicKeyMalformed);
            };
            // crypto::rs256 handles 2048-bit moduli only.
            if n.len() != rs256::SIZE {
                return Err(UnsupportedRsaKeySize);
            }
            if !(1..=8).contains(&e.len()) {
                return Err(PublicKeyMalformed);
            }
            // Refuses a modulus whose top bit is clear (shorter than 2048 bits), an even modulus,
            // and an even or out-of-range exponent.
            RsaPublic::from_components(n, e).map(|k| PublicKey::Rs256(Box::new(k))).map_err(|_| InvalidPublicKey)
        }
    }
}

impl PublicKey {
    pub fn algorithm(&self) -> CoseAlgorithm {
        match self {
            PublicKey::Es256(_) => CoseAlgorithm::Es256,
            PublicKey::Rs256(_) => CoseAlgorithm::Rs256,
        }
    }

    /// §6.5.5: ES256 signatures are ASN.1 DER `Ecdsa-Sig-Value` (RFC 3279 §2.2.3), verified with
    /// SHA-256; high-s values are accepted, as authenticators produce them and ECDSA (FIPS
    /// 186-4) allows them. RS256 signatures are exactly the modulus' length.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), WebAuthnError> {
        match self {
            PublicKey::Es256(key) => {
                // p256's DER parser refuses longer encodings too; this bounds its input first.
                if signature.len() > MAX_ES256_DER {
                    return Err(WebAuthnError::SignatureMalformed);
                }
                let signature = Signature::from_der(signature).map_err(|_| WebAuthnError::SignatureMalformed)?;
                key.verify(message, &signature).map_err(|_| WebAuthnError::SignatureInvalid)
            }
            PublicKey::Rs256(key) => {
                if signature.len() != rs256::SIZE {
                    return Err(WebAuthnError::SignatureMalformed);
                }
                if key.verify(message, signature) {
                    Ok(())
                } else {
                    Err(WebAuthnError::SignatureInvalid)
                }
            }
        }
    }
}
