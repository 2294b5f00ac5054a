//! Work loops for benchmarks (Cargo feature `bench`, which `npm run bench` builds), shared by
//! the in-worker `/__bench` route below (served only when the `BENCH` var is also "1") and the
//! native `examples/crypto_bench.rs`, so both measure the same code. Each returns a value
//! derived from the work so it is not optimised away.

use crate::crypto::keys::KeySet;
use crate::crypto::{jwt, password::PasswordHash};
use crate::http::Incoming;
use worker::{Env, Response};

/// Signs `n` small access-token-shaped payloads with ES256.
pub fn es256_sign(keys: &KeySet, n: u32) -> usize {
    let mut total = 0;
    for i in 0..n {
        total += jwt::sign(keys, "at+jwt", &serde_json::json!({ "sub": "bench", "i": i })).len();
    }
    total
}

/// The same signatures with the `p256` crate's plain signer (no precomputed table), for the
/// speed-up of `crypto::es256`.
pub fn es256_sign_plain(keys: &KeySet, n: u32) -> usize {
    use p256::ecdsa::{signature::Signer, Signature};
    (0..n)
        .map(|i| {
            let sig: Signature = keys.signing.sign(format!("header.payload{i}").as_bytes());
            sig.to_bytes().len()
        })
        .sum()
}

/// Verifies one ES256 token `n` times.
pub fn es256_verify(keys: &KeySet, n: u32) -> usize {
    let token = jwt::sign(keys, "at+jwt", &serde_json::json!({ "sub": "bench" }));
    (0..n).filter(|_| jwt::verify::<serde_json::Value>(keys, &token, Some("at+jwt")).is_ok()).count()
}

/// One PBKDF2-HMAC-SHA256 derivation of `iterations` iterations.
/// Signs `n` ID-token-sized inputs with RS256 (`keys` must hold an RS256 key).
pub fn rs256_sign(keys: &KeySet, n: u32) -> usize {
    let Some(key) = keys.rs256.as_ref() else { return 0 };
    (0..n).map(|i| key.sign(format!("header.payload.{i}").as_bytes()).len()).sum()
}

pub fn pbkdf2(iterations: u32) -> usize {
    PasswordHash::create("correct horse battery staple", iterations).encode().len()
}

/// Verifies a passkey assertion recorded from Chromium (ES256) `n` times: the one piece of
/// cryptography a passkey sign-in does.
pub fn passkey_verify(n: u32) -> usize {
    use crate::crypto::b64url_decode;
    use crate::webauthn::{verify_assertion, verify_registration, RelyingParty, StoredCredential};
    let rec: serde_json::Value = serde_json::from_str(include_str!("../webauthn/testdata/chromium-es256-none.json")).expect("the fixture");
    let bytes = |v: &serde_json::Value| b64url_decode(v.as_str().unwrap_or_default()).unwrap_or_default();
    let rp = RelyingParty { id: rec["rp_id"].as_str().unwrap_or_default(), origin: rec["origin"].as_str().unwrap_or_default() };
    let reg = &rec["registration"];
    let Ok(new) =
        verify_registration(&rp, &bytes(&reg["challenge"]), false, &bytes(&reg["client_data_json"]), &bytes(&reg["attestation_object"]))
    else {
        return 0;
    };
    let a = &rec["assertions"][0];
    let (challenge, cdj, ad, sig) =
        (bytes(&a["challenge"]), bytes(&a["client_data_json"]), bytes(&a["authenticator_data"]), bytes(&a["signature"]));
    let stored = StoredCredential { public_key: &new.public_key, sign_count: 0 };
    (0..n).filter(|_| verify_assertion(&rp, &challenge, false, &stored, &cdj, &ad, &sig).is_ok()).count()
}

/// Builds the per-request log line `n` times for a token request (client in the Authorization
/// header): what the line costs the Worker, without its transport (in production the runtime
/// ships `console.log` to Workers Logs; under wrangler dev it also crosses to the wrangler
/// process).
pub fn log_line(n: u32) -> usize {
    let req = Incoming {
        method: "POST".into(),
        path: "/token".into(),
        headers: vec![("authorization".into(), "Basic Y2xpZW50LWlkOnNlY3JldA==".into())],
        ..Default::default()
    };
    (0..n).map(|i| crate::http::log_line("3jWOpuEQ1xP3UCqEmfvooQ", &req, 200, u64::from(i % 50), None).len()).sum()
}

/// `GET /__bench?op=sign|sign_plain|verify|rs256|pbkdf2|passkey_verify|log_line|d1|kv&n=N`: runs a crypto loop inside workerd so
/// `npm run bench` can read its CPU cost from the runtime process, or `n` sequential storage round
/// trips (`SELECT 1` on D1, a missing key on KV) and answers their wall time in ms. Served only when
/// the `BENCH` var is "1".
pub async fn route(req: &Incoming, keys: &Result<KeySet, String>, env: Env) -> worker::Result<Response> {
    let params = crate::form::parse(&req.query).unwrap_or_default();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let n: u32 = get("n").and_then(|v| v.parse().ok()).unwrap_or(1).min(10_000_000);
    if let Some(op @ ("d1" | "kv")) = get("op") {
        let started = worker::Date::now().as_millis();
        for _ in 0..n {
            if op == "d1" {
                env.d1("DB")?.prepare("SELECT 1 AS one").first::<serde_json::Value>(None).await?;
            } else {
                env.kv("AUTH_CODES")?.get("__bench_missing").text().await?;
            }
        }
        return Response::ok((worker::Date::now().as_millis() - started).to_string());
    }
    let Ok(keys) = keys else { return Response::error("no signing key", 503) };
    let result = match get("op") {
        Some("sign") => es256_sign(keys, n),
        Some("sign_plain") => es256_sign_plain(keys, n),
        Some("verify") => es256_verify(keys, n),
        Some("pbkdf2") => pbkdf2(n),
        Some("rs256") => rs256_sign(keys, n),
        Some("passkey_verify") => passkey_verify(n),
        Some("log_line") => log_line(n),
        _ => return Response::error("op: sign, sign_plain, verify, rs256, pbkdf2, passkey_verify, log_line, d1 or kv", 400),
    };
    Response::ok(result.to_string())
}
