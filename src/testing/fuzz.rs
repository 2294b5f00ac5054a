//! Property tests over hostile input, run by `cargo test` (a few seconds): random and mutated
//! bytes through every parser and decoder, and random requests through the whole router on the
//! in-memory store. The properties: nothing panics, and no request gets a 5xx.
//! A small deterministic generator (xorshift) keeps failures reproducible without extra crates.

use super::{test_keys, World, BOOTSTRAP};
use crate::crypto::{jwt, password::PasswordHash};
use crate::form;
use crate::http::Incoming;
use crate::oauth::{redirect, scope::Scope};
use crate::webauthn::{self, fixtures::recordings, Ceremony, RelyingParty, StoredCredential};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
    /// Bytes biased towards the characters parsers care about.
    fn bytes(&mut self, max: usize) -> Vec<u8> {
        const SPECIAL: &[u8] = b"%&=+.:;?#/\\\"'{}[],$@ \t\r\n\x00\xff\xc3";
        let len = self.below(max + 1);
        (0..len)
            .map(|_| match self.below(4) {
                0 => SPECIAL[self.below(SPECIAL.len())],
                1 => b"0123456789abcdefABCDEF"[self.below(22)],
                _ => self.next() as u8,
            })
            .collect()
    }
    fn text(&mut self, max: usize) -> String {
        String::from_utf8_lossy(&self.bytes(max)).into_owned()
    }
    /// A valid seed string with a few random edits.
    fn mutate(&mut self, seed: &str) -> String {
        String::from_utf8_lossy(&self.mutate_bytes(seed.as_bytes())).into_owned()
    }
    /// Valid seed bytes with a few random edits: bytes deleted, inserted or replaced.
    fn mutate_bytes(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut b = seed.to_vec();
        for _ in 0..=self.below(4) {
            let junk = self.bytes(3);
            let at = self.below(b.len() + 1);
            match self.below(3) {
                0 if !b.is_empty() => {
                    let start = at.min(b.len() - 1);
                    let end = (start + 1 + self.below(4)).min(b.len());
                    b.drain(start..end);
                }
                1 => {
                    b.splice(at..at, junk);
                }
                _ if at < b.len() => {
                    b[at] = self.next() as u8;
                }
                _ => {}
            }
        }
        b
    }
}

#[test]
fn parsers_and_decoders_never_panic() {
    let keys = test_keys();
    let good_jwt = jwt::sign(&keys, "at+jwt", &serde_json::json!({ "sub": "x", "exp": 1 }));
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for _ in 0..20_000 {
        let t = rng.text(80);
        let _ = form::parse(&t);
        let _ = form::decode(&t);
        let _ = Scope::parse(&t);
        let _ = redirect::validate_registered(&t);
        let _ = redirect::matches(&t, &["http://127.0.0.1/cb".to_string(), t.clone()], crate::store::ClientType::Public);
        let _ = PasswordHash::parse(&t);
        let _ = jwt::verify::<serde_json::Value>(&keys, &t, Some("at+jwt"));
        let _ = jwt::verify::<serde_json::Value>(&keys, &rng.mutate(&good_jwt), None);
        let req = Incoming {
            headers: vec![("authorization".into(), format!("{} {}", rng.pick(&["Basic", "Bearer", "basic", "", "Digest"]), t))],
            ..Default::default()
        };
        let _ = req.basic();
        let _ = req.bearer();
    }
}

#[test]
fn mutated_tokens_never_verify() {
    let keys = test_keys();
    let good = jwt::sign(&keys, "at+jwt", &serde_json::json!({ "sub": "x", "role": "user" }));
    let mut rng = Rng(42);
    for _ in 0..3_000 {
        let m = rng.mutate(&good);
        if m != good {
            // base64url has no redundancy except trailing bits of the last character; any edit
            // that leaves the decoded bytes unchanged is the same token.
            let decoded_same = m.split('.').map(crate::crypto::b64url_decode).collect::<Vec<_>>()
                == good.split('.').map(crate::crypto::b64url_decode).collect::<Vec<_>>();
            assert!(decoded_same || jwt::verify::<serde_json::Value>(&keys, &m, Some("at+jwt")).is_err(), "{m}");
        }
    }
}

#[test]
fn random_requests_never_get_a_5xx() {
    let world = World::for_issuer("http://127.0.0.1:8787");
    let paths = [
        "/token",
        "/introspect",
        "/revoke",
        "/userinfo",
        "/login",
        "/authorize",
        "/logout",
        "/consent",
        "/clients/https%3A%2F%2Fa.example%2Fc.json",
        "/register",
        "/clients",
        "/clients/abc",
        "/clients/abc/secret",
        "/.well-known/jwks.json",
        "/.well-known/openid-configuration",
        "/openapi.json",
        "/x",
    ];
    let forms = [
        "grant_type=authorization_code&code=abc&redirect_uri=https%3A%2F%2Fa.example%2Fcb&code_verifier=x",
        "grant_type=refresh_token&refresh_token=abc&scope=openid",
        "grant_type=password&username=alice&password=secret&scope=openid%20profile",
        "grant_type=client_credentials&client_id=abc&client_secret=def",
        "username=alice&password=pw&redirect=https%3A%2F%2Fa.example%2Fcb&state=s&client_id=abc&code_challenge=x&code_challenge_method=S256",
        "token=abc.def.ghi&token_type_hint=access_token",
        "response_type=code&client_id=abc&redirect_uri=https%3A%2F%2Fa.example%2Fcb&scope=openid&state=s&prompt=none",
        "id_token_hint=a.b.c&post_logout_redirect_uri=https%3A%2F%2Fa.example%2Fcb&state=s",
        "grant_type=refresh_token&refresh_token=abc&resource=https%3A%2F%2Fmcp.example%2Fmcp&resource=urn%3Ax",
        "decision=allow&csrf=x&client_id=abc&redirect=https%3A%2F%2Fa.example%2Fcb&state=s&scope=openid&resource=urn%3Aa",
        "response_type=code&client_id=https%3A%2F%2Fa.example%2Fc.json&redirect_uri=https%3A%2F%2Fa.example%2Fcb&code_challenge=x",
    ];
    let jsons = [
        r#"{"username":"alice","email":"alice@example.com","password":"password123","role":"user"}"#,
        r#"{"client_name":"A","client_type":"public","redirect_uris":["https://a.example/cb"],"grant_types":["authorization_code"]}"#,
        r#"{"token":"abc"}"#,
        r#"{"is_active":false,"scopes":["openid"]}"#,
    ];
    let mut rng = Rng(7);
    for i in 0..6_000 {
        let json = rng.below(2) == 0;
        let seed = if json { rng.pick(&jsons) } else { rng.pick(&forms) };
        let body = rng.mutate(seed);
        let mut headers = vec![(
            "content-type".to_string(),
            rng.pick(&["application/json", "application/x-www-form-urlencoded", "text/plain", "", "application/json; charset=utf-8"])
                .to_string(),
        )];
        match rng.below(4) {
            0 => headers.push(("authorization".into(), format!("Bearer {BOOTSTRAP}"))),
            1 => headers.push(("authorization".into(), format!("Basic {}", rng.text(30)))),
            2 => headers.push(("authorization".into(), format!("Bearer {}", rng.text(40)))),
            _ => {}
        }
        if rng.below(3) == 0 {
            headers.push(("origin".into(), rng.pick(&["http://127.0.0.1:8787", "https://evil.example", "null"]).into()));
        }
        let req = Incoming {
            method: rng.pick(&["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"]).into(),
            path: if rng.below(10) == 0 { rng.text(20) } else { rng.pick(&paths).into() },
            query: if rng.below(2) == 0 {
                let seed = rng.pick(&forms);
                rng.mutate(seed)
            } else {
                String::new()
            },
            headers,
            body: if rng.below(20) == 0 { rng.bytes(200) } else { body.into_bytes() },
            body_too_large: false,
            origin: "http://127.0.0.1:8787".into(),
        };
        let out = world.serve(1_000_000, &req);
        assert!(out.status < 500, "request {i} {req:?} got {} {}", out.status, String::from_utf8_lossy(&out.body));
    }
}

/// WebAuthn's parsers on random bytes and on mutations of the ceremonies recorded from Chromium
/// (attestation object, authenticator data, COSE key, clientDataJSON, signature): nothing panics,
/// and an assertion with any of its signed bytes or its signature changed never verifies.
/// Parsing an RSA key and checking a signature take milliseconds in a debug build, so whole
/// ceremonies get fewer iterations than the parsers alone.
#[test]
fn webauthn_parsers_never_panic() {
    struct Seed {
        recording: webauthn::fixtures::Recording,
        auth_data: Vec<u8>,
        public_key: Vec<u8>,
        sign_count: u32,
    }
    let seeds: Vec<Seed> = recordings()
        .into_iter()
        .map(|(_, recording)| {
            let rp = RelyingParty { id: &recording.rp_id, origin: &recording.origin };
            let reg = &recording.registration;
            let auth_data = webauthn::parse_attestation_object(&reg.attestation_object).unwrap().auth_data.to_vec();
            let credential =
                webauthn::verify_registration(&rp, &reg.challenge, true, &reg.client_data_json, &reg.attestation_object).unwrap();
            Seed { auth_data, public_key: credential.public_key, sign_count: credential.sign_count, recording }
        })
        .collect();
    let mut rng = Rng(0x0bad_5eed_f1d0_2e57);
    for i in 0..3_000 {
        let seed = &seeds[rng.below(seeds.len())];
        let r = &seed.recording;
        let rp = RelyingParty { id: &r.rp_id, origin: &r.origin };
        let reg = &r.registration;
        let junk = rng.bytes(400);
        let _ = webauthn::parse_attestation_object(&junk);
        let _ = webauthn::parse_authenticator_data(&junk);
        let _ = webauthn::parse_public_key(&junk);
        let _ = webauthn::verify_client_data(&junk, Ceremony::Create, &rp, &reg.challenge);

        let object = rng.mutate_bytes(&reg.attestation_object);
        if let Ok(o) = webauthn::parse_attestation_object(&object) {
            let _ = webauthn::parse_authenticator_data(o.auth_data);
        }
        if let Ok(data) = webauthn::parse_authenticator_data(&rng.mutate_bytes(&seed.auth_data)) {
            // An RSA key that survives the mutation costs ~3 ms to load in a debug build.
            if let Some(c) = data.attested.filter(|_| i % 10 == 0) {
                let _ = webauthn::parse_public_key(c.public_key);
            }
        }
        let json = rng.mutate_bytes(&reg.client_data_json);
        let _ = webauthn::verify_client_data(&json, Ceremony::Create, &rp, &reg.challenge);
        let got = &r.assertions[rng.below(r.assertions.len())];
        let json = rng.mutate_bytes(&got.client_data_json);
        let _ = webauthn::verify_client_data(&json, Ceremony::Get, &rp, &got.challenge);
        if i % 10 != 0 {
            continue;
        }

        // Whole ceremonies, one part changed.
        let key = rng.mutate_bytes(&seed.public_key);
        let _ = webauthn::parse_public_key(&key);
        let _ = webauthn::verify_registration(&rp, &reg.challenge, true, &reg.client_data_json, &object);
        let (mut json, mut data, mut signature) = (got.client_data_json.clone(), got.authenticator_data.clone(), got.signature.clone());
        match rng.below(3) {
            0 => json = rng.mutate_bytes(&json),
            1 => data = rng.mutate_bytes(&data),
            _ => signature = rng.mutate_bytes(&signature),
        }
        let changed = (&json, &data, &signature) != (&got.client_data_json, &got.authenticator_data, &got.signature);
        let stored = StoredCredential { public_key: &seed.public_key, sign_count: seed.sign_count };
        let result = webauthn::verify_assertion(&rp, &got.challenge, true, &stored, &json, &data, &signature);
        assert!(!changed || result.is_err(), "iteration {i}: a changed assertion verified");
        // A mutated stored key may still encode the same key (an integer in a longer form):
        // only "no panic" there.
        let stored = StoredCredential { public_key: &key, sign_count: seed.sign_count };
        let _ =
            webauthn::verify_assertion(&rp, &got.challenge, true, &stored, &got.client_data_json, &got.authenticator_data, &got.signature);
    }
}
