//! Our own JWTs (RFC 7515/7519). Issuing signs any serializable claims with the current key
//! and `kid`; verifying (`jose::Compact` parses the token) accepts only `alg: ES256` from one of
//! our `kid`s (or RS256 for ID token hints under our RS256 key), so forged, `alg: none` and
//! foreign-key tokens fail before any claim is read. Time claims are checked by the caller
//! with the worker clock.

use super::b64url;
use super::jose::Compact;
pub use super::jose::JwtError;
use super::keys::{KeySet, PublicKey};
use serde::de::DeserializeOwned;
use serde::Serialize;

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
    let compact = Compact::parse(token)?;
    if compact.header.alg != "RS256" {
        return verify(keys, token, Some("JWT"));
    }
    let rsa = keys.rs256.as_ref().ok_or(JwtError::UnsupportedAlgorithm)?;
    if compact.header.kid.as_deref() != Some(rsa.public.kid.as_str()) {
        return Err(JwtError::UnknownKey);
    }
    if !compact.header.typ.as_deref().unwrap_or("").eq_ignore_ascii_case("JWT") {
        return Err(JwtError::WrongType);
    }
    if !rsa.public.verify(compact.signing_input.as_bytes(), &compact.signature) {
        return Err(JwtError::BadSignature);
    }
    compact.claims()
}

/// An ES256 token whose header names our algorithm, one of our keys and the expected `typ`,
/// with its signature still to check (in wasm with `verify_in_wasm`, or by the platform).
pub struct Unverified<'t, 'k> {
    pub key: &'k PublicKey,
    pub signing_input: &'t str,
    /// r ‖ s (RFC 7518 §3.4).
    pub signature: [u8; 64],
    compact: Compact<'t>,
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
        self.compact.claims()
    }
}

/// Parses `token` and checks its header: `alg: ES256`, a `kid` of ours and (when given) the
/// `typ`. Forged, `alg: none` and foreign-key tokens fail here, before any claim is read.
pub fn parse_es256<'t, 'k>(keys: &'k KeySet, token: &'t str, typ: Option<&str>) -> Result<Unverified<'t, 'k>, JwtError> {
    let compact = Compact::parse(token)?;
    if compact.header.alg != "ES256" {
        return Err(JwtError::UnsupportedAlgorithm);
    }
    // RFC 9068 §4: "at+jwt" (the media type "application/at+jwt" is also allowed).
    if typ.is_some_and(|expected| !compact.typ_is(expected)) {
        return Err(JwtError::WrongType);
    }
    let kid = compact.header.kid.as_deref().ok_or(JwtError::UnknownKey)?;
    let key = keys.verifying_key(kid).ok_or(JwtError::UnknownKey)?;
    let signature: [u8; 64] = compact.signature.as_slice().try_into().map_err(|_| JwtError::BadSignature)?;
    Ok(Unverified { key, signing_input: compact.signing_input, signature, compact })
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
    fn tokens_verify_with_p256_directly() {
        // An independent check of the hand-assembled JWS: split by hand, p256's own verifier.
        use p256::ecdsa::signature::Verifier;
        let k = keys();
        let t = sign(&k, "JWT", &C { sub: "alice".into(), exp: 10 });
        let (input, signature) = t.rsplit_once('.').unwrap();
        let signature = p256::ecdsa::Signature::from_slice(&crate::crypto::b64url_decode(signature).unwrap()).unwrap();
        assert!(k.current.key.verify(input.as_bytes(), &signature).is_ok());
        let payload = crate::crypto::b64url_decode(input.split('.').nth(1).unwrap()).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(claims["sub"], "alice");
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
