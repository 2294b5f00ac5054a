//! Passkeys (WebAuthn Level 3): the ceremonies' options and their answers, around the
//! verification rules of `crate::webauthn`. The relying party is this issuer: its RP ID is the
//! issuer's host (browsers refuse an IP address, so development uses `http://localhost:<port>`),
//! its origin the issuer's origin. Discoverable credentials (resident keys), `none` attestation,
//! user verification preferred; ES256 and RS256.
//!
//! Challenges are ceremony `Challenge`s (`second_factor.rs`): the challenge the browser signs is
//! the random value whose SHA-256 keys the record, so the answer names its own challenge; it is
//! taken (single use) when the answer arrives, must be of the ceremony's kind, unexpired (5
//! minutes) and issued to the same browser (its anti-CSRF cookie).

use super::amr::Authentication;
use super::audit::{Audit, AuditKind};
use super::second_factor::{ChallengeKind, CHALLENGE_TTL};
use super::{OAuthError, OAuthResult, Provider};
use crate::crypto::{b64url, b64url_decode};
use crate::store::{AddressLimit, Passkey, Platform, Store, StoreError, User};
use crate::webauthn::{self, CoseAlgorithm, RelyingParty, StoredCredential};
use serde::Deserialize;
use serde_json::{json, Value};

/// A person may keep this many passkeys.
pub const MAX_PASSKEYS: usize = 20;

/// A `PublicKeyCredential` as the browser's `toJSON()` writes it (WebAuthn L3 §5.1.10), every
/// binary member base64url.
#[derive(Debug, Clone, Deserialize)]
pub struct CredentialJson {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub response: ResponseJson,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ResponseJson {
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: String,
    #[serde(rename = "attestationObject", default)]
    pub attestation_object: Option<String>,
    #[serde(rename = "authenticatorData", default)]
    pub authenticator_data: Option<String>,
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(rename = "userHandle", default)]
    pub user_handle: Option<String>,
}

fn bad(msg: &str) -> OAuthError {
    OAuthError::invalid_request(msg)
}

impl CredentialJson {
    /// Parses the JSON a page posts (at most 32 KiB).
    pub fn parse(text: &str) -> OAuthResult<Self> {
        if text.is_empty() {
            return Err(bad("this browser did not answer with a passkey"));
        }
        if text.len() > 32 * 1024 {
            return Err(bad("the passkey answer is too large"));
        }
        let c: Self = serde_json::from_str(text).map_err(|_| bad("the passkey answer is not a WebAuthn credential"))?;
        if c.kind != "public-key" || c.id.is_empty() || c.id.len() > 1400 {
            return Err(bad("the passkey answer is not a public-key credential"));
        }
        Ok(c)
    }

    /// The challenge the browser signed (clientDataJSON's `challenge`, base64url): the key of
    /// the ceremony's record.
    fn challenge(&self) -> OAuthResult<(Vec<u8>, String)> {
        let cdj = decode(&self.response.client_data_json, "clientDataJSON")?;
        let v: Value = serde_json::from_slice(&cdj).map_err(|_| bad("clientDataJSON is not JSON"))?;
        let challenge =
            v["challenge"].as_str().filter(|c| !c.is_empty() && c.len() <= 128).ok_or_else(|| bad("clientDataJSON has no challenge"))?;
        Ok((cdj, challenge.to_string()))
    }
}

fn decode(s: &str, what: &str) -> OAuthResult<Vec<u8>> {
    b64url_decode(s.trim_end_matches('=')).ok_or_else(|| bad(&format!("{what} is not base64url")))
}

fn webauthn_error(e: webauthn::WebAuthnError) -> OAuthError {
    bad(&e.to_string())
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// Each challenge is a D1 write: an address gets `AddressLimit::Challenge` of them a minute.
    async fn challenge_budget(&self) -> OAuthResult<()> {
        if self.platform.allow(AddressLimit::Challenge, self.address, self.now).await? {
            return Ok(());
        }
        Err(OAuthError::too_many("too many passkey requests from this address; try again later", crate::store::ADDRESS_WINDOW))
    }

    /// This issuer as a WebAuthn relying party: (RP ID, origin).
    pub fn relying_party(&self) -> (String, String) {
        let issuer = &self.config.issuer;
        let (scheme, rest) = issuer.split_once("://").unwrap_or(("https", issuer));
        let authority = rest.split('/').next().unwrap_or("");
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => {
                authority.rsplit_once(':').map_or(authority, |(h, p)| if p.bytes().all(|b| b.is_ascii_digit()) { h } else { authority })
            }
        };
        (host.to_ascii_lowercase(), format!("{scheme}://{authority}"))
    }

    /// The user handle of `user` (WebAuthn `user.id`): their random id, which carries nothing
    /// personal (§14.6.1).
    fn user_handle(user: &User) -> String {
        b64url(user.id.as_bytes())
    }

    /// `PublicKeyCredentialCreationOptions` (§5.4) for adding a passkey to `user`'s account, in
    /// the JSON form of §5.1.10 (`PublicKeyCredential.parseCreationOptionsFromJSON`).
    pub async fn passkey_registration_options(&self, user: &User, binding: &str, rp_name: &str) -> OAuthResult<Value> {
        self.challenge_budget().await?;
        let existing = self.store.passkeys_of(&user.id).await?;
        if existing.len() >= MAX_PASSKEYS {
            return Err(bad("this account has as many passkeys as it may have; remove one first"));
        }
        let challenge = self.start_challenge(ChallengeKind::PasskeyRegistration, Some(&user.id), binding, "").await?;
        let (rp_id, _) = self.relying_party();
        Ok(json!({
            "challenge": challenge,
            "rp": { "id": rp_id, "name": rp_name },
            "user": { "id": Self::user_handle(user), "name": user.username, "displayName": user.username },
            "pubKeyCredParams": CoseAlgorithm::PUB_KEY_CRED_PARAMS.iter().map(|a| json!({ "type": "public-key", "alg": a.id() })).collect::<Vec<_>>(),
            "timeout": CHALLENGE_TTL * 1000,
            "attestation": "none",
            "authenticatorSelection": { "residentKey": "required", "requireResidentKey": true, "userVerification": "preferred" },
            "excludeCredentials": existing.iter().map(|p| json!({ "type": "public-key", "id": p.credential_id })).collect::<Vec<_>>(),
        }))
    }

    /// Verifies a registration answer (§7.1) for `user` from this browser and stores the
    /// passkey under `name`.
    pub async fn register_passkey(&self, user: &User, name: &str, credential: &CredentialJson, binding: &str) -> OAuthResult<Passkey> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(bad("give the passkey a name of 1 to 64 characters"));
        }
        let (cdj, challenge) = credential.challenge()?;
        let found = self.find_challenge(&challenge, &[ChallengeKind::PasskeyRegistration], binding, true).await?;
        if found.and_then(|c| c.user_id).as_deref() != Some(user.id.as_str()) {
            return Err(bad("this passkey request has expired or was already used; try again"));
        }
        let attestation = decode(credential.response.attestation_object.as_deref().unwrap_or(""), "attestationObject")?;
        let (rp_id, origin) = self.relying_party();
        let rp = RelyingParty { id: &rp_id, origin: &origin };
        let expected = decode(&challenge, "the challenge")?;
        let new = webauthn::verify_registration(&rp, &expected, false, &cdj, &attestation).map_err(webauthn_error)?;
        let passkey = Passkey {
            credential_id: b64url(&new.id),
            user_id: user.id.clone(),
            name: name.to_string(),
            public_key: b64url(&new.public_key),
            algorithm: new.algorithm.id(),
            sign_count: new.sign_count,
            created_at: self.now,
            last_used_at: None,
        };
        match self.store.insert_passkey(&passkey).await {
            Ok(()) => {}
            // §7.1: a credential id registered already (to anyone) is refused.
            Err(StoreError::Conflict(_)) => return Err(bad("this passkey is already registered")),
            Err(e) => return Err(e.into()),
        }
        self.audit(Audit::new(AuditKind::PasskeyAdded).user(&user.id).detail(json!({ "algorithm": passkey.algorithm })));
        Ok(passkey)
    }

    /// `PublicKeyCredentialRequestOptions` (§5.5) for signing in with any passkey of this RP
    /// (discoverable credentials: no `allowCredentials`, no username needed).
    pub async fn passkey_sign_in_options(&self, binding: &str) -> OAuthResult<Value> {
        self.challenge_budget().await?;
        let challenge = self.start_challenge(ChallengeKind::PasskeyAuthentication, None, binding, "").await?;
        let (rp_id, _) = self.relying_party();
        Ok(
            json!({ "challenge": challenge, "rpId": rp_id, "timeout": CHALLENGE_TTL * 1000, "userVerification": "preferred", "allowCredentials": [] }),
        )
    }

    /// Verifies a sign-in answer (§7.2) from this browser: the passkey's user and how they
    /// signed in. Counted in the per-address sign-in budget; a refusal is `access_denied` (a
    /// malformed answer `invalid_request`) and names no account.
    pub async fn sign_in_with_passkey(&self, credential: &CredentialJson, binding: &str) -> OAuthResult<(User, Authentication)> {
        if !self.platform.allow(AddressLimit::SignIn, self.address, self.now).await? {
            return Err(OAuthError::too_many("too many sign-in attempts from this address; try again later", crate::store::ADDRESS_WINDOW));
        }
        let refused = |why: &str| OAuthError::new(super::ErrorCode::AccessDenied, why);
        let (cdj, challenge) = credential.challenge()?;
        if self.find_challenge(&challenge, &[ChallengeKind::PasskeyAuthentication], binding, true).await?.is_none() {
            return Err(refused("this sign-in request has expired or was already used; try again"));
        }
        let Some((passkey, user)) = self.store.passkey(&credential.id).await? else {
            self.audit(Audit::new(AuditKind::SignInFailed).detail(json!({ "method": "passkey", "account": "unknown" })));
            return Err(refused("this passkey is not registered here"));
        };
        // §7.2: the user handle, when the authenticator gives one, must be the credential's owner.
        if let Some(handle) = credential.response.user_handle.as_deref().filter(|h| !h.is_empty()) {
            if handle.trim_end_matches('=') != Self::user_handle(&user) {
                return Err(refused("this passkey belongs to another account"));
            }
        }
        let fail = |e: OAuthError| {
            self.audit(Audit::new(AuditKind::SignInFailed).user(&user.id).detail(json!({ "method": "passkey" })));
            e
        };
        if user.disabled {
            return Err(fail(refused("this account is disabled")));
        }
        let authenticator_data = decode(credential.response.authenticator_data.as_deref().unwrap_or(""), "authenticatorData")?;
        let signature = decode(credential.response.signature.as_deref().unwrap_or(""), "signature")?;
        let public_key = decode(&passkey.public_key, "the stored key")?;
        let (rp_id, origin) = self.relying_party();
        let rp = RelyingParty { id: &rp_id, origin: &origin };
        let expected = decode(&challenge, "the challenge")?;
        let stored = StoredCredential { public_key: &public_key, sign_count: passkey.sign_count };
        let assertion = webauthn::verify_assertion(&rp, &expected, false, &stored, &cdj, &authenticator_data, &signature)
            .map_err(|e| fail(OAuthError::new(super::ErrorCode::AccessDenied, e.to_string())))?;
        // The counter moves only from the value just checked: of two concurrent uses (a cloned
        // key), one is refused.
        if !self.store.record_passkey_use(&passkey.credential_id, passkey.sign_count, assertion.sign_count, self.now).await? {
            return Err(fail(refused("this passkey was used at the same time elsewhere; try again")));
        }
        self.audit(Audit::new(AuditKind::SignInSucceeded).user(&user.id).detail(json!({ "method": "passkey" })));
        Ok((user, Authentication::passkey(self.now, assertion.user_verified)))
    }

    pub async fn passkeys_of(&self, user_id: &str) -> OAuthResult<Vec<Passkey>> {
        Ok(self.store.passkeys_of(user_id).await?)
    }

    /// Removes one of the user's passkeys; false when they have no such passkey.
    pub async fn remove_passkey(&self, user: &User, credential_id: &str) -> OAuthResult<bool> {
        let removed = self.store.delete_passkey(&user.id, credential_id).await?;
        if removed {
            self.audit(Audit::new(AuditKind::PasskeyRemoved).user(&user.id));
        }
        Ok(removed)
    }
}
