//! Browser sessions (OIDC Core §3.1.2.3: the authorization server may use an existing session
//! instead of asking for credentials again). The cookie holds a 256-bit random token; only its
//! SHA-256 is stored.

use super::amr::Authentication;
use super::secrets::SessionToken;
use super::{OAuthError, OAuthResult, Provider};
use crate::crypto::{random_token, sha256_b64url};
use crate::store::{Platform, Session, Store, User};

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// Starts a session for a user who just authenticated as `auth` says, in a browser that
    /// calls itself `user_agent`; returns the cookie value.
    pub async fn start_session(&self, user: &User, auth: &Authentication, user_agent: &str) -> OAuthResult<SessionToken> {
        let token = SessionToken::new(random_token());
        let session = Session {
            id_hash: sha256_b64url(token.expose()),
            user_id: user.id.clone(),
            auth_time: auth.auth_time,
            expires_at: self.now + self.config.session_ttl,
            amr: auth.amr.clone(),
            user_agent: user_agent.chars().take(200).collect(),
        };
        self.store.create_session(&session).await?;
        Ok(token)
    }

    /// The live session behind a cookie value, with its user.
    pub async fn current_session(&self, token: &SessionToken) -> OAuthResult<Option<(Session, User)>> {
        let token = token.expose();
        if token.is_empty() || token.len() > 128 {
            return Ok(None);
        }
        // A disabled user's sessions were ended; a session never signs a disabled user in.
        Ok(self.store.session(&sha256_b64url(token), self.now).await?.filter(|(_, u)| !u.disabled))
    }

    pub async fn end_session(&self, token: &SessionToken) -> OAuthResult<()> {
        let token = token.expose();
        if token.is_empty() || token.len() > 128 {
            return Ok(());
        }
        self.store.delete_session(&sha256_b64url(token)).await.map_err(OAuthError::from)
    }
}

#[cfg(test)]
mod tests {
    use crate::oauth::amr::Authentication;
    use crate::oauth::block_on;
    use crate::oauth::secrets::SessionToken;
    use crate::oauth::users::validate_registration;
    use crate::testing::World;

    #[test]
    fn sessions_start_expire_and_end() {
        let w = World::new();
        let at = |now| w.at(now);
        let user = block_on(at(100).register_user(validate_registration("alice", "a@example.com", "password1", None).unwrap())).unwrap();
        let token = block_on(at(100).start_session(&user, &Authentication::password(100), "test")).unwrap();
        let (s, u) = block_on(at(200).current_session(&token)).unwrap().unwrap();
        assert_eq!((s.auth_time, u.id.as_str()), (100, user.id.as_str()));
        assert!(block_on(at(100 + w.config.session_ttl).current_session(&token)).unwrap().is_none());
        assert!(block_on(at(200).current_session(&SessionToken::new("forged"))).unwrap().is_none());
        block_on(at(200).end_session(&token)).unwrap();
        assert!(block_on(at(200).current_session(&token)).unwrap().is_none());
    }
}
