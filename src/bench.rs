//! Work loops for benchmarks, shared by the in-worker `/__bench` route (enabled only when the
//! `BENCH` var is "1", as `npm run bench` does) and the native `examples/crypto_bench.rs`, so
//! both measure the same code. Each returns a value derived from the work so it is not
//! optimised away.

use crate::crypto::keys::KeySet;
use crate::crypto::{jwt, password::PasswordHash};

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
pub fn pbkdf2(iterations: u32) -> usize {
    PasswordHash::create("correct horse battery staple", iterations).encode().len()
}
