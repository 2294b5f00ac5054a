//! The audit log: its event record, a page query, and `AuditStore`.

use super::*;
use serde::{Deserialize, Serialize};

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

/// The audit log.
#[allow(async_fn_in_trait)]
pub trait AuditStore {
    async fn record_events(&self, events: &[AuditEvent]) -> StoreResult<()>;
    /// A page of events, newest first (see `AuditQuery`).
    async fn events(&self, query: &AuditQuery) -> StoreResult<Vec<AuditEvent>>;
    /// Deletes events at or before `before`; how many went.
    async fn purge_events(&self, before: u64) -> StoreResult<u64>;
}
