//! Tests of the storage contract's own rules: when a refresh token is usable, and how errors read
//! in logs.
//! The in-memory store's behaviour is tested in `memory/tests.rs`.

use super::*;

#[test]
fn errors_read_with_their_detail_in_logs() {
    let e = StoreError::Backend("D1_ERROR: no such table: users".into());
    assert_eq!(e.to_string(), "storage backend failed: D1_ERROR: no such table: users");
    assert_eq!(StoreError::Conflict("username".into()).to_string(), "conflict: the username is taken");
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(boxed.to_string().contains("no such table"));
}

#[test]
fn a_refresh_token_is_usable_while_active_unexpired_by_its_client_with_its_user() {
    let user = User {
        id: "u1".into(),
        username: "alice".into(),
        email: "a@example.com".into(),
        password_hash: "h".into(),
        role: "user".into(),
        created_at: 1,
        disabled: false,
    };
    let token = RefreshToken {
        token_hash: "r".into(),
        family_id: "f".into(),
        client_id: "c1".into(),
        user_id: "u1".into(),
        scope: "openid".into(),
        resources: vec![],
        auth_time: 1,
        issued_at: 1,
        expires_at: 100,
        family_expires_at: 1000,
        jkt: None,
    };
    let record = RefreshRecord { token, status: RefreshStatus::Active, rotated_at: None, user: Some(user) };
    assert!(record.is_live(99) && record.usable_by("c1", 99, 0));
    assert!(!record.is_live(100) && !record.usable_by("c1", 100, 0), "expired at expires_at");
    assert!(!record.usable_by("c2", 99, 0), "another client");
    assert!(!RefreshRecord { user: None, ..record.clone() }.usable_by("c1", 99, 0), "the user is gone");
    assert!(RefreshRecord { user: None, ..record.clone() }.is_live(99), "liveness does not ask for the user");
    for status in [RefreshStatus::Rotated, RefreshStatus::Revoked] {
        let r = RefreshRecord { status, ..record.clone() };
        assert!(!r.is_live(99) && !r.usable_by("c1", 99, 0), "{status:?}");
    }
    // Rotated at 90: usable by its own client until the interval is over, never when strict.
    let rotated = RefreshRecord { status: RefreshStatus::Rotated, rotated_at: Some(90), ..record.clone() };
    assert!(rotated.usable_by("c1", 99, 30) && rotated.within_reuse_interval(99, 30));
    assert!(!rotated.usable_by("c1", 99, 9) && rotated.usable_by("c1", 98, 9), "the interval ends");
    assert!(!rotated.usable_by("c1", 90, 0), "strict");
    assert!(!rotated.usable_by("c2", 95, 30), "another client");
    assert!(!RefreshRecord { rotated_at: None, ..rotated.clone() }.usable_by("c1", 95, 30), "rotated before the interval existed");
    assert!(!RefreshRecord { status: RefreshStatus::Revoked, ..rotated }.usable_by("c1", 95, 30), "revoked");
}
