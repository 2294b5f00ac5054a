//! Native timings of the crypto the worker does, for the wasm/native ratios of `npm run bench`.
//! Prints one JSON object: microseconds per ES256 sign and verify, nanoseconds per PBKDF2
//! iteration. Run with `cargo run --release --example crypto_bench`.

use edge_oidc::cloudflare::bench;
use edge_oidc::crypto::keys::KeySet;
use std::time::Instant;

fn per_op<F: FnMut(u32) -> usize>(n: u32, mut f: F) -> f64 {
    f(n / 10 + 1); // warm-up
    let t = Instant::now();
    std::hint::black_box(f(n));
    t.elapsed().as_secs_f64() / n as f64
}

fn main() {
    let key = p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("a valid scalar");
    let keys = KeySet::from_signing_key(key);
    let sign = per_op(2000, |n| bench::es256_sign(&keys, n));
    let sign_plain = per_op(2000, |n| bench::es256_sign_plain(&keys, n));
    let verify = per_op(1000, |n| bench::es256_verify(&keys, n));
    let rsa = serde_json::from_str(edge_oidc::crypto::rs256::RFC7515_A2_JWK).expect("the example key parses");
    let keys = KeySet::from_signing_key(p256::ecdsa::SigningKey::from_slice(&[7u8; 32]).expect("a valid scalar"))
        .with_rs256(Some(&serde_json::to_string::<serde_json::Value>(&rsa).expect("serializes")))
        .expect("the example RSA key loads");
    let rs256 = per_op(50, |n| bench::rs256_sign(&keys, n));
    let passkey = per_op(1000, bench::passkey_verify);
    let log_line = per_op(20000, bench::log_line);
    let iterations = 600_000;
    let pbkdf2 = per_op(3, |n| (0..n).map(|_| bench::pbkdf2(iterations)).sum()) / iterations as f64;
    println!(
        "{}",
        serde_json::json!({
            "es256_sign_us": sign * 1e6,
            "es256_sign_plain_us": sign_plain * 1e6,
            "es256_verify_us": verify * 1e6,
            "rs256_sign_us": rs256 * 1e6,
            "passkey_verify_us": passkey * 1e6,
            "log_line_us": log_line * 1e6,
            "pbkdf2_iteration_ns": pbkdf2 * 1e9,
        })
    );
}
