//! RP-Initiated Logout 1.0: where the browser may be sent after its session ends. Only to a
//! URI registered for the client that the `id_token_hint` (or `client_id`) names; anything
//! else is an error page, never a redirect (§3: "the OP MUST NOT perform post-logout
//! redirection if the post_logout_redirect_uri value ... does not exactly match").

use super::{redirect, OAuthError, Provider};
use crate::crypto::jwt;
use crate::form::append_query;
use crate::store::{Platform, Store};
use serde_json::Value;

/// The parameters of a logout request (§2).
#[derive(Debug, Default, Clone)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}

/// Why a logout request cannot be followed.
#[derive(Debug, Clone, PartialEq)]
pub enum LogoutError {
    /// Shown to the person on an error page.
    Show(&'static str),
    /// A failure inside the server.
    Server(OAuthError),
}

/// What a logout request that can be followed leads to.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogoutTarget {
    /// Where to send the browser once its session has ended (the registered URI with `state`);
    /// `None` for the signed-out page.
    pub location: Option<String>,
    /// The `sub` of a valid `id_token_hint`: only a hint for the session's own user counts as
    /// the person's request to sign out ("the OP SHOULD ask the End-User whether to log out"
    /// otherwise, §2: any valid ID token of someone else, from any client, must not end this
    /// browser's session).
    pub hinted_subject: Option<String>,
    /// The client named by the hint or by `client_id`.
    pub client_id: Option<String>,
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// Where the logout leads (`LogoutTarget`), or why it cannot be followed.
    pub async fn logout_redirect(&self, req: &LogoutRequest) -> Result<LogoutTarget, LogoutError> {
        let mut hinted_client: Option<String> = None;
        let mut hinted_subject: Option<String> = None;
        if let Some(hint) = &req.id_token_hint {
            let Ok(keys) = self.keys() else { return Err(LogoutError::Show("signing keys are not configured")) };
            // "The OP need not be listed as an audience ... [and] when the ID Token is expired,
            // the OP SHOULD still accept it" (§2): only the signature, `typ` and issuer count.
            match jwt::verify_id_token::<Value>(keys, hint) {
                Ok(c) if c["iss"] == self.config.issuer.as_str() => {
                    hinted_subject = c["sub"].as_str().map(String::from);
                    hinted_client = match &c["aud"] {
                        Value::String(s) => Some(s.clone()),
                        Value::Array(a) => a.first().and_then(|v| v.as_str()).map(String::from),
                        _ => None,
                    };
                }
                _ => return Err(LogoutError::Show("id_token_hint is not an ID token issued here")),
            }
        }
        // "When both client_id and id_token_hint are present, the OP MUST verify that the
        // Client Identifier matches the one used when issuing the ID Token" (§2).
        let client_id = match (hinted_client, req.client_id.clone()) {
            (Some(a), Some(b)) if a != b => return Err(LogoutError::Show("client_id does not match id_token_hint")),
            (a, b) => a.or(b),
        };
        let Some(target) = &req.post_logout_redirect_uri else { return Ok(LogoutTarget { location: None, hinted_subject, client_id }) };
        let Some(client_id) = client_id else {
            return Err(LogoutError::Show("post_logout_redirect_uri needs id_token_hint or client_id"));
        };
        let client = match self.store.client(&client_id).await {
            Ok(Some(c)) => c,
            Ok(None) => return Err(LogoutError::Show("unknown client")),
            Err(e) => return Err(LogoutError::Server(e.into())),
        };
        // A client that registered no post-logout URIs may be sent back to its redirect URIs.
        let allowed = if client.post_logout_redirect_uris.is_empty() { &client.redirect_uris } else { &client.post_logout_redirect_uris };
        if !redirect::matches(target, allowed, client.client_type) {
            return Err(LogoutError::Show("post_logout_redirect_uri is not registered for this client"));
        }
        let location = Some(append_query(target, req.state.as_deref().map(|s| ("state", s))));
        Ok(LogoutTarget { location, hinted_subject, client_id: Some(client_id) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::block_on;
    use crate::oauth::clients::ClientMetadata;
    use crate::testing::World;
    use serde_json::json;

    fn id_token(w: &World, iss: &str, aud: &str, exp: u64) -> String {
        jwt::sign(&w.keys, "JWT", &json!({ "iss": iss, "aud": aud, "sub": "u", "exp": exp, "iat": 1 }))
    }

    #[test]
    fn redirects_only_to_a_uri_registered_for_the_hinted_client() {
        let w = World::new();
        let p = w.at(1000);
        let meta: ClientMetadata = serde_json::from_str(
            r#"{"client_name":"App","redirect_uris":["https://app.example/cb"],"post_logout_redirect_uris":["https://app.example/bye"]}"#,
        )
        .unwrap();
        let (client, _) = block_on(p.create_client(meta)).unwrap();
        let bare: ClientMetadata = serde_json::from_str(r#"{"client_name":"Bare","redirect_uris":["https://bare.example/cb"]}"#).unwrap();
        let (bare, _) = block_on(p.create_client(bare)).unwrap();
        // Expired long ago: still a valid hint.
        let hint = id_token(&w, "https://issuer.example", &client.client_id, 1);
        let req = |hint: Option<&str>, client_id: Option<&str>, uri: Option<&str>| LogoutRequest {
            id_token_hint: hint.map(String::from),
            client_id: client_id.map(String::from),
            post_logout_redirect_uri: uri.map(String::from),
            state: Some("s t".into()),
        };
        let go = |r: LogoutRequest| block_on(p.logout_redirect(&r)).map(|t| t.location);

        assert_eq!(go(req(Some(&hint), None, Some("https://app.example/bye"))), Ok(Some("https://app.example/bye?state=s%20t".into())));
        assert_eq!(go(req(None, Some(&client.client_id), Some("https://app.example/bye"))).unwrap().unwrap().len(), 35);
        assert_eq!(go(req(Some(&hint), None, None)), Ok(None), "no URI: the signed-out page");
        assert_eq!(go(req(None, None, None)), Ok(None));
        // Its redirect URI is not a post-logout URI when it registered some.
        assert!(matches!(go(req(Some(&hint), None, Some("https://app.example/cb"))), Err(LogoutError::Show(_))));
        assert!(matches!(go(req(Some(&hint), None, Some("https://evil.example/"))), Err(LogoutError::Show(_))));
        // A client without post-logout URIs may go back to a redirect URI.
        assert!(go(req(None, Some(&bare.client_id), Some("https://bare.example/cb"))).unwrap().is_some());
        // No client named, a mismatch, another issuer's token, an access token, an unknown client.
        assert!(matches!(go(req(None, None, Some("https://app.example/bye"))), Err(LogoutError::Show(_))));
        assert!(matches!(go(req(Some(&hint), Some(&bare.client_id), Some("https://app.example/bye"))), Err(LogoutError::Show(_))));
        let foreign = id_token(&w, "https://other.example", &client.client_id, 1);
        assert!(matches!(go(req(Some(&foreign), None, None)), Err(LogoutError::Show(_))));
        let access = jwt::sign(&w.keys, "at+jwt", &json!({ "iss": "https://issuer.example", "aud": client.client_id }));
        assert!(matches!(go(req(Some(&access), None, None)), Err(LogoutError::Show(_))));
        assert!(matches!(go(req(None, Some("nobody"), Some("https://app.example/bye"))), Err(LogoutError::Show("unknown client"))));
        // The hint's subject and client are reported, for the session check.
        let t = block_on(p.logout_redirect(&req(Some(&hint), None, None))).unwrap();
        assert_eq!((t.hinted_subject.as_deref(), t.client_id.as_deref()), (Some("u"), Some(client.client_id.as_str())));
        assert_eq!(block_on(p.logout_redirect(&req(None, None, None))).unwrap(), LogoutTarget::default());
    }
}
