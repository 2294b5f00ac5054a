//! Resource indicators (RFC 8707) through the grants: what `/authorize` holds in the code, the
//! access token's `aud`, narrowing on exchange and refresh, and `invalid_target`.

use super::tests::{basic, code_request, password_request, refresh_request, setup};
use super::*;
use crate::oauth::authorize::{AuthorizationParams, AuthorizeError};
use crate::oauth::resource::Audience;
use crate::oauth::{block_on, ErrorCode};
use crate::testing::World;

const MCP: &str = "https://mcp.example/mcp";
const API: &str = "https://api.example/";

fn params(client: &Client, resources: &[&str]) -> AuthorizationParams {
    AuthorizationParams {
        client_id: Some(client.client_id.clone()),
        redirect_uri: Some("https://app.example/cb".into()),
        response_type: Some("code".into()),
        scope: Some("openid profile".into()),
        resource: resources.iter().map(|r| r.to_string()).collect(),
        ..Default::default()
    }
}

fn code_for(w: &World, client: &Client, user: &crate::store::User, resources: &[&str]) -> String {
    let p = w.at(1000);
    let req = block_on(p.validate_authorization(&params(client, resources))).unwrap();
    let loc = block_on(p.issue_code(&req, user, &crate::oauth::amr::Authentication::password(1000))).unwrap();
    crate::form::parse(loc.split_once('?').unwrap().1).unwrap().into_iter().find(|(k, _)| k == "code").unwrap().1
}

fn res(v: &[&str]) -> Vec<String> {
    v.iter().map(|r| r.to_string()).collect()
}

#[test]
fn the_authorized_resources_become_the_audience_and_a_refresh_narrows_them() {
    let w = World::new();
    let (client, secret, user) = setup(&w);
    let p = w.at(1010);
    let c = code_for(&w, &client, &user, &[MCP, API]);
    let t = block_on(p.token(&basic(&client, &secret), &code_request(c, None))).unwrap();
    let claims = block_on(p.verify_access_token(&t.access_token)).unwrap().unwrap();
    assert_eq!(claims.aud, Audience::Many(res(&[MCP, API])));
    // The ID token stays the client's (OIDC Core §2).
    let id: serde_json::Value = crate::crypto::jwt::verify(&w.keys, t.id_token.as_ref().unwrap(), Some("JWT")).unwrap();
    assert_eq!(id["aud"], client.client_id.as_str());

    // A refresh narrowed to one resource: a token for it alone, as a string.
    let narrowed = block_on(p.token_for(&basic(&client, &secret), &refresh_request(&t.refresh_token, None), &res(&[MCP]), None)).unwrap();
    let claims = block_on(p.verify_access_token(&narrowed.access_token)).unwrap().unwrap();
    assert_eq!(serde_json::to_value(&claims.aud).unwrap(), MCP);
    // The grant still holds both: the next refresh may ask for the other one.
    let other =
        block_on(p.token_for(&basic(&client, &secret), &refresh_request(&narrowed.refresh_token, None), &res(&[API]), None)).unwrap();
    assert!(block_on(p.verify_access_token(&other.access_token)).unwrap().unwrap().aud.is_only(API));
    // Never widened: a resource the grant does not hold, and the refresh token is not spent.
    let wider = &res(&["https://elsewhere.example/"]);
    let e = block_on(p.token_for(&basic(&client, &secret), &refresh_request(&other.refresh_token, None), wider, None)).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidTarget);
    let again = block_on(p.token(&basic(&client, &secret), &refresh_request(&other.refresh_token, None))).unwrap();
    assert_eq!(block_on(p.verify_access_token(&again.access_token)).unwrap().unwrap().aud, Audience::Many(res(&[MCP, API])));
}

#[test]
fn the_code_exchange_may_narrow_but_not_name_another_resource() {
    let w = World::new();
    let (client, secret, user) = setup(&w);
    let p = w.at(1010);
    let c = code_for(&w, &client, &user, &[MCP, API]);
    let e = block_on(p.token_for(&basic(&client, &secret), &code_request(c.clone(), None), &res(&["https://other.example/"]), None))
        .unwrap_err();
    assert_eq!((e.code, e.status()), (ErrorCode::InvalidTarget, 400));
    // Refused before the code was spent: it still works, narrowed.
    let t = block_on(p.token_for(&basic(&client, &secret), &code_request(c, None), &res(&[API]), None)).unwrap();
    assert!(block_on(p.verify_access_token(&t.access_token)).unwrap().unwrap().aud.is_only(API));

    // A grant without resources holds none: naming one at the token endpoint is invalid_target.
    let plain = code_for(&w, &client, &user, &[]);
    let e = block_on(p.token_for(&basic(&client, &secret), &code_request(plain.clone(), None), &res(&[MCP]), None)).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidTarget);
    let t = block_on(p.token(&basic(&client, &secret), &code_request(plain, None))).unwrap();
    assert!(block_on(p.verify_access_token(&t.access_token)).unwrap().unwrap().aud.is_only("https://issuer.example"));
}

#[test]
fn authorize_refuses_a_malformed_resource_by_redirect() {
    let w = World::new();
    let (client, _, _) = setup(&w);
    for bad in ["mcp.example", "https://mcp.example/#x", "/relative"] {
        match block_on(w.at(1000).validate_authorization(&params(&client, &[bad]))) {
            Err(AuthorizeError::Redirect { error, .. }) => assert_eq!(error.code, ErrorCode::InvalidTarget, "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn a_new_grant_at_the_token_endpoint_holds_what_it_names() {
    let w = World::new();
    let (client, secret, _) = setup(&w);
    let p = w.at(1010);
    let t = block_on(p.token_for(&basic(&client, &secret), &password_request(None), &res(&[MCP]), None)).unwrap();
    assert!(block_on(p.verify_access_token(&t.access_token)).unwrap().unwrap().aud.is_only(MCP));
    let r = block_on(p.token(&basic(&client, &secret), &refresh_request(&t.refresh_token, None))).unwrap();
    assert!(block_on(p.verify_access_token(&r.access_token)).unwrap().unwrap().aud.is_only(MCP));
}

#[test]
fn userinfo_reads_claims_only_with_a_token_for_this_server() {
    let mut w = World::new();
    w.config.access_token_audience = API.into();
    let (client, secret, user) = setup(&w);
    let p = w.at(1010);
    // A token for the MCP server alone: not for the UserInfo Endpoint.
    let t = block_on(p.token(&basic(&client, &secret), &code_request(code_for(&w, &client, &user, &[MCP]), None))).unwrap();
    let e = block_on(p.userinfo(&t.access_token, None)).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidToken);
    // Without a resource the token has the default audience, which userinfo accepts; so does a
    // token also for this issuer.
    let plain = block_on(p.token(&basic(&client, &secret), &code_request(code_for(&w, &client, &user, &[]), None))).unwrap();
    assert_eq!(block_on(p.userinfo(&plain.access_token, None)).unwrap().sub, user.id);
    let both =
        block_on(p.token(&basic(&client, &secret), &code_request(code_for(&w, &client, &user, &[MCP, "https://issuer.example"]), None)))
            .unwrap();
    assert_eq!(block_on(p.userinfo(&both.access_token, None)).unwrap().sub, user.id);
}
