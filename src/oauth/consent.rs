//! Consent for third-party clients (OpenID Connect Core §3.1.2.4: "the Authorization Server
//! obtains an authorization decision"). A client registered dynamically (RFC 7591, no admin
//! involved) is third-party: before its first code for a user and a set of scopes the person is
//! asked, on a page naming the client, its redirect host, the scopes and the resources. The
//! decision is remembered per user and client as the scopes and the resources (RFC 8707) allowed:
//! a later request within both is not asked again unless `prompt=consent` (§3.1.2.1); one for
//! another resource is, since a token for resource A is not a token for resource B. A request
//! that names no resource is for the deployment's default audience, which is remembered as such.
//! Admin-registered clients are first-party.

use super::audit::{Audit, AuditKind};
use super::authorize::AuthorizationRequest;
use super::scope::{Scope, ADMIN, EMAIL, OPENID, PROFILE};
use super::{OAuthResult, Provider};
use crate::store::{Allowed, Client, Platform, Store};

/// Whether this client's requests need the person's consent.
pub fn is_third_party(client: &Client) -> bool {
    client.dynamic
}

/// What each scope lets the client do, in plain words, for the consent page.
pub fn describe(scope: &Scope) -> Vec<String> {
    scope
        .iter()
        .map(|s| match s {
            OPENID => "Know who you are (your account identifier)".to_string(),
            PROFILE => "See your username and role".to_string(),
            EMAIL => "See your email address".to_string(),
            "offline_access" => "Keep access while you are away".to_string(),
            ADMIN => "Administer this service".to_string(),
            other => format!("Use the permission \u{201c}{other}\u{201d}"),
        })
        .collect()
}

/// The host a redirect URI sends the person to (shown on the consent page).
pub fn redirect_host(uri: &str) -> &str {
    // A private-use scheme (RFC 8252 §7.1) has no host: the scheme names the application.
    let Some((_, rest)) = uri.split_once("://") else { return uri.split(':').next().unwrap_or(uri) };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    authority.rsplit_once('@').map_or(authority, |(_, host)| host)
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// The resources this request's tokens are for: those it names, else the default audience.
    fn resources_of(&self, r: &AuthorizationRequest) -> Vec<String> {
        if r.resources.is_empty() {
            vec![self.config.access_token_audience.clone()]
        } else {
            r.resources.clone()
        }
    }

    /// Whether `user_id` must be asked before this request gets a code: a third-party client,
    /// and `prompt=consent` (`ask_again`), or scopes or resources beyond what the person allowed
    /// before.
    pub async fn needs_consent(&self, r: &AuthorizationRequest, user_id: &str, ask_again: bool) -> OAuthResult<bool> {
        if !is_third_party(&r.client) {
            return Ok(false);
        }
        if ask_again {
            return Ok(true);
        }
        let Some(allowed) = self.store.consent(user_id, &r.client.client_id).await? else { return Ok(true) };
        let scopes_allowed = Scope::parse(&allowed.scope).is_some_and(|s| r.scope.is_subset(&s));
        let resources_allowed = self.resources_of(r).iter().all(|x| allowed.resources.contains(x));
        Ok(!(scopes_allowed && resources_allowed))
    }

    /// The person allowed the request: remember its scopes and resources (together with those
    /// allowed before).
    pub async fn allow_consent(&self, r: &AuthorizationRequest, user_id: &str) -> OAuthResult<()> {
        let before = self.store.consent(user_id, &r.client.client_id).await?.unwrap_or_default();
        let mut scopes = Scope::parse(&before.scope).map(|s| s.to_vec()).unwrap_or_default();
        scopes.extend(r.scope.to_vec());
        let mut resources = before.resources;
        for x in self.resources_of(r) {
            if !resources.contains(&x) {
                resources.push(x);
            }
        }
        let allowed = Allowed { scope: Scope::from_list(scopes).to_string(), resources };
        self.store.save_consent(user_id, &r.client.client_id, &allowed, self.now).await?;
        let event = Audit::new(AuditKind::ConsentGranted).user(user_id).client(&r.client.client_id);
        self.audit(event.detail(serde_json::json!({ "scope": r.scope.to_string(), "resources": r.resources })));
        Ok(())
    }

    /// The clients the user has allowed (the account page's "Connected apps").
    pub async fn connected_apps(&self, user_id: &str) -> OAuthResult<Vec<crate::store::Consent>> {
        Ok(self.store.consents_of(user_id).await?)
    }

    /// The user takes back a client's access: the consent goes and every grant of theirs with
    /// that client ends (refresh tokens and the access tokens minted along them). The next
    /// authorization request asks again.
    pub async fn withdraw_consent(&self, user_id: &str, client_id: &str) -> OAuthResult<bool> {
        let had = self.store.withdraw_consent(user_id, client_id, self.grant_end_horizon()).await?;
        if had {
            self.audit(Audit::new(AuditKind::ConsentWithdrawn).user(user_id).client(client_id));
        }
        Ok(had)
    }

    /// The person denied the request (nothing is remembered: the next request asks again).
    pub fn deny_consent(&self, r: &AuthorizationRequest, user_id: &str) {
        self.audit(Audit::new(AuditKind::ConsentDenied).user(user_id).client(&r.client.client_id));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::authorize::AuthorizationParams;
    use crate::oauth::block_on;
    use crate::testing::World;

    fn register_dynamic_for_tests(w: &World, redirect_uri: &str) -> Client {
        let body =
            serde_json::json!({ "client_name": "MCP client", "redirect_uris": [redirect_uri], "token_endpoint_auth_method": "none" });
        block_on(w.at(1000).register_dynamic_client(&body)).unwrap().client
    }

    fn request(w: &World, client: &Client, scope: &str) -> AuthorizationRequest {
        let p = AuthorizationParams {
            client_id: Some(client.client_id.clone()),
            redirect_uri: Some(client.redirect_uris[0].clone()),
            response_type: Some("code".into()),
            scope: Some(scope.into()),
            code_challenge: Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into()),
            code_challenge_method: Some("S256".into()),
            ..Default::default()
        };
        block_on(w.at(1000).validate_authorization(&p)).unwrap()
    }

    #[test]
    fn third_party_clients_ask_once_per_scope_set_and_again_on_prompt_consent() {
        let w = World::new();
        let client = register_dynamic_for_tests(&w, "https://mcp-client.example/cb");
        let p = w.at(1000);
        let narrow = request(&w, &client, "openid profile");
        assert!(block_on(p.needs_consent(&narrow, "u1", false)).unwrap());
        block_on(p.allow_consent(&narrow, "u1")).unwrap();
        assert!(!block_on(p.needs_consent(&narrow, "u1", false)).unwrap(), "remembered");
        assert!(block_on(p.needs_consent(&narrow, "u1", true)).unwrap(), "prompt=consent asks again");
        assert!(block_on(p.needs_consent(&narrow, "u2", false)).unwrap(), "per user");
        let wider = request(&w, &client, "openid email");
        assert!(block_on(p.needs_consent(&wider, "u1", false)).unwrap(), "a scope not allowed before");
        block_on(p.allow_consent(&wider, "u1")).unwrap();
        assert!(!block_on(p.needs_consent(&request(&w, &client, "openid profile email"), "u1", false)).unwrap(), "the union");
        p.deny_consent(&wider, "u1");
        w.flush_audit();
        let kinds: Vec<String> =
            block_on(crate::store::AuditStore::events(&w.store, &crate::store::AuditQuery { limit: 50, ..Default::default() }))
                .unwrap()
                .into_iter()
                .map(|e| e.kind)
                .collect();
        assert_eq!(kinds.iter().filter(|k| *k == "consent.granted").count(), 2);
        assert!(kinds.contains(&"consent.denied".to_string()));
    }

    #[test]
    fn consent_for_one_resource_is_not_consent_for_another() {
        let w = World::new();
        let client = register_dynamic_for_tests(&w, "https://mcp-client.example/cb");
        let p = w.at(1000);
        let for_resources = |resources: &[&str]| {
            let mut r = request(&w, &client, "openid");
            r.resources = resources.iter().map(|x| x.to_string()).collect();
            r
        };
        let a = for_resources(&["https://a.example/mcp"]);
        block_on(p.allow_consent(&a, "u1")).unwrap();
        assert!(!block_on(p.needs_consent(&a, "u1", false)).unwrap(), "remembered for A");
        let b = for_resources(&["https://b.example/mcp"]);
        assert!(block_on(p.needs_consent(&b, "u1", false)).unwrap(), "B was never allowed");
        assert!(block_on(p.needs_consent(&for_resources(&["https://a.example/mcp", "https://b.example/mcp"]), "u1", false)).unwrap());
        assert!(block_on(p.needs_consent(&for_resources(&[]), "u1", false)).unwrap(), "nor the default audience");
        block_on(p.allow_consent(&b, "u1")).unwrap();
        assert!(
            !block_on(p.needs_consent(&for_resources(&["https://b.example/mcp", "https://a.example/mcp"]), "u1", false)).unwrap(),
            "the union"
        );
        // A request naming no resource is for the default audience, remembered as such.
        block_on(p.allow_consent(&for_resources(&[]), "u2")).unwrap();
        assert!(!block_on(p.needs_consent(&for_resources(&[]), "u2", false)).unwrap());
        assert!(block_on(p.needs_consent(&a, "u2", false)).unwrap());
    }

    #[test]
    fn first_party_clients_are_never_asked() {
        let w = World::new();
        let meta = serde_json::from_value(serde_json::json!({
            "client_name": "First", "client_type": "public", "grant_types": ["authorization_code"],
            "redirect_uris": ["https://first.example/cb"], "token_endpoint_auth_method": "none"
        }))
        .unwrap();
        let (client, _) = block_on(w.at(1000).create_client(meta)).unwrap();
        assert!(!block_on(w.at(1000).needs_consent(&request(&w, &client, "openid"), "u1", true)).unwrap());
    }

    #[test]
    fn plain_words_and_the_redirect_host() {
        let words = describe(&Scope::parse("openid email api:read").unwrap());
        assert_eq!(words.len(), 3);
        assert!(words.iter().any(|w| w.contains("email address")) && words.iter().any(|w| w.contains("\u{201c}api:read\u{201d}")));
        assert_eq!(redirect_host("https://app.example:8443/cb?x=1"), "app.example:8443");
        assert_eq!(redirect_host("http://user@127.0.0.1:9/cb"), "127.0.0.1:9");
        assert_eq!(redirect_host("com.example.app:/cb"), "com.example.app");
    }
}
