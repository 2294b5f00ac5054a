//! ES256 JWTs (RFC 7515/7519). Issuing signs any serializable claims with the current key and
//! `kid`; verifying (jwt-compact parses the token) accepts only `alg: ES256` from one of our
//! `kid`s, so forged, `alg: none` and foreign-key tokens fail before any claim is read. The
//! ECDSA work is `es256.rs`'s table-accelerated code. Time claims are checked by
//! the caller with the worker clock (jwt-compact's chrono clock is not used).

use super::keys::{KeySet, PublicKey};
use super::{b64url, b64url_decode};
use jwt_compact::UntrustedToken;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Why a presented token is not accepted. Callers answer all of them the same way
/// (`invalid_token`, or `active: false`), so the detail is only for logs and tests.
#[derive(Debug, PartialEq, Eq)]
pub enum JwtError {
    Malformed,
    UnsupportedAlgorithm,
    UnknownKey,
    BadSignature,
    WrongType,
}

/// The JWS signing input `header.payload` (RFC 7515 §5.1) for `alg`, our `kid` and `typ`.
pub fn signing_input<T: Serialize>(alg: &str, kid: &str, typ: &str, claims: &T) -> String {
    #[derive(Serialize)]
    struct JoseHeader<'a> {
        alg: &'a str,
        kid: &'a str,
        typ: &'a str,
    }
    let header = serde_json::to_vec(&JoseHeader { alg, kid, typ }).expect("a plain header serializes");
    let payload = serde_json::to_vec(claims).expect("serializing plain claims cannot fail");
    format!("{}.{}", b64url(&header), b64url(&payload))
}

/// Signs `claims` with header `typ` and our `kid` (JWS compact serialisation, RFC 7515 §7.1),
/// with the wasm's ES256 signer (`es256.rs`: p256's).
pub fn sign<T: Serialize>(keys: &KeySet, typ: &str, claims: &T) -> String {
    sign_input(keys, signing_input("ES256", &keys.current.kid, typ, claims))
}

/// Signs a JWS signing input made by `signing_input` with the current key, in wasm.
pub fn sign_input(keys: &KeySet, signing_input: String) -> String {
    let signature = super::es256::sign(&keys.signing, signing_input.as_bytes());
    with_signature(signing_input, &signature.to_bytes())
}

/// `signing_input.signature` (the signature's bytes base64url): the compact JWS.
pub fn with_signature(mut signing_input: String, signature: &[u8]) -> String {
    signing_input.push('.');
    signing_input.push_str(&b64url(signature));
    signing_input
}

/// Verifies an ID token this server issued (an `id_token_hint`), signed with ES256 or, when
/// the deployment has an RS256 key, RS256; then returns the claims.
pub fn verify_id_token<T: DeserializeOwned>(keys: &KeySet, token: &str) -> Result<T, JwtError> {
    if token.len() > 8192 {
        return Err(JwtError::Malformed);
    }
    let untrusted = UntrustedToken::new(token).map_err(|_| JwtError::Malformed)?;
    if untrusted.algorithm() != "RS256" {
        return verify(keys, token, Some("JWT"));
    }
    let rsa = keys.rs256.as_ref().ok_or(JwtError::UnsupportedAlgorithm)?;
    if untrusted.header().key_id.as_deref() != Some(rsa.public.kid.as_str()) {
        return Err(JwtError::UnknownKey);
    }
    let actual = untrusted.header().token_type.as_deref().unwrap_or("");
    if !actual.eq_ignore_ascii_case("JWT") {
        return Err(JwtError::WrongType);
    }
    let signing_input = token.rsplit_once('.').map(|(input, _)| input).ok_or(JwtError::Malformed)?;
    if !rsa.public.verify(signing_input.as_bytes(), untrusted.signature_bytes()) {
        return Err(JwtError::BadSignature);
    }
    let payload = token.split('.').nth(1).and_then(b64url_decode).ok_or(JwtError::Malformed)?;
    serde_json::from_slice(&payload).map_err(|_| JwtError::Malformed)
}

/// An ES256 token whose header names our algorithm, one of our keys and the expected `typ`,
/// with its signature still to check (in wasm with `verify_in_wasm`, or by the platform).
pub struct Unverified<'t, 'k> {
    pub key: &'k PublicKey,
    pub signing_input: &'t str,
    /// r ‖ s (RFC 7518 §3.4).
    pub signature: [u8; 64],
    payload: &'t str,
}

impl Unverified<'_, '_> {
    /// The signature over the JWS signing input (RFC 7515 §5.2), checked in the wasm.
    pub fn verify_in_wasm(&self) -> bool {
        match p256::ecdsa::Signature::from_slice(&self.signature) {
            Ok(signature) => super::es256::verify(&self.key.key, self.signing_input.as_bytes(), &signature),
            Err(_) => false,
        }
    }

    /// The claims (read once the signature is known to be good).
    pub fn claims<T: DeserializeOwned>(&self) -> Result<T, JwtError> {
        let payload = b64url_decode(self.payload).ok_or(JwtError::Malformed)?;
        serde_json::from_slice(&payload).map_err(|_| JwtError::Malformed)
    }
}

/// Parses `token` and checks its header: `alg: ES256`, a `kid` of ours and (when given) the
/// `typ`. Forged, `alg: none` and foreign-key tokens fail here, before any claim is read.
pub fn parse_es256<'t, 'k>(keys: &'k KeySet, token: &'t str, typ: Option<&str>) -> Result<Unverified<'t, 'k>, JwtError> {
    if token.len() > 8192 {
        return Err(JwtError::Malformed);
    }
    let untrusted = UntrustedToken::new(token).map_err(|_| JwtError::Malformed)?;
    if untrusted.algorithm() != "ES256" {
        return Err(JwtError::UnsupportedAlgorithm);
    }
    let header = untrusted.header();
    if let Some(expected) = typ {
        let actual = header.token_type.as_deref().unwrap_or("");
        // RFC 9068 §4: "at+jwt" (the media type "application/at+jwt" is also allowed).
        if !actual.eq_ignore_ascii_case(expected) && !actual.eq_ignore_ascii_case(&format!("application/{expected}")) {
            return Err(JwtError::WrongType);
        }
    }
    let kid = header.key_id.as_deref().ok_or(JwtError::UnknownKey)?;
    let key = keys.verifying_key(kid).ok_or(JwtError::UnknownKey)?;
    let signature: [u8; 64] = untrusted.signature_bytes().try_into().map_err(|_| JwtError::BadSignature)?;
    let signing_input = token.rsplit_once('.').map(|(input, _)| input).ok_or(JwtError::Malformed)?;
    let payload = token.split('.').nth(1).ok_or(JwtError::Malformed)?;
    Ok(Unverified { key, signing_input, signature, payload })
}

/// Verifies signature, algorithm and key, and (when given) the `typ` header, then returns the
/// claims. Expiry, issuer and audience are the caller's to check.
pub fn verify<T: DeserializeOwned>(keys: &KeySet, token: &str, typ: Option<&str>) -> Result<T, JwtError> {
    let unverified = parse_es256(keys, token, typ)?;
    if !unverified.verify_in_wasm() {
        return Err(JwtError::BadSignature);
    }
    unverified.claims()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TEST_JWK;
    use serde::Deserialize;

    #[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
    struct C {
        sub: String,
        exp: u64,
    }

    fn keys() -> KeySet {
        KeySet::load(TEST_JWK, None).unwrap()
    }

    #[test]
    fn sign_and_verify_roundtrip() {
        let k = keys();
        let c = C { sub: "alice".into(), exp: 10 };
        let t = sign(&k, "at+jwt", &c);
        let header: serde_json::Value =
            serde_json::from_slice(&crate::crypto::b64url_decode(t.split('.').next().unwrap()).unwrap()).unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["typ"], "at+jwt");
        assert_eq!(header["kid"], k.current.kid);
        assert_eq!(verify::<C>(&k, &t, Some("at+jwt")).unwrap(), c);
        assert_eq!(verify::<C>(&k, &t, Some("JWT")).unwrap_err(), JwtError::WrongType);
    }

    #[test]
    fn tokens_verify_with_jwt_compact_directly() {
        // An independent check of the hand-assembled JWS: jwt-compact's own validator.
        use jwt_compact::{alg::Es256, AlgorithmExt, Claims, UntrustedToken};
        let k = keys();
        let t = sign(&k, "JWT", &C { sub: "alice".into(), exp: 10 });
        let untrusted = UntrustedToken::new(&t).unwrap();
        let token = Es256.validator::<serde_json::Value>(&k.current.key).validate(&untrusted).unwrap();
        let claims: &Claims<serde_json::Value> = token.claims();
        assert_eq!(claims.custom["sub"], "alice");
    }

    #[test]
    fn tampered_none_and_foreign_tokens_fail() {
        let k = keys();
        let t = sign(&k, "at+jwt", &C { sub: "alice".into(), exp: 10 });
        let parts: Vec<&str> = t.split('.').collect();
        // Payload swapped: signature no longer matches.
        let forged_payload = b64url(br#"{"sub":"admin","exp":10}"#);
        let forged = format!("{}.{}.{}", parts[0], forged_payload, parts[2]);
        assert_eq!(verify::<C>(&k, &forged, None).unwrap_err(), JwtError::BadSignature);
        // alg: none.
        let none_header = b64url(br#"{"alg":"none","typ":"at+jwt"}"#);
        let none = format!("{none_header}.{}.", parts[1]);
        assert_ne!(verify::<C>(&k, &none, None).err(), None);
        // A token signed by a key that is not ours.
        let foreign = KeySet::from_signing_key(p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).unwrap());
        let foreign_token = sign(&foreign, "at+jwt", &C { sub: "admin".into(), exp: 10 });
        assert_eq!(verify::<C>(&k, &foreign_token, None).unwrap_err(), JwtError::UnknownKey);
        assert_eq!(verify::<C>(&k, "not-a-jwt", None).unwrap_err(), JwtError::Malformed);
        assert_eq!(verify::<C>(&k, "", None).unwrap_err(), JwtError::Malformed);
    }

    #[test]
    fn typ_matches_the_name_or_its_media_type_in_any_case() {
        let k = keys();
        let c = C { sub: "alice".into(), exp: 10 };
        for typ in ["at+jwt", "AT+JWT", "application/at+jwt", "Application/At+JWT"] {
            assert_eq!(verify::<C>(&k, &sign(&k, typ, &c), Some("at+jwt")).unwrap(), c, "{typ}");
        }
        for typ in ["", "jwt", "application/jwt", "xapplication/at+jwt", "application/at+jwtx", "application/"] {
            assert_eq!(verify::<C>(&k, &sign(&k, typ, &c), Some("at+jwt")).unwrap_err(), JwtError::WrongType, "{typ}");
        }
        // Without an expected type any `typ` (or none) is accepted.
        assert_eq!(verify::<C>(&k, &sign(&k, "", &c), None).unwrap(), c);
    }
}
