//! RS256: RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 §8.2, RFC 7518 §3.3), for the ID tokens of
//! clients registered with `id_token_signed_response_alg: RS256` ("OPs MUST support signing ID
//! Tokens with RSA SHA-256", OpenID Connect Core §15.1). Access tokens stay ES256.
//!
//! 2048-bit keys only (JWK with the CRT members). The private operation uses the Chinese
//! remainder theorem on 1024-bit halves with crypto-bigint's constant-time Montgomery
//! exponentiation, and every signature is verified with the public key before it is released
//! (a fault in the computation must never leak a factor, the Bellcore attack). The padding is
//! deterministic, so RFC 7515 §A.2's example signature is reproduced exactly (`rfc7515_a2`).

use super::{b64url, b64url_decode};
use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
use crypto_bigint::{Encoding, Integer, NonZero, U1024, U2048};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The DER prefix of a SHA-256 `DigestInfo` (RFC 8017 §9.2, note 1).
const SHA256_DIGEST_INFO: [u8; 19] =
    [0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20];

/// The byte length of a 2048-bit modulus and of every signature.
pub const SIZE: usize = 256;

/// An RSA public key.
#[derive(Clone)]
pub struct RsaPublic {
    n: U2048,
    e: U2048,
    e_bits: usize,
    params: DynResidueParams<{ U2048::LIMBS }>,
    /// RFC 7638 thumbprint.
    pub kid: String,
    n_b64: String,
    e_b64: String,
}

/// An RSA private key with its CRT members.
pub struct RsaKey {
    pub public: RsaPublic,
    /// The private JWK's members (`kty`, `n`, `e`, `d`, `p`, `q`, `dp`, `dq`, `qi`), for the
    /// platform to import the key (WebCrypto signs RS256 natively). Secret: read only by
    /// `private_jwk`, never printed (`RsaKey` has no `Debug`).
    private_jwk: String,
    p: DynResidueParams<{ U1024::LIMBS }>,
    q: DynResidueParams<{ U1024::LIMBS }>,
    q_int: U1024,
    p_wide: NonZero<U2048>,
    q_wide: NonZero<U2048>,
    dp: U1024,
    dq: U1024,
    qinv: U1024,
}

fn field(jwk: &Value, name: &str) -> Result<Vec<u8>, String> {
    let s = jwk[name].as_str().ok_or_else(|| format!("the RSA JWK has no '{name}'"))?;
    b64url_decode(s).ok_or_else(|| format!("the RSA JWK's '{name}' is not base64url"))
}

/// A big-endian integer of at most `N` bytes, left-padded.
fn uint<const N: usize>(bytes: &[u8]) -> Result<[u8; N], String> {
    let bytes = match bytes.iter().position(|b| *b != 0) {
        Some(i) => &bytes[i..],
        None => &[][..],
    };
    if bytes.len() > N {
        return Err("an RSA key member is too long for a 2048-bit key".into());
    }
    let mut out = [0u8; N];
    out[N - bytes.len()..].copy_from_slice(bytes);
    Ok(out)
}

impl RsaPublic {
    fn new(n_bytes: &[u8], e_bytes: &[u8]) -> Result<Self, String> {
        let n_arr = uint::<SIZE>(n_bytes)?;
        if n_arr[0] & 0x80 == 0 {
            return Err("the RSA key must be 2048 bits".into());
        }
        let n = U2048::from_be_slice(&n_arr);
        let e = U2048::from_be_slice(&uint::<SIZE>(e_bytes)?);
        let e_bits = e.bits_vartime();
        if !bool::from(n.is_odd()) || !(2..=64).contains(&e_bits) || !bool::from(e.is_odd()) {
            return Err("the RSA key's modulus or exponent is not valid".into());
        }
        let n_b64 = b64url(&n_arr);
        let e_trimmed: Vec<u8> = e_bytes.iter().copied().skip_while(|b| *b == 0).collect();
        let e_b64 = b64url(&e_trimmed);
        // RFC 7638 §3.2: the required members in lexicographic order, no whitespace.
        let thumb = format!(r#"{{"e":"{e_b64}","kty":"RSA","n":"{n_b64}"}}"#);
        let kid = b64url(&Sha256::digest(thumb.as_bytes()));
        Ok(Self { n, e, e_bits, params: DynResidueParams::new(&n), kid, n_b64, e_b64 })
    }

    /// A public key from its big-endian modulus and exponent (as a COSE RSA key carries them,
    /// RFC 8230 §4): the same checks as a JWK's, so 2048-bit moduli only.
    pub fn from_components(n: &[u8], e: &[u8]) -> Result<Self, String> {
        Self::new(n, e)
    }

    pub fn from_jwk(jwk: &Value) -> Result<Self, String> {
        if jwk["kty"] != "RSA" {
            return Err("not an RSA JWK".into());
        }
        Self::new(&field(jwk, "n")?, &field(jwk, "e")?)
    }

    /// The public JWK (RFC 7517), as the JWKS publishes it.
    pub fn to_jwk(&self) -> Value {
        json!({ "kty": "RSA", "n": self.n_b64, "e": self.e_b64, "kid": self.kid, "use": "sig", "alg": "RS256" })
    }

    /// RFC 8017 §8.2.2: s^e mod n, compared with the encoding of the message's digest.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        if signature.len() != SIZE {
            return false;
        }
        let s = U2048::from_be_slice(signature);
        if s >= self.n {
            return false;
        }
        let m = DynResidue::new(&s, self.params).pow_bounded_exp(&self.e, self.e_bits).retrieve();
        m.to_be_bytes().as_ref() == encode(message).as_slice()
    }
}

/// EMSA-PKCS1-v1_5 (RFC 8017 §9.2): 0x00 0x01 FF..FF 0x00 DigestInfo H.
fn encode(message: &[u8]) -> [u8; SIZE] {
    let mut em = [0xffu8; SIZE];
    em[0] = 0x00;
    em[1] = 0x01;
    let t_start = SIZE - SHA256_DIGEST_INFO.len() - 32;
    em[t_start - 1] = 0x00;
    em[t_start..t_start + SHA256_DIGEST_INFO.len()].copy_from_slice(&SHA256_DIGEST_INFO);
    em[SIZE - 32..].copy_from_slice(&Sha256::digest(message));
    em
}

impl RsaKey {
    /// A private JWK with `n`, `e`, `d`, `p`, `q`, `dp`, `dq`, `qi` (RFC 7518 §6.3.2).
    pub fn from_jwk(jwk: &Value) -> Result<Self, String> {
        let public = RsaPublic::from_jwk(jwk)?;
        let half = |name| -> Result<U1024, String> { Ok(U1024::from_be_slice(&uint::<{ SIZE / 2 }>(&field(jwk, name)?)?)) };
        let (p, q, dp, dq, qinv) = (half("p")?, half("q")?, half("dp")?, half("dq")?, half("qi")?);
        if !bool::from(p.is_odd()) || !bool::from(q.is_odd()) {
            return Err("the RSA key's primes are not valid".into());
        }
        let (lo, hi) = p.mul_wide(&q);
        if hi.concat(&lo) != public.n {
            return Err("the RSA key's p·q is not its modulus".into());
        }
        let wide = |x: &U1024| -> Result<NonZero<U2048>, String> {
            Option::from(NonZero::new(x.resize::<{ U2048::LIMBS }>())).ok_or_else(|| "a zero RSA prime".to_string())
        };
        let mut private_jwk = serde_json::Map::new();
        for member in ["kty", "n", "e", "d", "p", "q", "dp", "dq", "qi"] {
            if let Some(v) = jwk.get(member) {
                private_jwk.insert(member.to_string(), v.clone());
            }
        }
        let key = Self {
            private_jwk: Value::Object(private_jwk).to_string(),
            p_wide: wide(&p)?,
            q_wide: wide(&q)?,
            p: DynResidueParams::new(&p),
            q: DynResidueParams::new(&q),
            q_int: q,
            dp,
            dq,
            qinv,
            public,
        };
        // A key whose members do not agree would sign wrongly: refuse it at load.
        if key.try_sign(b"key check").is_none() {
            return Err("the RSA key's private members do not match its public key".into());
        }
        Ok(key)
    }

    /// The private key as a JWK, for the platform's signer to import (a secret).
    pub fn private_jwk(&self) -> &str {
        &self.private_jwk
    }

    /// The signature of `message`: 256 bytes.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.try_sign(message).expect("a key that signed at load signs again")
    }

    fn try_sign(&self, message: &[u8]) -> Option<Vec<u8>> {
        let m = U2048::from_be_slice(&encode(message));
        // RFC 8017 §5.1.2, CRT: s1 = m^dp mod p, s2 = m^dq mod q, h = (s1 - s2)·qinv mod p,
        // s = s2 + q·h.
        let mp = m.rem(&self.p_wide).resize::<{ U1024::LIMBS }>();
        let mq = m.rem(&self.q_wide).resize::<{ U1024::LIMBS }>();
        let s1 = DynResidue::new(&mp, self.p).pow(&self.dp);
        let s2 = DynResidue::new(&mq, self.q).pow(&self.dq).retrieve();
        let h = ((s1 - DynResidue::new(&s2, self.p)) * DynResidue::new(&self.qinv, self.p)).retrieve();
        let (lo, hi) = self.q_int.mul_wide(&h);
        let s = hi.concat(&lo).wrapping_add(&s2.resize::<{ U2048::LIMBS }>());
        let signature = s.to_be_bytes().as_ref().to_vec();
        // Never release a signature that does not verify.
        self.public.verify(message, &signature).then_some(signature)
    }
}

/// RFC 7515 §A.2's example RSA key: published, so for tests and benchmarks only, never a
/// deployment's key.
pub const RFC7515_A2_JWK: &str = r#"{"kty":"RSA",
  "n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
  "e":"AQAB",
  "d":"Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
  "p":"4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
  "q":"uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
  "dp":"BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
  "dq":"h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
  "qi":"IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U"}"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> RsaKey {
        RsaKey::from_jwk(&serde_json::from_str(RFC7515_A2_JWK).unwrap()).unwrap()
    }

    #[test]
    fn rfc7515_a2() {
        // The JWS signing input of RFC 7515 §A.2.1 and the signature of §A.2.1's last step.
        let input = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
        let expected = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";
        let k = key();
        let signature = k.sign(input.as_bytes());
        assert_eq!(b64url(&signature), expected);
        assert!(k.public.verify(input.as_bytes(), &signature));
    }

    #[test]
    fn verification_refuses_what_it_must() {
        let k = key();
        let sig = k.sign(b"payload");
        assert!(k.public.verify(b"payload", &sig));
        assert!(!k.public.verify(b"payloaD", &sig));
        let mut flipped = sig.clone();
        flipped[100] ^= 1;
        assert!(!k.public.verify(b"payload", &flipped));
        assert!(!k.public.verify(b"payload", &sig[1..]), "wrong length");
        assert!(!k.public.verify(b"payload", &[0xff; SIZE]), "not below the modulus");
        assert!(!k.public.verify(b"payload", &[0; SIZE]));
    }

    #[test]
    fn keys_are_checked_at_load() {
        let mut jwk: Value = serde_json::from_str(RFC7515_A2_JWK).unwrap();
        let good = RsaKey::from_jwk(&jwk).unwrap();
        assert_eq!(good.public.to_jwk()["kid"], good.public.kid.as_str());
        assert!(good.public.to_jwk().get("d").is_none());
        jwk["dq"] = jwk["dp"].clone();
        assert!(RsaKey::from_jwk(&jwk).is_err(), "inconsistent CRT members");
        let mut jwk: Value = serde_json::from_str(RFC7515_A2_JWK).unwrap();
        jwk["q"] = jwk["p"].clone();
        assert!(RsaKey::from_jwk(&jwk).is_err(), "p·q is not n");
        assert!(RsaKey::from_jwk(&json!({ "kty": "EC" })).is_err());
        assert!(RsaKey::from_jwk(&json!({ "kty": "RSA", "n": "AQAB", "e": "AQAB" })).is_err(), "too small");
    }
}
