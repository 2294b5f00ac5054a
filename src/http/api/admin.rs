//! The admin credential every admin endpoint asks for (docs/API.md "Admin bearer"): a verified
//! access token with the `admin` scope for this issuer, of a user whose role is admin now, or
//! the bootstrap token.

use crate::crypto::constant_time_eq;
use crate::http::{App, Incoming};
use crate::oauth::accounts::Actor;
use crate::oauth::scope::{Scope, ADMIN};
use crate::oauth::users::ADMIN_ROLE;
use crate::oauth::{OAuthError, OAuthResult};
use crate::store::{Platform, Store};

pub enum AdminCheck {
    /// An admin credential, and whose (for the audit log).
    Admin(Actor),
    /// No bearer token was sent.
    Missing,
}

/// An invalid, expired or revoked token is 401 `invalid_token`. A valid one is an admin
/// credential only with the `admin` scope and `aud` naming this issuer, for a user whose role is
/// admin (docs/API.md "Admin bearer"); any other is 403 `insufficient_scope` (RFC 6750 §3.1). The
/// claims are read only from a token whose signature, issuer, expiry and grant were verified,
/// and the role is the user's as stored now, not the `role` claim the token was signed with: a
/// demoted or disabled administrator's tokens lose their power at once.
pub async fn authorize_admin<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> OAuthResult<AdminCheck> {
    let Some(token) = req.bearer()? else { return Ok(AdminCheck::Missing) };
    if let Some(bootstrap) = app.bootstrap_token.map(|b| b.expose()).filter(|b| b.len() >= 16) {
        if constant_time_eq(token.expose().as_bytes(), bootstrap.as_bytes()) {
            return Ok(AdminCheck::Admin(Actor::Bootstrap));
        }
    }
    let claims = app
        .provider
        .verify_access_token(token.expose())
        .await?
        .ok_or_else(|| OAuthError::invalid_token("the access token is invalid, expired or revoked"))?;
    let scoped = Scope::parse(&claims.scope).is_some_and(|s| s.contains(ADMIN));
    let refused = || OAuthError::insufficient_scope("this needs an access token with the admin scope");
    if !(scoped && claims.aud.is_only(&app.provider.config.issuer) && claims.role.as_deref() == Some(ADMIN_ROLE)) {
        return Err(refused());
    }
    match app.provider.store.user_by_id(&claims.sub).await? {
        Some(user) if user.role == ADMIN_ROLE && !user.disabled => Ok(AdminCheck::Admin(Actor::User(claims.sub))),
        _ => Err(refused()),
    }
}

/// The admin credential of the request, or 401 without one (403 for a token that is not one).
pub async fn require_admin<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> OAuthResult<Actor> {
    match authorize_admin(app, req).await? {
        AdminCheck::Admin(actor) => Ok(actor),
        AdminCheck::Missing => Err(OAuthError::invalid_token("an admin bearer access token is required")),
    }
}

#[cfg(test)]
mod tests {
    use crate::oauth::block_on;
    use crate::oauth::clients::ClientMetadata;
    use crate::oauth::secrets::Password;
    use crate::oauth::users::validate_registration;
    use crate::oauth::TokenRequest;
    use crate::store::UserStore;
    use crate::testing::{request, World};
    use serde_json::json;

    /// An access token for `username` through a confidential client registered with `scopes`.
    fn token_for(w: &World, username: &str, role: &str, client_scopes: &str, scope: Option<&str>) -> (String, String) {
        let p = w.at(1000);
        let new = validate_registration(username, &format!("{username}@example.com"), "correct horse", Some(role)).unwrap();
        block_on(p.register_user(new)).unwrap();
        let meta: ClientMetadata =
            serde_json::from_value(serde_json::json!({ "client_name": "C", "grant_types": ["password"], "scopes": client_scopes }))
                .unwrap();
        let (client, secret) = block_on(p.create_client(meta)).unwrap();
        let creds = crate::oauth::clients::ClientCredentials { basic: Some((client.client_id, secret.unwrap())), ..Default::default() };
        let req =
            TokenRequest::Password { username: username.into(), password: Password::new("correct horse"), scope: scope.map(String::from) };
        let t = block_on(p.token(&creds, &req)).unwrap();
        (t.access_token, t.scope)
    }

    fn list_clients(w: &World, token: &str) -> (u16, serde_json::Value) {
        let out = w.serve(1000, &request("GET", "/clients").with_bearer(token));
        (out.status, out.json_body())
    }

    #[test]
    fn only_an_admin_scoped_token_of_an_admin_opens_the_admin_endpoints() {
        let w = World::new();
        // An administrator signing in to an ordinary client gets an ordinary token.
        let (ordinary, _) = token_for(&w, "root1", "admin", "openid profile", Some("openid"));
        let (status, body) = list_clients(&w, &ordinary);
        assert_eq!((status, body["error"].as_str()), (403, Some("insufficient_scope")));
        // Through a client registered with `admin`, asking for it: an admin credential.
        let (scoped, granted) = token_for(&w, "root2", "admin", "openid admin", Some("openid admin"));
        assert_eq!(granted, "admin openid");
        assert_eq!(list_clients(&w, &scoped).0, 200);
        // Not asking for it: the default never includes it.
        let (default, granted) = token_for(&w, "root3", "admin", "openid admin", None);
        assert_eq!(granted, "openid");
        assert_eq!(list_clients(&w, &default).0, 403);
        // A user who is not an admin asking for it through that client: not granted.
        let (user, granted) = token_for(&w, "plain", "user", "openid admin", Some("openid admin"));
        assert_eq!(granted, "openid");
        assert_eq!(list_clients(&w, &user).0, 403);
    }

    #[test]
    fn a_demoted_administrators_tokens_lose_their_power_at_once() {
        let w = World::new();
        let (scoped, _) = token_for(&w, "root", "admin", "openid admin", Some("openid admin"));
        assert_eq!(list_clients(&w, &scoped).0, 200);
        let id = block_on(w.at(1000).verify_access_token(&scoped)).unwrap().unwrap().sub;
        // The role changes behind the token's back (a second admin's token for the PATCH).
        let mut user = block_on(w.store.user_by_id(&id)).unwrap().unwrap();
        user.role = "user".into();
        block_on(w.store.update_user(&user)).unwrap();
        assert_eq!(
            list_clients(&w, &scoped),
            (403, json!({ "error": "insufficient_scope", "error_description": "this needs an access token with the admin scope" })),
            "the current role counts, not the claim"
        );
        // Demoted through the user administration: the user's grants end too.
        user.role = "admin".into();
        block_on(w.store.update_user(&user)).unwrap();
        assert_eq!(list_clients(&w, &scoped).0, 200);
        let out = w.serve(
            1000,
            &request("PATCH", &format!("/users/{id}")).with_bearer(crate::testing::BOOTSTRAP).with_json(&json!({ "role": "user" })),
        );
        assert_eq!(out.status, 200);
        assert_eq!(list_clients(&w, &scoped).0, 401, "the token itself ended with the role change");
        assert!(block_on(w.at(1001).verify_access_token(&scoped)).unwrap().is_none());
    }

    #[test]
    fn an_admin_token_is_for_this_issuer_whatever_the_default_audience() {
        let mut w = World::new();
        w.config.access_token_audience = "https://api.example".into();
        let (scoped, _) = token_for(&w, "root", "admin", "admin", Some("admin"));
        let claims = block_on(w.at(1000).verify_access_token(&scoped)).unwrap().unwrap();
        assert_eq!(claims.aud, "https://issuer.example");
        assert_eq!(list_clients(&w, &scoped).0, 200);
        let (ordinary, _) = token_for(&w, "other", "user", "openid", None);
        assert_eq!(block_on(w.at(1000).verify_access_token(&ordinary)).unwrap().unwrap().aud, "https://api.example");
    }
}
