//! The memory store's per-address budgets and audit log.

use super::*;

impl AddressLimits for MemoryStore {
    async fn allow(&self, limit: AddressLimit, address: &str, now: u64) -> StoreResult<bool> {
        self.enter("allow")?;
        let mut state = self.state.borrow_mut();
        let entry = state.address_uses.entry((limit, address.to_string())).or_insert((now, 0));
        if entry.0 + ADDRESS_WINDOW <= now {
            *entry = (now, 0);
        }
        entry.1 += 1;
        Ok(entry.1 <= limit.budget())
    }
}

impl AuditStore for MemoryStore {
    async fn record_events(&self, events: &[AuditEvent]) -> StoreResult<()> {
        self.enter("record_events")?;
        let mut state = self.state.borrow_mut();
        for e in events {
            state.next_audit_id += 1;
            let id = state.next_audit_id;
            state.audit.push(AuditEvent { id, ..e.clone() });
        }
        Ok(())
    }
    async fn events(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEvent>> {
        self.enter("events")?;
        Ok(self
            .state
            .borrow()
            .audit
            .iter()
            .rev()
            .filter(|e| q.user_id.as_deref().is_none_or(|u| e.user_id.as_deref() == Some(u)))
            .filter(|e| q.kind.as_deref().is_none_or(|k| e.kind == k))
            .filter(|e| q.before.is_none_or(|b| e.id < b))
            .take(q.limit as usize)
            .cloned()
            .collect())
    }
    async fn purge_events(&self, before: u64) -> StoreResult<u64> {
        self.enter("purge_events")?;
        let mut state = self.state.borrow_mut();
        let n = state.audit.len();
        state.audit.retain(|e| e.at > before);
        Ok((n - state.audit.len()) as u64)
    }
}
