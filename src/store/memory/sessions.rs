//! The memory store's browser sessions.

use super::*;

impl SessionStore for MemoryStore {
    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        self.enter("create_session")?;
        self.state.borrow_mut().sessions.insert(session.id_hash.clone(), session.clone());
        Ok(())
    }
    async fn session(&self, id_hash: &str, now: u64) -> StoreResult<Option<(Session, User)>> {
        self.enter("session")?;
        let state = self.state.borrow();
        let Some(session) = state.sessions.get(id_hash).filter(|s| s.expires_at > now) else { return Ok(None) };
        Ok(state.user_by_id(&session.user_id).map(|u| (session.clone(), u)))
    }
    async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        self.enter("delete_session")?;
        self.state.borrow_mut().sessions.remove(id_hash);
        Ok(())
    }
    async fn sessions_of(&self, user_id: &str, now: u64) -> StoreResult<Vec<Session>> {
        self.enter("sessions_of")?;
        let state = self.state.borrow();
        let mut list: Vec<Session> = state.sessions.values().filter(|s| s.user_id == user_id && s.expires_at > now).cloned().collect();
        list.sort_by(|a, b| b.auth_time.cmp(&a.auth_time).then_with(|| a.id_hash.cmp(&b.id_hash)));
        Ok(list)
    }
    async fn delete_user_session(&self, user_id: &str, id_hash: &str) -> StoreResult<bool> {
        self.enter("delete_user_session")?;
        let mut state = self.state.borrow_mut();
        if state.sessions.get(id_hash).is_some_and(|s| s.user_id == user_id) {
            state.sessions.remove(id_hash);
            return Ok(true);
        }
        Ok(false)
    }
}
