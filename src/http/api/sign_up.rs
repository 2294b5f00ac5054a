//! `POST /register` (the contract's user sign-up): a new account with role `user`, or any role
//! with an admin bearer.

use super::accounts::user_json;
use super::admin::{authorize_admin, AdminCheck};
use crate::http::{App, Incoming, Outgoing};
use crate::oauth::users::{validate_registration, DEFAULT_ROLE};
use crate::oauth::{OAuthError, OAuthResult};
use crate::store::{Platform, Store};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Registration {
    username: String,
    email: String,
    password: crate::oauth::secrets::Password,
    role: Option<String>,
}

pub async fn register<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> OAuthResult<Outgoing> {
    let body: Registration = req.json()?;
    let new = validate_registration(body.username.trim(), body.email.trim(), body.password.expose(), body.role.as_deref())?;
    if new.role != DEFAULT_ROLE {
        match authorize_admin(app, req).await? {
            AdminCheck::Admin(_) => {}
            AdminCheck::Missing => return Err(OAuthError::access_denied(format!("role '{}' needs an admin bearer token", new.role))),
        }
    }
    let user = app.provider.register_user(new).await?;
    Ok(Outgoing::json(201, &user_json(&user)))
}
