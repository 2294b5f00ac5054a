//! WebAuthn (passkeys) relying-party verification, W3C Web Authentication Level 3: a new
//! credential's registration (§7.1 Registering a New Credential) and an authentication assertion
//! (§7.2 Verifying an Authentication Assertion). Comments name the step they implement by what it
//! checks (step numbers differ between drafts of the specification). Free of the worker
//! runtime: the caller issues and remembers challenges, stores credentials and maps errors to
//! HTTP (every `WebAuthnError` is a 400 `invalid_request` whose description is its `Display`).
//!
//! The parts, each bounded in size and refusing what it does not understand, never panicking:
//! - `client_data`: clientDataJSON (§5.8.1 CollectedClientData);
//! - `attestation`: the attestation object (§6.5, §6.5.4), `fmt` and `attStmt`;
//! - `authenticator_data`: authenticator data (§6.1) and attested credential data (§6.5.1);
//! - `cose`: the credential public key (COSE_Key, RFC 9053 §7.1 EC2 and RFC 8230 §4 RSA) and
//!   signature verification (§6.5.5 Signature Formats, ES256 and RS256).
//!
//! CBOR (RFC 8949) is read with minicbor's streaming decoder, which skips unread items without
//! recursion; every input is size-capped first, so skipping costs at most its length.
//!
//! Left to the caller, by design: finding the credential and its user (§7.2: look the credential
//! up by `rawId`, check `userHandle` against its owner), refusing a credential ID that is already
//! registered (§7.1: "not yet registered for any user"), single use of challenges, and storing
//! the new signature count only if the stored one is still the count it checked against
//! (concurrent assertions of one credential).

mod attestation;
mod authenticator_data;
mod client_data;
mod cose;
#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod tests;

pub(crate) use attestation::parse as parse_attestation_object;
pub(crate) use authenticator_data::parse as parse_authenticator_data;
pub(crate) use client_data::{verify as verify_client_data, Ceremony};
pub(crate) use cose::parse as parse_public_key;

use sha2::{Digest, Sha256};
use std::fmt;

/// The relying party as the browser sees it: its RP ID (the origin's host or a registrable
/// domain suffix of it, §4 Terminology, e.g. "localhost" or "auth.example.com") and its exact origin
/// (scheme, host and port, e.g. "http://localhost:8787").
#[derive(Clone, Copy, Debug)]
pub struct RelyingParty<'a> {
    pub id: &'a str,
    pub origin: &'a str,
}

/// The credential algorithms we offer, as COSE algorithm identifiers (IANA "COSE Algorithms").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoseAlgorithm {
    /// ECDSA over P-256 with SHA-256 (RFC 9053 §2.1): -7.
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8812 §2): -257. 2048-bit moduli only, the only size
    /// `crypto::rs256` handles (and what Windows Hello, the main RS256 authenticator, makes).
    Rs256,
}

impl CoseAlgorithm {
    /// Our `pubKeyCredParams` (§5.4, §5.3), in order of preference: a registration whose key
    /// uses any other algorithm is refused (§7.1: the key's "alg" is one of pubKeyCredParams).
    pub const PUB_KEY_CRED_PARAMS: [CoseAlgorithm; 2] = [CoseAlgorithm::Es256, CoseAlgorithm::Rs256];

    /// The COSE algorithm identifier.
    pub const fn id(self) -> i64 {
        match self {
            CoseAlgorithm::Es256 => -7,
            CoseAlgorithm::Rs256 => -257,
        }
    }

    /// One of `PUB_KEY_CRED_PARAMS`, by identifier.
    pub fn from_id(id: i64) -> Option<Self> {
        Self::PUB_KEY_CRED_PARAMS.into_iter().find(|a| a.id() == id)
    }
}

/// A verified registration: what to store as the credential record (§7.1, last step).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCredential {
    /// The credential ID from the attested credential data (1..=1023 bytes), not the client's
    /// `rawId` (which the caller may compare with it).
    pub id: Vec<u8>,
    /// The COSE_Key exactly as the authenticator sent it; `verify_assertion` reads it back.
    pub public_key: Vec<u8>,
    pub algorithm: CoseAlgorithm,
    pub sign_count: u32,
    pub user_verified: bool,
    /// BE (§6.1.3): the credential may be backed up or synced (a multi-device passkey).
    pub backup_eligible: bool,
    /// BS (§6.1.3): it is backed up now.
    pub backed_up: bool,
    /// The authenticator model (§6.5.1); all zeros when the client hides it. Unattested (see
    /// `attestation`): a hint for display, never a basis for trust.
    pub aaguid: [u8; 16],
}

/// A stored credential, as `NewCredential` gave it and the last assertion updated it.
#[derive(Clone, Copy, Debug)]
pub struct StoredCredential<'a> {
    pub public_key: &'a [u8],
    pub sign_count: u32,
}

/// A verified assertion: the caller stores `sign_count` (and may update the backup state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assertion {
    pub sign_count: u32,
    pub user_verified: bool,
    pub backup_eligible: bool,
    pub backed_up: bool,
}

/// clientDataJSON at most (§5.8.1). Browsers may add members of their own (Chrome sometimes
/// adds an "other_keys_can_be_added_here" note), so this is not set as tight as 4 KiB.
pub const MAX_CLIENT_DATA: usize = 16 * 1024;
/// The attestation object at most (§6.5.4): room for a TPM or Android certificate chain.
pub const MAX_ATTESTATION_OBJECT: usize = 16 * 1024;
/// Authenticator data at most (§6.1): 37 bytes, attested credential data, extension outputs.
pub const MAX_AUTHENTICATOR_DATA: usize = 16 * 1024;
/// A credential public key at most: an RS256 COSE key is ~270 bytes, an ES256 one 77.
pub const MAX_PUBLIC_KEY: usize = 1024;
/// A credential ID at most (§6.5.1 credentialIdLength, §7.1: "credentialId is ≤ 1023 bytes").
pub const MAX_CREDENTIAL_ID: usize = 1023;
/// An expected challenge at least (§13 Security Considerations, Cryptographic Challenges: "at
/// least 16 bytes long").
pub const MIN_CHALLENGE: usize = 16;

macro_rules! errors {
    ($($(#[$doc:meta])* $name:ident => $message:literal,)*) => {
        /// Why a ceremony was refused. `Display` is a short sentence fit for an OAuth
        /// `error_description` (RFC 6749 §5.2: printable ASCII without `"` or `\`).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum WebAuthnError {
            $($(#[$doc])* $name,)*
        }

        impl WebAuthnError {
            pub const ALL: &'static [WebAuthnError] = &[$(WebAuthnError::$name,)*];

            pub fn message(self) -> &'static str {
                match self {
                    $(WebAuthnError::$name => $message,)*
                }
            }
        }
    };
}

errors! {
    /// The caller's challenge is too short: a server bug, not the client's.
    ChallengeTooShort => "The expected challenge is shorter than 16 bytes.",
    ClientDataTooLarge => "clientDataJSON is larger than 16 KiB.",
    ClientDataMalformed => "clientDataJSON is not a JSON object with type, challenge and origin strings.",
    WrongCeremony => "clientDataJSON has the wrong type for this ceremony.",
    ChallengeMismatch => "The challenge in clientDataJSON is not the one issued.",
    OriginMismatch => "The origin in clientDataJSON is not this server's origin.",
    CrossOrigin => "Cross-origin ceremonies are not accepted.",
    TopOrigin => "Ceremonies in an embedded frame (topOrigin) are not accepted.",
    AttestationObjectTooLarge => "The attestation object is larger than 16 KiB.",
    AttestationObjectMalformed => "The attestation object is not a CBOR map of fmt, attStmt and authData.",
    UnsupportedAttestationFormat => "The attestation statement format is unknown.",
    NoneAttestationNotEmpty => "A none attestation must have an empty attestation statement.",
    TrailingBytes => "Unexpected bytes follow the end of the data.",
    AuthenticatorDataTooLarge => "The authenticator data is larger than 16 KiB.",
    AuthenticatorDataTruncated => "The authenticator data is truncated.",
    RpIdMismatch => "The authenticator data is for another relying party (rpIdHash).",
    UserNotPresent => "The authenticator did not report user presence.",
    UserNotVerified => "The authenticator did not verify the user, which is required.",
    BackupStateWithoutEligibility => "The authenticator data claims backup state without backup eligibility.",
    MissingAttestedCredential => "The registration carries no attested credential data.",
    UnexpectedAttestedCredential => "The assertion carries attested credential data.",
    CredentialIdLength => "The credential ID must be 1 to 1023 bytes.",
    ExtensionsMalformed => "The authenticator extensions are not a CBOR map.",
    PublicKeyTooLarge => "The credential public key is larger than 1 KiB.",
    PublicKeyMalformed => "The credential public key is not a well-formed COSE key.",
    PublicKeyDuplicateLabel => "The credential public key repeats a parameter.",
    UnsupportedAlgorithm => "Unsupported credential algorithm: only ES256 and RS256.",
    UnsupportedRsaKeySize => "Unsupported RSA key size: only 2048-bit RS256 keys.",
    InvalidPublicKey => "The credential public key is not a valid key.",
    SignatureMalformed => "The assertion signature is malformed.",
    SignatureInvalid => "The assertion signature does not verify.",
    /// §6.1.1: the authenticator may have been cloned.
    SignCountNotIncreased => "The signature counter did not increase: the authenticator may be cloned.",
}

impl fmt::Display for WebAuthnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for WebAuthnError {}

/// Registration (§7.1), for a ceremony that asked for `attestation: "none"` with our
/// `pubKeyCredParams`: checks the response to `navigator.credentials.create()` against the
/// challenge issued for it and returns the credential to store.
pub fn verify_registration(
    rp: &RelyingParty,
    challenge: &[u8],
    require_user_verification: bool,
    client_data_json: &[u8],
    attestation_object: &[u8],
) -> Result<NewCredential, WebAuthnError> {
    // From "Let JSONtext be the result of UTF-8 decode" to topOrigin: clientDataJSON. The next
    // step's hash of it serves only attestation statement verification, which a "none"
    // ceremony does not do (see `attestation`).
    verify_client_data(client_data_json, Ceremony::Create, rp, challenge)?;
    // "Perform CBOR decoding on the attestationObject"; the format, taken as "none" (the steps
    // that determine fmt, verify attStmt and assess its trustworthiness).
    let object = parse_attestation_object(attestation_object)?;
    let data = parse_authenticator_data(object.auth_data)?;
    // rpIdHash, UP, UV, BE and BS.
    check_flags(rp, require_user_verification, &data)?;
    // §6.1: AT is set for attestation (registration); the ID's length is checked in parsing.
    let credential = data.attested.as_ref().ok_or(WebAuthnError::MissingAttestedCredential)?;
    // The key is well formed and its "alg" is one of our pubKeyCredParams.
    let key = parse_public_key(credential.public_key)?;
    Ok(NewCredential {
        id: credential.id.to_vec(),
        public_key: credential.public_key.to_vec(),
        algorithm: key.algorithm(),
        sign_count: data.sign_count,
        user_verified: data.user_verified(),
        backup_eligible: data.backup_eligible(),
        backed_up: data.backed_up(),
        aaguid: credential.aaguid,
    })
}

/// Authentication (§7.2): checks the response to `navigator.credentials.get()` against the
/// challenge issued for it and the credential the caller found by its ID. On success the caller
/// stores `Assertion::sign_count`.
pub fn verify_assertion(
    rp: &RelyingParty,
    challenge: &[u8],
    require_user_verification: bool,
    stored: &StoredCredential,
    client_data_json: &[u8],
    authenticator_data: &[u8],
    signature: &[u8],
) -> Result<Assertion, WebAuthnError> {
    // credentialRecord.publicKey, stored as received at registration.
    let key = parse_public_key(stored.public_key)?;
    // From "UTF-8 decode" of cData to topOrigin.
    verify_client_data(client_data_json, Ceremony::Get, rp, challenge)?;
    let data = parse_authenticator_data(authenticator_data)?;
    // rpIdHash, UP, UV, BE and BS.
    check_flags(rp, require_user_verification, &data)?;
    // §6.1: AT is set only for attestation; an assertion carries no new credential.
    if data.attested.is_some() {
        return Err(WebAuthnError::UnexpectedAttestedCredential);
    }
    // "Let hash be SHA-256 of cData" and the signature over authData || hash (§6.3.3
    // authenticatorGetAssertion).
    let mut signed = Vec::with_capacity(authenticator_data.len() + 32);
    signed.extend_from_slice(authenticator_data);
    signed.extend_from_slice(&Sha256::digest(client_data_json));
    key.verify(&signed, signature)?;
    // "If authData.signCount is nonzero or credentialRecord.signCount is nonzero" (§7.2,
    // §6.1.1 Signature Counter Considerations): the new count must be greater, otherwise the
    // authenticator may have been cloned, and refusing is our choice of the RP-specific
    // behaviour. Both zero: an authenticator without a counter (most synced passkeys). A stored
    // nonzero count followed by 0 is refused too, as the step says: a clone could otherwise
    // answer 0 forever and never be noticed.
    if (data.sign_count != 0 || stored.sign_count != 0) && data.sign_count <= stored.sign_count {
        return Err(WebAuthnError::SignCountNotIncreased);
    }
    Ok(Assertion {
        sign_count: data.sign_count,
        user_verified: data.user_verified(),
        backup_eligible: data.backup_eligible(),
        backed_up: data.backed_up(),
    })
}

/// The checks of authenticator data's rpIdHash and flags, the same steps in §7.1 and §7.2.
fn check_flags(
    rp: &RelyingParty,
    require_user_verification: bool,
    data: &authenticator_data::AuthenticatorData,
) -> Result<(), WebAuthnError> {
    // rpIdHash is SHA-256 of the RP ID this server expects: a credential for another RP (or a
    // response relayed from another site) is refused.
    if data.rp_id_hash[..] != Sha256::digest(rp.id.as_bytes())[..] {
        return Err(WebAuthnError::RpIdMismatch);
    }
    // UP: required (§7.1 exempts conditional-mediation creation, which we do not use).
    if !data.user_present() {
        return Err(WebAuthnError::UserNotPresent);
    }
    if require_user_verification && !data.user_verified() {
        return Err(WebAuthnError::UserNotVerified);
    }
    // "If the BE bit is not set, verify that the BS bit is not set" (§6.1.3 Credential Backup
    // State: a credential that cannot be backed up is not backed up).
    if data.backed_up() && !data.backup_eligible() {
        return Err(WebAuthnError::BackupStateWithoutEligibility);
    }
    Ok(())
}
