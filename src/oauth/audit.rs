//! The audit log's events as the protocol core records them: into a per-request buffer, with
//! no I/O, so that recording never adds a storage round trip to a request. The Worker writes
//! the buffer after the response (`ctx.waitUntil`, in one D1 batch); host tests flush it into
//! the in-memory store. Never a password, code, token or secret in an event.

use crate::store::AuditEvent;
use serde_json::Value;
use std::cell::RefCell;

/// What happened (the event's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditKind {
    SignInSucceeded,
    SignInFailed,
    /// The attempt earned a lock for (account, address), or an attempt was refused while locked.
    SignInLocked,
    /// An address went over its budget across accounts (sign-ins or registrations).
    AddressLimited,
    PasswordChanged,
    /// A rotated refresh token was presented again: its grant ended.
    RefreshTokenReuse,
    /// A redeemed code was presented again: its grant ended.
    CodeReplay,
    UserRegistered,
    UserUpdated,
    UserDisabled,
    UserEnabled,
    UserDeleted,
    ClientCreated,
    ClientUpdated,
    ClientDeleted,
    ClientSecretRotated,
    /// A person allowed a third-party client (detail: the scope).
    ConsentGranted,
    /// A person denied a third-party client.
    ConsentDenied,
    /// A person removed a client's access on the account page (its grants ended).
    ConsentWithdrawn,
    /// An authenticator app was set up (confirmed with its first code).
    TotpEnabled,
    TotpDisabled,
    /// A recovery code was used in place of an authenticator code (detail: how many are left).
    RecoveryCodeUsed,
    /// New recovery codes replaced the old ones.
    RecoveryCodesReplaced,
    PasskeyAdded,
    PasskeyRemoved,
    /// A person signed one of their browser sessions out from the account page.
    SessionRevoked,
}

impl AuditKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignInSucceeded => "sign_in.succeeded",
            Self::SignInFailed => "sign_in.failed",
            Self::SignInLocked => "sign_in.locked",
            Self::AddressLimited => "address.limited",
            Self::PasswordChanged => "password.changed",
            Self::RefreshTokenReuse => "refresh_token.reuse",
            Self::CodeReplay => "code.replay",
            Self::UserRegistered => "user.registered",
            Self::UserUpdated => "user.updated",
            Self::UserDisabled => "user.disabled",
            Self::UserEnabled => "user.enabled",
            Self::UserDeleted => "user.deleted",
            Self::ClientCreated => "client.created",
            Self::ClientUpdated => "client.updated",
            Self::ClientDeleted => "client.deleted",
            Self::ConsentGranted => "consent.granted",
            Self::ConsentDenied => "consent.denied",
            Self::ConsentWithdrawn => "consent.withdrawn",
            Self::ClientSecretRotated => "client.secret_rotated",
            Self::TotpEnabled => "totp.enabled",
            Self::TotpDisabled => "totp.disabled",
            Self::RecoveryCodeUsed => "recovery_code.used",
            Self::RecoveryCodesReplaced => "recovery_codes.replaced",
            Self::PasskeyAdded => "passkey.added",
            Self::PasskeyRemoved => "passkey.removed",
            Self::SessionRevoked => "session.revoked",
        }
    }
}

/// The events of one request, in the order they happened.
#[derive(Debug, Default)]
pub struct AuditLog(RefCell<Vec<AuditEvent>>);

impl AuditLog {
    pub fn push(&self, event: AuditEvent) {
        self.0.borrow_mut().push(event);
    }

    /// Takes the buffered events (for writing them out).
    pub fn take(&self) -> Vec<AuditEvent> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

/// An event about to be recorded: `Provider::audit` fills in the time and address.
pub struct Audit {
    pub kind: AuditKind,
    pub user_id: Option<String>,
    pub client_id: Option<String>,
    pub detail: Value,
}

impl Audit {
    pub fn new(kind: AuditKind) -> Self {
        Self { kind, user_id: None, client_id: None, detail: Value::Object(Default::default()) }
    }
    pub fn user(mut self, id: &str) -> Self {
        self.user_id = Some(id.to_string());
        self
    }
    pub fn client(mut self, id: &str) -> Self {
        self.client_id = Some(id.to_string());
        self
    }
    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = detail;
        self
    }
}

impl<S, P> super::Provider<'_, S, P> {
    /// Records an event of this request (time and client address from the request).
    pub fn audit(&self, event: Audit) {
        self.audit_log.push(AuditEvent {
            id: 0,
            at: self.now,
            kind: event.kind.as_str().to_string(),
            user_id: event.user_id,
            client_id: event.client_id,
            address: (self.address != "unknown").then(|| self.address.to_string()),
            detail: event.detail,
        });
    }
}
