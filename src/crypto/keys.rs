//! Signing keys: the ES256 key from the `JWT_SIGNING_KEY` secret (a private JWK), previous
//! public keys kept for verification during rotation, the optional RS256 key (`JWT_RS256_KEY`,
//! for ID tokens only), and the JWKS document.
//! Every `kid` is the key's RFC 7638 JWK thumbprint (SHA-256, base64url).
//!
//! A `JWT_SIGNING_KEY` given as a PKCS#8 PEM is read by the platform before it gets here: in the
//! Worker, WebCrypto imports it and exports it as a JWK (settings.rs), so no DER parser is
//! shipped in the wasm (pkcs8, der and their base64: ~16 KB of the gzipped bundle). `pem_der`
//! below is the RFC 7468 unwrapping that feeds it.

use super::b64url;
use super::jose::{signing_key_from_jwk, Jwk};
use p256::ecdsa::{SigningKey, VerifyingKey};
use serde_json::{json, Value};

/// A public key that verifies tokens, with its thumbprint.
pub struct PublicKey {
    pub kid: String,
    pub key: VerifyingKey,
}

/// The key set: one signing key and the public keys that still verify, and optionally an
/// RS256 key for the ID tokens of clients that ask for RS256 (`JWT_RS256_KEY`).
pub struct KeySet {
    pub signing: SigningKey,
    pub current: PublicKey,
    pub previous: Vec<PublicKey>,
    pub rs256: Option<super::rs256::RsaKey>,
}

#[derive(Debug, PartialEq, Eq)]
pub struct KeyError(pub String);

impl std::fmt::Debug for KeySet {
    /// Names the key ids only; the private keys are never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let previous: Vec<&str> = self.previous.iter().map(|k| k.kid.as_str()).collect();
        let rs256 = self.rs256.as_ref().map(|k| k.public.kid.as_str());
        f.debug_struct("KeySet").field("kid", &self.current.kid).field("previous", &previous).field("rs256", &rs256).finish()
    }
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl PublicKey {
    pub fn new(key: VerifyingKey) -> Self {
        Self { kid: Jwk::Ec(key).thumbprint(), key }
    }

    /// The JWKS entry (RFC 7517 §4, RFC 7518 §6.2.1).
    pub fn to_jwk(&self) -> Value {
        let point = self.key.to_encoded_point(false);
        json!({
            "kty": "EC",
            "crv": "P-256",
            "x": b64url(point.x().expect("uncompressed point has x")),
            "y": b64url(point.y().expect("uncompressed point has y")),
            "kid": self.kid,
            "use": "sig",
            "alg": "ES256",
        })
    }
}

impl KeySet {
    /// Parses the signing key secret and the optional JSON array of previous public JWKs.
    pub fn load(signing_secret: &str, previous: Option<&str>) -> Result<Self, KeyError> {
        let mut set = Self::from_signing_key(parse_signing_key(signing_secret)?);
        if let Some(p) = previous.map(str::trim).filter(|p| !p.is_empty()) {
            let list: Vec<Value> = serde_json::from_str(p).map_err(|_| KeyError("JWT_PREVIOUS_KEYS is not a JSON array of JWKs".into()))?;
            for v in list {
                let key = match Jwk::from_value(&v) {
                    Ok(Jwk::Ec(key)) => key,
                    _ => return Err(KeyError("JWT_PREVIOUS_KEYS holds an entry that is not a P-256 public JWK".into())),
                };
                let pk = PublicKey::new(key);
                if pk.kid != set.current.kid {
                    set.previous.push(pk);
                }
            }
        }
        Ok(set)
    }

    pub fn from_signing_key(signing: SigningKey) -> Self {
        let current = PublicKey::new(*signing.verifying_key());
        Self { signing, current, previous: Vec::new(), rs256: None }
    }

    /// Adds the RS256 key from its secret: a private RSA JWK (2048 bits, with the CRT members).
    pub fn with_rs256(mut self, secret: Option<&str>) -> Result<Self, KeyError> {
        if let Some(s) = secret.map(str::trim).filter(|s| !s.is_empty()) {
            let jwk: Value = serde_json::from_str(s).map_err(|_| KeyError("JWT_RS256_KEY is not a JSON Web Key".into()))?;
            let key = super::rs256::RsaKey::from_jwk(&jwk).map_err(|e| KeyError(format!("JWT_RS256_KEY: {e}")))?;
            self.rs256 = Some(key);
        }
        Ok(self)
    }

    /// The ID token signing algorithms this deployment offers (OIDC Discovery).
    pub fn id_token_algs(&self) -> Vec<&'static str> {
        if self.rs256.is_some() {
            vec!["ES256", "RS256"]
        } else {
            vec!["ES256"]
        }
    }

    /// The key that verifies a token with this `kid`, if it is one of ours.
    pub fn verifying_key(&self, kid: &str) -> Option<&PublicKey> {
        std::iter::once(&self.current).chain(&self.previous).find(|k| k.kid == kid)
    }

    pub fn jwks(&self) -> Value {
        let mut keys: Vec<Value> = std::iter::once(&self.current).chain(&self.previous).map(PublicKey::to_jwk).collect();
        if let Some(rsa) = &self.rs256 {
            keys.push(rsa.public.to_jwk());
        }
        json!({ "keys": keys })
    }
}

fn parse_signing_key(secret: &str) -> Result<SigningKey, KeyError> {
    let s = secret.trim();
    if s.is_empty() {
        return Err(KeyError("JWT_SIGNING_KEY is not set".into()));
    }
    if s.starts_with('{') {
        let jwk: Value = serde_json::from_str(s).map_err(|_| KeyError("JWT_SIGNING_KEY is not a valid JWK".into()))?;
        return signing_key_from_jwk(&jwk).map_err(|e| KeyError(format!("JWT_SIGNING_KEY is not a P-256 private JWK: {e}")));
    }
    if s.starts_with("-----BEGIN PRIVATE KEY-----") {
        // A PEM reaches this point only when the platform could not read it (see the module doc).
        return Err(KeyError("JWT_SIGNING_KEY is not a PKCS#8 P-256 private key".into()));
    }
    Err(KeyError("JWT_SIGNING_KEY must be a private JWK or a PKCS#8 PEM ('-----BEGIN PRIVATE KEY-----')".into()))
}

/// The DER inside a PEM block labelled `label` (RFC 7468 §2: `-----BEGIN label-----`, base64
/// lines, `-----END label-----`; whitespace between the lines is ignored, §3). `None` when the
/// text is not exactly one such block.
pub fn pem_der(pem: &str, label: &str) -> Option<Vec<u8>> {
    use base64::{engine::general_purpose::STANDARD, Engine};
    let body = pem.trim().strip_prefix(&format!("-----BEGIN {label}-----"))?.strip_suffix(&format!("-----END {label}-----"))?;
    let base64: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(base64).ok().filter(|der| !der.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TEST_JWK;

    #[test]
    fn loads_jwk_and_computes_rfc7638_thumbprint() {
        let ks = KeySet::load(TEST_JWK, None).unwrap();
        // Thumbprint computed independently over {"crv","kty","x","y"} in lexicographic order.
        let canonical = r#"{"crv":"P-256","kty":"EC","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
        use sha2::{Digest, Sha256};
        assert_eq!(ks.current.kid, b64url(&Sha256::digest(canonical.as_bytes())));
        let jwks = ks.jwks();
        assert_eq!(jwks["keys"][0]["x"], "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU");
        assert_eq!(jwks["keys"][0]["alg"], "ES256");
        assert!(jwks["keys"][0].get("d").is_none(), "private part must never be published");
    }

    /// `TEST_JWK`'s key as PKCS#8 PEM (as `openssl pkcs8 -topk8 -nocrypt` writes it).
    const TEST_PEM: &str = "-----BEGIN PRIVATE KEY-----\n\
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjpsQnnGQmL+YBIff\n\
H1136cspYG6+0iY7X1fCE9+E9LKhRANCAAR/zc4ncPbEXUGDy+5v20t7WAczNXvp\n\
7xO6z248e9FURcfxRM0bvZt+hyzf7bnuufSzaV1uqQskrYpGIyiFiOWt\n\
-----END PRIVATE KEY-----";

    #[test]
    fn a_pem_block_unwraps_to_its_der() {
        let der = pem_der(TEST_PEM, "PRIVATE KEY").unwrap();
        // PKCS#8 (RFC 5208): a SEQUENCE of 135 bytes holding the key's private scalar `d`.
        assert_eq!(&der[..3], &[0x30, 0x81, 0x87]);
        let jwk: Value = serde_json::from_str(TEST_JWK).unwrap();
        let d = crate::crypto::b64url_decode(jwk["d"].as_str().unwrap()).unwrap();
        assert!(der.windows(32).any(|w| w == d.as_slice()), "the DER carries the JWK's d");
        // CRLF line ends and a trailing newline are whitespace too.
        assert_eq!(pem_der(&format!("{}\r\n", TEST_PEM.replace('\n', "\r\n")), "PRIVATE KEY"), Some(der));
        for bad in [
            TEST_PEM.replace("BEGIN PRIVATE KEY", "BEGIN RSA PRIVATE KEY"),
            TEST_PEM.replace("-----END PRIVATE KEY-----", ""),
            TEST_PEM.replace("MIGH", "M!GH"),
            "-----BEGIN PRIVATE KEY----------END PRIVATE KEY-----".to_string(),
        ] {
            assert_eq!(pem_der(&bad, "PRIVATE KEY"), None, "{bad}");
        }
    }

    #[test]
    fn a_pem_the_platform_could_not_read_is_a_clear_error() {
        let e = KeySet::load(TEST_PEM, None).err().unwrap();
        assert_eq!(e.0, "JWT_SIGNING_KEY is not a PKCS#8 P-256 private key");
    }

    #[test]
    fn previous_keys_are_published_and_used() {
        let other = SigningKey::from_slice(&[7u8; 32]).unwrap();
        let prev = PublicKey::new(*other.verifying_key()).to_jwk();
        let ks = KeySet::load(TEST_JWK, Some(&format!("[{prev}]"))).unwrap();
        assert_eq!(ks.jwks()["keys"].as_array().unwrap().len(), 2);
        assert!(ks.verifying_key(prev["kid"].as_str().unwrap()).is_some());
    }

    #[test]
    fn malformed_keys_are_clear_errors() {
        assert!(KeySet::load("", None).unwrap_err().0.contains("not set"));
        assert!(KeySet::load("{nope", None).is_err());
        assert!(KeySet::load("hello", None).is_err());
        assert!(KeySet::load(r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}"#, None).is_err());
        assert!(KeySet::load(TEST_JWK, Some("{}")).is_err());
    }
}
