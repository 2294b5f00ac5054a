//! Second factors and passkeys: their records and `FactorStore`.

use super::*;

/// A user's authenticator app (RFC 6238).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpFactor {
    pub user_id: String,
    /// The shared secret, sealed (`crypto::seal`) for the user id.
    pub sealed_secret: String,
    /// False while it is being set up (the first code has not been entered yet).
    pub confirmed: bool,
    /// The last time step a code was accepted for: a code is accepted once.
    pub last_step: u64,
    pub created_at: u64,
}

/// A passkey (WebAuthn public key credential).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passkey {
    /// The credential id, base64url.
    pub credential_id: String,
    pub user_id: String,
    pub name: String,
    /// The COSE_Key as the authenticator gave it, base64url.
    pub public_key: String,
    /// COSE algorithm: -7 (ES256) or -257 (RS256).
    pub algorithm: i64,
    pub sign_count: u32,
    pub created_at: u64,
    pub last_used_at: Option<u64>,
}

/// Second factors and passkeys.
#[allow(async_fn_in_trait)]
pub trait FactorStore {
    async fn totp(&self, user_id: &str) -> StoreResult<Option<TotpFactor>>;
    /// Stores an authenticator app being set up, replacing one being set up; false (nothing
    /// changes) when the user already has a confirmed one.
    async fn put_pending_totp(&self, factor: &TotpFactor) -> StoreResult<bool>;
    /// In one transaction: confirms the user's pending app with its first accepted `step`, and
    /// replaces their recovery codes with `recovery_hashes`. False when none was pending.
    async fn confirm_totp(&self, user_id: &str, step: u64, recovery_hashes: &[String], now: u64) -> StoreResult<bool>;
    /// Records `step` as used if it is later than the last one used, in one conditional write;
    /// false (a replay, or no confirmed app) otherwise.
    async fn use_totp_step(&self, user_id: &str, step: u64) -> StoreResult<bool>;
    /// Removes the user's app and recovery codes; false when there was no app.
    async fn delete_totp(&self, user_id: &str) -> StoreResult<bool>;
    /// Marks an unused recovery code used, in one conditional write; false when it is not one
    /// of the user's unused codes.
    async fn use_recovery_code(&self, user_id: &str, code_hash: &str, now: u64) -> StoreResult<bool>;
    async fn recovery_codes_left(&self, user_id: &str) -> StoreResult<u32>;
    /// Replaces the user's recovery codes with `hashes` (one transaction).
    async fn replace_recovery_codes(&self, user_id: &str, hashes: &[String]) -> StoreResult<()>;

    /// A taken credential id is `Conflict("credential_id")`.
    async fn insert_passkey(&self, passkey: &Passkey) -> StoreResult<()>;
    /// The user's passkeys, oldest first.
    async fn passkeys_of(&self, user_id: &str) -> StoreResult<Vec<Passkey>>;
    /// A passkey by credential id, with its user.
    async fn passkey(&self, credential_id: &str) -> StoreResult<Option<(Passkey, User)>>;
    /// Records a use: the counter moves from `old_count` to `new_count` only if it still is
    /// `old_count` (a concurrent use of a cloned key loses); false otherwise.
    async fn record_passkey_use(&self, credential_id: &str, old_count: u32, new_count: u32, now: u64) -> StoreResult<bool>;
    /// Removes one of the user's passkeys; false when the user has no such passkey.
    async fn delete_passkey(&self, user_id: &str, credential_id: &str) -> StoreResult<bool>;
    /// The sign-in factors of each of `user_ids` (at most a page of users), in one query, in
    /// the order given.
    async fn factor_summaries(&self, user_ids: &[String]) -> StoreResult<Vec<FactorSummary>>;
}

/// What sign-in factors a user has, as the user administration reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FactorSummary {
    pub passkeys: u32,
    /// A confirmed authenticator app (one being set up does not count).
    pub totp: bool,
}
