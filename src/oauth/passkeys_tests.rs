//! The passkey ceremonies through the provider (options, challenge binding and single use,
//! storage, counters, user handles), with a software ES256 authenticator.

use super::passkeys::CredentialJson;
use super::second_factor::CHALLENGE_TTL;
use crate::crypto::b64url;
use crate::oauth::block_on;
use crate::oauth::users::validate_registration;
use crate::store::User;
use crate::testing::World;
use minicbor::Encoder;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const T0: u64 = 1_700_000_000;

struct Authenticator {
    key: SigningKey,
    id: Vec<u8>,
}

impl Authenticator {
    fn new(seed: u8) -> Self {
        Self { key: SigningKey::from_slice(&[seed; 32]).unwrap(), id: vec![seed; 24] }
    }

    fn cose_key(&self) -> Vec<u8> {
        let p = self.key.verifying_key().to_encoded_point(false);
        let mut e = Encoder::new(Vec::new());
        e.map(5).unwrap().i8(1).unwrap().i8(2).unwrap().i8(3).unwrap().i8(-7).unwrap().i8(-1).unwrap().i8(1).unwrap();
        e.i8(-2).unwrap().bytes(p.x().unwrap()).unwrap().i8(-3).unwrap().bytes(p.y().unwrap()).unwrap();
        e.into_writer()
    }

    fn auth_data(&self, rp_id: &str, count: u32, attested: bool) -> Vec<u8> {
        let mut b = Sha256::digest(rp_id.as_bytes()).to_vec();
        b.push(if attested { 0x45 } else { 0x05 });
        b.extend_from_slice(&count.to_be_bytes());
        if attested {
            b.extend_from_slice(&[0; 16]);
            b.extend_from_slice(&(self.id.len() as u16).to_be_bytes());
            b.extend_from_slice(&self.id);
            b.extend_from_slice(&self.cose_key());
        }
        b
    }

    fn client_data(kind: &str, challenge: &str) -> Vec<u8> {
        json!({ "type": kind, "challenge": challenge, "origin": "https://issuer.example", "crossOrigin": false }).to_string().into_bytes()
    }

    /// navigator.credentials.create() answering `options`.
    fn create(&self, options: &Value) -> CredentialJson {
        let cdj = Self::client_data("webauthn.create", options["challenge"].as_str().unwrap());
        let mut e = Encoder::new(Vec::new());
        e.map(3).unwrap().str("fmt").unwrap().str("none").unwrap().str("attStmt").unwrap().map(0).unwrap();
        e.str("authData").unwrap().bytes(&self.auth_data(options["rp"]["id"].as_str().unwrap(), 0, true)).unwrap();
        let text = json!({ "id": b64url(&self.id), "type": "public-key",
            "response": { "clientDataJSON": b64url(&cdj), "attestationObject": b64url(&e.into_writer()) } });
        CredentialJson::parse(&text.to_string()).unwrap()
    }

    /// navigator.credentials.get() answering `options` with counter `count`, as `handle`'s.
    fn get(&self, options: &Value, count: u32, handle: &str) -> CredentialJson {
        let cdj = Self::client_data("webauthn.get", options["challenge"].as_str().unwrap());
        let ad = self.auth_data(options["rpId"].as_str().unwrap(), count, false);
        let mut message = ad.clone();
        message.extend_from_slice(&Sha256::digest(&cdj));
        let sig: Signature = self.key.sign(&message);
        let text = json!({ "id": b64url(&self.id), "type": "public-key", "response": {
            "clientDataJSON": b64url(&cdj), "authenticatorData": b64url(&ad), "signature": b64url(sig.to_der().as_bytes()), "userHandle": handle } });
        CredentialJson::parse(&text.to_string()).unwrap()
    }
}

fn world() -> (World, User) {
    let w = World::new();
    let user = block_on(w.at(T0).register_user(validate_registration("alice", "a@example.com", "password1", None).unwrap())).unwrap();
    (w, user)
}

#[test]
fn registration_options_and_answer() {
    let (w, user) = world();
    let p = w.at(T0);
    let a = Authenticator::new(3);
    let o = block_on(p.passkey_registration_options(&user, "browser", "Acme")).unwrap();
    assert_eq!(o["rp"], json!({ "id": "issuer.example", "name": "Acme" }));
    assert_eq!(o["user"]["name"], "alice");
    assert_eq!(o["user"]["id"], b64url(user.id.as_bytes()));
    assert_eq!(o["pubKeyCredParams"], json!([{ "type": "public-key", "alg": -7 }, { "type": "public-key", "alg": -257 }]));
    assert_eq!(o["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(o["authenticatorSelection"]["userVerification"], "preferred");
    assert_eq!(o["attestation"], "none");
    assert_eq!(o["timeout"], CHALLENGE_TTL * 1000);

    // Another browser cannot use the challenge; a nameless passkey is refused before it is spent.
    assert!(block_on(p.register_passkey(&user, "Laptop", &a.create(&o), "other-browser")).is_err());
    let o = block_on(p.passkey_registration_options(&user, "browser", "Acme")).unwrap();
    assert!(block_on(p.register_passkey(&user, " ", &a.create(&o), "browser")).is_err());
    let k = block_on(p.register_passkey(&user, "Laptop", &a.create(&o), "browser")).unwrap();
    assert_eq!((k.name.as_str(), k.algorithm, k.sign_count), ("Laptop", -7, 0));
    // Single use: the same answer again is refused.
    assert!(block_on(p.register_passkey(&user, "Laptop", &a.create(&o), "browser")).is_err());
    // The same credential again (a fresh challenge) is refused; the options exclude it.
    let o = block_on(p.passkey_registration_options(&user, "browser", "Acme")).unwrap();
    assert_eq!(o["excludeCredentials"], json!([{ "type": "public-key", "id": k.credential_id }]));
    let e = block_on(p.register_passkey(&user, "Again", &a.create(&o), "browser")).unwrap_err();
    assert!(e.description.contains("already registered"), "{e:?}");
    // A challenge expires.
    let o = block_on(p.passkey_registration_options(&user, "browser", "Acme")).unwrap();
    let late = w.at(T0 + CHALLENGE_TTL);
    assert!(block_on(late.register_passkey(&user, "Late", &Authenticator::new(4).create(&o), "browser")).is_err());
}

#[test]
fn sign_in_with_a_passkey_checks_challenge_counter_owner_and_account() {
    let (w, user) = world();
    let p = w.at(T0);
    let a = Authenticator::new(5);
    let o = block_on(p.passkey_registration_options(&user, "b", "Acme")).unwrap();
    block_on(p.register_passkey(&user, "Phone", &a.create(&o), "b")).unwrap();
    let handle = b64url(user.id.as_bytes());

    let o = block_on(p.passkey_sign_in_options("b")).unwrap();
    assert_eq!((o["rpId"].as_str(), o["allowCredentials"].clone()), (Some("issuer.example"), json!([])));
    let answer = a.get(&o, 1, &handle);
    let (who, auth) = block_on(p.sign_in_with_passkey(&answer, "b")).unwrap();
    assert_eq!(who.id, user.id);
    assert_eq!(auth.amr, ["pop", "user", "mfa"]);
    // Replayed: the challenge is gone.
    assert!(block_on(p.sign_in_with_passkey(&answer, "b")).is_err());
    // Bound to the browser that asked.
    let o = block_on(p.passkey_sign_in_options("b")).unwrap();
    assert!(block_on(p.sign_in_with_passkey(&a.get(&o, 2, &handle), "other")).is_err());
    // A counter that does not move forward: a cloned authenticator.
    let o = block_on(p.passkey_sign_in_options("b")).unwrap();
    let e = block_on(p.sign_in_with_passkey(&a.get(&o, 1, &handle), "b")).unwrap_err();
    assert!(e.description.contains("counter"), "{e:?}");
    // Another account's user handle, or an unknown credential.
    let o = block_on(p.passkey_sign_in_options("b")).unwrap();
    assert!(block_on(p.sign_in_with_passkey(&a.get(&o, 3, &b64url(b"someone else")), "b")).is_err());
    let o = block_on(p.passkey_sign_in_options("b")).unwrap();
    let e = block_on(p.sign_in_with_passkey(&Authenticator::new(6).get(&o, 1, &handle), "b")).unwrap_err();
    assert!(e.description.contains("not registered"), "{e:?}");
    // The right answer still works; the counter moved to 4.
    let o = block_on(p.passkey_sign_in_options("b")).unwrap();
    block_on(p.sign_in_with_passkey(&a.get(&o, 4, &handle), "b")).unwrap();
    let keys = block_on(p.passkeys_of(&user.id)).unwrap();
    assert_eq!((keys[0].sign_count, keys[0].last_used_at), (4, Some(T0)));
    // Removed: it no longer signs in; another user cannot remove it.
    let other = block_on(p.register_user(validate_registration("bob", "b@example.com", "password1", None).unwrap())).unwrap();
    assert!(!block_on(p.remove_passkey(&other, &keys[0].credential_id)).unwrap());
    assert!(block_on(p.remove_passkey(&user, &keys[0].credential_id)).unwrap());
    let o = block_on(p.passkey_sign_in_options("b")).unwrap();
    assert!(block_on(p.sign_in_with_passkey(&a.get(&o, 5, &handle), "b")).is_err());
    let kinds = w.audit_kinds();
    for k in ["passkey.added", "sign_in.succeeded", "sign_in.failed", "passkey.removed"] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
}

#[test]
fn challenges_per_address_are_budgeted() {
    let (w, _) = world();
    let p = w.at(T0);
    for _ in 0..crate::store::AddressLimit::Challenge.budget() {
        block_on(p.passkey_sign_in_options("b")).unwrap();
    }
    let e = block_on(p.passkey_sign_in_options("b")).unwrap_err();
    assert_eq!(e.status(), 429);
    assert!(block_on(w.at_from(T0, "203.0.113.9").passkey_sign_in_options("b")).is_ok(), "another address");
}

#[test]
fn malformed_answers_are_clear_errors() {
    for bad in ["", "{}", "[]", r#"{"id":"x","type":"other","response":{"clientDataJSON":""}}"#, &"x".repeat(40_000)] {
        let e = CredentialJson::parse(bad).unwrap_err();
        assert_eq!(e.status(), 400, "{bad:.40}");
    }
    let (w, user) = world();
    let p = w.at(T0);
    let no_challenge = CredentialJson::parse(r#"{"id":"eA","type":"public-key","response":{"clientDataJSON":"e30"}}"#).unwrap();
    assert_eq!(block_on(p.sign_in_with_passkey(&no_challenge, "b")).unwrap_err().status(), 400);
    assert_eq!(block_on(p.register_passkey(&user, "x", &no_challenge, "b")).unwrap_err().status(), 400);
}
