//! `PlatformSigner` on workerd: ES256 through WebCrypto (`crypto.subtle.sign` and `verify`),
//! which runs ECDSA P-256 natively, instead of in wasm. Keys are imported once per isolate
//! (non-extractable `CryptoKey`s, kept per `kid`, so a key rotation imports the new one). Any
//! failure answers `None`, and the caller signs or verifies in wasm.

use super::*;
use crate::crypto::b64url;
use crate::crypto::keys::{KeySet, PublicKey};
use std::cell::RefCell;
use worker::js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array, JSON};
use worker::wasm_bindgen::JsCast;
use worker::wasm_bindgen_futures::JsFuture;

thread_local! {
    /// The imported signing key and its `kid`.
    static KEY: RefCell<Option<(String, JsValue)>> = const { RefCell::new(None) };
    /// The imported RS256 signing key and its `kid`.
    static RSA_KEY: RefCell<Option<(String, JsValue)>> = const { RefCell::new(None) };
    /// Imported verification keys by `kid` (the current and previous keys: a handful).
    static PUBLIC: RefCell<Vec<(String, JsValue)>> = const { RefCell::new(Vec::new()) };
    /// Imported keys of clients and DPoP proofs by RFC 7638 thumbprint (the latest few).
    static FOREIGN: RefCell<Vec<(String, JsValue)>> = const { RefCell::new(Vec::new()) };
    /// `crypto.subtle`, its methods and the `{ name: "ECDSA", hash: "SHA-256" }` parameters,
    /// looked up once per isolate rather than with several string crossings per signature
    /// (kept for the isolate's life, hence leaked: one small allocation).
    static SUBTLE: Option<&'static Subtle> = Subtle::lookup().map(|s| &*Box::leak(Box::new(s)));
}

struct Subtle {
    subtle: JsValue,
    import_key: Function,
    export_key: Function,
    sign: Function,
    verify: Function,
    ecdsa_sha256: Object,
    rsassa_sha256: Object,
}

impl Subtle {
    fn lookup() -> Option<Self> {
        let crypto = Reflect::get(&worker::js_sys::global(), &JsValue::from_str("crypto")).ok()?;
        let subtle = Reflect::get(&crypto, &JsValue::from_str("subtle")).ok().filter(|s| s.is_object())?;
        Some(Self {
            import_key: method(&subtle, "importKey")?,
            export_key: method(&subtle, "exportKey")?,
            sign: method(&subtle, "sign")?,
            verify: method(&subtle, "verify")?,
            ecdsa_sha256: object(&[("name", "ECDSA"), ("hash", "SHA-256")]),
            rsassa_sha256: object(&[("name", "RSASSA-PKCS1-v1_5"), ("hash", "SHA-256")]),
            subtle,
        })
    }

    async fn call(&self, method: &Function, args: &Array) -> Option<JsValue> {
        let promise = Reflect::apply(method, &self.subtle, args).ok()?.dyn_into::<Promise>().ok()?;
        JsFuture::from(promise).await.ok()
    }

    /// `importKey(format, key_data, { name: "ECDSA", namedCurve: "P-256" }, extractable, [usage])`.
    async fn import_p256(&self, format: &str, key_data: &JsValue, usage: &str, extractable: bool) -> Option<JsValue> {
        let algorithm = object(&[("name", "ECDSA"), ("namedCurve", "P-256")]);
        let usages = Array::of1(&JsValue::from_str(usage));
        let args = Array::of5(&JsValue::from_str(format), key_data, &algorithm, &JsValue::from_bool(extractable), &usages);
        self.call(&self.import_key, &args).await
    }
}

/// `key` as a WebCrypto verification key (imported on first use in this isolate).
async fn verification_key(subtle: &Subtle, key: &PublicKey) -> Option<JsValue> {
    if let Some(k) = PUBLIC.with(|p| p.borrow().iter().find(|(kid, _)| *kid == key.kid).map(|(_, k)| k.clone())) {
        return Some(k);
    }
    let imported = import_jwk(subtle, key.to_jwk(), "verify", true).await?;
    PUBLIC.with(|p| {
        let mut p = p.borrow_mut();
        if p.len() >= 8 {
            p.clear();
        }
        p.push((key.kid.clone(), imported.clone()));
    });
    Some(imported)
}

fn subtle() -> Option<&'static Subtle> {
    SUBTLE.with(|s| *s)
}

fn method(target: &JsValue, name: &str) -> Option<Function> {
    Reflect::get(target, &JsValue::from_str(name)).ok()?.dyn_into::<Function>().ok()
}

fn object(pairs: &[(&str, &str)]) -> Object {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &JsValue::from_str(k), &JsValue::from_str(v));
    }
    o
}

/// Imports a P-256 JWK (our JWKS entry, with `d` for the private key) as an ECDSA `CryptoKey`
/// for `usage`; the JWKS members WebCrypto does not take (`kid`, `use`, `alg`) are left out.
async fn import_jwk(subtle: &Subtle, mut jwk: serde_json::Value, usage: &str, extractable: bool) -> Option<JsValue> {
    for member in ["kid", "use", "alg"] {
        jwk.as_object_mut()?.remove(member);
    }
    let jwk = JSON::parse(&jwk.to_string()).ok()?;
    subtle.import_p256("jwk", &jwk, usage, extractable).await
}

/// A PKCS#8 PEM P-256 private key (`JWT_SIGNING_KEY` given as PEM) as a private JWK
/// (`kty`, `crv`, `x`, `y`, `d`), read by WebCrypto (`importKey("pkcs8")`, then
/// `exportKey("jwk")`) rather than by a DER parser shipped in the wasm. `None` when the text is
/// not such a key.
pub(crate) async fn pkcs8_pem_to_jwk(pem: &str) -> Option<String> {
    let der = crate::crypto::keys::pem_der(pem, "PRIVATE KEY")?;
    let subtle = subtle()?;
    let key = subtle.import_p256("pkcs8", &Uint8Array::from(der.as_slice()), "sign", true).await?;
    let jwk = subtle.call(&subtle.export_key, &Array::of2(&JsValue::from_str("jwk"), &key)).await?;
    let member = |name: &str| Reflect::get(&jwk, &JsValue::from_str(name)).ok()?.as_string();
    let jwk = serde_json::json!({ "kty": member("kty")?, "crv": member("crv")?, "x": member("x")?, "y": member("y")?, "d": member("d")? });
    Some(jwk.to_string())
}

/// The current key as a WebCrypto `CryptoKey` (imported on first use in this isolate).
async fn signing_key(subtle: &Subtle, keys: &KeySet) -> Option<JsValue> {
    if let Some(key) = KEY.with(|k| k.borrow().as_ref().filter(|(kid, _)| *kid == keys.current.kid).map(|(_, key)| key.clone())) {
        return Some(key);
    }
    let mut jwk = keys.current.to_jwk();
    jwk["d"] = serde_json::Value::String(b64url(&keys.signing.to_bytes()));
    let key = import_jwk(subtle, jwk, "sign", false).await?;
    KEY.with(|k| *k.borrow_mut() = Some((keys.current.kid.clone(), key.clone())));
    Some(key)
}

/// The RS256 key as a WebCrypto `CryptoKey` (imported on first use in this isolate).
async fn rsa_signing_key(subtle: &Subtle, key: &crate::crypto::rs256::RsaKey) -> Option<JsValue> {
    let kid = &key.public.kid;
    if let Some(k) = RSA_KEY.with(|k| k.borrow().as_ref().filter(|(id, _)| id == kid).map(|(_, k)| k.clone())) {
        return Some(k);
    }
    let jwk = JSON::parse(key.private_jwk()).ok()?;
    let usages = Array::of1(&JsValue::from_str("sign"));
    let args = Array::of5(&JsValue::from_str("jwk"), &jwk, &subtle.rsassa_sha256, &JsValue::FALSE, &usages);
    let imported = subtle.call(&subtle.import_key, &args).await?;
    RSA_KEY.with(|k| *k.borrow_mut() = Some((kid.clone(), imported.clone())));
    Some(imported)
}

/// A client's or a DPoP proof's public key as a WebCrypto `CryptoKey` (ECDSA P-256 or
/// RSASSA-PKCS1-v1_5 with SHA-256), imported on first use in this isolate.
async fn foreign_key(subtle: &Subtle, jwk: &crate::crypto::jose::Jwk) -> Option<JsValue> {
    let thumbprint = jwk.thumbprint();
    if let Some(k) = FOREIGN.with(|f| f.borrow().iter().find(|(t, _)| *t == thumbprint).map(|(_, k)| k.clone())) {
        return Some(k);
    }
    let data = JSON::parse(&jwk.to_value().to_string()).ok()?;
    let imported = match jwk {
        crate::crypto::jose::Jwk::Ec(_) => subtle.import_p256("jwk", &data, "verify", false).await?,
        crate::crypto::jose::Jwk::Rsa { .. } => {
            let usages = Array::of1(&JsValue::from_str("verify"));
            let args = Array::of5(&JsValue::from_str("jwk"), &data, &subtle.rsassa_sha256, &JsValue::FALSE, &usages);
            subtle.call(&subtle.import_key, &args).await?
        }
    };
    FOREIGN.with(|f| {
        let mut f = f.borrow_mut();
        if f.len() >= 32 {
            f.remove(0);
        }
        f.push((thumbprint, imported.clone()));
    });
    Some(imported)
}

impl PlatformSigner for CloudflarePlatform {
    async fn verify_jwk(&self, key: &crate::crypto::jose::Jwk, message: &[u8], signature: &[u8]) -> Option<bool> {
        if !self.webcrypto {
            return None;
        }
        let subtle = subtle()?;
        let public = foreign_key(subtle, key).await?;
        let params = match key {
            crate::crypto::jose::Jwk::Ec(_) => &subtle.ecdsa_sha256,
            crate::crypto::jose::Jwk::Rsa { .. } => &subtle.rsassa_sha256,
        };
        let args = Array::of4(params, &public, &Uint8Array::from(signature), &Uint8Array::from(message));
        subtle.call(&subtle.verify, &args).await?.as_bool()
    }

    /// RS256 through WebCrypto's RSASSA-PKCS1-v1_5 (the same bytes as the wasm signer: the
    /// scheme is deterministic).
    async fn sign_rs256(&self, key: &crate::crypto::rs256::RsaKey, message: &[u8]) -> Option<Vec<u8>> {
        if !self.webcrypto {
            return None;
        }
        let subtle = subtle()?;
        let imported = rsa_signing_key(subtle, key).await?;
        let args = Array::of3(&subtle.rsassa_sha256, &imported, &Uint8Array::from(message));
        let signature = Uint8Array::new(&subtle.call(&subtle.sign, &args).await?);
        (signature.length() == 256).then(|| signature.to_vec())
    }

    async fn sign_es256(&self, keys: &KeySet, message: &[u8]) -> Option<[u8; 64]> {
        if !self.webcrypto {
            return None;
        }
        let subtle = subtle()?;
        let key = signing_key(subtle, keys).await?;
        let args = Array::of3(&subtle.ecdsa_sha256, &key, &Uint8Array::from(message));
        let signature = Uint8Array::new(&subtle.call(&subtle.sign, &args).await?);
        // WebCrypto's ECDSA signature is r ‖ s, 32 bytes each: the JWS form (RFC 7518 §3.4).
        let mut out = [0u8; 64];
        (signature.length() == 64).then(|| signature.copy_to(&mut out))?;
        Some(out)
    }

    async fn verify_es256(&self, key: &PublicKey, message: &[u8], signature: &[u8; 64]) -> Option<bool> {
        if !self.webcrypto {
            return None;
        }
        let subtle = subtle()?;
        let public = verification_key(subtle, key).await?;
        let args = Array::of4(&subtle.ecdsa_sha256, &public, &Uint8Array::from(&signature[..]), &Uint8Array::from(message));
        subtle.call(&subtle.verify, &args).await?.as_bool()
    }
}
