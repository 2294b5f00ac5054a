//! The platform's services beside storage, on Workers (`store::Platform`): outbound `fetch()` of
//! client ID metadata documents (`documents.rs`), per-address budgets on the Rate Limiting
//! bindings (`limits.rs`), and ES256 through WebCrypto (`signer.rs`).

mod documents;
mod limits;
mod signer;
pub(crate) use signer::pkcs8_pem_to_jwk;

use crate::cloudflare::store::backend;
use crate::store::*;
use worker::wasm_bindgen::JsValue;
use worker::Env;

/// `store::Platform` on Workers.
pub struct CloudflarePlatform {
    env: Env,
    /// ES256 through WebCrypto (`signer.rs`); off: in wasm (`ES256_SIGNER=wasm`).
    webcrypto: bool,
}

impl CloudflarePlatform {
    pub fn new(env: Env, webcrypto: bool) -> Self {
        Self { env, webcrypto }
    }
}
