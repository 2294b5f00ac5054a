//! The grants end to end on the in-memory store: what each issues, single use, rotation,
//! reuse detection, expiry, client authentication, and what a storage failure does mid-flow.

use super::*;
use crate::crypto::jwt;
use crate::oauth::authorize::AuthorizationParams;
use crate::oauth::clients::ClientMetadata;
use crate::oauth::issue::at_hash;
use crate::oauth::secrets::ClientSecret;
use crate::oauth::users::validate_registration;
use crate::oauth::{block_on, ErrorCode};
use crate::testing::World;

pub(super) fn setup(w: &World) -> (Client, ClientSecret, crate::store::User) {
    let p = w.at(1000);
    let meta: ClientMetadata = serde_json::from_str(
        r#"{"client_name":"App","grant_types":["authorization_code","refresh_token","password"],"redirect_uris":["https://app.example/cb"]}"#,
    )
    .unwrap();
    let (client, secret) = block_on(p.create_client(meta)).unwrap();
    let user = block_on(p.register_user(validate_registration("alice", "alice@example.com", "correct horse", None).unwrap())).unwrap();
    (client, secret.unwrap(), user)
}

/// The password grant for `setup`'s user.
pub(super) fn password_request(scope: Option<&str>) -> TokenRequest {
    TokenRequest::Password { username: "alice".into(), password: Password::new("correct horse"), scope: scope.map(String::from) }
}

pub(super) fn refresh_request(refresh_token: &Option<RefreshTokenSecret>, scope: Option<&str>) -> TokenRequest {
    let refresh_token = refresh_token.clone().unwrap_or_else(|| RefreshTokenSecret::new("none was issued"));
    TokenRequest::RefreshToken { refresh_token, scope: scope.map(String::from) }
}

pub(super) fn code_request(code: String, verifier: Option<&str>) -> TokenRequest {
    TokenRequest::AuthorizationCode {
        code: CodeSecret::new(code),
        redirect_uri: "https://app.example/cb".into(),
        code_verifier: verifier.map(CodeVerifier::new),
    }
}

pub(super) fn basic(client: &Client, secret: &ClientSecret) -> ClientCredentials {
    ClientCredentials { basic: Some((client.client_id.clone(), secret.clone())), ..Default::default() }
}

pub(crate) fn code(w: &World, client: &Client, user: &crate::store::User, challenge: Option<&str>) -> String {
    let p = w.at(1000);
    let params = AuthorizationParams {
        client_id: Some(client.client_id.clone()),
        redirect_uri: Some("https://app.example/cb".into()),
        response_type: Some("code".into()),
        scope: Some("openid profile".into()),
        state: Some("s".into()),
        nonce: Some("n".into()),
        code_challenge: challenge.map(String::from),
        code_challenge_method: challenge.map(|_| "S256".into()),
        ..Default::default()
    };
    let req = block_on(p.validate_authorization(&params)).unwrap();
    let loc = block_on(p.issue_code(&req, user, &crate::oauth::amr::Authentication::password(1000))).unwrap();
    let q = loc.split_once('?').unwrap().1;
    crate::form::parse(q).unwrap().into_iter().find(|(k, _)| k == "code").unwrap().1
}

#[test]
fn code_exchange_issues_verifiable_tokens_once_and_replay_revokes() {
    let w = World::new();
    let (client, secret, user) = setup(&w);
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let c = code(&w, &client, &user, Some("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    let req = code_request(c, Some(verifier));
    let p = w.at(1010);
    let t = block_on(p.token(&basic(&client, &secret), &req)).unwrap();
    let claims = block_on(p.verify_access_token(&t.access_token)).unwrap().unwrap();
    assert_eq!(claims.sub, user.id);
    assert_eq!(claims.username.as_deref(), Some("alice"));
    let id: serde_json::Value = jwt::verify(&w.keys, t.id_token.as_ref().unwrap(), Some("JWT")).unwrap();
    assert_eq!(id["nonce"], "n");
    assert_eq!(id["aud"], client.client_id.as_str());
    assert_eq!(id["at_hash"], at_hash(&t.access_token).as_str());
    assert_eq!(id["auth_time"], 1000);
    // Replay: invalid_grant, and the first access and refresh tokens die.
    let e = block_on(p.token(&basic(&client, &secret), &req)).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidGrant);
    assert!(block_on(p.verify_access_token(&t.access_token)).unwrap().is_none());
    assert!(block_on(p.token(&basic(&client, &secret), &refresh_request(&t.refresh_token, None))).is_err());
}

#[test]
fn expired_codes_and_tokens_are_refused() {
    let w = World::new();
    let (client, secret, user) = setup(&w);
    let c = code(&w, &client, &user, None);
    let req = code_request(c, None);
    let late = w.at(1000 + w.config.auth_code_ttl);
    assert_eq!(block_on(late.token(&basic(&client, &secret), &req)).unwrap_err().code, ErrorCode::InvalidGrant);
    let p = w.at(1000);
    let t = block_on(p.token(&basic(&client, &secret), &password_request(None))).unwrap();
    let after = w.at(1000 + w.config.access_token_ttl);
    assert!(block_on(after.verify_access_token(&t.access_token)).unwrap().is_none());
    assert_eq!(block_on(after.introspect(&t.access_token)).unwrap(), crate::oauth::introspection::Introspection::inactive());
}

#[test]
fn refresh_rotation_and_family_revocation() {
    let w = World::new();
    let (client, secret, _) = setup(&w);
    let p = w.at(1000);
    let creds = basic(&client, &secret);
    let pw = password_request(Some("openid profile"));
    let t1 = block_on(p.token(&creds, &pw)).unwrap();
    let refresh = refresh_request;
    assert_eq!(block_on(p.token(&creds, &refresh(&t1.refresh_token, Some("openid email")))).unwrap_err().code, ErrorCode::InvalidScope);
    let t2 = block_on(p.token(&creds, &refresh(&t1.refresh_token, Some("openid")))).unwrap();
    assert_eq!(t2.scope, "openid");
    assert_ne!(t2.refresh_token, t1.refresh_token);
    // Reuse of the rotated token after the reuse interval revokes the family, including t2's
    // refresh token.
    let late = w.at(1000 + w.config.refresh_reuse_interval);
    assert!(block_on(late.token(&creds, &refresh(&t1.refresh_token, None))).is_err());
    assert!(block_on(late.token(&creds, &refresh(&t2.refresh_token, None))).is_err());
}

#[test]
fn refresh_without_scope_rotates_in_one_write_with_the_same_rules() {
    let w = World::new();
    let (client, secret, user) = setup(&w);
    let p = w.at(1000);
    let creds = basic(&client, &secret);
    let pw = password_request(Some("openid profile"));
    let refresh = |rt: &Option<RefreshTokenSecret>| refresh_request(rt, None);
    let t1 = block_on(p.token(&creds, &pw)).unwrap();
    let t2 = block_on(w.at(1100).token(&creds, &refresh(&t1.refresh_token))).unwrap();
    assert_eq!(t2.scope, "openid profile");
    assert!(t2.id_token.is_some());
    let at = block_on(w.at(1100).verify_access_token(&t2.access_token)).unwrap().expect("a valid access token");
    assert_eq!((at.sub.as_str(), at.auth_time, at.client_id.as_str()), (user.id.as_str(), Some(1000), client.client_id.as_str()));

    // Another client cannot use it, and trying does not spend or revoke it.
    let other_meta: ClientMetadata =
        serde_json::from_str(r#"{"client_name":"Other","grant_types":["refresh_token"],"redirect_uris":["https://other.example/cb"]}"#)
            .unwrap();
    let (other, other_secret) = block_on(p.create_client(other_meta)).unwrap();
    let err = block_on(p.token(&basic(&other, &other_secret.unwrap()), &refresh(&t2.refresh_token))).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidGrant);
    let t3 = block_on(p.token(&creds, &refresh(&t2.refresh_token))).unwrap();

    // Reuse of a rotated token after the reuse interval revokes the family, t3 included.
    let late = w.at(1000 + w.config.refresh_reuse_interval);
    assert_eq!(block_on(late.token(&creds, &refresh(&t2.refresh_token))).unwrap_err().code, ErrorCode::InvalidGrant);
    assert!(block_on(late.token(&creds, &refresh(&t3.refresh_token))).is_err());
    assert!(block_on(p.token(&creds, &refresh(&Some(RefreshTokenSecret::new("unknown"))))).is_err());

    // An expired token is refused.
    let t4 = block_on(p.token(&creds, &pw)).unwrap();
    let late = w.at(1000 + w.config.refresh_token_ttl);
    assert!(block_on(late.token(&creds, &refresh(&t4.refresh_token))).is_err());
    assert!(block_on(p.token(&creds, &refresh(&t4.refresh_token))).is_ok(), "refusing an expired token spends nothing");
}

#[test]
fn client_authentication_rules() {
    let w = World::new();
    let (client, secret, _) = setup(&w);
    let p = w.at(1000);
    assert!(block_on(p.authenticate_client(&basic(&client, &secret))).is_ok());
    let wrong = basic(&client, &ClientSecret::new("nope"));
    assert_eq!(block_on(p.authenticate_client(&wrong)).unwrap_err().code, ErrorCode::InvalidClient);
    // Registered for Basic: the same secret in the form is refused.
    let post = ClientCredentials { form_id: Some(client.client_id.clone()), form_secret: Some(secret.clone()), ..Default::default() };
    assert_eq!(block_on(p.authenticate_client(&post)).unwrap_err().code, ErrorCode::InvalidClient);
    // No secret at all for a confidential client.
    let none = ClientCredentials { form_id: Some(client.client_id.clone()), ..Default::default() };
    assert!(block_on(p.authenticate_client(&none)).is_err());
    // Two methods at once.
    let both =
        ClientCredentials { basic: Some((client.client_id.clone(), secret.clone())), form_secret: Some(secret), ..Default::default() };
    assert_eq!(block_on(p.authenticate_client(&both)).unwrap_err().code, ErrorCode::InvalidRequest);
}

#[test]
fn a_stale_cached_client_never_decides_a_refusal() {
    let w = World::new();
    let (client, old_secret, _) = setup(&w);
    let p = w.at(1000);
    // Another isolate cached the client before its secret was rotated.
    w.store.serve_stale_client(client.clone());
    let (_, new_secret) = block_on(p.rotate_client_secret(&client.client_id)).unwrap();
    assert!(block_on(p.authenticate_client(&basic(&client, &new_secret))).is_ok(), "the new secret works at once");
    // The old one still matches the stale copy: accepted until the cache entry expires.
    assert!(block_on(p.authenticate_client(&basic(&client, &old_secret))).is_ok());
    assert!(block_on(p.authenticate_client(&basic(&client, &ClientSecret::new("wrong")))).is_err());

    // A copy cached while the client was inactive does not refuse it once re-activated.
    let mut inactive = client.clone();
    inactive.is_active = false;
    w.store.serve_stale_client(inactive);
    assert!(block_on(p.authenticate_client(&basic(&client, &new_secret))).is_ok());
}

#[test]
fn a_narrowed_refresh_is_checked_before_anything_is_spent() {
    let w = World::new();
    let (client, secret, _) = setup(&w);
    let p = w.at(1000);
    let creds = basic(&client, &secret);
    let t1 = block_on(p.token(&creds, &password_request(Some("openid profile")))).unwrap();
    // Asking for more than was granted: invalid_scope, and the token still works afterwards.
    let wider = block_on(p.token(&creds, &refresh_request(&t1.refresh_token, Some("openid email")))).unwrap_err();
    assert_eq!(wider.code, ErrorCode::InvalidScope);
    let malformed = block_on(p.token(&creds, &refresh_request(&t1.refresh_token, Some("bad\"scope")))).unwrap_err();
    assert_eq!(malformed.code, ErrorCode::InvalidScope);
    // `scope=` names no scope: invalid_scope (omitting it asks for the whole grant).
    let empty = block_on(p.token(&creds, &refresh_request(&t1.refresh_token, Some("")))).unwrap_err();
    assert_eq!(empty.code, ErrorCode::InvalidScope);
    let t2 = block_on(p.token(&creds, &refresh_request(&t1.refresh_token, None))).unwrap();
    assert_eq!(t2.scope, "openid profile");
    // Narrowing applies to this answer only; the family keeps its granted scope.
    let t3 = block_on(p.token(&creds, &refresh_request(&t2.refresh_token, Some("openid")))).unwrap();
    assert_eq!((t3.scope.as_str(), t3.id_token.is_some()), ("openid", true));
    let t4 = block_on(p.token(&creds, &refresh_request(&t3.refresh_token, Some("profile")))).unwrap();
    assert_eq!((t4.scope.as_str(), t4.id_token.is_none()), ("profile", true));
    // A rotated token presented with a scope after the reuse interval is reuse all the same:
    // the family ends.
    let late = w.at(1000 + w.config.refresh_reuse_interval);
    assert_eq!(
        block_on(late.token(&creds, &refresh_request(&t3.refresh_token, Some("openid")))).unwrap_err().code,
        ErrorCode::InvalidGrant
    );
    assert!(block_on(late.token(&creds, &refresh_request(&t4.refresh_token, None))).is_err());
}

#[test]
fn each_grant_needs_the_client_to_be_registered_for_it() {
    let w = World::new();
    let (client, secret, _) = setup(&w);
    let p = w.at(1000);
    // `setup`'s client has no client_credentials.
    let cc = TokenRequest::ClientCredentials { scope: None };
    assert_eq!(block_on(p.token(&basic(&client, &secret), &cc)).unwrap_err().code, ErrorCode::UnauthorizedClient);
    let meta: ClientMetadata =
        serde_json::from_str(r#"{"client_name":"M2M","grant_types":["client_credentials"],"scopes":"openid api:read"}"#).unwrap();
    let (m2m, m2m_secret) = block_on(p.create_client(meta)).unwrap();
    let creds = basic(&m2m, m2m_secret.as_ref().unwrap());
    let t = block_on(p.token(&creds, &cc)).unwrap();
    // Client credentials: no openid, no refresh token, no ID token; the client is the subject.
    assert_eq!((t.scope.as_str(), t.refresh_token.is_none(), t.id_token.is_none()), ("api:read", true, true));
    assert_eq!(block_on(p.verify_access_token(&t.access_token)).unwrap().unwrap().sub, m2m.client_id);
    let openid = TokenRequest::ClientCredentials { scope: Some("openid".into()) };
    assert_eq!(block_on(p.token(&creds, &openid)).unwrap_err().code, ErrorCode::InvalidScope);
    assert_eq!(block_on(p.token(&creds, &password_request(None))).unwrap_err().code, ErrorCode::UnauthorizedClient);
}

#[test]
fn grant_types_round_trip_their_names() {
    for g in GrantType::ALL {
        assert_eq!(GrantType::parse(g.as_str()), Some(g));
    }
    assert_eq!(GrantType::parse("implicit"), None);
    assert_eq!(GrantType::parse("urn:ietf:params:oauth:grant-type:device_code"), None);
}

#[test]
fn a_token_request_never_prints_its_secrets() {
    let shown = format!("{:?} {:?}", password_request(None), code_request("the-code-itself".into(), Some("the-verifier")));
    assert!(!shown.contains("correct horse") && !shown.contains("the-code-itself") && !shown.contains("the-verifier"), "{shown}");
    let creds = basic(&crate::oauth::clients::new_client(0), &ClientSecret::new("the-client-secret"));
    assert!(!format!("{creds:?}").contains("the-client-secret"));
}

// ---- The reuse interval (docs/API.md "Reuse interval"): refreshes that real clients survive.

#[test]
fn within_the_reuse_interval_a_rotated_token_is_answered_from_its_family() {
    let w = World::new();
    assert_eq!(w.config.refresh_reuse_interval, 30, "the default");
    let (client, secret, user) = setup(&w);
    let creds = basic(&client, &secret);
    let t1 = block_on(w.at(1000).token(&creds, &password_request(Some("openid profile")))).unwrap();
    let refresh =
        |at: u64, t: &Option<RefreshTokenSecret>, scope: Option<&str>| block_on(w.at(at).token(&creds, &refresh_request(t, scope)));
    // Two tabs refresh at once, then one retries after a lost answer: all three are answered.
    let tab1 = refresh(1100, &t1.refresh_token, None).unwrap();
    let tab2 = refresh(1100, &t1.refresh_token, None).unwrap();
    let retry = refresh(1129, &t1.refresh_token, Some("openid")).unwrap();
    let issued = [&tab1, &tab2, &retry];
    for (i, a) in issued.iter().enumerate() {
        for b in &issued[i + 1..] {
            assert_ne!(a.refresh_token, b.refresh_token, "each answer has a new refresh token");
        }
    }
    // From the same family: the same grant, subject and scope, never wider.
    let grant = block_on(w.at(1129).verify_access_token(&t1.access_token)).unwrap().unwrap().grant_id;
    for t in issued {
        let at = block_on(w.at(1129).verify_access_token(&t.access_token)).unwrap().expect("usable");
        assert_eq!((at.grant_id.as_ref(), at.sub.as_str(), at.auth_time), (grant.as_ref(), user.id.as_str(), Some(1000)));
    }
    assert_eq!((tab1.scope.as_str(), tab2.scope.as_str(), retry.scope.as_str()), ("openid profile", "openid profile", "openid"));
    let wider = refresh(1120, &t1.refresh_token, Some("openid email")).unwrap_err();
    assert_eq!(wider.code, ErrorCode::InvalidScope);
    // Every token so issued stays valid: each one rotates in turn.
    let next: Vec<_> = issued.iter().map(|t| refresh(1130, &t.refresh_token, None).expect("still valid")).collect();
    assert!(next.iter().all(|t| t.scope == "openid profile"), "the family keeps its granted scope");
    // Once the interval is over, the first token is theft again: the whole grant ends.
    assert_eq!(refresh(1130, &t1.refresh_token, None).unwrap_err().code, ErrorCode::InvalidGrant);
    for t in &next {
        assert!(refresh(1131, &t.refresh_token, None).is_err(), "the family ended");
        assert!(block_on(w.at(1131).verify_access_token(&t.access_token)).unwrap().is_none(), "its access tokens too");
    }
    w.flush_audit();
    let events =
        block_on(crate::store::AuditStore::events(&w.store, &crate::store::AuditQuery { limit: 50, ..Default::default() })).unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == "refresh_token.reuse").count(), 1, "only the late reuse is theft");
}

#[test]
fn a_rotated_token_from_another_client_is_theft_even_within_the_interval() {
    let w = World::new();
    let (client, secret, _) = setup(&w);
    let creds = basic(&client, &secret);
    let p = w.at(1000);
    let t1 = block_on(p.token(&creds, &password_request(None))).unwrap();
    let t2 = block_on(p.token(&creds, &refresh_request(&t1.refresh_token, None))).unwrap();
    let meta: ClientMetadata =
        serde_json::from_str(r#"{"client_name":"Other","grant_types":["refresh_token"],"redirect_uris":["https://other.example/cb"]}"#)
            .unwrap();
    let (other, other_secret) = block_on(p.create_client(meta)).unwrap();
    // The rotated token has leaked to another client: the grant ends.
    let stolen = block_on(w.at(1001).token(&basic(&other, &other_secret.unwrap()), &refresh_request(&t1.refresh_token, None)));
    assert_eq!(stolen.unwrap_err().code, ErrorCode::InvalidGrant);
    assert!(block_on(w.at(1002).token(&creds, &refresh_request(&t2.refresh_token, None))).is_err());
    assert!(block_on(w.at(1002).token(&creds, &refresh_request(&t1.refresh_token, None))).is_err());
}

#[test]
fn a_zero_reuse_interval_is_strict() {
    let mut w = World::new();
    w.config.refresh_reuse_interval = 0;
    let (client, secret, _) = setup(&w);
    let creds = basic(&client, &secret);
    let p = w.at(1000);
    let t1 = block_on(p.token(&creds, &password_request(None))).unwrap();
    let t2 = block_on(p.token(&creds, &refresh_request(&t1.refresh_token, None))).unwrap();
    // The same second is reuse already.
    assert_eq!(block_on(p.token(&creds, &refresh_request(&t1.refresh_token, None))).unwrap_err().code, ErrorCode::InvalidGrant);
    assert!(block_on(p.token(&creds, &refresh_request(&t2.refresh_token, None))).is_err());
}

// ---- A grant ends whole: every access token minted along it stops being accepted.

#[test]
fn refresh_reuse_ends_the_access_tokens_of_the_grant_too() {
    let w = World::new();
    let (client, secret, _) = setup(&w);
    let p = w.at(1000);
    let creds = basic(&client, &secret);
    let t1 = block_on(p.token(&creds, &password_request(Some("openid")))).unwrap();
    let t2 = block_on(p.token(&creds, &refresh_request(&t1.refresh_token, None))).unwrap();
    let other = block_on(p.token(&creds, &password_request(Some("openid")))).unwrap();
    let claims = block_on(p.verify_access_token(&t2.access_token)).unwrap().expect("usable");
    let first = block_on(p.verify_access_token(&t1.access_token)).unwrap().expect("usable");
    assert_eq!(claims.grant_id, first.grant_id, "a rotation stays in its grant");
    assert!(claims.grant_id.is_some());
    // A thief replays t1's refresh token after the reuse interval: the grant ends, access
    // tokens included.
    let p = w.at(1000 + w.config.refresh_reuse_interval);
    assert!(block_on(p.token(&creds, &refresh_request(&t1.refresh_token, None))).is_err());
    for at in [&t1.access_token, &t2.access_token] {
        assert!(block_on(p.verify_access_token(at)).unwrap().is_none());
        assert!(!block_on(p.introspect(at)).unwrap().active);
    }
    assert!(block_on(p.verify_access_token(&other.access_token)).unwrap().is_some(), "another grant lives on");
}

#[test]
fn revoking_a_refresh_token_ends_its_access_tokens() {
    let w = World::new();
    let (client, secret, _) = setup(&w);
    let p = w.at(1000);
    let t = block_on(p.token(&basic(&client, &secret), &password_request(None))).unwrap();
    block_on(p.revoke(&client, t.refresh_token.as_ref().unwrap().expose())).unwrap();
    assert!(block_on(p.verify_access_token(&t.access_token)).unwrap().is_none());
    assert!(block_on(p.userinfo(&t.access_token, None)).is_err());
}

#[test]
fn a_replayed_code_ends_the_grant_even_without_a_refresh_token() {
    let w = World::new();
    let p = w.at(1000);
    let meta: ClientMetadata = serde_json::from_str(
        r#"{"client_name":"NoRefresh","grant_types":["authorization_code"],"redirect_uris":["https://app.example/cb"]}"#,
    )
    .unwrap();
    let (client, secret) = block_on(p.create_client(meta)).unwrap();
    let user = block_on(p.register_user(validate_registration("bob", "bob@example.com", "correct horse", None).unwrap())).unwrap();
    let req = code_request(code(&w, &client, &user, None), None);
    let creds = basic(&client, secret.as_ref().unwrap());
    let t = block_on(w.at(1010).token(&creds, &req)).unwrap();
    assert!(t.refresh_token.is_none());
    let claims = block_on(w.at(1010).verify_access_token(&t.access_token)).unwrap().unwrap();
    assert!(claims.grant_id.is_some(), "a grant without a refresh token still has an id");
    assert!(block_on(w.at(1020).token(&creds, &req)).is_err());
    assert!(block_on(w.at(1020).verify_access_token(&t.access_token)).unwrap().is_none());
}

#[test]
fn deactivating_a_client_ends_its_grants_for_good() {
    let w = World::new();
    let (client, secret, _) = setup(&w);
    let creds = basic(&client, &secret);
    let t = block_on(w.at(1000).token(&creds, &password_request(None))).unwrap();
    let off: ClientMetadata = serde_json::from_str(r#"{"is_active":false}"#).unwrap();
    block_on(w.at(1005).update_client(&client.client_id, off)).unwrap();
    let on: ClientMetadata = serde_json::from_str(r#"{"is_active":true}"#).unwrap();
    block_on(w.at(1010).update_client(&client.client_id, on)).unwrap();
    let later = w.at(1020);
    assert!(block_on(later.verify_access_token(&t.access_token)).unwrap().is_none(), "re-activation brings nothing back");
    assert!(block_on(later.token(&creds, &refresh_request(&t.refresh_token, None))).is_err());
    let fresh = block_on(later.token(&creds, &password_request(None))).unwrap();
    assert!(block_on(later.verify_access_token(&fresh.access_token)).unwrap().is_some(), "new grants work");
}

#[test]
fn a_refresh_family_ends_at_its_absolute_lifetime_however_often_it_rotates() {
    let mut w = World::new();
    w.config.refresh_token_ttl = 400;
    w.config.refresh_family_lifetime = 1000;
    let (client, secret, _) = setup(&w);
    let creds = basic(&client, &secret);
    let mut t = block_on(w.at(1000).token(&creds, &password_request(None))).unwrap();
    // Rotating every 300 s keeps each token fresh, but not the family past 1000 + 1000.
    for now in [1300, 1600, 1900] {
        t = block_on(w.at(now).token(&creds, &refresh_request(&t.refresh_token, None))).unwrap();
    }
    let hash = crate::crypto::sha256_b64url(t.refresh_token.as_ref().unwrap().expose());
    let record = block_on(crate::store::RefreshStore::refresh(&w.store, &hash)).unwrap().unwrap();
    assert_eq!((record.token.expires_at, record.token.family_expires_at), (2000, 2000), "capped at the family's end");
    let late = block_on(w.at(2000).token(&creds, &refresh_request(&t.refresh_token, None))).unwrap_err();
    assert_eq!(late.code, ErrorCode::InvalidGrant);
}

#[test]
fn a_clients_narrowed_scopes_apply_at_its_next_refresh() {
    let w = World::new();
    let (client, secret, _) = setup(&w);
    let p = w.at(1000);
    let creds = basic(&client, &secret);
    let t = block_on(p.token(&creds, &password_request(Some("openid profile email")))).unwrap();
    let narrowed: ClientMetadata = serde_json::from_str(r#"{"scopes":"openid"}"#).unwrap();
    block_on(p.update_client(&client.client_id, narrowed)).unwrap();
    let next = block_on(p.token(&creds, &refresh_request(&t.refresh_token, None))).unwrap();
    assert_eq!(next.scope, "openid");
    // The family keeps what was granted: widening the client again gives it back.
    let widened: ClientMetadata = serde_json::from_str(r#"{"scopes":"openid profile email"}"#).unwrap();
    block_on(p.update_client(&client.client_id, widened)).unwrap();
    let again = block_on(p.token(&creds, &refresh_request(&next.refresh_token, None))).unwrap();
    assert_eq!(again.scope, "email openid profile");
}

#[test]
fn an_empty_scope_parameter_is_invalid_scope_at_every_grant() {
    let w = World::new();
    let (client, secret, _) = setup(&w);
    let p = w.at(1000);
    let creds = basic(&client, &secret);
    assert_eq!(block_on(p.token(&creds, &password_request(Some("")))).unwrap_err().code, ErrorCode::InvalidScope);
    assert_eq!(block_on(p.token(&creds, &password_request(Some("  ")))).unwrap_err().code, ErrorCode::InvalidScope);
}

#[test]
fn a_code_that_has_not_reached_this_location_of_kv_is_redeemed_from_its_d1_copy() {
    let w = World::new();
    let (client, secret, user) = setup(&w);
    let c = code(&w, &client, &user, None);
    w.store.miss_code_at_the_edge(&crate::crypto::sha256_b64url(&c));
    let req = code_request(c, None);
    let creds = basic(&client, &secret);
    let t = block_on(w.at(1010).token(&creds, &req)).expect("redeemed from the copy");
    assert!(block_on(w.at(1010).verify_access_token(&t.access_token)).unwrap().is_some());
    // Still single use, and a replay there is still seen as one: what it issued ends.
    assert_eq!(block_on(w.at(1011).token(&creds, &req)).unwrap_err().code, ErrorCode::InvalidGrant);
    assert!(block_on(w.at(1011).verify_access_token(&t.access_token)).unwrap().is_none());
}

#[test]
fn a_public_client_can_neither_register_for_nor_use_the_password_grant() {
    let w = World::new();
    let p = w.at(1000);
    let meta: ClientMetadata = serde_json::from_str(
        r#"{"client_name":"SPA","client_type":"public","grant_types":["authorization_code","password"],"redirect_uris":["https://spa.example/cb"]}"#,
    )
    .unwrap();
    assert_eq!(block_on(p.create_client(meta)).unwrap_err().code, ErrorCode::InvalidRequest);
    // One stored before the rule existed is refused at the grant.
    let legacy = Client {
        client_type: crate::store::ClientType::Public,
        token_endpoint_auth_method: crate::store::AuthMethod::None,
        grant_types: vec![GrantType::Password],
        ..crate::oauth::clients::new_client(1000)
    };
    block_on(crate::store::ClientStore::insert_client(&w.store, &legacy)).unwrap();
    block_on(p.register_user(validate_registration("carol", "carol@example.com", "correct horse", None).unwrap())).unwrap();
    let creds = ClientCredentials { form_id: Some(legacy.client_id.clone()), ..Default::default() };
    let req = TokenRequest::Password { username: "carol".into(), password: Password::new("correct horse"), scope: None };
    assert_eq!(block_on(p.token(&creds, &req)).unwrap_err().code, ErrorCode::UnauthorizedClient);
}

#[test]
fn a_client_registered_for_rs256_gets_rs256_id_tokens_that_also_serve_as_logout_hints() {
    let w = World::new();
    let p = w.at(1000);
    let meta: ClientMetadata = serde_json::from_str(
        r#"{"client_name":"RSA app","redirect_uris":["https://app.example/cb"],"id_token_signed_response_alg":"RS256"}"#,
    )
    .unwrap();
    let (client, secret) = block_on(p.create_client(meta)).unwrap();
    let user = block_on(p.register_user(validate_registration("ruth", "ruth@example.com", "correct horse", None).unwrap())).unwrap();
    let t =
        block_on(w.at(1010).token(&basic(&client, secret.as_ref().unwrap()), &code_request(code(&w, &client, &user, None), None))).unwrap();
    let id_token = t.id_token.unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&crate::crypto::b64url_decode(id_token.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], w.keys.rs256.as_ref().unwrap().public.kid.as_str());
    let claims: serde_json::Value = jwt::verify_id_token(&w.keys, &id_token).unwrap();
    assert_eq!((claims["sub"].as_str(), claims["aud"].as_str()), (Some(user.id.as_str()), Some(client.client_id.as_str())));
    // The access token stays ES256.
    assert!(block_on(w.at(1010).verify_access_token(&t.access_token)).unwrap().is_some());
    // A tampered RS256 token does not verify.
    let mut forged = id_token.clone();
    forged.push('A');
    assert!(jwt::verify_id_token::<serde_json::Value>(&w.keys, &forged).is_err());
    // Without an RS256 key the registration is refused.
    let mut bare = World::new();
    bare.keys.rs256 = None;
    let meta: ClientMetadata = serde_json::from_str(
        r#"{"client_name":"RSA app","redirect_uris":["https://app.example/cb"],"id_token_signed_response_alg":"RS256"}"#,
    )
    .unwrap();
    assert_eq!(block_on(bare.at(1000).create_client(meta)).unwrap_err().code, ErrorCode::InvalidRequest);
}
