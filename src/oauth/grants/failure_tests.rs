//! A storage backend failing mid-flow: a 500 with the detail kept for the log, and nothing
//! already stored lost or half-changed (the same request succeeds once the backend is back).

use super::tests::{basic, code, code_request, password_request, refresh_request, setup};
use super::*;
use crate::oauth::{block_on, ErrorCode};
use crate::store::memory::StorageMode;
use crate::testing::World;

fn assert_backend_failure(e: OAuthError, method: &str) {
    assert_eq!((e.code, e.description.as_str()), (ErrorCode::ServerError, "storage is unavailable"), "{e:?}");
    assert_eq!(e.internal.as_deref(), Some(format!("injected failure: {method}").as_str()));
}

#[test]
fn a_failed_redemption_spends_nothing() {
    let w = World::new();
    let (client, secret, user) = setup(&w);
    let p = w.at(1010);
    let req = code_request(code(&w, &client, &user, None), None);
    // Client and code are read, then the redemption's write fails.
    w.store.set_mode(StorageMode::BreakAfter(2));
    assert_backend_failure(block_on(p.token(&basic(&client, &secret), &req)).unwrap_err(), "redeem_code");
    w.store.set_mode(StorageMode::Normal);
    let t = block_on(p.token(&basic(&client, &secret), &req)).expect("the code is still good");
    assert!(block_on(p.verify_access_token(&t.access_token)).unwrap().is_some());
}

#[test]
fn a_replay_whose_revocation_fails_is_an_error_and_can_be_retried() {
    let w = World::new();
    let (client, secret, user) = setup(&w);
    let p = w.at(1010);
    let creds = basic(&client, &secret);
    let req = code_request(code(&w, &client, &user, None), None);
    let first = block_on(p.token(&creds, &req)).unwrap();
    // The replay is detected (client, code, redemption), then revoking the family fails: the
    // answer must not be a quiet invalid_grant that leaves the first tokens alive unnoticed.
    w.store.set_mode(StorageMode::BreakAfter(3));
    assert_backend_failure(block_on(p.token(&creds, &req)).unwrap_err(), "end_grant");
    w.store.set_mode(StorageMode::Normal);
    assert!(block_on(p.verify_access_token(&first.access_token)).unwrap().is_some(), "nothing revoked yet");
    // A later replay revokes as it should.
    assert_eq!(block_on(p.token(&creds, &req)).unwrap_err().code, ErrorCode::InvalidGrant);
    assert!(block_on(p.verify_access_token(&first.access_token)).unwrap().is_none());
    assert!(block_on(p.token(&creds, &refresh_request(&first.refresh_token, None))).is_err());
}

#[test]
fn a_failed_rotation_keeps_the_refresh_token_usable() {
    let w = World::new();
    let (client, secret, _) = setup(&w);
    let p = w.at(1000);
    let creds = basic(&client, &secret);
    let t = block_on(p.token(&creds, &password_request(Some("openid")))).unwrap();
    // Without a scope: the client is read, then the rotation fails.
    w.store.set_mode(StorageMode::BreakAfter(1));
    assert_backend_failure(block_on(p.token(&creds, &refresh_request(&t.refresh_token, None))).unwrap_err(), "rotate_refresh_for");
    // With a scope: client and family read, then the rotation fails.
    w.store.set_mode(StorageMode::BreakAfter(2));
    let narrowed = refresh_request(&t.refresh_token, Some("openid"));
    assert_backend_failure(block_on(p.token(&creds, &narrowed)).unwrap_err(), "rotate_refresh_for");
    w.store.set_mode(StorageMode::Normal);
    assert!(block_on(p.token(&creds, &refresh_request(&t.refresh_token, None))).is_ok(), "not spent by the failures");
}

#[test]
fn reuse_whose_grant_ending_fails_is_an_error() {
    let w = World::new();
    let (client, secret, _) = setup(&w);
    let p = w.at(1000);
    let creds = basic(&client, &secret);
    let t1 = block_on(p.token(&creds, &password_request(None))).unwrap();
    let t2 = block_on(p.token(&creds, &refresh_request(&t1.refresh_token, None))).unwrap();
    // Reuse of t1 after the reuse interval: client read, rotation refused, then revoking the
    // family fails.
    let p = w.at(1000 + w.config.refresh_reuse_interval);
    w.store.set_mode(StorageMode::BreakAfter(2));
    assert_backend_failure(block_on(p.token(&creds, &refresh_request(&t1.refresh_token, None))).unwrap_err(), "end_grant");
    w.store.set_mode(StorageMode::Normal);
    assert_eq!(block_on(p.token(&creds, &refresh_request(&t1.refresh_token, None))).unwrap_err().code, ErrorCode::InvalidGrant);
    assert!(block_on(p.token(&creds, &refresh_request(&t2.refresh_token, None))).is_err(), "the family ended on the retry");
}

#[test]
fn storage_failures_elsewhere_are_500s_not_refusals() {
    let w = World::new();
    let (client, secret, _) = setup(&w);
    let p = w.at(1000);
    let creds = basic(&client, &secret);
    // Client authentication cannot read the client: not invalid_client.
    w.store.set_mode(StorageMode::Break);
    assert_backend_failure(block_on(p.token(&creds, &password_request(None))).unwrap_err(), "client_for_auth");
    assert_backend_failure(block_on(p.introspect("opaque-refresh-token")).unwrap_err(), "refresh");
    // The password grant's refresh token cannot be stored: no tokens are answered.
    // (client, address budget, reservation, user lookup, clearing the count, the second-factor
    // lookup, then insert_refresh.)
    w.store.set_mode(StorageMode::BreakAfter(6));
    assert_backend_failure(block_on(p.token(&creds, &password_request(None))).unwrap_err(), "insert_refresh");
    w.store.set_mode(StorageMode::Normal);
    let t = block_on(p.token(&creds, &password_request(None))).unwrap();
    // Revocation and userinfo report the failure too.
    w.store.set_mode(StorageMode::Break);
    assert_backend_failure(block_on(p.revoke(&client, t.refresh_token.as_ref().unwrap().expose())).unwrap_err(), "refresh");
    assert_backend_failure(block_on(p.userinfo(&t.access_token, None)).unwrap_err(), "access_token_usable");
    w.store.set_mode(StorageMode::Normal);
}
