//! The memory store's second factors, passkeys and ceremony challenges.

use super::*;

impl FactorStore for MemoryStore {
    async fn totp(&self, user_id: &str) -> StoreResult<Option<TotpFactor>> {
        self.enter("totp")?;
        Ok(self.state.borrow().totp.get(user_id).cloned())
    }
    async fn put_pending_totp(&self, factor: &TotpFactor) -> StoreResult<bool> {
        self.enter("put_pending_totp")?;
        let mut state = self.state.borrow_mut();
        if state.totp.get(&factor.user_id).is_some_and(|f| f.confirmed) {
            return Ok(false);
        }
        state.totp.insert(factor.user_id.clone(), TotpFactor { confirmed: false, ..factor.clone() });
        Ok(true)
    }
    async fn confirm_totp(&self, user_id: &str, step: u64, recovery_hashes: &[String], _now: u64) -> StoreResult<bool> {
        self.enter("confirm_totp")?;
        let mut state = self.state.borrow_mut();
        match state.totp.get_mut(user_id) {
            Some(f) if !f.confirmed => {
                f.confirmed = true;
                f.last_step = step;
            }
            _ => return Ok(false),
        }
        state.recovery.retain(|(u, _), _| u != user_id);
        for h in recovery_hashes {
            state.recovery.insert((user_id.to_string(), h.clone()), None);
        }
        Ok(true)
    }
    async fn use_totp_step(&self, user_id: &str, step: u64) -> StoreResult<bool> {
        self.enter("use_totp_step")?;
        match self.state.borrow_mut().totp.get_mut(user_id) {
            Some(f) if f.confirmed && f.last_step < step => {
                f.last_step = step;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    async fn delete_totp(&self, user_id: &str) -> StoreResult<bool> {
        self.enter("delete_totp")?;
        let mut state = self.state.borrow_mut();
        state.recovery.retain(|(u, _), _| u != user_id);
        Ok(state.totp.remove(user_id).is_some())
    }
    async fn use_recovery_code(&self, user_id: &str, code_hash: &str, now: u64) -> StoreResult<bool> {
        self.enter("use_recovery_code")?;
        match self.state.borrow_mut().recovery.get_mut(&(user_id.to_string(), code_hash.to_string())) {
            Some(used @ None) => {
                *used = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    async fn recovery_codes_left(&self, user_id: &str) -> StoreResult<u32> {
        self.enter("recovery_codes_left")?;
        Ok(self.state.borrow().recovery.iter().filter(|((u, _), used)| u == user_id && used.is_none()).count() as u32)
    }
    async fn replace_recovery_codes(&self, user_id: &str, hashes: &[String]) -> StoreResult<()> {
        self.enter("replace_recovery_codes")?;
        let mut state = self.state.borrow_mut();
        state.recovery.retain(|(u, _), _| u != user_id);
        for h in hashes {
            state.recovery.insert((user_id.to_string(), h.clone()), None);
        }
        Ok(())
    }
    async fn insert_passkey(&self, passkey: &Passkey) -> StoreResult<()> {
        self.enter("insert_passkey")?;
        let mut state = self.state.borrow_mut();
        if state.passkeys.contains_key(&passkey.credential_id) {
            return Err(StoreError::Conflict("credential_id".into()));
        }
        state.passkeys.insert(passkey.credential_id.clone(), passkey.clone());
        Ok(())
    }
    async fn factor_summaries(&self, user_ids: &[String]) -> StoreResult<Vec<FactorSummary>> {
        self.enter("factor_summaries")?;
        let state = self.state.borrow();
        Ok(user_ids
            .iter()
            .map(|id| FactorSummary {
                passkeys: state.passkeys.values().filter(|p| &p.user_id == id).count() as u32,
                totp: state.totp.get(id).is_some_and(|t| t.confirmed),
            })
            .collect())
    }
    async fn passkeys_of(&self, user_id: &str) -> StoreResult<Vec<Passkey>> {
        self.enter("passkeys_of")?;
        let mut list: Vec<Passkey> = self.state.borrow().passkeys.values().filter(|p| p.user_id == user_id).cloned().collect();
        list.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.credential_id.cmp(&b.credential_id)));
        Ok(list)
    }
    async fn passkey(&self, credential_id: &str) -> StoreResult<Option<(Passkey, User)>> {
        self.enter("passkey")?;
        let state = self.state.borrow();
        let Some(p) = state.passkeys.get(credential_id) else { return Ok(None) };
        Ok(state.user_by_id(&p.user_id).map(|u| (p.clone(), u)))
    }
    async fn record_passkey_use(&self, credential_id: &str, old_count: u32, new_count: u32, now: u64) -> StoreResult<bool> {
        self.enter("record_passkey_use")?;
        match self.state.borrow_mut().passkeys.get_mut(credential_id) {
            Some(p) if p.sign_count == old_count => {
                p.sign_count = new_count;
                p.last_used_at = Some(now);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    async fn delete_passkey(&self, user_id: &str, credential_id: &str) -> StoreResult<bool> {
        self.enter("delete_passkey")?;
        let mut state = self.state.borrow_mut();
        if state.passkeys.get(credential_id).is_some_and(|p| p.user_id == user_id) {
            state.passkeys.remove(credential_id);
            return Ok(true);
        }
        Ok(false)
    }
}

impl ChallengeStore for MemoryStore {
    async fn put_challenge(&self, challenge: &Challenge) -> StoreResult<()> {
        self.enter("put_challenge")?;
        self.state.borrow_mut().challenges.insert(challenge.id_hash.clone(), challenge.clone());
        Ok(())
    }
    async fn challenge(&self, id_hash: &str, now: u64) -> StoreResult<Option<Challenge>> {
        self.enter("challenge")?;
        Ok(self.state.borrow().challenges.get(id_hash).filter(|c| c.expires_at > now).cloned())
    }
    async fn take_challenge(&self, id_hash: &str, now: u64) -> StoreResult<Option<Challenge>> {
        self.enter("take_challenge")?;
        Ok(self.state.borrow_mut().challenges.remove(id_hash).filter(|c| c.expires_at > now))
    }
}
