//! User administration and the audit log (admin bearer; the rules are `oauth::accounts`):
//! `GET /users`, `GET|PATCH|DELETE /users/{id}`, `GET /audit`, and a user as these answer one.
//! Cursors are opaque: the next page's starting point, base64url.

use super::admin::require_admin;
use crate::crypto::{b64url, b64url_decode};
use crate::http::{iso8601, App, Incoming, Outgoing};
use crate::oauth::accounts::{UserUpdate, MAX_PAGE};
use crate::oauth::{OAuthError, OAuthResult};
use crate::store::{AuditQuery, FactorSummary, Platform, Store, User};
use serde_json::{json, Value};

pub fn user_json(u: &User) -> Value {
    json!({ "id": u.id, "username": u.username, "email": u.email, "role": u.role, "createdAt": iso8601(u.created_at) })
}

/// A user as the user administration answers one: as `POST /register` does, plus `disabled`
/// and a summary of their sign-in factors (how many passkeys, whether a confirmed authenticator
/// app). Never a hash.
pub fn admin_user_json(u: &User, factors: &FactorSummary) -> Value {
    let mut v = user_json(u);
    v["disabled"] = json!(u.disabled);
    v["factors"] = json!({ "passkeys": factors.passkeys, "totp": factors.totp });
    v
}

/// `admin_user_json` of each user, their factors read in one query.
pub async fn admin_users_json<S: Store, P: Platform>(app: &App<'_, S, P>, users: &[User]) -> OAuthResult<Vec<Value>> {
    let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
    let factors = app.provider.store.factor_summaries(&ids).await?;
    Ok(users.iter().zip(factors.iter().chain(std::iter::repeat(&FactorSummary::default()))).map(|(u, f)| admin_user_json(u, f)).collect())
}

/// The page size asked for (`limit`, default 50, at most `MAX_PAGE`).
fn limit(raw: Option<String>) -> OAuthResult<u32> {
    match raw {
        None => Ok(50),
        Some(v) => match v.parse::<u32>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => Ok(n),
            _ => Err(OAuthError::invalid_request(format!("limit: 1 to {MAX_PAGE}"))),
        },
    }
}

fn decode_cursor(raw: Option<String>) -> OAuthResult<Option<String>> {
    raw.map(|c| {
        b64url_decode(&c)
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| OAuthError::invalid_request("cursor: not a cursor this server gave"))
    })
    .transpose()
}

/// `GET /users?limit=&cursor=&q=` → `{users, next_cursor}`; `q` matches a username or email prefix.
pub async fn list_users<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> OAuthResult<Outgoing> {
    require_admin(app, req).await?;
    let q = req.query_params()?;
    let prefix = q.opt("q")?.filter(|p| p.len() <= 254);
    let (users, next) = app.provider.list_users(prefix, decode_cursor(q.opt("cursor")?)?, limit(q.opt("limit")?)?).await?;
    Ok(Outgoing::json(200, &json!({ "users": admin_users_json(app, &users).await?, "next_cursor": next.map(|n| b64url(n.as_bytes())) })))
}

pub async fn get_user<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming, id: &str) -> OAuthResult<Outgoing> {
    require_admin(app, req).await?;
    let user = app.provider.user(id).await?;
    Ok(Outgoing::json(200, &admin_users_json(app, std::slice::from_ref(&user)).await?[0]))
}

/// `PATCH /users/{id}` with any of `role`, `email`, `disabled`, `password`.
pub async fn update_user<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming, id: &str) -> OAuthResult<Outgoing> {
    let actor = require_admin(app, req).await?;
    let change: UserUpdate = req.json()?;
    let user = app.provider.update_user(id, change, &actor).await?;
    Ok(Outgoing::json(200, &admin_users_json(app, std::slice::from_ref(&user)).await?[0]))
}

pub async fn delete_user<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming, id: &str) -> OAuthResult<Outgoing> {
    let actor = require_admin(app, req).await?;
    app.provider.delete_user(id, &actor).await?;
    Ok(Outgoing::empty(204))
}

/// `GET /audit?limit=&cursor=&user_id=&type=` → `{events, next_cursor}`, newest first.
pub async fn list_audit<S: Store, P: Platform>(app: &App<'_, S, P>, req: &Incoming) -> OAuthResult<Outgoing> {
    require_admin(app, req).await?;
    let q = req.query_params()?;
    let limit = limit(q.opt("limit")?)?;
    let before = match decode_cursor(q.opt("cursor")?)? {
        Some(c) => Some(c.parse::<u64>().map_err(|_| OAuthError::invalid_request("cursor: not a cursor this server gave"))?),
        None => None,
    };
    let query = AuditQuery { user_id: q.opt("user_id")?, kind: q.opt("type")?, before, limit: limit + 1 };
    let mut events = app.provider.store.events(&query).await?;
    let next = (events.len() > limit as usize).then(|| {
        events.truncate(limit as usize);
        b64url(events.last().map(|e| e.id).unwrap_or_default().to_string().as_bytes())
    });
    Ok(Outgoing::json(200, &json!({ "events": events, "next_cursor": next })))
}
