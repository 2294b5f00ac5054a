//! Authenticator data (§6.1) and attested credential data (§6.5.1):
//!
//! ```text
//! rpIdHash (32) | flags (1) | signCount (4, big-endian) | attestedCredentialData (if AT) | extensions (if ED)
//! attestedCredentialData = aaguid (16) | credentialIdLength (2, big-endian) | credentialId | credentialPublicKey (COSE_Key)
//! ```
//!
//! The variable parts are delimited by decoding them: the COSE key and the extensions map are
//! one CBOR item each, and nothing may follow.

use super::{WebAuthnError, MAX_AUTHENTICATOR_DATA, MAX_CREDENTIAL_ID};
use minicbor::data::Type;
use minicbor::Decoder;

/// §6.1 flags, bit 0 (least significant) first. Bits 1 and 5 are reserved and ignored.
pub(crate) const UP: u8 = 1 << 0;
pub(crate) const UV: u8 = 1 << 2;
pub(crate) const BE: u8 = 1 << 3;
pub(crate) const BS: u8 = 1 << 4;
pub(crate) const AT: u8 = 1 << 6;
pub(crate) const ED: u8 = 1 << 7;

#[derive(Debug)]
pub(crate) struct AuthenticatorData<'a> {
    pub rp_id_hash: &'a [u8; 32],
    pub flags: u8,
    pub sign_count: u32,
    pub attested: Option<AttestedCredential<'a>>,
}

#[derive(Debug)]
pub(crate) struct AttestedCredential<'a> {
    pub aaguid: [u8; 16],
    pub id: &'a [u8],
    /// The COSE_Key's bytes, delimited but not yet interpreted (`cose::parse`).
    pub public_key: &'a [u8],
}

impl AuthenticatorData<'_> {
    pub fn user_present(&self) -> bool {
        self.flags & UP != 0
    }
    pub fn user_verified(&self) -> bool {
        self.flags & UV != 0
    }
    pub fn backup_eligible(&self) -> bool {
        self.flags & BE != 0
    }
    pub fn backed_up(&self) -> bool {
        self.flags & BS != 0
    }
}

/// Splits authenticator data into its parts; the flags' meaning is checked by the ceremonies.
pub(crate) fn parse(bytes: &[u8]) -> Result<AuthenticatorData<'_>, WebAuthnError> {
    use WebAuthnError::*;
    if bytes.len() > MAX_AUTHENTICATOR_DATA {
        return Err(AuthenticatorDataTooLarge);
    }
    let (rp_id_hash, rest) = bytes.split_first_chunk::<32>().ok_or(AuthenticatorDataTruncated)?;
    let (&[flags], rest) = rest.split_first_chunk::<1>().ok_or(AuthenticatorDataTruncated)?;
    let (sign_count, mut rest) = rest.split_first_chunk::<4>().ok_or(AuthenticatorDataTruncated)?;
    let attested = if flags & AT != 0 {
        let (aaguid, r) = rest.split_first_chunk::<16>().ok_or(AuthenticatorDataTruncated)?;
        let (id_len, r) = r.split_first_chunk::<2>().ok_or(AuthenticatorDataTruncated)?;
        let id_len = usize::from(u16::from_be_bytes(*id_len));
        if !(1..=MAX_CREDENTIAL_ID).contains(&id_len) {
            return Err(CredentialIdLength);
        }
        let (id, r) = r.split_at_checked(id_len).ok_or(AuthenticatorDataTruncated)?;
        // Delimited here, size-capped and read by `cose::parse`.
        let key_len = item_len(r).ok_or(PublicKeyMalformed)?;
        let (public_key, r) = r.split_at_checked(key_len).ok_or(PublicKeyMalformed)?;
        rest = r;
        Some(AttestedCredential { aaguid: *aaguid, id, public_key })
    } else {
        None
    };
    if flags & ED != 0 {
        // §6.1: extension outputs, a CBOR map. We request none and act on none (§7.1, §7.2:
        // "process the extension outputs as required by the RP"), so the map is checked for
        // well-formedness and skipped.
        let mut d = Decoder::new(rest);
        if !matches!(d.datatype(), Ok(Type::Map)) || d.skip().is_err() {
            return Err(ExtensionsMalformed);
        }
        rest = rest.get(d.position()..).ok_or(ExtensionsMalformed)?;
    }
    if !rest.is_empty() {
        return Err(TrailingBytes);
    }
    Ok(AuthenticatorData { rp_id_hash, flags, sign_count: u32::from_be_bytes(*sign_count), attested })
}

/// The length of the well-formed CBOR item at the start of `bytes` (minicbor's `skip` walks
/// nested items with an explicit stack, so its work is bounded by `bytes.len()`).
fn item_len(bytes: &[u8]) -> Option<usize> {
    let mut d = Decoder::new(bytes);
    d.skip().ok()?;
    Some(d.position())
}
