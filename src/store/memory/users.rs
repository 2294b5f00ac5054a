//! The memory store's accounts.

use super::*;

impl UserStore for MemoryStore {
    async fn insert_user(&self, user: &User) -> StoreResult<()> {
        self.enter("insert_user")?;
        let users = &mut self.state.borrow_mut().users;
        if users.iter().any(|u| u.username.eq_ignore_ascii_case(&user.username)) {
            return Err(StoreError::Conflict("username".into()));
        }
        if users.iter().any(|u| u.email.eq_ignore_ascii_case(&user.email)) {
            return Err(StoreError::Conflict("email".into()));
        }
        users.push(user.clone());
        Ok(())
    }
    async fn user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        self.enter("user_by_username")?;
        Ok(self.state.borrow().users.iter().find(|u| u.username.eq_ignore_ascii_case(username)).cloned())
    }
    async fn user_by_id(&self, id: &str) -> StoreResult<Option<User>> {
        self.enter("user_by_id")?;
        Ok(self.state.borrow().user_by_id(id))
    }
    async fn set_password_hash(&self, user_id: &str, hash: &str) -> StoreResult<()> {
        self.enter("set_password_hash")?;
        if let Some(u) = self.state.borrow_mut().users.iter_mut().find(|u| u.id == user_id) {
            u.password_hash = hash.to_string();
        }
        Ok(())
    }
    async fn users(&self, q: &UserQuery) -> StoreResult<Vec<User>> {
        self.enter("users")?;
        let prefix = q.prefix.as_deref().map(str::to_lowercase);
        let after = q.after.as_deref().map(str::to_lowercase);
        let mut found: Vec<User> = self
            .state
            .borrow()
            .users
            .iter()
            .filter(|u| prefix.as_deref().is_none_or(|p| u.username.to_lowercase().starts_with(p) || u.email.to_lowercase().starts_with(p)))
            .filter(|u| after.as_deref().is_none_or(|a| u.username.to_lowercase().as_str() > a))
            .cloned()
            .collect();
        found.sort_by_key(|u| u.username.to_lowercase());
        found.truncate(q.limit as usize);
        Ok(found)
    }
    async fn update_user(&self, user: &User) -> StoreResult<bool> {
        self.enter("update_user")?;
        let mut state = self.state.borrow_mut();
        if state.users.iter().any(|u| u.id != user.id && u.email.eq_ignore_ascii_case(&user.email)) {
            return Err(StoreError::Conflict("email".into()));
        }
        match state.users.iter_mut().find(|u| u.id == user.id) {
            Some(u) => {
                u.email = user.email.clone();
                u.role = user.role.clone();
                u.password_hash = user.password_hash.clone();
                u.disabled = user.disabled;
                Ok(true)
            }
            None => Ok(false),
        }
    }
    async fn delete_user(&self, user_id: &str) -> StoreResult<bool> {
        self.enter("delete_user")?;
        let mut state = self.state.borrow_mut();
        let before = state.users.len();
        state.users.retain(|u| u.id != user_id);
        state.sessions.retain(|_, s| s.user_id != user_id);
        state.consents.retain(|(u, _), _| u != user_id);
        state.totp.remove(user_id);
        state.recovery.retain(|(u, _), _| u != user_id);
        state.passkeys.retain(|_, p| p.user_id != user_id);
        state.challenges.retain(|_, c| c.user_id.as_deref() != Some(user_id));
        state.revoke_refresh_where(|t| t.user_id == user_id);
        Ok(state.users.len() != before)
    }
    async fn end_user_grants(&self, user_id: &str, at: u64, keep_session: Option<&str>) -> StoreResult<()> {
        self.enter("end_user_grants")?;
        let mut state = self.state.borrow_mut();
        let ended = state.user_grants_ended.entry(user_id.to_string()).or_insert(0);
        *ended = (*ended).max(at);
        state.sessions.retain(|id, s| s.user_id != user_id || Some(id.as_str()) == keep_session);
        state.revoke_refresh_where(|t| t.user_id == user_id);
        Ok(())
    }
}
