//! The JOSE pieces every token path shares: the compact JWS form (RFC 7515 §7.1), public JSON
//! Web Keys (RFC 7517, RFC 7518 §6) with their RFC 7638 thumbprints, and signature checks of
//! tokens someone else signed (client assertions, RFC 7523; DPoP proofs, RFC 9449).
//!
//! This is the one JWS parser of the crate: `jwt.rs` (our own tokens) and the assertion and
//! proof checks in `oauth/` all read tokens through `Compact`.

use super::rs256::RsaPublic;
use super::{b64url, b64url_decode};
use p256::ecdsa::{SigningKey, VerifyingKey};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// The longest token any endpoint reads (ID token hints, assertions, proofs are all far below).
pub const MAX_TOKEN: usize = 8192;

/// Why a presented token is not accepted. Callers answer all of them the same way
/// (`invalid_token`, `invalid_client`, `invalid_dpop_proof` or `active: false`), so the detail is
/// only for logs and tests.
#[derive(Debug, PartialEq, Eq)]
pub enum JwtError {
    Malformed,
    UnsupportedAlgorithm,
    UnknownKey,
    BadSignature,
    WrongType,
}

/// The JOSE header members this server reads (RFC 7515 §4.1). Others are ignored, except `crit`.
#[derive(Debug, Default, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(default)]
    pub kid: Option<String>,
    #[serde(default)]
    pub typ: Option<String>,
    /// The signer's public key (a DPoP proof carries it, RFC 9449 §4.2).
    #[serde(default)]
    pub jwk: Option<Value>,
    /// Extensions the recipient must understand (RFC 7515 §4.1.11); this server knows none.
    #[serde(default)]
    crit: Option<Value>,
}

/// A compact JWS split into its parts, its signature not yet checked.
#[derive(Debug)]
pub struct Compact<'t> {
    pub header: Header,
    /// `header.payload` as sent: what the signature covers (RFC 7515 §5.2).
    pub signing_input: &'t str,
    payload: &'t str,
    pub signature: Vec<u8>,
}

impl<'t> Compact<'t> {
    /// Exactly three base64url parts, a JSON object header with `alg`, no `crit`.
    pub fn parse(token: &'t str) -> Result<Self, JwtError> {
        if token.is_empty() || token.len() > MAX_TOKEN {
            return Err(JwtError::Malformed);
        }
        let (signing_input, signature) = token.rsplit_once('.').ok_or(JwtError::Malformed)?;
        let (header, payload) = signing_input.split_once('.').ok_or(JwtError::Malformed)?;
        if payload.contains('.') {
            return Err(JwtError::Malformed);
        }
        let header: Header = b64url_decode(header).and_then(|bytes| serde_json::from_slice(&bytes).ok()).ok_or(JwtError::Malformed)?;
        if header.crit.is_some() {
            return Err(JwtError::UnsupportedAlgorithm);
        }
        let signature = b64url_decode(signature).ok_or(JwtError::Malformed)?;
        Ok(Self { header, signing_input, payload, signature })
    }

    /// Whether the `typ` header is `expected` or its media type `application/expected`, in any
    /// case (RFC 7515 §4.1.9; RFC 9068 §4 for `at+jwt`, RFC 9449 §4.2 for `dpop+jwt`).
    pub fn typ_is(&self, expected: &str) -> bool {
        let actual = self.header.typ.as_deref().unwrap_or("");
        actual.eq_ignore_ascii_case(expected)
            || actual.len() == expected.len() + 12
                && actual[..12].eq_ignore_ascii_case("application/")
                && actual[12..].eq_ignore_ascii_case(expected)
    }

    /// The claims, read once the signature is known to be good.
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, JwtError> {
        let payload = b64url_decode(self.payload).ok_or(JwtError::Malformed)?;
        serde_json::from_slice(&payload).map_err(|_| JwtError::Malformed)
    }
}

/// Whether a JWK carries private key members (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
pub fn has_private_members(jwk: &Value) -> bool {
    ["d", "p", "q", "dp", "dq", "qi", "oth", "k"].iter().any(|m| jwk.get(m).is_some())
}

/// A public key as a JWK names it: P-256 for ES256, RSA for RS256.
#[derive(Clone)]
pub enum Jwk {
    Ec(VerifyingKey),
    /// The modulus and exponent as the JWK gives them (canonical base64url), and the key for
    /// the wasm verifier when it is a 2048-bit one (the platform verifies any size).
    Rsa {
        n: String,
        e: String,
        wasm: Option<Box<RsaPublic>>,
    },
}

impl std::fmt::Debug for Jwk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Jwk({})", self.thumbprint())
    }
}

fn member<'v>(jwk: &'v Value, name: &str) -> Result<&'v str, String> {
    jwk[name].as_str().ok_or_else(|| format!("the JWK has no '{name}'"))
}

fn coordinate(jwk: &Value, name: &str) -> Result<[u8; 32], String> {
    let bytes = b64url_decode(member(jwk, name)?).ok_or_else(|| format!("the JWK's '{name}' is not base64url"))?;
    bytes.try_into().map_err(|_| format!("the JWK's '{name}' is not 32 bytes (RFC 7518 §6.2.1.2)"))
}

impl Jwk {
    /// A public JWK (RFC 7518 §6.2.1, §6.3.1). A JWK carrying private members is refused: a
    /// public key slot is never where a private key belongs (RFC 9449 §4.2 for DPoP).
    pub fn from_value(jwk: &Value) -> Result<Self, String> {
        if !jwk.is_object() {
            return Err("a JWK is a JSON object".into());
        }
        if has_private_members(jwk) {
            return Err("the JWK holds private key members".into());
        }
        match jwk["kty"].as_str() {
            Some("EC") => {
                if jwk["crv"] != "P-256" {
                    return Err("only the P-256 curve is supported".into());
                }
                let (x, y) = (coordinate(jwk, "x")?, coordinate(jwk, "y")?);
                let point = p256::EncodedPoint::from_affine_coordinates(&x.into(), &y.into(), false);
                VerifyingKey::from_encoded_point(&point).map(Jwk::Ec).map_err(|_| "the JWK's point is not on P-256".into())
            }
            Some("RSA") => {
                let (n, e) = (member(jwk, "n")?, member(jwk, "e")?);
                let n_bytes = b64url_decode(n).ok_or("the JWK's 'n' is not base64url")?;
                let e_bytes = b64url_decode(e).ok_or("the JWK's 'e' is not base64url")?;
                // RFC 7518 §6.3.1.1: no leading zero octets; 2048 bits at least (§3.3), 4096 at most.
                if n_bytes.first() == Some(&0) || e_bytes.first() == Some(&0) || e_bytes.is_empty() || e_bytes.len() > 8 {
                    return Err("the RSA JWK's 'n' or 'e' is not canonical".into());
                }
                if !(256..=512).contains(&n_bytes.len()) || n_bytes[0] & 0x80 == 0 {
                    return Err("the RSA key must be 2048 to 4096 bits".into());
                }
                let wasm = RsaPublic::from_components(&n_bytes, &e_bytes).ok().map(Box::new);
                Ok(Jwk::Rsa { n: b64url(&n_bytes), e: b64url(&e_bytes), wasm })
            }
            _ => Err("the JWK's kty is not EC or RSA".into()),
        }
    }

    /// The RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order.
    pub fn thumbprint(&self) -> String {
        let canonical = match self {
            Jwk::Ec(key) => {
                let point = key.to_encoded_point(false);
                let x = b64url(point.x().expect("an uncompressed point has x"));
                let y = b64url(point.y().expect("an uncompressed point has y"));
                format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#)
            }
            Jwk::Rsa { n, e, .. } => format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
        };
        b64url(&Sha256::digest(canonical.as_bytes()))
    }

    /// The key's algorithm: ES256 for P-256, RS256 for RSA (the only ones this server accepts).
    pub fn alg(&self) -> &'static str {
        match self {
            Jwk::Ec(_) => "ES256",
            Jwk::Rsa { .. } => "RS256",
        }
    }

    /// The public members, as WebCrypto's `importKey("jwk")` takes them.
    pub fn to_value(&self) -> Value {
        match self {
            Jwk::Ec(key) => {
                let point = key.to_encoded_point(false);
                json!({
                    "kty": "EC", "crv": "P-256",
                    "x": b64url(point.x().expect("an uncompressed point has x")),
                    "y": b64url(point.y().expect("an uncompressed point has y")),
                })
            }
            Jwk::Rsa { n, e, .. } => json!({ "kty": "RSA", "n": n, "e": e }),
        }
    }

    /// Checks `signature` over `message` in wasm. `None` when the wasm cannot check this key
    /// (an RSA key other than 2048 bits: only the platform can).
    pub fn verify_in_wasm(&self, message: &[u8], signature: &[u8]) -> Option<bool> {
        match self {
            Jwk::Ec(key) => Some(p256::ecdsa::Signature::from_slice(signature).is_ok_and(|s| super::es256::verify(key, message, &s))),
            Jwk::Rsa { wasm: Some(key), .. } => Some(key.verify(message, signature)),
            Jwk::Rsa { wasm: None, .. } => None,
        }
    }
}

/// A P-256 private JWK (`kty`, `crv`, `x`, `y`, `d`): the signing key. The public members, when
/// given, must be the private key's.
pub fn signing_key_from_jwk(jwk: &Value) -> Result<SigningKey, String> {
    if jwk["kty"] != "EC" || jwk["crv"] != "P-256" {
        return Err("not a P-256 JWK".into());
    }
    let d = coordinate(jwk, "d")?;
    let key = SigningKey::from_slice(&d).map_err(|_| "the JWK's 'd' is not a P-256 scalar".to_string())?;
    if jwk.get("x").is_some() || jwk.get("y").is_some() {
        let mut public = jwk.clone();
        public.as_object_mut().map(|o| o.remove("d"));
        match Jwk::from_value(&public)? {
            Jwk::Ec(k) if k == *key.verifying_key() => {}
            _ => return Err("the JWK's 'x' and 'y' are not its private key's".into()),
        }
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TEST_JWK;

    #[test]
    fn parses_three_parts_and_refuses_the_rest() {
        let header = b64url(br#"{"alg":"ES256","typ":"dpop+jwt","kid":"k"}"#);
        let payload = b64url(br#"{"a":1}"#);
        let token = format!("{header}.{payload}.{}", b64url(&[1, 2, 3]));
        let c = Compact::parse(&token).unwrap();
        assert_eq!(c.header.alg, "ES256");
        assert_eq!(c.header.kid.as_deref(), Some("k"));
        assert_eq!(c.signature, vec![1, 2, 3]);
        assert_eq!(c.signing_input, format!("{header}.{payload}"));
        assert_eq!(c.claims::<Value>().unwrap()["a"], 1);
        assert!(c.typ_is("dpop+jwt") && !c.typ_is("at+jwt"));
        let crit = b64url(br#"{"alg":"ES256","crit":["exp"]}"#);
        for bad in [
            String::new(),
            "a.b".into(),
            format!("{header}.{payload}.x.y"),
            format!("{header}!.{payload}.AA"),
            format!("{}.{payload}.AA", b64url(b"[1]")),
            format!("{}.{payload}.AA", b64url(br#"{"typ":"JWT"}"#)),
            format!("{header}.{payload}.A+A"),
            "a".repeat(MAX_TOKEN + 1),
        ] {
            assert!(Compact::parse(&bad).is_err(), "{bad}");
        }
        assert_eq!(Compact::parse(&format!("{crit}.{payload}.AA")).unwrap_err(), JwtError::UnsupportedAlgorithm);
    }

    #[test]
    fn media_type_forms_of_typ() {
        let with = |typ: &str| format!("{}.e30.AA", b64url(format!(r#"{{"alg":"ES256","typ":"{typ}"}}"#).as_bytes()));
        for typ in ["at+jwt", "AT+JWT", "application/at+jwt", "Application/At+JWT"] {
            assert!(Compact::parse(&with(typ)).unwrap().typ_is("at+jwt"), "{typ}");
        }
        for typ in ["", "jwt", "xapplication/at+jwt", "application/at+jwtx", "application/", "applicationXat+jwt"] {
            assert!(!Compact::parse(&with(typ)).unwrap().typ_is("at+jwt"), "{typ}");
        }
    }

    #[test]
    fn ec_jwk_thumbprint_is_rfc7638s() {
        let private: Value = serde_json::from_str(TEST_JWK).unwrap();
        let key = signing_key_from_jwk(&private).unwrap();
        let jwk = Jwk::from_value(&json!({"kty":"EC","crv":"P-256","x":private["x"],"y":private["y"],"kid":"ignored"})).unwrap();
        let canonical =
            format!(r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#, private["x"].as_str().unwrap(), private["y"].as_str().unwrap());
        assert_eq!(jwk.thumbprint(), b64url(&Sha256::digest(canonical.as_bytes())));
        assert_eq!(jwk.alg(), "ES256");
        let message = b"input";
        let signature = super::super::es256::sign(&key, message).to_bytes();
        assert_eq!(jwk.verify_in_wasm(message, &signature), Some(true));
        assert_eq!(jwk.verify_in_wasm(b"other", &signature), Some(false));
        assert_eq!(jwk.verify_in_wasm(message, &signature[..63]), Some(false));
    }

    #[test]
    fn rsa_jwk_thumbprint_is_rfc7638_s_example() {
        // RFC 7638 §3.1's example key and its thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let jwk = Jwk::from_value(&json!({"kty":"RSA","n":n,"e":"AQAB","alg":"RS256"})).unwrap();
        assert_eq!(jwk.thumbprint(), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
        assert_eq!(jwk.alg(), "RS256");
        assert!(matches!(jwk, Jwk::Rsa { wasm: Some(_), .. }));
    }

    #[test]
    fn refuses_private_foreign_and_malformed_keys() {
        let private: Value = serde_json::from_str(TEST_JWK).unwrap();
        assert!(Jwk::from_value(&private).unwrap_err().contains("private"));
        for bad in [
            json!("a string"),
            json!({"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}),
            json!({"kty":"EC","crv":"P-384","x":private["x"],"y":private["y"]}),
            json!({"kty":"EC","crv":"P-256","x":private["x"],"y":private["x"]}),
            json!({"kty":"EC","crv":"P-256","x":"AA","y":private["y"]}),
            json!({"kty":"RSA","n":"AQAB","e":"AQAB"}),
            json!({"kty":"RSA","n":"AAEC","e":"AQAB"}),
            json!({"kty":"oct","k":"c2VjcmV0"}),
        ] {
            assert!(Jwk::from_value(&bad).is_err(), "{bad}");
        }
        let mut mismatched = private.clone();
        mismatched["d"] = json!(b64url(&[7u8; 32]));
        assert!(signing_key_from_jwk(&mismatched).is_err());
    }
}
