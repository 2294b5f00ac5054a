//! Storage: the records the protocol keeps and the traits through which it reaches them, one
//! per concern (users, clients, codes, refresh tokens, sessions, throttling, maintenance), and
//! `Store`, which is all of them. `cloudflare` implements them on D1 and KV; `memory` implements
//! them for host tests. The traits use native `async fn` without `Send`: futures in Workers are
//! not `Send`.

pub mod cache;
pub mod memory;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: u64,
    /// A disabled user cannot sign in by any path.
    #[serde(default)]
    pub disabled: bool,
}

/// A page of `UserStore::users`: users whose username or email starts with `prefix`, in
/// username order, after the username `after`, at most `limit`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserQuery {
    pub prefix: Option<String>,
    pub after: Option<String>,
    pub limit: u32,
}

/// One event of the audit log (docs/API.md "User administration and audit"). `detail` is a JSON
/// object that never holds a password, code, token or secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Set by the store; 0 before.
    #[serde(skip_serializing_if = "is_zero", default)]
    pub id: u64,
    pub at: u64,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    pub detail: serde_json::Value,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// A page of `AuditStore::events`, newest first: before the event id `before`, at most `limit`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub user_id: Option<String>,
    pub kind: Option<String>,
    pub before: Option<u64>,
    pub limit: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientType {
    Confidential,
    Public,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub client_id: String,
    /// SHA-256 (base64url) of the secret; `None` for public clients.
    pub client_secret_hash: Option<String>,
    pub client_name: String,
    pub client_type: ClientType,
    pub token_endpoint_auth_method: String,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub response_types: Vec<String>,
    pub scopes: Vec<String>,
    /// `ES256` or `RS256` (OIDC Registration §2 `id_token_signed_response_alg`).
    #[serde(default = "default_id_token_alg")]
    pub id_token_signed_response_alg: String,
    /// Registered without an admin bearer (RFC 7591): a third-party client.
    #[serde(default)]
    pub dynamic: bool,
    /// SHA-256 of its RFC 7592 registration access token (dynamic clients only).
    #[serde(default)]
    pub registration_token_hash: Option<String>,
    /// RFC 7591 `client_uri`: the client's home page (shown on the consent page).
    #[serde(default)]
    pub client_uri: Option<String>,
    /// A client named by its metadata document (its `client_id` is the document's URL): when
    /// the document is to be fetched again (from its HTTP caching headers).
    #[serde(default)]
    pub metadata_expires_at: Option<u64>,
    /// Every sign-in for this client needs two factors or a passkey (docs/API.md).
    #[serde(default)]
    pub require_mfa: bool,
    pub is_active: bool,
    pub created_at: u64,
    pub updated_at: u64,
}

fn default_id_token_alg() -> String {
    "ES256".into()
}

/// What an authorization code stands for. Stored in KV under the SHA-256 of the code; the
/// user's claims are copied in so the exchange needs no user lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    /// The resources (RFC 8707) the authorization request named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    pub user_id: String,
    pub username: String,
    pub email: String,
    pub role: String,
    pub auth_time: u64,
    /// How the user signed in (RFC 8176), for the ID token's `amr` and `acr`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// The code's own expiry (KV's TTL cannot go under 60 s, so it is checked here).
    pub expires_at: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshToken {
    pub token_hash: String,
    pub family_id: String,
    pub client_id: String,
    pub user_id: String,
    pub scope: String,
    /// The resources (RFC 8707) the grant holds, copied into every rotation.
    #[serde(default)]
    pub resources: Vec<String>,
    pub auth_time: u64,
    pub issued_at: u64,
    /// This token's expiry: the sliding lifetime from its issue, never past the family's end.
    pub expires_at: u64,
    /// The absolute end of the family (grant), copied into every rotation: however often it
    /// rotates, no token of the family outlives it.
    pub family_expires_at: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RefreshStatus {
    Active,
    Rotated,
    Revoked,
}

/// A refresh token as found, with its status and its user (absent when the user was deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshRecord {
    pub token: RefreshToken,
    pub status: RefreshStatus,
    /// When it was first rotated (`None` while active, and for tokens rotated before the reuse
    /// interval existed).
    pub rotated_at: Option<u64>,
    pub user: Option<User>,
}

impl RefreshRecord {
    /// Active and unexpired at `now`.
    pub fn is_live(&self, now: u64) -> bool {
        self.status == RefreshStatus::Active && self.token.expires_at > now
    }

    /// Rotated less than `reuse_interval` seconds before `now` (docs/API.md "Reuse interval"):
    /// presented again by its own client, it is answered from its family, not taken for theft.
    /// A zero interval is strict: no rotated token is ever usable.
    pub fn within_reuse_interval(&self, now: u64, reuse_interval: u64) -> bool {
        self.status == RefreshStatus::Rotated && reuse_interval > 0 && self.rotated_at.is_some_and(|at| now < at + reuse_interval)
    }

    /// Whether `client_id` may rotate this token at `now`: unexpired, issued to that client, its
    /// user still exists and is enabled, and it is active or within the reuse interval. The
    /// memory store's rule for `rotate_refresh_for`; D1 states the same in SQL, as the `WHERE`
    /// of that rotation's update.
    pub fn usable_by(&self, client_id: &str, now: u64, reuse_interval: u64) -> bool {
        (self.status == RefreshStatus::Active || self.within_reuse_interval(now, reuse_interval))
            && self.token.expires_at > now
            && self.token.client_id == client_id
            && self.user.as_ref().is_some_and(|u| !u.disabled)
    }
}

/// What a rotation sets on the new refresh token; the rest is copied from the old one. The
/// store caps `expires_at` at the family's `family_expires_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefresh {
    pub token_hash: String,
    pub issued_at: u64,
    pub expires_at: u64,
}

/// The outcome of `RefreshStore::rotate_refresh_for`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rotation {
    /// This call rotated the token (and stored the new one).
    pub rotated: bool,
    /// The old token as it stands now, with its user; `None` when there is no such token.
    pub record: Option<RefreshRecord>,
}

/// The record of a redeemed code: what its redemption issued, so that a replay can revoke it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumedCode {
    pub code_hash: String,
    pub family_id: Option<String>,
    pub access_jti: String,
    pub access_exp: u64,
    pub expires_at: u64,
}

/// A dynamically registered client redeeming a code, to be marked as used with the redemption
/// (never-used ones are purged after a day). Other clients are never purged and pass `None`,
/// which costs no statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientUse<'a> {
    pub client_id: &'a str,
    /// When (the client's `first_used_at`, if this is its first use).
    pub at: u64,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Redemption {
    /// This was the first redemption; the refresh token (if any) was stored with it.
    First,
    /// The code had been redeemed before: here is what that redemption issued.
    Replayed(Option<ConsumedCode>),
}

/// What the store checks of an access token (see `RefreshStore::access_token_usable`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessCheck {
    pub jti: String,
    pub client_id: String,
    /// Absent for a client acting for itself (`client_credentials`), which forms no grant.
    pub grant_id: Option<String>,
    /// The user the token is for; absent for a client acting for itself.
    pub user_id: Option<String>,
    pub issued_at: u64,
}

/// A browser session: who signed in, when (OIDC `auth_time`) and how (RFC 8176 `amr`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub id_hash: String,
    pub user_id: String,
    pub auth_time: u64,
    pub expires_at: u64,
    /// The authentication methods of the sign-in (`pwd`, `otp`, `mfa`, `pop`, `user`).
    pub amr: Vec<String>,
    /// The browser's `User-Agent` when it signed in (at most 200 characters), for the account
    /// page's list of sessions.
    pub user_agent: String,
}

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

/// Short-lived, single-use ceremony state (a passkey challenge, a sign-in waiting for its
/// second factor), keyed by the SHA-256 of a random value the browser holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub id_hash: String,
    /// What it is for (`oauth::challenge::Kind`).
    pub kind: String,
    pub user_id: Option<String>,
    /// SHA-256 of the browser's anti-CSRF cookie it was issued to.
    pub binding: String,
    /// Kind-specific data (JSON).
    pub data: String,
    pub expires_at: u64,
}

/// Sign-in attempts for one key (an account at one client address), for brute-force protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Throttle {
    /// Attempts counted since the last success (each counted before it is checked).
    pub failures: u32,
    /// Unix seconds until which attempts for this key are refused.
    pub locked_until: u64,
}

/// The answer to reserving a sign-in attempt (`ThrottleStore::reserve_attempt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    /// The attempt may go ahead; false while a lock is in force (nothing was counted).
    pub granted: bool,
    /// The key's state after the reservation.
    pub throttle: Throttle,
}

/// After this many attempts without a success an account is locked for the address they came
/// from, first for `LOCK_BASE_SECONDS`, doubling with each further attempt up to
/// `LOCK_MAX_SECONDS`.
pub const LOCK_AFTER_FAILURES: u32 = 5;
pub const LOCK_BASE_SECONDS: u64 = 60;
pub const LOCK_MAX_SECONDS: u64 = 3600;
/// Counts decay: attempts older than this (with no lock in force) are forgotten, by the next
/// reservation and by the cleanup.
pub const THROTTLE_MEMORY: u64 = 24 * 3600;

/// Doublings stop counting here (so the shift cannot overflow): from `LOCK_AFTER_FAILURES +
/// LOCK_MAX_DOUBLINGS` failures on, the lock no longer grows.
const LOCK_MAX_DOUBLINGS: u32 = 16;

/// The lock that follows `failures` consecutive failures at `now`. The only statement of the
/// lockout curve: the memory store calls it, D1 looks its values up in `lock_curve`.
pub fn lock_until(failures: u32, now: u64) -> u64 {
    if failures < LOCK_AFTER_FAILURES {
        return 0;
    }
    let doublings = (failures - LOCK_AFTER_FAILURES).min(LOCK_MAX_DOUBLINGS);
    now + (LOCK_BASE_SECONDS << doublings).min(LOCK_MAX_SECONDS)
}

/// `lock_until(failures, now)` for every count of failures from 0 to the one from which it no
/// longer grows: for a backend that counts failures in its own atomic statement and looks the
/// new count up here, clamped to the last entry (D1's `record_failure`).
pub fn lock_curve(now: u64) -> Vec<u64> {
    (0..=LOCK_AFTER_FAILURES + LOCK_MAX_DOUBLINGS).map(|failures| lock_until(failures, now)).collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// A unique constraint failed; the field it names.
    Conflict(String),
    /// The backend failed; the detail is logged, never shown.
    Backend(String),
}

/// For logs: the detail of a backend failure is there, so it must not reach a response.
impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Conflict(field) => write!(f, "conflict: the {field} is taken"),
            StoreError::Backend(detail) => write!(f, "storage backend failed: {detail}"),
        }
    }
}

impl std::error::Error for StoreError {}

pub type StoreResult<T> = Result<T, StoreError>;

// The storage contract, one trait per concern. `Store` is all of them: bounds say `S: Store`,
// and a backend implements each trait. Through such a bound every method is callable; on a
// concrete store (`MemoryStore`, `CloudflareStore`) a method needs its concern's trait in scope.

/// Accounts.
#[allow(async_fn_in_trait)]
pub trait UserStore {
    async fn insert_user(&self, user: &User) -> StoreResult<()>;
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>>;
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>>;
    async fn set_password_hash(&self, user_id: &str, hash: &str) -> StoreResult<()>;
    /// A page of users (see `UserQuery`).
    async fn users(&self, query: &UserQuery) -> StoreResult<Vec<User>>;
    /// Writes a user's email, role, password hash and disabled flag; false when there is no
    /// such user. A taken email is `Conflict("email")`.
    async fn update_user(&self, user: &User) -> StoreResult<bool>;
    /// Deletes the user with their sessions and refresh tokens; false when there was none.
    async fn delete_user(&self, user_id: &str) -> StoreResult<bool>;
    /// Ends everything the user is signed in with, in one transaction: their browser sessions
    /// (except `keep_session`, an id hash), their refresh tokens, and every access token issued
    /// for them at or before `at` (`AccessCheck`).
    async fn end_user_grants(&self, user_id: &str, at: u64, keep_session: Option<&str>) -> StoreResult<()>;
}

/// The audit log.
#[allow(async_fn_in_trait)]
pub trait AuditStore {
    async fn record_events(&self, events: &[AuditEvent]) -> StoreResult<()>;
    /// A page of events, newest first (see `AuditQuery`).
    async fn events(&self, query: &AuditQuery) -> StoreResult<Vec<AuditEvent>>;
    /// Deletes events at or before `before`; how many went.
    async fn purge_events(&self, before: u64) -> StoreResult<u64>;
}

/// Registered clients.
#[allow(async_fn_in_trait)]
pub trait ClientStore {
    async fn insert_client(&self, client: &Client) -> StoreResult<()>;
    async fn client(&self, client_id: &str) -> StoreResult<Option<Client>>;
    /// The client for authentication on the hot path, and whether it came from a short-lived
    /// per-isolate cache (`cache.rs`, up to its TTL old). A store without a cache reads fresh.
    async fn client_for_auth(&self, client_id: &str, _now: u64) -> StoreResult<(Option<Client>, bool)> {
        Ok((self.client(client_id).await?, false))
    }
    async fn clients(&self) -> StoreResult<Vec<Client>>;
    /// Clients that registered this exact redirect URI (for `/login` without `client_id`).
    async fn clients_with_redirect(&self, redirect_uri: &str) -> StoreResult<Vec<Client>>;
    async fn update_client(&self, client: &Client) -> StoreResult<bool>;
    /// Deletes the client and revokes its refresh tokens; false when it did not exist.
    async fn delete_client(&self, client_id: &str) -> StoreResult<bool>;
    /// Ends every grant of the client: its refresh tokens are revoked and its access tokens
    /// issued at or before `at` are no longer accepted (`AccessCheck`), even if it is
    /// re-activated later. One transaction.
    async fn end_client_grants(&self, client_id: &str, at: u64) -> StoreResult<()>;
    async fn set_client_secret_hash(&self, client_id: &str, hash: &str, now: u64) -> StoreResult<bool>;
    /// Deletes dynamically registered clients that were never used (no code ever redeemed) and
    /// were registered at or before `before`; how many went.
    async fn purge_unused_dynamic_clients(&self, before: u64) -> StoreResult<u64>;
}

/// Authorization codes and their single use.
#[allow(async_fn_in_trait)]
pub trait CodeStore {
    async fn put_code(&self, code_hash: &str, code: &AuthorizationCode, ttl_seconds: u64) -> StoreResult<()>;
    async fn code(&self, code_hash: &str) -> StoreResult<Option<AuthorizationCode>>;
    /// Marks a code consumed with one conditional write, storing `refresh` (and marking
    /// `client_use`'s client as used) in the same transaction only when this is the first
    /// redemption.
    async fn redeem_code(
        &self,
        consumed: &ConsumedCode,
        client_use: Option<ClientUse<'_>>,
        refresh: Option<&RefreshToken>,
    ) -> StoreResult<Redemption>;
}

/// Grants: refresh tokens (rotation, families) and the revocation of access tokens.
#[allow(async_fn_in_trait)]
pub trait RefreshStore {
    async fn insert_refresh(&self, token: &RefreshToken) -> StoreResult<()>;
    async fn refresh(&self, token_hash: &str) -> StoreResult<Option<RefreshRecord>>;
    /// In one transaction, one conditional write: rotates `old_hash` if `RefreshRecord::usable_by`
    /// holds (active, or rotated less than `reuse_interval` seconds ago; unexpired; issued to
    /// `client_id`; its user exists), into a new token of the same family, user, scope,
    /// resources and auth_time (the first rotation's time is kept); and reads the old token back
    /// (after the change, with its user).
    async fn rotate_refresh_for(
        &self,
        old_hash: &str,
        client_id: &str,
        new: &NewRefresh,
        now: u64,
        reuse_interval: u64,
    ) -> StoreResult<Rotation>;
    /// Ends a grant (its refresh family's id): revokes its refresh tokens and records it as
    /// ended until `until`, after which no access token it minted can still be unexpired.
    /// One transaction.
    async fn end_grant(&self, grant_id: &str, until: u64) -> StoreResult<()>;

    async fn revoke_access(&self, jti: &str, expires_at: u64) -> StoreResult<()>;
    /// Whether an access token may still be used, asked in one query: its `jti` is not
    /// revoked, its grant has not ended, its client exists, is active and has not had its
    /// grants ended since the token was issued, and (for a user's token) the same of its user.
    async fn access_token_usable(&self, token: &AccessCheck) -> StoreResult<bool>;
}

/// Browser sessions.
#[allow(async_fn_in_trait)]
pub trait SessionStore {
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    /// The unexpired session with this id hash, with its user (who must still exist).
    async fn session(&self, id_hash: &str, now: u64) -> StoreResult<Option<(Session, User)>>;
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()>;
    /// The user's unexpired sessions, most recent first.
    async fn sessions_of(&self, user_id: &str, now: u64) -> StoreResult<Vec<Session>>;
    /// Ends one of the user's sessions; false when the user has no such session.
    async fn delete_user_session(&self, user_id: &str, id_hash: &str) -> StoreResult<bool>;
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

/// Ceremony state (`Challenge`).
#[allow(async_fn_in_trait)]
pub trait ChallengeStore {
    async fn put_challenge(&self, challenge: &Challenge) -> StoreResult<()>;
    /// The unexpired challenge, left in place.
    async fn challenge(&self, id_hash: &str, now: u64) -> StoreResult<Option<Challenge>>;
    /// The unexpired challenge, deleted in the same statement: of concurrent takers one gets it.
    async fn take_challenge(&self, id_hash: &str, now: u64) -> StoreResult<Option<Challenge>>;
}

/// A remembered consent, as the account page lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    pub client_id: String,
    pub client_name: String,
    /// Space-separated.
    pub scope: String,
    pub granted_at: u64,
}

/// What a user has allowed a client: scopes, and the resources (RFC 8707) its tokens may be for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowed {
    /// Space-separated.
    pub scope: String,
    pub resources: Vec<String>,
}

/// Consent decisions (third-party clients): what a user has allowed a client.
#[allow(async_fn_in_trait)]
pub trait ConsentStore {
    /// What `user_id` has allowed `client_id`, if anything.
    async fn consent(&self, user_id: &str, client_id: &str) -> StoreResult<Option<Allowed>>;
    /// Remembers that `user_id` allowed `client_id` this (replacing what was remembered).
    async fn save_consent(&self, user_id: &str, client_id: &str, allowed: &Allowed, now: u64) -> StoreResult<()>;
    /// The user's consents to clients that still exist, most recent first.
    async fn consents_of(&self, user_id: &str) -> StoreResult<Vec<Consent>>;
    /// Withdraws the user's consent to the client and, in the same transaction, ends every grant
    /// of that user with that client (its refresh tokens revoked, its grants listed as ended
    /// until `until`, so their access tokens stop too). False when there was no consent.
    async fn withdraw_consent(&self, user_id: &str, client_id: &str, until: u64) -> StoreResult<bool>;
}

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
    /// Larger than `MAX_DOCUMENT_BYTES`.
    TooLarge,
    /// No complete answer within `DOCUMENT_TIMEOUT_MS`.
    Timeout,
    Network(String),
}

/// A metadata document's size cap (a client's metadata is well under 2 KB).
pub const MAX_DOCUMENT_BYTES: usize = 5 * 1024;
/// How long a fetch of a metadata document may take, answer and body.
pub const DOCUMENT_TIMEOUT_MS: u64 = 3000;

/// Fetching client ID metadata documents (the only outbound request this server makes).
#[allow(async_fn_in_trait)]
pub trait DocumentFetcher {
    /// GETs `url` without following redirects, within `DOCUMENT_TIMEOUT_MS` and
    /// `MAX_DOCUMENT_BYTES`.
    async fn fetch_document(&self, url: &str) -> Result<FetchedDocument, FetchError>;
}

/// Sign-in throttling (brute-force protection).
#[allow(async_fn_in_trait)]
pub trait ThrottleStore {
    /// Reserves one sign-in attempt for `key` before the costly check, in one atomic statement,
    /// so that concurrent attempts can never exceed the budget: while a lock is in force it is
    /// refused and nothing changes; otherwise the attempt is counted (as a failure, in advance:
    /// a success clears it) and the lock that count earns (`lock_until`) is set. A count whose
    /// last attempt is older than `THROTTLE_MEMORY` starts again.
    async fn reserve_attempt(&self, key: &str, now: u64) -> StoreResult<Reservation>;
    /// A successful sign-in: the key's count starts again.
    async fn clear_failures(&self, key: &str) -> StoreResult<()>;
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
    /// Whether `signature` (r ‖ s) is `key`'s over `message`; `None`: the caller checks in wasm.
    async fn verify_es256(&self, _key: &crate::crypto::keys::PublicKey, _message: &[u8], _signature: &[u8; 64]) -> Option<bool> {
        None
    }
}

/// Housekeeping across the concerns (the cron trigger).
#[allow(async_fn_in_trait)]
pub trait Maintenance {
    /// Deletes what has expired: refresh tokens, consumed-code records, revoked-token records,
    /// stale throttle rows and expired sessions. Returns how many rows went.
    async fn purge_expired(&self, now: u64) -> StoreResult<u64>;
}

/// `Store` with its supertraits, and its blanket implementation over the same list: the list is
/// written once.
macro_rules! store {
    ($(#[$doc:meta])* $($concern:ident),+ $(,)?) => {
        $(#[$doc])*
        pub trait Store: $($concern +)+ {}
        impl<T: $($concern +)+> Store for T {}
    };
}

store!(
    /// All the storage the protocol needs. Implemented for every type that implements each
    /// concern's trait; a backend implements those, never this.
    UserStore,
    ClientStore,
    CodeStore,
    RefreshStore,
    SessionStore,
    FactorStore,
    ChallengeStore,
    ConsentStore,
    DocumentFetcher,
    ThrottleStore,
    AddressLimits,
    AuditStore,
    PlatformSigner,
    Maintenance,
);
