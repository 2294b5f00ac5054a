//! Property tests over hostile input, run by `cargo test` (a few seconds): random and mutated
//! bytes through every parser and decoder, and random requests through the whole router on the
//! in-memory store. The properties: nothing panics, and no request gets a 5xx.
//! A small deterministic generator (xorshift) keeps failures reproducible without extra crates.

use super::{test_keys, World, BOOTSTRAP};
use crate::crypto::{jwt, password::PasswordHash};
use crate::form;
use crate::http::Incoming;
use crate::oauth::{redirect, scope::Scope};

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
        let mut b = seed.as_bytes().to_vec();
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
        String::from_utf8_lossy(&b).into_owned()
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
        let _ = redirect::matches(&t, &["http://127.0.0.1/cb".to_string(), t.clone()]);
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
