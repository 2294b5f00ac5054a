//! Token introspection (RFC 7662): what the server knows of an access or refresh token, for a
//! caller the HTTP layer has already authenticated.

use super::resource::Audience;
use super::{OAuthResult, Provider};
use crate::crypto::sha256_b64url;
use crate::store::{Client, ClientType, Platform, Store};
use serde::Serialize;

/// The introspection answer (RFC 7662 §2.2). Inactive: `{"active": false}` and nothing else
/// ("the authorization server MUST return an introspection response with the 'active' field
/// set to 'false'" and should not reveal why).
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// An access token's `aud` as signed (RFC 7662 §2.2); a refresh token's client.
    pub aud: Option<Audience>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The key a DPoP-bound token is bound to (RFC 9449 §6.2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cnf: Option<super::issue::Confirmation>,
}

impl Introspection {
    pub fn inactive() -> Self {
        Self::default()
    }

    /// What this caller may learn (RFC 7662 §4: "the authorization server ... MUST determine
    /// whether or not the token can be used at the protected resource making the introspection
    /// call"; a response about another party's token would disclose who is behind it):
    /// - a refresh token is active only to the client it was issued to (it is bound to that
    ///   client, RFC 6749 §6; no resource server ever receives one);
    /// - an access token: to an administrator, and to a confidential client an administrator
    ///   registered (first-party: the resource servers of this deployment authenticate as such
    ///   clients); to any other client — public, or registered by anyone (RFC 7591, metadata
    ///   documents) — only when it was issued to that client or names it in its `aud` (a
    ///   resource it represents). An anonymous registration must not turn into a way to learn
    ///   whose every token is.
    ///
    /// To anyone else the token is `{"active": false}`, as if unknown.
    pub fn for_caller(self, caller: &Introspector) -> Self {
        if !self.active {
            return self;
        }
        let own = |c: &Client| self.client_id.as_deref() == Some(c.client_id.as_str());
        let visible = match (self.token_type, caller) {
            (Some(REFRESH_TOKEN), Introspector::Client(c)) => own(c),
            (Some(REFRESH_TOKEN), Introspector::Admin) => false,
            (_, Introspector::Admin) => true,
            (_, Introspector::Client(c)) => {
                let first_party_server = c.client_type == ClientType::Confidential && !c.dynamic;
                let audience = self.aud.as_ref().is_some_and(|a| a.contains(&c.client_id));
                first_party_server || own(c) || audience
            }
        };
        if visible {
            self
        } else {
            Self::inactive()
        }
    }
}

const REFRESH_TOKEN: &str = "refresh_token";

/// Who asks (the HTTP layer authenticated them).
#[derive(Debug, Clone)]
pub enum Introspector {
    /// An admin bearer.
    Admin,
    /// An authenticated client.
    Client(Box<Client>),
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// `POST /introspect` (RFC 7662 §2.1). Access tokens are JWTs, refresh tokens opaque, so
    /// the two are told apart by shape (`token_type_hint` is only a hint, §2.1).
    pub async fn introspect(&self, token: &str) -> OAuthResult<Introspection> {
        if token.is_empty() || token.len() > 8192 {
            return Ok(Introspection::inactive());
        }
        if token.contains('.') {
            let Some(c) = self.verify_any_access_token(token).await? else { return Ok(Introspection::inactive()) };
            return Ok(Introspection {
                active: true,
                sub: Some(c.sub),
                username: c.username,
                client_id: Some(c.client_id),
                scope: Some(c.scope),
                aud: Some(c.aud),
                iss: Some(c.iss),
                exp: Some(c.exp),
                iat: Some(c.iat),
                nbf: Some(c.nbf),
                jti: Some(c.jti),
                // RFC 9449 §6.2: a bound token's type and its confirmation.
                token_type: Some(if c.cnf.is_some() { "DPoP" } else { "Bearer" }),
                role: c.role,
                cnf: c.cnf,
            });
        }
        let Some(r) = self.store.refresh(&sha256_b64url(token)).await? else { return Ok(Introspection::inactive()) };
        // Active exactly when its client could use it now (`RefreshRecord::usable_by`, the rule
        // the rotation's conditional write states), and that client is still active.
        let client_active = matches!(self.store.client(&r.token.client_id).await?, Some(c) if c.is_active);
        if !r.usable_by(&r.token.client_id, self.now, self.config.refresh_reuse_interval) || !client_active {
            return Ok(Introspection::inactive());
        }
        let Some(user) = r.user else { return Ok(Introspection::inactive()) };
        Ok(Introspection {
            active: true,
            sub: Some(user.id),
            username: Some(user.username),
            client_id: Some(r.token.client_id.clone()),
            scope: Some(r.token.scope),
            aud: Some(Audience::One(r.token.client_id)),
            iss: Some(self.config.issuer.clone()),
            exp: Some(r.token.expires_at),
            iat: Some(r.token.issued_at),
            nbf: Some(r.token.issued_at),
            jti: None,
            token_type: Some(REFRESH_TOKEN),
            role: None,
            cnf: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::clients::new_client;

    fn answer(token_type: &'static str, client_id: &str) -> Introspection {
        Introspection { active: true, client_id: Some(client_id.into()), token_type: Some(token_type), ..Default::default() }
    }

    fn client(id: &str, client_type: ClientType) -> Introspector {
        Introspector::Client(Box::new(Client { client_id: id.into(), client_type, ..new_client(0) }))
    }

    #[test]
    fn who_may_see_which_token() {
        let (mine_conf, other_conf) = (client("a", ClientType::Confidential), client("b", ClientType::Confidential));
        let (mine_pub, other_pub) = (client("a", ClientType::Public), client("b", ClientType::Public));
        let refresh = answer(REFRESH_TOKEN, "a");
        assert!(refresh.clone().for_caller(&mine_conf).active);
        assert!(refresh.clone().for_caller(&mine_pub).active);
        for caller in [&other_conf, &other_pub, &Introspector::Admin] {
            assert_eq!(refresh.clone().for_caller(caller), Introspection::inactive(), "{caller:?}");
        }
        let access = answer("Bearer", "a");
        for caller in [&mine_conf, &other_conf, &mine_pub, &Introspector::Admin] {
            assert!(access.clone().for_caller(caller).active, "{caller:?}");
        }
        assert_eq!(access.clone().for_caller(&other_pub), Introspection::inactive(), "a public client sees only its own");
        assert_eq!(Introspection::inactive().for_caller(&Introspector::Admin), Introspection::inactive());

        // Anyone may register a confidential client (RFC 7591): such a client sees only tokens
        // issued to it, or for it as a resource (`aud`), never everyone's.
        let dynamic = |id: &str| Introspector::Client(Box::new(Client { client_id: id.into(), dynamic: true, ..new_client(0) }));
        assert_eq!(access.clone().for_caller(&dynamic("b")), Introspection::inactive(), "an anonymous registrant");
        assert!(access.clone().for_caller(&dynamic("a")).active, "its own token");
        let for_b = Introspection { aud: Some(Audience::Many(vec!["urn:x".into(), "b".into()])), ..access.clone() };
        assert!(for_b.clone().for_caller(&dynamic("b")).active, "a token for the resource it represents");
        assert!(for_b.for_caller(&other_pub).active);
    }
}
