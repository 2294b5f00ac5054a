//! The ceremonies' rules one by one, against a synthetic authenticator (a P-256 and an RSA-2048
//! key, authenticator data and attestation objects built here with minicbor's encoder), then the
//! ceremonies recorded from Chromium's virtual authenticator (`fixtures`).

use super::authenticator_data::{AT, BE, BS, ED, UP, UV};
use super::fixtures::{recordings, Recording};
use super::*;
use crate::crypto::rs256::{RsaKey, RFC7515_A2_JWK};
use crate::crypto::{b64url, b64url_decode};
use minicbor::Encoder;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use WebAuthnError::*;

const RP: RelyingParty = RelyingParty { id: "auth.example.com", origin: "https://auth.example.com" };
/// Its base64url has both `-` and `_`, which standard base64 spells `+` and `/`.
const CHALLENGE: &[u8] = b"\xfb\xff\xbfregistration challenge, 32 b";
const GET_CHALLENGE: &[u8] = b"assertion challenge of 32 bytes!";
const AAGUID: [u8; 16] = *b"test-aaguid-0001";

// ---- the synthetic authenticator ----

enum Key {
    Es256(SigningKey),
    Rs256(Box<RsaKey>),
}

struct Authenticator {
    key: Key,
    id: Vec<u8>,
}

impl Authenticator {
    fn es256() -> Self {
        Self { key: Key::Es256(SigningKey::from_slice(&[7; 32]).unwrap()), id: vec![0xc1; 32] }
    }

    fn rs256() -> Self {
        let jwk = serde_json::from_str(RFC7515_A2_JWK).unwrap();
        Self { key: Key::Rs256(Box::new(RsaKey::from_jwk(&jwk).unwrap())), id: vec![0xc2; 16] }
    }

    /// The credential public key as an authenticator encodes it (CTAP2 canonical order).
    fn cose_key(&self) -> Vec<u8> {
        let mut e = Encoder::new(Vec::new());
        match &self.key {
            Key::Es256(k) => {
                let p = k.verifying_key().to_encoded_point(false);
                e.map(5).unwrap().i8(1).unwrap().i8(2).unwrap().i8(3).unwrap().i8(-7).unwrap();
                e.i8(-1)
                    .unwrap()
                    .i8(1)
                    .unwrap()
                    .i8(-2)
                    .unwrap()
                    .bytes(p.x().unwrap())
                    .unwrap()
                    .i8(-3)
                    .unwrap()
                    .bytes(p.y().unwrap())
                    .unwrap();
            }
            Key::Rs256(_) => {
                let (n, exp) = rsa_components();
                e.map(4).unwrap().i8(1).unwrap().i8(3).unwrap().i8(3).unwrap().i16(-257).unwrap();
                e.i8(-1).unwrap().bytes(&n).unwrap().i8(-2).unwrap().bytes(&exp).unwrap();
            }
        }
        e.into_writer()
    }

    /// §6.3.3: the signature over authenticatorData || SHA-256(clientDataJSON).
    fn sign(&self, auth_data: &[u8], client_data_json: &[u8]) -> Vec<u8> {
        let mut message = auth_data.to_vec();
        message.extend_from_slice(&Sha256::digest(client_data_json));
        match &self.key {
            Key::Es256(k) => {
                let s: Signature = k.sign(&message);
                s.to_der().as_bytes().to_vec()
            }
            Key::Rs256(k) => k.sign(&message),
        }
    }
}

fn rsa_components() -> (Vec<u8>, Vec<u8>) {
    let jwk: serde_json::Value = serde_json::from_str(RFC7515_A2_JWK).unwrap();
    let member = |m: &str| b64url_decode(jwk[m].as_str().unwrap()).unwrap();
    (member("n"), member("e"))
}

/// Authenticator data, field by field (§6.1); `attested` is written whatever the AT flag says.
#[derive(Clone)]
struct AuthData {
    rp_id: &'static str,
    flags: u8,
    count: u32,
    attested: Option<(Vec<u8>, Vec<u8>)>,
    extensions: Vec<u8>,
}

impl AuthData {
    fn registration(a: &Authenticator) -> Self {
        Self { rp_id: RP.id, flags: UP | UV | AT, count: 0, attested: Some((a.id.clone(), a.cose_key())), extensions: vec![] }
    }

    fn assertion(count: u32) -> Self {
        Self { rp_id: RP.id, flags: UP | UV, count, attested: None, extensions: vec![] }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut b = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        b.push(self.flags);
        b.extend_from_slice(&self.count.to_be_bytes());
        if let Some((id, key)) = &self.attested {
            b.extend_from_slice(&AAGUID);
            b.extend_from_slice(&(id.len() as u16).to_be_bytes());
            b.extend_from_slice(id);
            b.extend_from_slice(key);
        }
        b.extend_from_slice(&self.extensions);
        b
    }
}

fn client_data(kind: &str, challenge: &[u8], origin: &str, extra: &str) -> Vec<u8> {
    format!(r#"{{"type":"{kind}","challenge":"{}","origin":"{origin}","crossOrigin":false{extra}}}"#, b64url(challenge)).into_bytes()
}

fn create_json(extra: &str) -> Vec<u8> {
    client_data("webauthn.create", CHALLENGE, RP.origin, extra)
}

fn get_json(extra: &str) -> Vec<u8> {
    client_data("webauthn.get", GET_CHALLENGE, RP.origin, extra)
}

const EMPTY_MAP: &[u8] = &[0xa0];

/// `{"fmt": fmt, "attStmt": <att_stmt, already CBOR>, "authData": auth_data}`.
fn attestation_object(fmt: &str, att_stmt: &[u8], auth_data: &[u8]) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    e.map(3).unwrap().str("fmt").unwrap().str(fmt).unwrap().str("attStmt").unwrap();
    e.writer_mut().extend_from_slice(att_stmt);
    e.str("authData").unwrap().bytes(auth_data).unwrap();
    e.into_writer()
}

fn register(auth: &AuthData) -> Result<NewCredential, WebAuthnError> {
    verify_registration(&RP, CHALLENGE, true, &create_json(""), &attestation_object("none", EMPTY_MAP, &auth.bytes()))
}

fn register_object(object: &[u8]) -> Result<NewCredential, WebAuthnError> {
    verify_registration(&RP, CHALLENGE, true, &create_json(""), object)
}

fn register_json(json: &[u8]) -> Result<NewCredential, WebAuthnError> {
    let a = Authenticator::es256();
    verify_registration(&RP, CHALLENGE, true, json, &attestation_object("none", EMPTY_MAP, &AuthData::registration(&a).bytes()))
}

/// An assertion signed by `a` over `auth` and `json`, checked against `a`'s key stored with
/// `stored_count`.
fn assert_signed(a: &Authenticator, stored_count: u32, auth: &AuthData, json: &[u8], require_uv: bool) -> Result<Assertion, WebAuthnError> {
    let data = auth.bytes();
    let signature = a.sign(&data, json);
    let key = a.cose_key();
    verify_assertion(
        &RP,
        GET_CHALLENGE,
        require_uv,
        &StoredCredential { public_key: &key, sign_count: stored_count },
        json,
        &data,
        &signature,
    )
}

fn assert_es256(auth: &AuthData) -> Result<Assertion, WebAuthnError> {
    assert_signed(&Authenticator::es256(), 0, auth, &get_json(""), true)
}

fn assert_json(json: &[u8]) -> Result<Assertion, WebAuthnError> {
    assert_signed(&Authenticator::es256(), 0, &AuthData::assertion(0), json, true)
}

/// A COSE key from (label, value) pairs, each value already CBOR.
fn cose(pairs: &[(i64, Vec<u8>)]) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    e.map(pairs.len() as u64).unwrap();
    for (label, value) in pairs {
        e.i64(*label).unwrap();
        e.writer_mut().extend_from_slice(value);
    }
    e.into_writer()
}

fn int(i: i64) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    e.i64(i).unwrap();
    e.into_writer()
}

fn bstr(b: &[u8]) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    e.bytes(b).unwrap();
    e.into_writer()
}

fn es256_pairs() -> Vec<(i64, Vec<u8>)> {
    let Key::Es256(k) = Authenticator::es256().key else { unreachable!() };
    let p = k.verifying_key().to_encoded_point(false);
    vec![(1, int(2)), (3, int(-7)), (-1, int(1)), (-2, bstr(p.x().unwrap())), (-3, bstr(p.y().unwrap()))]
}

fn rs256_pairs() -> Vec<(i64, Vec<u8>)> {
    let (n, e) = rsa_components();
    vec![(1, int(3)), (3, int(-257)), (-1, bstr(&n)), (-2, bstr(&e))]
}

fn with(mut pairs: Vec<(i64, Vec<u8>)>, label: i64, value: Vec<u8>) -> Vec<(i64, Vec<u8>)> {
    pairs.iter_mut().find(|(l, _)| *l == label).unwrap().1 = value;
    pairs
}

/// Registration with `key` as the credential public key.
fn register_key(key: Vec<u8>) -> Result<NewCredential, WebAuthnError> {
    let mut auth = AuthData::registration(&Authenticator::es256());
    auth.attested = Some((vec![1; 16], key));
    register(&auth)
}

// ---- registration and assertion that pass ----

#[test]
fn es256_registration_and_assertion() {
    let a = Authenticator::es256();
    let credential = register(&AuthData::registration(&a)).unwrap();
    assert_eq!(
        credential,
        NewCredential {
            id: a.id.clone(),
            public_key: a.cose_key(),
            algorithm: CoseAlgorithm::Es256,
            sign_count: 0,
            user_verified: true,
            backup_eligible: false,
            backed_up: false,
            aaguid: AAGUID,
        }
    );
    let json = get_json("");
    let data = AuthData::assertion(0).bytes();
    let stored = StoredCredential { public_key: &credential.public_key, sign_count: credential.sign_count };
    let assertion = verify_assertion(&RP, GET_CHALLENGE, true, &stored, &json, &data, &a.sign(&data, &json)).unwrap();
    assert_eq!(assertion, Assertion { sign_count: 0, user_verified: true, backup_eligible: false, backed_up: false });
}

#[test]
fn rs256_registration_and_assertion() {
    let a = Authenticator::rs256();
    let mut auth = AuthData::registration(&a);
    auth.count = 7;
    let credential = register(&auth).unwrap();
    assert_eq!((credential.algorithm, credential.sign_count, credential.id), (CoseAlgorithm::Rs256, 7, a.id.clone()));
    assert_eq!(assert_signed(&a, 7, &AuthData::assertion(8), &get_json(""), true).unwrap().sign_count, 8);
}

// ---- clientDataJSON ----

#[test]
fn client_data_up_to_16_kib_with_members_of_the_browsers_own() {
    // Chrome's note member, Android's package name: ignored, and larger than 4 KiB together.
    let extra =
        format!(r#","other_keys_can_be_added_here":"do not compare clientDataJSON against a template","pad":"{}""#, "x".repeat(15_000));
    assert!(register_json(&create_json(&extra)).is_ok());
    assert!(assert_json(&get_json(&extra)).is_ok());
    let too_long = format!(r#","pad":"{}""#, "x".repeat(MAX_CLIENT_DATA));
    assert_eq!(register_json(&create_json(&too_long)), Err(ClientDataTooLarge));
    assert_eq!(assert_json(&get_json(&too_long)), Err(ClientDataTooLarge));
}

#[test]
fn client_data_must_be_a_json_object_with_the_members() {
    for json in [
        &b""[..],
        b"null",
        b"[]",
        b"{\"type\":\"webauthn.create\"}",
        b"\xff\xfe{}",
        br#"{"type":"webauthn.create","challenge":1,"origin":"https://auth.example.com"}"#,
    ] {
        assert_eq!(register_json(json), Err(ClientDataMalformed), "{}", String::from_utf8_lossy(json));
    }
    // Not UTF-8 inside a string.
    let valid = create_json("");
    let json = [&valid[..valid.len() - 1], &b",\"x\":\"\xc3\x28\"}"[..]].concat();
    assert_eq!(register_json(&json), Err(ClientDataMalformed));
    // A repeated member: which one the browser meant is not guessed.
    let twice =
        format!(r#"{{"type":"webauthn.create","type":"webauthn.create","challenge":"{}","origin":"{}"}}"#, b64url(CHALLENGE), RP.origin);
    assert_eq!(register_json(twice.as_bytes()), Err(ClientDataMalformed));
}

#[test]
fn client_data_type_must_be_the_ceremonys() {
    assert_eq!(register_json(&client_data("webauthn.get", CHALLENGE, RP.origin, "")), Err(WrongCeremony));
    assert_eq!(register_json(&client_data("payment.get", CHALLENGE, RP.origin, "")), Err(WrongCeremony));
    assert_eq!(assert_json(&client_data("webauthn.create", GET_CHALLENGE, RP.origin, "")), Err(WrongCeremony));
}

#[test]
fn client_data_challenge_must_be_the_issued_one_in_base64url() {
    assert_eq!(register_json(&client_data("webauthn.create", GET_CHALLENGE, RP.origin, "")), Err(ChallengeMismatch));
    assert_eq!(assert_json(&client_data("webauthn.get", CHALLENGE, RP.origin, "")), Err(ChallengeMismatch));
    let encoded = b64url(CHALLENGE);
    assert!(encoded.contains('-') && encoded.contains('_'));
    for wrong in
        [format!("{encoded}="), encoded.replace('-', "+").replace('_', "/"), encoded[1..].to_string(), String::new(), format!("{encoded}A")]
    {
        let json = format!(r#"{{"type":"webauthn.create","challenge":"{wrong}","origin":"{}"}}"#, RP.origin);
        assert_eq!(register_json(json.as_bytes()), Err(ChallengeMismatch), "{wrong}");
    }
}

#[test]
fn client_data_origin_must_be_exactly_ours() {
    for origin in [
        "https://auth.example.com/",
        "https://auth.example.com:443",
        "http://auth.example.com",
        "https://evil.example",
        "https://AUTH.example.com",
        "null",
    ] {
        assert_eq!(register_json(&client_data("webauthn.create", CHALLENGE, origin, "")), Err(OriginMismatch), "{origin}");
        assert_eq!(assert_json(&client_data("webauthn.get", GET_CHALLENGE, origin, "")), Err(OriginMismatch), "{origin}");
    }
}

#[test]
fn client_data_from_an_iframe_is_refused() {
    let cross = |kind: &str, challenge: &[u8]| {
        format!(r#"{{"type":"{kind}","challenge":"{}","origin":"{}","crossOrigin":true}}"#, b64url(challenge), RP.origin).into_bytes()
    };
    assert_eq!(register_json(&cross("webauthn.create", CHALLENGE)), Err(CrossOrigin));
    assert_eq!(assert_json(&cross("webauthn.get", GET_CHALLENGE)), Err(CrossOrigin));
    // crossOrigin absent is same-origin.
    let json = format!(r#"{{"type":"webauthn.create","challenge":"{}","origin":"{}"}}"#, b64url(CHALLENGE), RP.origin);
    assert!(register_json(json.as_bytes()).is_ok());
    // topOrigin: refused whatever it says, even beside crossOrigin false.
    for top in [r#","topOrigin":"https://auth.example.com""#, r#","topOrigin":"https://evil.example""#, r#","topOrigin":null"#] {
        assert_eq!(register_json(&create_json(top)), Err(TopOrigin), "{top}");
        assert_eq!(assert_json(&get_json(top)), Err(TopOrigin), "{top}");
    }
}

#[test]
fn a_short_expected_challenge_is_a_server_error_not_a_panic() {
    let short = &CHALLENGE[..MIN_CHALLENGE - 1];
    let a = Authenticator::es256();
    let object = attestation_object("none", EMPTY_MAP, &AuthData::registration(&a).bytes());
    let json = client_data("webauthn.create", short, RP.origin, "");
    assert_eq!(verify_registration(&RP, short, true, &json, &object), Err(ChallengeTooShort));
    assert_eq!(verify_registration(&RP, &[], true, &create_json(""), &object), Err(ChallengeTooShort));
}

// ---- the attestation object ----

#[test]
fn attestation_object_size_is_capped_at_16_kib() {
    let a = Authenticator::es256();
    let auth = AuthData::registration(&a).bytes();
    // A packed statement with a large (unverified) certificate chain still fits.
    let big_stmt = |len: usize| {
        let mut e = Encoder::new(Vec::new());
        e.map(2).unwrap().str("alg").unwrap().i8(-7).unwrap().str("x5c").unwrap().array(1).unwrap().bytes(&vec![0x30; len]).unwrap();
        e.into_writer()
    };
    let fits = attestation_object("packed", &big_stmt(15_000), &auth);
    assert!(fits.len() < MAX_ATTESTATION_OBJECT);
    assert!(register_object(&fits).is_ok());
    let too_big = attestation_object("packed", &big_stmt(MAX_ATTESTATION_OBJECT), &auth);
    assert_eq!(register_object(&too_big), Err(AttestationObjectTooLarge));
}

#[test]
fn none_attestation_statement_must_be_empty() {
    let auth = AuthData::registration(&Authenticator::es256()).bytes();
    let mut e = Encoder::new(Vec::new());
    e.map(1).unwrap().str("alg").unwrap().i8(-7).unwrap();
    assert_eq!(register_object(&attestation_object("none", &e.into_writer(), &auth)), Err(NoneAttestationNotEmpty));
}

#[test]
fn registered_formats_are_accepted_without_verifying_their_statement() {
    let auth = AuthData::registration(&Authenticator::es256()).bytes();
    let mut e = Encoder::new(Vec::new());
    e.map(3).unwrap().str("alg").unwrap().i8(-7).unwrap().str("sig").unwrap().bytes(b"not a signature").unwrap();
    e.str("x5c").unwrap().array(1).unwrap().bytes(b"not a certificate").unwrap();
    let stmt = e.into_writer();
    for fmt in ["packed", "tpm", "android-key", "android-safetynet", "fido-u2f", "apple"] {
        assert!(register_object(&attestation_object(fmt, &stmt, &auth)).is_ok(), "{fmt}");
        assert!(register_object(&attestation_object(fmt, EMPTY_MAP, &auth)).is_ok(), "{fmt}");
    }
}

#[test]
fn unknown_attestation_formats_are_refused() {
    let auth = AuthData::registration(&Authenticator::es256()).bytes();
    for fmt in ["", "None", "NONE", "packed ", "compound", "x-custom"] {
        assert_eq!(register_object(&attestation_object(fmt, EMPTY_MAP, &auth)), Err(UnsupportedAttestationFormat), "{fmt:?}");
    }
}

#[test]
fn attestation_object_refuses_trailing_bytes() {
    let mut object = attestation_object("none", EMPTY_MAP, &AuthData::registration(&Authenticator::es256()).bytes());
    assert!(register_object(&object).is_ok());
    object.push(0);
    assert_eq!(register_object(&object), Err(TrailingBytes));
}

#[test]
fn attestation_object_must_be_the_three_member_map() {
    let auth = AuthData::registration(&Authenticator::es256()).bytes();
    let build = |f: &dyn Fn(&mut Encoder<Vec<u8>>)| {
        let mut e = Encoder::new(Vec::new());
        f(&mut e);
        e.into_writer()
    };
    let cases = [
        // A fourth member.
        build(&|e| {
            e.map(4).unwrap().str("fmt").unwrap().str("none").unwrap().str("attStmt").unwrap().map(0).unwrap();
            e.str("authData").unwrap().bytes(&auth).unwrap().str("epAtt").unwrap().bool(true).unwrap();
        }),
        // authData missing.
        build(&|e| {
            e.map(2).unwrap().str("fmt").unwrap().str("none").unwrap().str("attStmt").unwrap().map(0).unwrap();
        }),
        // fmt twice.
        build(&|e| {
            e.map(3).unwrap().str("fmt").unwrap().str("none").unwrap().str("fmt").unwrap().str("none").unwrap();
            e.str("authData").unwrap().bytes(&auth).unwrap();
        }),
        // attStmt an array, authData a text string, fmt a number.
        build(&|e| {
            e.map(3).unwrap().str("fmt").unwrap().str("none").unwrap().str("attStmt").unwrap().array(0).unwrap();
            e.str("authData").unwrap().bytes(&auth).unwrap();
        }),
        build(&|e| {
            e.map(3).unwrap().str("fmt").unwrap().str("none").unwrap().str("attStmt").unwrap().map(0).unwrap();
            e.str("authData").unwrap().str("abc").unwrap();
        }),
        build(&|e| {
            e.map(3).unwrap().str("fmt").unwrap().u8(0).unwrap().str("attStmt").unwrap().map(0).unwrap();
            e.str("authData").unwrap().bytes(&auth).unwrap();
        }),
        // Indefinite length.
        build(&|e| {
            e.begin_map().unwrap().str("fmt").unwrap().str("none").unwrap().str("attStmt").unwrap().map(0).unwrap();
            e.str("authData").unwrap().bytes(&auth).unwrap().end().unwrap();
        }),
        // Not a map at all; nothing; a truncated one.
        vec![0x80],
        vec![],
        attestation_object("none", EMPTY_MAP, &auth)[..20].to_vec(),
    ];
    for (i, object) in cases.iter().enumerate() {
        assert_eq!(register_object(object), Err(AttestationObjectMalformed), "case {i}");
    }
}

// ---- authenticator data (§6.1) ----

#[test]
fn authenticator_data_needs_37_bytes() {
    let a = Authenticator::es256();
    let json = get_json("");
    let data = AuthData::assertion(0).bytes();
    assert_eq!(data.len(), 37);
    let key = a.cose_key();
    let stored = StoredCredential { public_key: &key, sign_count: 0 };
    for len in [0, 1, 32, 33, 36] {
        let short = &data[..len];
        assert_eq!(
            verify_assertion(&RP, GET_CHALLENGE, true, &stored, &json, short, &a.sign(short, &json)),
            Err(AuthenticatorDataTruncated),
            "{len}"
        );
    }
    assert!(verify_assertion(&RP, GET_CHALLENGE, true, &stored, &json, &data, &a.sign(&data, &json)).is_ok());
}

#[test]
fn assertion_authenticator_data_is_capped() {
    let mut auth = AuthData::assertion(0);
    auth.flags |= ED;
    let mut e = Encoder::new(Vec::new());
    e.map(1).unwrap().str("x").unwrap().bytes(&vec![0; MAX_AUTHENTICATOR_DATA]).unwrap();
    auth.extensions = e.into_writer();
    assert_eq!(assert_es256(&auth), Err(AuthenticatorDataTooLarge));
}

#[test]
fn rp_id_hash_must_be_ours() {
    let a = Authenticator::es256();
    let mut auth = AuthData::registration(&a);
    auth.rp_id = "example.com";
    assert_eq!(register(&auth), Err(RpIdMismatch));
    let mut auth = AuthData::assertion(0);
    auth.rp_id = "evil.example";
    assert_eq!(assert_es256(&auth), Err(RpIdMismatch));
}

#[test]
fn user_presence_is_required() {
    let a = Authenticator::es256();
    let mut auth = AuthData::registration(&a);
    auth.flags &= !UP;
    assert_eq!(register(&auth), Err(UserNotPresent));
    let mut auth = AuthData::assertion(0);
    auth.flags &= !UP;
    assert_eq!(assert_es256(&auth), Err(UserNotPresent));
}

#[test]
fn user_verification_is_required_when_asked_and_reported() {
    let a = Authenticator::es256();
    let mut auth = AuthData::registration(&a);
    auth.flags &= !UV;
    assert_eq!(register(&auth), Err(UserNotVerified));
    let object = attestation_object("none", EMPTY_MAP, &auth.bytes());
    let credential = verify_registration(&RP, CHALLENGE, false, &create_json(""), &object).unwrap();
    assert!(!credential.user_verified);
    let mut auth = AuthData::assertion(0);
    auth.flags &= !UV;
    assert_eq!(assert_es256(&auth), Err(UserNotVerified));
    assert!(!assert_signed(&a, 0, &auth, &get_json(""), false).unwrap().user_verified);
}

#[test]
fn backup_flags_are_reported_and_backup_state_needs_eligibility() {
    let a = Authenticator::es256();
    let mut auth = AuthData::registration(&a);
    auth.flags |= BS;
    assert_eq!(register(&auth), Err(BackupStateWithoutEligibility));
    auth.flags |= BE;
    let c = register(&auth).unwrap();
    assert!(c.backup_eligible && c.backed_up);
    auth.flags &= !BS;
    let c = register(&auth).unwrap();
    assert!(c.backup_eligible && !c.backed_up);

    let mut auth = AuthData::assertion(0);
    auth.flags |= BS;
    assert_eq!(assert_es256(&auth), Err(BackupStateWithoutEligibility));
    auth.flags |= BE;
    let got = assert_es256(&auth).unwrap();
    assert!(got.backup_eligible && got.backed_up);
}

#[test]
fn registration_needs_attested_credential_data() {
    let a = Authenticator::es256();
    let mut auth = AuthData::registration(&a);
    auth.flags &= !AT;
    auth.attested = None;
    assert_eq!(register(&auth), Err(MissingAttestedCredential));
    // The data without the flag: not read as a credential, so it is left over.
    auth.attested = Some((a.id.clone(), a.cose_key()));
    assert_eq!(register(&auth), Err(TrailingBytes));
}

#[test]
fn assertion_must_not_carry_attested_credential_data() {
    let a = Authenticator::es256();
    let mut auth = AuthData::registration(&a);
    auth.count = 1;
    assert_eq!(assert_es256(&auth), Err(UnexpectedAttestedCredential));
}

#[test]
fn extensions_are_skipped_when_flagged_and_well_formed() {
    let a = Authenticator::es256();
    let mut e = Encoder::new(Vec::new());
    e.map(2).unwrap().str("credProtect").unwrap().u8(2).unwrap().str("hmac-secret").unwrap().bool(true).unwrap();
    let extensions = e.into_writer();

    let mut auth = AuthData::registration(&a);
    auth.flags |= ED;
    auth.extensions = extensions.clone();
    let c = register(&auth).unwrap();
    assert_eq!(c.public_key, a.cose_key(), "the key ends where the extensions begin");
    let mut assertion = AuthData::assertion(0);
    assertion.flags |= ED;
    assertion.extensions = extensions.clone();
    assert!(assert_es256(&assertion).is_ok());

    // ED without a map, with something else, with something after the map.
    for (bytes, error) in [
        (vec![], ExtensionsMalformed),
        (vec![0x80], ExtensionsMalformed),
        (vec![0xbf, 0xff], ExtensionsMalformed),
        (extensions[..extensions.len() - 1].to_vec(), ExtensionsMalformed),
        ([&extensions[..], &[0]].concat(), TrailingBytes),
        ([&extensions[..], &extensions].concat(), TrailingBytes),
    ] {
        let mut r = auth.clone();
        r.extensions = bytes.clone();
        assert_eq!(register(&r), Err(error), "{bytes:02x?}");
        let mut s = assertion.clone();
        s.extensions = bytes.clone();
        assert_eq!(assert_es256(&s), Err(error), "{bytes:02x?}");
    }
    // A map without ED is not read as extensions.
    let mut r = auth.clone();
    r.flags &= !ED;
    assert_eq!(register(&r), Err(TrailingBytes));
    let mut s = assertion.clone();
    s.flags &= !ED;
    assert_eq!(assert_es256(&s), Err(TrailingBytes));
}

#[test]
fn deeply_nested_extensions_do_not_recurse() {
    // 10,000 nested arrays inside the map: skipped with minicbor's explicit stack.
    let mut extensions = vec![0xa1, 0x61, b'x'];
    extensions.extend(std::iter::repeat_n(0x81, 10_000));
    extensions.push(0x00);
    let mut auth = AuthData::assertion(0);
    auth.flags |= ED;
    auth.extensions = extensions;
    assert!(assert_es256(&auth).is_ok());
    auth.extensions.pop();
    assert_eq!(assert_es256(&auth), Err(ExtensionsMalformed));
}

#[test]
fn credential_id_is_1_to_1023_bytes() {
    let a = Authenticator::es256();
    let mut auth = AuthData::registration(&a);
    for (len, ok) in [(0, false), (1, true), (MAX_CREDENTIAL_ID, true), (MAX_CREDENTIAL_ID + 1, false)] {
        auth.attested = Some((vec![9; len], a.cose_key()));
        match register(&auth) {
            Ok(c) => assert!(ok && c.id.len() == len, "{len}"),
            Err(e) => assert!(!ok && e == CredentialIdLength, "{len}: {e}"),
        }
    }
}

#[test]
fn truncated_attested_credential_data_is_refused() {
    let a = Authenticator::es256();
    let full = AuthData::registration(&a).bytes();
    // Cut inside the AAGUID, the length, the ID: truncated; inside the key: not a CBOR item.
    for (cut, error) in [
        (40, AuthenticatorDataTruncated),
        (54, AuthenticatorDataTruncated),
        (60, AuthenticatorDataTruncated),
        (full.len() - 1, PublicKeyMalformed),
    ] {
        let object = attestation_object("none", EMPTY_MAP, &full[..cut]);
        assert_eq!(register_object(&object), Err(error), "{cut}");
    }
    // AT with nothing after signCount.
    let object = attestation_object("none", EMPTY_MAP, &full[..37]);
    assert_eq!(register_object(&object), Err(AuthenticatorDataTruncated));
}

// ---- the credential public key ----

#[test]
fn es256_key_must_be_p256_with_32_byte_coordinates_on_the_curve() {
    assert!(register_key(cose(&es256_pairs())).is_ok());
    assert_eq!(register_key(cose(&with(es256_pairs(), -1, int(2)))), Err(UnsupportedAlgorithm), "P-384's crv");
    assert_eq!(register_key(cose(&es256_pairs()[..2])), Err(UnsupportedAlgorithm), "no crv");
    let x = es256_pairs()[3].1.clone();
    let short = bstr(&[1; 31]);
    assert_eq!(register_key(cose(&with(es256_pairs(), -2, short.clone()))), Err(PublicKeyMalformed));
    assert_eq!(register_key(cose(&with(es256_pairs(), -3, short))), Err(PublicKeyMalformed));
    assert_eq!(register_key(cose(&with(es256_pairs(), -3, vec![0xf5]))), Err(PublicKeyMalformed), "compressed (y: true)");
    assert_eq!(register_key(cose(&with(es256_pairs(), -3, x))), Err(InvalidPublicKey), "(x, x) is not on the curve");
    assert_eq!(register_key(cose(&with(es256_pairs(), -2, bstr(&[0xff; 32])))), Err(InvalidPublicKey), "x >= p");
    assert_eq!(register_key(cose(&with(es256_pairs(), 1, int(3)))), Err(PublicKeyMalformed), "kty RSA with alg ES256");
}

#[test]
fn rs256_key_must_be_2048_bits() {
    assert!(register_key(cose(&rs256_pairs())).is_ok());
    let (n, _) = rsa_components();
    assert_eq!(register_key(cose(&with(rs256_pairs(), -1, bstr(&n[..128])))), Err(UnsupportedRsaKeySize), "1024-bit");
    assert_eq!(
        register_key(cose(&with(rs256_pairs(), -1, bstr(&[n.clone(), vec![1; 128]].concat())))),
        Err(UnsupportedRsaKeySize),
        "3072-bit"
    );
    let mut top_clear = n.clone();
    top_clear[0] = 0x01;
    assert_eq!(register_key(cose(&with(rs256_pairs(), -1, bstr(&top_clear)))), Err(InvalidPublicKey), "2041-bit in 256 bytes");
    let mut even = n.clone();
    even[255] &= 0xfe;
    assert_eq!(register_key(cose(&with(rs256_pairs(), -1, bstr(&even)))), Err(InvalidPublicKey));
    assert_eq!(register_key(cose(&with(rs256_pairs(), -2, bstr(&[0; 9])))), Err(PublicKeyMalformed), "9-byte e");
    assert_eq!(register_key(cose(&with(rs256_pairs(), -2, bstr(&[])))), Err(PublicKeyMalformed), "empty e");
    assert_eq!(register_key(cose(&with(rs256_pairs(), -2, bstr(&[2])))), Err(InvalidPublicKey), "even e");
    assert_eq!(register_key(cose(&with(rs256_pairs(), 1, int(2)))), Err(PublicKeyMalformed), "kty EC2 with alg RS256");
}

#[test]
fn only_our_pub_key_cred_params_algorithms() {
    assert_eq!(CoseAlgorithm::PUB_KEY_CRED_PARAMS.map(CoseAlgorithm::id), [-7, -257]);
    // EdDSA (-8), ES384 (-35), PS256 (-37), RS1 (-65535), and an unassigned one.
    for alg in [-8, -35, -37, -65535, 0, 7, i64::MIN] {
        assert_eq!(register_key(cose(&with(es256_pairs(), 3, int(alg)))), Err(UnsupportedAlgorithm), "{alg}");
    }
    let ed25519 = cose(&[(1, int(1)), (3, int(-8)), (-1, int(6)), (-2, bstr(&[3; 32]))]);
    assert_eq!(register_key(ed25519).unwrap_err().to_string(), "Unsupported credential algorithm: only ES256 and RS256.");
}

#[test]
fn cose_key_labels_are_integers_once_each() {
    let mut twice = es256_pairs();
    twice.push((1, int(2)));
    assert_eq!(register_key(cose(&twice)), Err(PublicKeyDuplicateLabel));
    let mut twice = rs256_pairs();
    twice.insert(1, (3, int(-257)));
    assert_eq!(register_key(cose(&twice)), Err(PublicKeyDuplicateLabel));
    // A text label.
    let mut e = Encoder::new(Vec::new());
    e.map(1).unwrap().str("kty").unwrap().u8(2).unwrap();
    assert_eq!(register_key(e.into_writer()), Err(PublicKeyMalformed));
    // Missing kty or alg, not a map, indefinite length, too many entries.
    assert_eq!(register_key(cose(&es256_pairs()[1..])), Err(PublicKeyMalformed));
    let no_alg: Vec<_> = es256_pairs().into_iter().filter(|(l, _)| *l != 3).collect();
    assert_eq!(register_key(cose(&no_alg)), Err(PublicKeyMalformed));
    assert_eq!(register_key(vec![0x80]), Err(PublicKeyMalformed));
    let mut indefinite = cose(&es256_pairs());
    indefinite[0] = 0xbf;
    indefinite.push(0xff);
    assert_eq!(register_key(indefinite), Err(PublicKeyMalformed));
    let mut many = es256_pairs();
    many.extend((10..30).map(|l| (l, int(0))));
    assert_eq!(register_key(cose(&many)), Err(PublicKeyMalformed));
}

#[test]
fn cose_key_other_labels_are_skipped() {
    let mut extra = es256_pairs();
    extra.push((2, bstr(b"kid")));
    extra.push((4, vec![0x81, 0x02])); // key_ops: [verify]
    extra.push((-70000, vec![0xa1, 0x01, 0x80]));
    let credential = register_key(cose(&extra)).unwrap();
    assert_eq!(credential.algorithm, CoseAlgorithm::Es256);
    assert_eq!(credential.public_key, cose(&extra), "stored exactly as received");
}

#[test]
fn cose_key_size_is_capped_at_1_kib() {
    let mut padded = es256_pairs();
    padded.push((2, bstr(&[0; 900])));
    assert!(cose(&padded).len() < MAX_PUBLIC_KEY);
    assert!(register_key(cose(&padded)).is_ok());
    padded.last_mut().unwrap().1 = bstr(&[0; MAX_PUBLIC_KEY]);
    assert_eq!(register_key(cose(&padded)), Err(PublicKeyTooLarge));
    assert_eq!(parse_public_key(&cose(&padded)).unwrap_err(), PublicKeyTooLarge);
}

#[test]
fn stored_key_must_be_one_cose_key() {
    let a = Authenticator::es256();
    let json = get_json("");
    let data = AuthData::assertion(0).bytes();
    let signature = a.sign(&data, &json);
    let mut key = a.cose_key();
    key.push(0);
    let stored = StoredCredential { public_key: &key, sign_count: 0 };
    assert_eq!(verify_assertion(&RP, GET_CHALLENGE, true, &stored, &json, &data, &signature), Err(PublicKeyMalformed));
}

// ---- the assertion signature ----

#[test]
fn signature_covers_authenticator_data_and_client_data() {
    let a = Authenticator::es256();
    let key = a.cose_key();
    let stored = StoredCredential { public_key: &key, sign_count: 0 };
    let json = get_json("");
    let data = AuthData::assertion(0).bytes();
    let signature = a.sign(&data, &json);
    assert!(verify_assertion(&RP, GET_CHALLENGE, true, &stored, &json, &data, &signature).is_ok());
    // Other authenticator data (a counter the signer did not sign), other client data.
    let other = AuthData::assertion(9).bytes();
    assert_eq!(verify_assertion(&RP, GET_CHALLENGE, true, &stored, &json, &other, &signature), Err(SignatureInvalid));
    let other_json = get_json(r#","x":1"#);
    assert_eq!(verify_assertion(&RP, GET_CHALLENGE, true, &stored, &other_json, &data, &signature), Err(SignatureInvalid));
    // Another key.
    let rsa = Authenticator::rs256();
    let rsa_key = rsa.cose_key();
    let rsa_signature = rsa.sign(&data, &json);
    let other_stored = StoredCredential { public_key: &rsa_key, sign_count: 0 };
    assert_eq!(verify_assertion(&RP, GET_CHALLENGE, true, &other_stored, &json, &data, &signature), Err(SignatureMalformed));
    assert!(verify_assertion(&RP, GET_CHALLENGE, true, &other_stored, &json, &data, &rsa_signature).is_ok());
    let mut flipped = rsa_signature.clone();
    flipped[128] ^= 1;
    assert_eq!(verify_assertion(&RP, GET_CHALLENGE, true, &other_stored, &json, &data, &flipped), Err(SignatureInvalid));
}

#[test]
fn es256_signatures_are_der_and_may_be_high_s() {
    let a = Authenticator::es256();
    let Key::Es256(k) = &a.key else { unreachable!() };
    let key = a.cose_key();
    let stored = StoredCredential { public_key: &key, sign_count: 0 };
    let json = get_json("");
    let data = AuthData::assertion(0).bytes();
    let message = [&data[..], &Sha256::digest(&json)].concat();
    let signature: Signature = k.sign(&message);
    let low = signature.normalize_s().unwrap_or(signature);
    let (r, s) = low.split_scalars();
    let high = Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
    assert!(high.normalize_s().is_some(), "high-s");
    let check = |sig: &[u8]| verify_assertion(&RP, GET_CHALLENGE, true, &stored, &json, &data, sig);
    assert!(check(low.to_der().as_bytes()).is_ok());
    assert!(check(high.to_der().as_bytes()).is_ok(), "high-s accepted");
    // Not DER: the raw r || s of JWS, DER with a byte after it, an empty signature, too long.
    assert_eq!(check(&low.to_bytes()), Err(SignatureMalformed));
    assert_eq!(check(&[low.to_der().as_bytes(), &[0]].concat()), Err(SignatureMalformed));
    assert_eq!(check(&[]), Err(SignatureMalformed));
    assert_eq!(check(&[0x30; 73]), Err(SignatureMalformed));
    let mut flipped = low.to_der().as_bytes().to_vec();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert_eq!(check(&flipped), Err(SignatureInvalid));
}

#[test]
fn rs256_signatures_are_256_bytes() {
    let a = Authenticator::rs256();
    let key = a.cose_key();
    let stored = StoredCredential { public_key: &key, sign_count: 0 };
    let json = get_json("");
    let data = AuthData::assertion(0).bytes();
    let signature = a.sign(&data, &json);
    let check = |sig: &[u8]| verify_assertion(&RP, GET_CHALLENGE, true, &stored, &json, &data, sig);
    assert!(check(&signature).is_ok());
    assert_eq!(check(&signature[1..]), Err(SignatureMalformed));
    assert_eq!(check(&[&[0][..], &signature].concat()), Err(SignatureMalformed));
    assert_eq!(check(&[0xff; 256]), Err(SignatureInvalid));
}

// ---- the signature counter (§6.1.1, §7.2) ----

#[test]
fn sign_count_must_increase_unless_both_are_zero() {
    let a = Authenticator::es256();
    let json = get_json("");
    let count = |stored: u32, new: u32| assert_signed(&a, stored, &AuthData::assertion(new), &json, true).map(|got| got.sign_count);
    assert_eq!(count(0, 0), Ok(0), "no counter");
    assert_eq!(count(0, 3), Ok(3));
    assert_eq!(count(5, 6), Ok(6));
    assert_eq!(count(5, u32::MAX), Ok(u32::MAX));
    assert_eq!(count(5, 5), Err(SignCountNotIncreased), "replayed count");
    assert_eq!(count(5, 4), Err(SignCountNotIncreased), "went back");
    assert_eq!(count(5, 0), Err(SignCountNotIncreased), "a counter that stopped counting");
    assert_eq!(count(u32::MAX, u32::MAX), Err(SignCountNotIncreased));
}

// ---- errors ----

#[test]
fn error_messages_fit_an_error_description() {
    let mut seen = std::collections::HashSet::new();
    for e in WebAuthnError::ALL {
        let m = e.to_string();
        // RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E.
        assert!(m.bytes().all(|b| (0x20..=0x7e).contains(&b) && b != b'"' && b != b'\\'), "{m}");
        assert!(m.ends_with('.') && m.len() < 100, "{m}");
        assert!(seen.insert(m), "two errors say the same");
    }
}

// ---- ceremonies recorded from Chromium (scripts/record-webauthn.mjs) ----

fn relying_party(r: &Recording) -> RelyingParty<'_> {
    RelyingParty { id: &r.rp_id, origin: &r.origin }
}

fn register_recorded(r: &Recording, rp: &RelyingParty, challenge: &[u8]) -> Result<NewCredential, WebAuthnError> {
    verify_registration(rp, challenge, true, &r.registration.client_data_json, &r.registration.attestation_object)
}

fn assert_recorded(
    r: &Recording,
    i: usize,
    rp: &RelyingParty,
    challenge: &[u8],
    stored: &StoredCredential,
    signature: &[u8],
) -> Result<Assertion, WebAuthnError> {
    let got = &r.assertions[i];
    verify_assertion(rp, challenge, true, stored, &got.client_data_json, &got.authenticator_data, signature)
}

#[test]
fn recorded_ceremonies_verify() {
    for (name, r) in recordings() {
        let rp = relying_party(&r);
        let credential = register_recorded(&r, &rp, &r.registration.challenge).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(credential.id, r.registration.credential_id, "{name}");
        assert_eq!(credential.algorithm.id(), r.registration.public_key_algorithm, "{name}");
        assert!(credential.user_verified, "{name}");
        // The "direct" one carries Chromium's packed statement, accepted unverified.
        let fmt: &[u8] = if name.ends_with("direct") { b"\x63fmt\x66packed" } else { b"\x63fmt\x64none" };
        assert!(r.registration.attestation_object.windows(fmt.len()).any(|w| w == fmt), "{name}");
        // Chromium's virtual authenticator counts: 1 at registration, then 2, 3.
        let mut count = credential.sign_count;
        assert!(count > 0, "{name}");
        for (i, got) in r.assertions.iter().enumerate() {
            assert_eq!(got.credential_id, credential.id, "{name}");
            let stored = StoredCredential { public_key: &credential.public_key, sign_count: count };
            let assertion =
                assert_recorded(&r, i, &rp, &got.challenge, &stored, &got.signature).unwrap_or_else(|e| panic!("{name} #{i}: {e}"));
            assert!(assertion.sign_count > count && assertion.user_verified, "{name} #{i}");
            count = assertion.sign_count;
        }
    }
}

#[test]
fn recorded_ceremonies_fail_elsewhere() {
    for (name, r) in recordings() {
        let rp = relying_party(&r);
        let challenge = &r.registration.challenge;
        let credential = register_recorded(&r, &rp, challenge).unwrap();
        let other_origin = RelyingParty { origin: "http://localhost:1", ..rp };
        let other_id = RelyingParty { id: "example.com", ..rp };
        let other_challenge = [challenge.as_slice(), b"!"].concat();
        assert_eq!(register_recorded(&r, &other_origin, challenge), Err(OriginMismatch), "{name}");
        assert_eq!(register_recorded(&r, &other_id, challenge), Err(RpIdMismatch), "{name}");
        assert_eq!(register_recorded(&r, &rp, &other_challenge), Err(ChallengeMismatch), "{name}");

        let got = &r.assertions[0];
        let stored = StoredCredential { public_key: &credential.public_key, sign_count: credential.sign_count };
        let ok = assert_recorded(&r, 0, &rp, &got.challenge, &stored, &got.signature).unwrap();
        let other_challenge = [got.challenge.as_slice(), b"!"].concat();
        assert_eq!(assert_recorded(&r, 0, &other_origin, &got.challenge, &stored, &got.signature), Err(OriginMismatch), "{name}");
        assert_eq!(assert_recorded(&r, 0, &other_id, &got.challenge, &stored, &got.signature), Err(RpIdMismatch), "{name}");
        assert_eq!(assert_recorded(&r, 0, &rp, &other_challenge, &stored, &got.signature), Err(ChallengeMismatch), "{name}");
        // A flipped bit in the signature's last byte (inside s for DER, the low end for RSA).
        let mut flipped = got.signature.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(assert_recorded(&r, 0, &rp, &got.challenge, &stored, &flipped), Err(SignatureInvalid), "{name}");
        // Replayed: the stored count is already this assertion's; or a later one was seen.
        let replayed = StoredCredential { sign_count: ok.sign_count, ..stored };
        assert_eq!(assert_recorded(&r, 0, &rp, &got.challenge, &replayed, &got.signature), Err(SignCountNotIncreased), "{name}");
        let later = StoredCredential { sign_count: ok.sign_count + 1, ..stored };
        assert_eq!(assert_recorded(&r, 0, &rp, &got.challenge, &later, &got.signature), Err(SignCountNotIncreased), "{name}");
        // Another recording's key does not verify this signature.
        for (other_name, o) in recordings() {
            if other_name != name {
                let other = register_recorded(&o, &relying_party(&o), &o.registration.challenge).unwrap();
                let wrong = StoredCredential { public_key: &other.public_key, sign_count: 0 };
                let result = assert_recorded(&r, 0, &rp, &got.challenge, &wrong, &got.signature);
                assert!(matches!(result, Err(SignatureInvalid | SignatureMalformed)), "{name} with {other_name}'s key: {result:?}");
            }
        }
    }
}
