//! User administration (docs/API.md "User administration and audit") and a user's own password
//! change: who may change what, and what ends when. Disabling a user, deleting one, changing
//! their role, or setting a new password ends their browser sessions and grants at once
//! (`UserStore::end_user_grants`: refresh tokens revoked, access tokens no longer accepted): a
//! token carries the role it was issued with, so a demoted administrator's tokens must not
//! outlive the demotion.

use super::audit::{Audit, AuditKind};
use super::secrets::Password;
use super::users::{validate_email, validate_password, validate_role};
use super::{OAuthError, OAuthResult, Provider};
use crate::crypto::password::PasswordHash;
use crate::store::{Platform, Store, User, UserQuery};
use serde::Deserialize;
use serde_json::json;

/// `PATCH /users/{id}`: any of these; unknown fields are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub role: Option<String>,
    pub email: Option<String>,
    pub disabled: Option<bool>,
    pub password: Option<Password>,
    /// `false` removes the user's authenticator app and recovery codes (a person who lost both
    /// signs in with the password again, and may set a new app up). `true` is refused: only its
    /// owner can set an app up.
    pub totp: Option<bool>,
}

/// Who is acting, for the audit log: an admin user's id, or the bootstrap token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Bootstrap,
    User(String),
    /// A dynamically registered client managing itself (RFC 7592).
    Client(String),
}

impl Actor {
    pub fn label(&self) -> &str {
        match self {
            Self::Bootstrap => "bootstrap",
            Self::User(id) | Self::Client(id) => id,
        }
    }
}

/// The most users or events one page holds.
pub const MAX_PAGE: u32 = 200;

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// A page of users whose username or email starts with `prefix`, in username order, and
    /// the cursor of the next page (the last username of this one) when there is one.
    pub async fn list_users(&self, prefix: Option<String>, after: Option<String>, limit: u32) -> OAuthResult<(Vec<User>, Option<String>)> {
        let limit = limit.clamp(1, MAX_PAGE);
        let mut users = self.store.users(&UserQuery { prefix, after, limit: limit + 1 }).await?;
        let next = (users.len() > limit as usize).then(|| {
            users.truncate(limit as usize);
            users.last().map(|u| u.username.clone()).unwrap_or_default()
        });
        Ok((users, next))
    }

    pub async fn user(&self, id: &str) -> OAuthResult<User> {
        self.store.user_by_id(id).await?.ok_or_else(|| OAuthError::not_found("no such user"))
    }

    /// Applies an administrator's change. Field rules are registration's (400 naming the field);
    /// a taken email is 409. Disabling, changing the role, or setting a new password ends the
    /// user's sessions and grants (re-enabling brings none back).
    pub async fn update_user(&self, id: &str, change: UserUpdate, actor: &Actor) -> OAuthResult<User> {
        let mut user = self.user(id).await?;
        let email = change.email.as_deref().map(str::trim).unwrap_or(&user.email).to_string();
        let role = change.role.as_deref().unwrap_or(&user.role).to_string();
        // The same checks as registration, field by field.
        validate_email(&email)?;
        validate_role(&role)?;
        if let Some(p) = &change.password {
            validate_password(p.expose())?;
        }
        if change.totp == Some(true) {
            return Err(OAuthError::invalid_request("totp: only false (remove the authenticator app); its owner sets one up on /account"));
        }
        let mut changed = Vec::new();
        if email != user.email {
            changed.push("email");
            user.email = email;
        }
        let role_changed = role != user.role;
        if role_changed {
            changed.push("role");
            user.role = role;
        }
        if let Some(p) = &change.password {
            changed.push("password");
            user.password_hash = PasswordHash::create(p.expose(), self.config.pbkdf2_iterations).encode();
        }
        let disabling = change.disabled == Some(true) && !user.disabled;
        let enabling = change.disabled == Some(false) && user.disabled;
        if let Some(d) = change.disabled {
            user.disabled = d;
        }
        if !self.store.update_user(&user).await? {
            return Err(OAuthError::not_found("no such user"));
        }
        if disabling || role_changed || change.password.is_some() {
            self.store.end_user_grants(&user.id, self.now, None).await?;
        }
        if change.totp == Some(false) && self.store.delete_totp(&user.id).await? {
            self.audit(Audit::new(AuditKind::TotpDisabled).user(&user.id).detail(json!({ "by": actor.label() })));
        }
        let by = json!({ "by": actor.label() });
        if !changed.is_empty() {
            self.audit(Audit::new(AuditKind::UserUpdated).user(&user.id).detail(json!({ "by": actor.label(), "fields": changed })));
        }
        if change.password.is_some() {
            self.audit(Audit::new(AuditKind::PasswordChanged).user(&user.id).detail(by.clone()));
        }
        if disabling {
            self.audit(Audit::new(AuditKind::UserDisabled).user(&user.id).detail(by.clone()));
        }
        if enabling {
            self.audit(Audit::new(AuditKind::UserEnabled).user(&user.id).detail(by));
        }
        Ok(user)
    }

    /// Deletes a user: their sessions and refresh tokens go with them, and their access tokens
    /// stop being accepted (the token check asks that the user exists).
    pub async fn delete_user(&self, id: &str, actor: &Actor) -> OAuthResult<()> {
        if !self.store.delete_user(id).await? {
            return Err(OAuthError::not_found("no such user"));
        }
        self.audit(Audit::new(AuditKind::UserDeleted).user(id).detail(json!({ "by": actor.label() })));
        Ok(())
    }

    /// A signed-in user changes their own password: the current one is checked like a sign-in
    /// (throttled), then every other session and every grant ends; `keep_session` (the id hash
    /// of the session making the change) stays.
    pub async fn change_own_password(
        &self,
        user: &User,
        current: &Password,
        new: &Password,
        keep_session: Option<&str>,
    ) -> OAuthResult<()> {
        let new = new.expose();
        validate_password(new)?;
        if self.authenticate_user(&user.username, current).await?.is_none() {
            return Err(OAuthError::access_denied("the current password is not right"));
        }
        let hash = PasswordHash::create(new, self.config.pbkdf2_iterations).encode();
        self.store.set_password_hash(&user.id, &hash).await?;
        self.store.end_user_grants(&user.id, self.now, keep_session).await?;
        self.audit(Audit::new(AuditKind::PasswordChanged).user(&user.id).detail(json!({ "by": "self" })));
        Ok(())
    }
}
