//! clientDataJSON (§5.8.1 CollectedClientData), checked as §7.1 and §7.2 say from "Let JSONtext
//! be the result of running UTF-8 decode" to the topOrigin step: parsed as JSON (serde_json,
//! with its nesting limit), not matched as text (§5.8.1.2's limited verification algorithm).

use super::{RelyingParty, WebAuthnError, MAX_CLIENT_DATA, MIN_CHALLENGE};
use crate::crypto::{b64url, constant_time_eq};
use serde::de::{Deserializer, IgnoredAny};
use serde::Deserialize;

/// Which ceremony a clientDataJSON must belong to (its `type`, §5.8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ceremony {
    Create,
    Get,
}

impl Ceremony {
    fn client_data_type(self) -> &'static str {
        match self {
            Ceremony::Create => "webauthn.create",
            Ceremony::Get => "webauthn.get",
        }
    }
}

/// The members we check; others (browsers add their own) are ignored, a repeated one refused.
#[derive(Deserialize)]
struct CollectedClientData {
    #[serde(rename = "type")]
    kind: String,
    challenge: String,
    origin: String,
    #[serde(rename = "crossOrigin", default)]
    cross_origin: Option<bool>,
    #[serde(rename = "topOrigin", default, deserialize_with = "present")]
    top_origin: bool,
}

/// True whatever the member holds: its presence is what counts.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(d).map(|_| true)
}

/// Checks clientDataJSON for `ceremony` against this relying party and the challenge issued.
pub(crate) fn verify(json: &[u8], ceremony: Ceremony, rp: &RelyingParty, challenge: &[u8]) -> Result<(), WebAuthnError> {
    if challenge.len() < MIN_CHALLENGE {
        return Err(WebAuthnError::ChallengeTooShort);
    }
    if json.len() > MAX_CLIENT_DATA {
        return Err(WebAuthnError::ClientDataTooLarge);
    }
    // UTF-8 decode, then parse. Browsers encode valid UTF-8;
    // invalid sequences are refused rather than replaced (serde_json would not look at those
    // inside members it ignores).
    let text = std::str::from_utf8(json).map_err(|_| WebAuthnError::ClientDataMalformed)?;
    let c: CollectedClientData = serde_json::from_str(text).map_err(|_| WebAuthnError::ClientDataMalformed)?;
    // "Verify that the value of C.type is webauthn.create" (or webauthn.get).
    if c.kind != ceremony.client_data_type() {
        return Err(WebAuthnError::WrongCeremony);
    }
    // "C.challenge equals the base64url encoding of options.challenge" (without padding, §5.8.1);
    // compared in constant time.
    if !constant_time_eq(c.challenge.as_bytes(), b64url(challenge).as_bytes()) {
        return Err(WebAuthnError::ChallengeMismatch);
    }
    // "C.origin is an origin expected by the RP": exactly ours (scheme, host, port).
    if c.origin != rp.origin {
        return Err(WebAuthnError::OriginMismatch);
    }
    // crossOrigin and topOrigin: the login pages are never framed (they send frame-ancestors 'none'), so a
    // ceremony from inside an iframe is refused whatever its top-level origin.
    if c.cross_origin == Some(true) {
        return Err(WebAuthnError::CrossOrigin);
    }
    if c.top_origin {
        return Err(WebAuthnError::TopOrigin);
    }
    Ok(())
}
