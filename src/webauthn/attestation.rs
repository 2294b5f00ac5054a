//! The attestation object (§6.5.4): a CBOR map of exactly `fmt` (text), `attStmt` (a map) and
//! `authData` (bytes), with nothing after it.
//!
//! We ask for attestation conveyance "none" (§5.4.7): the relying party does not rely on
//! attestation, so no statement is verified and every credential is taken as self or none
//! attested (§7.1: "If no attestation was provided, verify that None attestation is acceptable
//! under Relying Party policy"; §8.7 None Attestation Statement Format). A "none" statement must be the empty map
//! (§8.7); a client may still pass on the authenticator's own statement (conveyance is a
//! preference), so the other registered formats (§8.2–§8.6, §8.8) are accepted and their
//! statement skipped unverified. Any other `fmt` is refused (§7.1: "a USASCII case-sensitive
//! match on fmt against the set of supported WebAuthn Attestation Statement Format Identifier
//! values"). "compound" (§8.9), whose statement is an array, is not among them.

use super::{WebAuthnError, MAX_ATTESTATION_OBJECT};
use minicbor::data::Type;
use minicbor::Decoder;

/// The WebAuthn Attestation Statement Format Identifiers we accept (IANA registry, RFC 8809).
const FORMATS: [&str; 7] = ["none", "packed", "tpm", "android-key", "android-safetynet", "fido-u2f", "apple"];

/// CBOR for `{}`, the only statement of the "none" format.
const EMPTY_MAP: [u8; 1] = [0xa0];

#[derive(Debug)]
pub(crate) struct AttestationObject<'a> {
    pub auth_data: &'a [u8],
}

pub(crate) fn parse(bytes: &[u8]) -> Result<AttestationObject<'_>, WebAuthnError> {
    use WebAuthnError::*;
    if bytes.len() > MAX_ATTESTATION_OBJECT {
        return Err(AttestationObjectTooLarge);
    }
    let mut d = Decoder::new(bytes);
    // Exactly three entries, definite length, each key once (CTAP2 canonical CBOR, which the
    // client's encoder produces, never repeats a key).
    if !matches!(d.map(), Ok(Some(3))) {
        return Err(AttestationObjectMalformed);
    }
    let (mut fmt, mut att_stmt, mut auth_data) = (None, None, None);
    for _ in 0..3 {
        match d.str().map_err(|_| AttestationObjectMalformed)? {
            "fmt" if fmt.is_none() => fmt = Some(d.str().map_err(|_| AttestationObjectMalformed)?),
            "attStmt" if att_stmt.is_none() => {
                let start = d.position();
                if !matches!(d.datatype(), Ok(Type::Map)) || d.skip().is_err() {
                    return Err(AttestationObjectMalformed);
                }
                att_stmt = Some(bytes.get(start..d.position()).ok_or(AttestationObjectMalformed)?);
            }
            "authData" if auth_data.is_none() => auth_data = Some(d.bytes().map_err(|_| AttestationObjectMalformed)?),
            _ => return Err(AttestationObjectMalformed),
        }
    }
    if d.position() != bytes.len() {
        return Err(TrailingBytes);
    }
    let (Some(fmt), Some(att_stmt), Some(auth_data)) = (fmt, att_stmt, auth_data) else {
        return Err(AttestationObjectMalformed);
    };
    if !FORMATS.contains(&fmt) {
        return Err(UnsupportedAttestationFormat);
    }
    if fmt == "none" && att_stmt != EMPTY_MAP {
        return Err(NoneAttestationNotEmpty);
    }
    Ok(AttestationObject { auth_data })
}
