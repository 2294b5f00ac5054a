//! The ceremonies recorded from headless Chromium's virtual authenticator by
//! `scripts/record-webauthn.mjs` (`testdata/`), decoded for the unit and property tests.

use crate::crypto::b64url_decode;
use serde::de::{Deserializer, Error};
use serde::Deserialize;

const FILES: [(&str, &str); 3] = [
    ("chromium-es256-none", include_str!("testdata/chromium-es256-none.json")),
    ("chromium-rs256-none", include_str!("testdata/chromium-rs256-none.json")),
    ("chromium-es256-direct", include_str!("testdata/chromium-es256-direct.json")),
];

#[derive(Deserialize)]
pub(crate) struct Recording {
    pub rp_id: String,
    pub origin: String,
    pub registration: Registration,
    /// In order: each one's counter is above the one before.
    pub assertions: Vec<RecordedAssertion>,
}

#[derive(Deserialize)]
pub(crate) struct Registration {
    #[serde(deserialize_with = "b64")]
    pub challenge: Vec<u8>,
    #[serde(deserialize_with = "b64")]
    pub credential_id: Vec<u8>,
    #[serde(deserialize_with = "b64")]
    pub client_data_json: Vec<u8>,
    #[serde(deserialize_with = "b64")]
    pub attestation_object: Vec<u8>,
    /// What the browser's `getPublicKeyAlgorithm()` said.
    pub public_key_algorithm: i64,
}

#[derive(Deserialize)]
pub(crate) struct RecordedAssertion {
    #[serde(deserialize_with = "b64")]
    pub challenge: Vec<u8>,
    #[serde(deserialize_with = "b64")]
    pub credential_id: Vec<u8>,
    #[serde(deserialize_with = "b64")]
    pub client_data_json: Vec<u8>,
    #[serde(deserialize_with = "b64")]
    pub authenticator_data: Vec<u8>,
    #[serde(deserialize_with = "b64")]
    pub signature: Vec<u8>,
}

fn b64<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let s = String::deserialize(d)?;
    b64url_decode(&s).ok_or_else(|| D::Error::custom("not base64url"))
}

/// Every recording, with its file's name.
pub(crate) fn recordings() -> Vec<(&'static str, Recording)> {
    FILES.iter().map(|(name, json)| (*name, serde_json::from_str(json).expect("a recorded fixture parses"))).collect()
}
