//! What the platform provides beside storage: outbound fetches of client ID metadata documents (`DocumentFetcher`), per-address budgets (`AddressLimits`), and ES256 signatures by the runtime (`PlatformSigner`).

use super::*;

/// A client ID metadata document as fetched: its body (at most `MAX_DOCUMENT_BYTES`) and its
/// `Cache-Control` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedDocument {
    pub body: Vec<u8>,
    pub cache_control: Option<String>,
}

/// Why a metadata document could not be had.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchError {
    /// Not 200 (redirects are not followed).
    Status(u16),
    /// Larger than the caller's cap (`MAX_DOCUMENT_BYTES` for a metadata document).
    TooLarge,
    /// No complete answer within `DOCUMENT_TIMEOUT_MS`.
    Timeout,
    Network(String),
}

/// A metadata document's size cap (a client's metadata is well under 2 KB).
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// How long a fetch of a metadata document may take, answer and body.
pub const DOCUMENT_TIMEOUT_MS: u64 = 3000;

/// Fetching JSON documents: client ID metadata documents and clients' JWK Sets (the only
/// outbound requests this server makes, all through `Provider::fetch_outbound`).
#[allow(async_fn_in_trait)]
pub trait DocumentFetcher {
    /// GETs `url` without following redirects, within `DOCUMENT_TIMEOUT_MS` and `max_bytes`.
    async fn fetch_document(&self, url: &str, max_bytes: usize) -> Result<FetchedDocument, FetchError>;
}

/// Per-address budgets across accounts (docs/API.md "Sign-in throttling"): password spraying
/// from one address, and registrations, each of which costs a full password hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressLimit {
    /// Sign-in attempts (password or second factor), whatever the account.
    SignIn,
    /// `POST /register`.
    Registration,
    /// Open client registration (RFC 7591) at `POST /clients`.
    ClientRegistration,
    /// Passkey ceremony challenges (`POST /passkeys/options`), each a D1 write: sign-in pages
    /// ask for one as they load (passkey autofill).
    Challenge,
}

impl AddressLimit {
    /// The budget per `ADDRESS_WINDOW` seconds. On Cloudflare the Rate Limiting bindings of
    /// wrangler.toml hold the deployed budgets (`SIGN_IN_LIMITER`, `REGISTRATION_LIMITER`,
    /// `CHALLENGE_LIMITER`); these are their defaults and the in-memory store's.
    pub fn budget(self) -> u32 {
        match self {
            Self::SignIn => 20,
            Self::Registration => 10,
            Self::ClientRegistration => 10,
            Self::Challenge => 60,
        }
    }
}

/// The window of `AddressLimit` budgets (the Rate Limiting binding's `period`), in seconds.
pub const ADDRESS_WINDOW: u64 = 60;

/// Counting uses per client address.
#[allow(async_fn_in_trait)]
pub trait AddressLimits {
    /// Counts one use of `limit` by `address`; false when the address is over its budget for
    /// the current window (the use is refused).
    async fn allow(&self, limit: AddressLimit, address: &str, now: u64) -> StoreResult<bool>;
}

/// ES256 signatures (and their checks) by the platform, where it is faster than wasm (workerd's
/// WebCrypto runs ECDSA P-256 natively). `None`: the caller signs in wasm (`crypto::es256`),
/// which is what host tests and a failing platform get. Either way the signature is a valid
/// ES256 signature under `keys.current` (WebCrypto's nonces are random, the wasm signer's RFC
/// 6979: the bytes differ, verification does not).
#[allow(async_fn_in_trait)]
pub trait PlatformSigner {
    async fn sign_es256(&self, _keys: &crate::crypto::keys::KeySet, _message: &[u8]) -> Option<[u8; 64]> {
        None
    }
    /// An RS256 (RSASSA-PKCS1-v1_5 with SHA-256, RFC 7518 §3.3) signature of `message` under
    /// `key`; `None`: the caller signs in wasm (`crypto::rs256`).
    async fn sign_rs256(&self, _key: &crate::crypto::rs256::RsaKey, _message: &[u8]) -> Option<Vec<u8>> {
        None
    }
    /// Whether `signature` (r ‖ s) is `key`'s over `message`; `None`: the caller checks in wasm.
    async fn verify_es256(&self, _key: &crate::crypto::keys::PublicKey, _message: &[u8], _signature: &[u8; 64]) -> Option<bool> {
        None
    }
    /// Whether `signature` is a JWS signature of `message` under someone else's key (a client's
    /// or a DPoP proof's): ES256 for a P-256 key, RS256 for an RSA key of any size. `None`: the
    /// caller checks in wasm.
    async fn verify_jwk(&self, _key: &crate::crypto::jose::Jwk, _message: &[u8], _signature: &[u8]) -> Option<bool> {
        None
    }
}

/// All the platform provides beside storage (`DocumentFetcher`, `AddressLimits`,
/// `PlatformSigner`), which a `Provider` holds beside its `Store`. Implemented for every type
/// that implements each. On Workers it is its own object (`CloudflarePlatform`); the in-memory
/// store for host tests is both.
pub trait Platform: DocumentFetcher + AddressLimits + PlatformSigner {}
impl<T: DocumentFetcher + AddressLimits + PlatformSigner> Platform for T {}
