//! Tests of the storage contract's own rules: the lockout curve, when a refresh token is usable,
//! and how errors read in logs.
//! The in-memory store's behaviour is tested in `memory/tests.rs`.

use super::*;

#[test]
fn the_lock_starts_after_five_failures_doubles_and_is_capped() {
    let now = 1_000;
    for failures in 0..LOCK_AFTER_FAILURES {
        assert_eq!(lock_until(failures, now), 0, "{failures} failures do not lock");
    }
    assert_eq!(lock_until(LOCK_AFTER_FAILURES, now), now + LOCK_BASE_SECONDS);
    assert_eq!(lock_until(LOCK_AFTER_FAILURES + 1, now), now + 2 * LOCK_BASE_SECONDS);
    assert_eq!(lock_until(LOCK_AFTER_FAILURES + 2, now), now + 4 * LOCK_BASE_SECONDS);
    let mut previous = 0;
    for failures in LOCK_AFTER_FAILURES..200 {
        let lock = lock_until(failures, now);
        assert!(lock >= previous, "the lock never shortens as failures grow");
        assert!(lock <= now + LOCK_MAX_SECONDS);
        previous = lock;
    }
    assert_eq!(previous, now + LOCK_MAX_SECONDS, "the cap is reached");
    assert_eq!(lock_until(u32::MAX, now), now + LOCK_MAX_SECONDS, "no overflow at the largest count");
}

#[test]
fn errors_read_with_their_detail_in_logs() {
    let e = StoreError::Backend("D1_ERROR: no such table: users".into());
    assert_eq!(e.to_string(), "storage backend failed: D1_ERROR: no such table: users");
    assert_eq!(StoreError::Conflict("username".into()).to_string(), "conflict: the username is taken");
    let boxed: Box<dyn std::error::Error> = Box::new(e);
    assert!(boxed.to_string().contains("no such table"));
}

#[test]
fn the_lock_curve_is_lock_until_clamped_to_its_last_entry() {
    // D1's record_failure relies on exactly this: curve[min(failures, len - 1)].
    for now in [0, 1_000, 1_764_000_000] {
        let curve = lock_curve(now);
        assert!(curve.len() >= 2, "a new row looks up entry 1");
        for failures in 0..1_000 {
            assert_eq!(curve[(failures as usize).min(curve.len() - 1)], lock_until(failures, now), "{failures} at {now}");
        }
        assert_eq!(*curve.last().unwrap(), lock_until(u32::MAX, now));
    }
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
