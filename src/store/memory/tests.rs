//! Tests of the in-memory store: its failure modes (each concern's methods fail when broken, a
//! failed call changes nothing, `BreakAfter` counts) and the conditional writes it shares with
//! D1 (single redemption of a code, rotation of a usable refresh token, family revocation).

use super::*;
use crate::oauth::block_on;
use crate::oauth::lockout::{LOCK_AFTER_FAILURES, LOCK_BASE_SECONDS};

const NOW: u64 = 1_000;

fn user(id: &str) -> User {
    User {
        id: id.into(),
        username: format!("{id}-name"),
        email: format!("{id}@example.com"),
        password_hash: "hash".into(),
        role: "user".into(),
        created_at: 1,
        disabled: false,
    }
}

fn client(id: &str) -> Client {
    Client {
        client_id: id.into(),
        client_secret_hash: None,
        client_name: id.into(),
        client_type: ClientType::Public,
        token_endpoint_auth_method: AuthMethod::None,
        grant_types: vec![crate::oauth::GrantType::AuthorizationCode, crate::oauth::GrantType::RefreshToken],
        redirect_uris: vec![format!("https://{id}.example/cb")],
        post_logout_redirect_uris: vec![],
        response_types: vec!["code".into()],
        scopes: vec!["openid".into()],
        id_token_signed_response_alg: "ES256".into(),
        dynamic: false,
        registration_token_hash: None,
        client_uri: None,
        metadata_expires_at: None,
        require_mfa: false,
        key_binding: Default::default(),
        client_secret_sealed: None,
        is_active: true,
        created_at: 1,
        updated_at: 1,
    }
}

fn token(hash: &str, family: &str, client_id: &str, user_id: &str, expires_at: u64) -> RefreshToken {
    RefreshToken {
        token_hash: hash.into(),
        family_id: family.into(),
        client_id: client_id.into(),
        user_id: user_id.into(),
        scope: "openid".into(),
        resources: vec!["https://mcp.example/mcp".into()],
        auth_time: 10,
        issued_at: 20,
        expires_at,
        family_expires_at: expires_at + 1000,
        jkt: None,
    }
}

fn code(client_id: &str) -> AuthorizationCode {
    AuthorizationCode {
        client_id: client_id.into(),
        redirect_uri: format!("https://{client_id}.example/cb"),
        scope: "openid".into(),
        nonce: None,
        code_challenge: None,
        resources: vec![],
        user_id: "u1".into(),
        username: "u1-name".into(),
        email: "u1@example.com".into(),
        role: "user".into(),
        auth_time: 10,
        amr: vec!["pwd".into()],
        expires_at: NOW + 60,
    }
}

/// The redeeming client, marked as used with each redemption below.
const C1_USE: Option<ClientUse<'static>> = Some(ClientUse { client_id: "c1", at: NOW });

fn consumed(code_hash: &str, family: Option<&str>) -> ConsumedCode {
    ConsumedCode {
        code_hash: code_hash.into(),
        family_id: family.map(Into::into),
        access_jti: "jti-1".into(),
        access_exp: NOW + 300,
        expires_at: NOW + 600,
    }
}

fn session(id_hash: &str, expires_at: u64) -> Session {
    Session { id_hash: id_hash.into(), user_id: "u1".into(), auth_time: 10, expires_at, amr: vec!["pwd".into()], user_agent: String::new() }
}

/// A store with something of every kind, some of it expired, so that each write below would
/// change it.
fn seeded() -> MemoryStore {
    let s = MemoryStore::default();
    block_on(async {
        s.insert_user(&user("u1")).await.unwrap();
        s.insert_client(&client("c1")).await.unwrap();
        s.insert_client(&client("c2")).await.unwrap();
        s.put_code("code-1", &code("c1"), 60).await.unwrap();
        s.redeem_code(&consumed("code-0", Some("f1")), C1_USE, Some(&token("r1", "f1", "c1", "u1", NOW + 100))).await.unwrap();
        s.insert_refresh(&token("r2", "f2", "c2", "u1", NOW - 1)).await.unwrap();
        s.revoke_access("jti-0", NOW - 1).await.unwrap();
        s.create_session(&session("s1", NOW + 100)).await.unwrap();
        s.reserve_attempt("k1", NOW, &crate::oauth::lockout::lock_curve(NOW)).await.unwrap();
    });
    s
}

/// One call of every method of a concern, each reduced to its name and whether it worked.
type Calls = Vec<(&'static str, StoreResult<()>)>;

/// A concern's name and its calls.
type Concern = (&'static str, fn(&MemoryStore) -> Calls);

fn user_calls(s: &MemoryStore) -> Calls {
    block_on(async {
        vec![
            ("insert_user", s.insert_user(&user("u2")).await),
            ("user_by_username", s.user_by_username("u1-name").await.map(drop)),
            ("user_by_id", s.user_by_id("u1").await.map(drop)),
            ("set_password_hash", s.set_password_hash("u1", "new-hash").await),
        ]
    })
}

fn client_calls(s: &MemoryStore) -> Calls {
    let mut changed = client("c1");
    changed.client_name = "renamed".into();
    block_on(async {
        vec![
            ("insert_client", s.insert_client(&client("c3")).await),
            ("client", s.client("c1").await.map(drop)),
            ("client_for_auth", s.client_for_auth("c1", NOW).await.map(drop)),
            ("clients", s.clients().await.map(drop)),
            ("clients_with_redirect", s.clients_with_redirect("https://c1.example/cb").await.map(drop)),
            ("update_client", s.update_client(&changed).await.map(drop)),
            ("delete_client", s.delete_client("c2").await.map(drop)),
            ("set_client_secret_hash", s.set_client_secret_hash("c1", "secret-hash", None, NOW).await.map(drop)),
            ("end_client_grants", s.end_client_grants("c1", NOW).await),
        ]
    })
}

fn code_calls(s: &MemoryStore) -> Calls {
    block_on(async {
        vec![
            ("put_code", s.put_code("code-2", &code("c1"), 60).await),
            ("code", s.code("code-1").await.map(drop)),
            (
                "redeem_code",
                s.redeem_code(&consumed("code-1", Some("f3")), C1_USE, Some(&token("r3", "f3", "c1", "u1", NOW + 100))).await.map(drop),
            ),
        ]
    })
}

fn refresh_calls(s: &MemoryStore) -> Calls {
    let new = NewRefresh { token_hash: "r1-next".into(), issued_at: NOW, expires_at: NOW + 100, jkt: None };
    block_on(async {
        vec![
            ("insert_refresh", s.insert_refresh(&token("r4", "f4", "c1", "u1", NOW + 100)).await),
            ("refresh", s.refresh("r1").await.map(drop)),
            ("rotate_refresh_for", s.rotate_refresh_for("r1", "c1", &new, NOW, 0).await.map(drop)),
            ("end_grant", s.end_grant("f1", NOW + 300).await),
            ("revoke_access", s.revoke_access("jti-1", NOW + 300).await),
            ("access_token_usable", s.access_token_usable(&access("jti-1", "c1", Some("f1"), Some("u1"))).await.map(drop)),
        ]
    })
}

fn session_calls(s: &MemoryStore) -> Calls {
    block_on(async {
        vec![
            ("create_session", s.create_session(&session("s2", NOW + 100)).await),
            ("session", s.session("s1", NOW).await.map(drop)),
            ("delete_session", s.delete_session("s1").await),
        ]
    })
}

fn throttle_calls(s: &MemoryStore) -> Calls {
    block_on(async {
        vec![
            ("reserve_attempt", s.reserve_attempt("k2", NOW, &[0]).await.map(drop)),
            ("clear_failures", s.clear_failures("k1").await),
            ("allow", s.allow(AddressLimit::SignIn, "192.0.2.7", NOW).await.map(drop)),
        ]
    })
}

fn maintenance_calls(s: &MemoryStore) -> Calls {
    block_on(async { vec![("purge_expired", s.purge_expired(NOW).await.map(drop))] })
}

#[test]
fn each_concern_fails_when_broken_and_a_failed_call_changes_nothing() {
    let concerns: [Concern; 7] = [
        ("users", user_calls),
        ("clients", client_calls),
        ("codes", code_calls),
        ("refresh", refresh_calls),
        ("sessions", session_calls),
        ("throttle", throttle_calls),
        ("maintenance", maintenance_calls),
    ];
    for (concern, calls) in concerns {
        let store = seeded();
        let before = store.snapshot();
        store.set_mode(StorageMode::Break);
        for (method, result) in calls(&store) {
            assert_eq!(result, Err(StoreError::Backend(format!("injected failure: {method}"))), "{concern}");
        }
        assert_eq!(store.snapshot(), before, "{concern}: a failed call changed the store");
        // The same calls on a working store succeed and do change it: the check above means something.
        store.set_mode(StorageMode::Normal);
        for (method, result) in calls(&store) {
            assert_eq!(result, Ok(()), "{concern}: {method}");
        }
        assert_ne!(store.snapshot(), before, "{concern}: these calls write");
    }
}

#[test]
fn a_stale_client_copy_is_not_served_by_a_broken_store() {
    let store = seeded();
    store.serve_stale_client(client("c1"));
    store.set_mode(StorageMode::Break);
    assert!(block_on(store.client_for_auth("c1", NOW)).is_err());
    store.set_mode(StorageMode::Normal);
    assert!(block_on(store.client_for_auth("c1", NOW)).unwrap().1, "served as cached");
}

#[test]
fn break_after_lets_the_first_calls_through_then_fails_without_writing() {
    let store = seeded();
    // A code exchange broken after its read, before its redemption is written.
    store.set_mode(StorageMode::BreakAfter(2));
    assert!(block_on(store.code("code-1")).unwrap().is_some());
    assert_eq!(store.mode(), StorageMode::BreakAfter(1));
    assert!(block_on(store.client("c1")).unwrap().is_some());
    assert_eq!(store.mode(), StorageMode::BreakAfter(0));
    let before = store.snapshot();
    let redeem = block_on(store.redeem_code(&consumed("code-1", Some("f3")), C1_USE, Some(&token("r3", "f3", "c1", "u1", NOW + 100))));
    assert_eq!(redeem, Err(StoreError::Backend("injected failure: redeem_code".into())));
    assert!(block_on(store.code("code-1")).is_err(), "it stays broken");
    assert_eq!(store.snapshot(), before);
    // Repaired, the redemption is still the first: the failed one left no trace.
    store.set_mode(StorageMode::Normal);
    let redeem = block_on(store.redeem_code(&consumed("code-1", Some("f3")), C1_USE, Some(&token("r3", "f3", "c1", "u1", NOW + 100))));
    assert_eq!(redeem, Ok(Redemption::First));
    // BreakAfter(0) is broken at once.
    store.set_mode(StorageMode::BreakAfter(0));
    assert!(block_on(store.user_by_id("u1")).is_err());
}

#[test]
fn a_code_is_redeemed_once_and_a_replay_gets_what_the_first_issued() {
    let store = seeded();
    let first = consumed("code-1", Some("f3"));
    assert_eq!(block_on(store.redeem_code(&first, C1_USE, Some(&token("r3", "f3", "c1", "u1", NOW + 100)))), Ok(Redemption::First));
    assert_eq!(block_on(store.refresh("r3")).unwrap().unwrap().status, RefreshStatus::Active, "stored with the redemption");
    let replay = ConsumedCode { access_jti: "jti-2".into(), ..consumed("code-1", Some("f5")) };
    assert_eq!(
        block_on(store.redeem_code(&replay, C1_USE, Some(&token("r5", "f5", "c1", "u1", NOW + 100)))),
        Ok(Redemption::Replayed(Some(first)))
    );
    assert_eq!(block_on(store.refresh("r5")), Ok(None), "a replay stores no refresh token");
    // Without a refresh token, the first redemption stores none.
    assert_eq!(block_on(store.redeem_code(&consumed("code-9", None), C1_USE, None)), Ok(Redemption::First));
}

#[test]
fn rotate_refresh_for_rotates_only_a_usable_token_and_reads_it_back() {
    let store = seeded();
    let new = |hash: &str| NewRefresh { token_hash: hash.into(), issued_at: NOW, expires_at: NOW + 500, jkt: None };
    // Strict (no reuse interval): see `a_rotated_token_is_usable_again_only_within_the_reuse_interval`.
    let rotate = |old: &str, client_id: &str, next: &str| block_on(store.rotate_refresh_for(old, client_id, &new(next), NOW, 0)).unwrap();

    // Another client: refused, untouched.
    let r = rotate("r1", "c2", "x1");
    assert!(!r.rotated);
    assert_eq!(r.record.unwrap().status, RefreshStatus::Active);
    assert_eq!(block_on(store.refresh("x1")), Ok(None));

    // Its own client: rotated into a token of the same family, user, scope and auth_time.
    let r = rotate("r1", "c1", "r1-next");
    assert!(r.rotated);
    let old = r.record.unwrap();
    assert_eq!((old.status, old.user.map(|u| u.id)), (RefreshStatus::Rotated, Some("u1".to_string())));
    let next = block_on(store.refresh("r1-next")).unwrap().unwrap();
    assert_eq!(next.status, RefreshStatus::Active);
    assert_eq!(
        next.token,
        RefreshToken {
            token_hash: "r1-next".into(),
            issued_at: NOW,
            expires_at: NOW + 500,
            family_expires_at: old.token.family_expires_at,
            jkt: None,
            ..token("", "f1", "c1", "u1", 0)
        }
    );

    // Once only: a second rotation of the same token is refused and reads it as rotated.
    let r = rotate("r1", "c1", "r1-again");
    assert!(!r.rotated);
    assert_eq!(r.record.unwrap().status, RefreshStatus::Rotated);
    assert_eq!(block_on(store.refresh("r1-again")), Ok(None));

    // Expired, revoked, of a deleted user, or unknown: refused.
    assert!(!rotate("r2", "c2", "x2").rotated, "expired");
    block_on(store.insert_refresh(&token("r6", "f6", "c1", "u1", NOW + 100))).unwrap();
    block_on(store.end_grant("f6", NOW + 300)).unwrap();
    assert!(!rotate("r6", "c1", "x6").rotated, "revoked");
    block_on(store.insert_refresh(&token("r7", "f7", "c1", "gone", NOW + 100))).unwrap();
    let r = rotate("r7", "c1", "x7");
    assert!(!r.rotated, "no such user");
    assert_eq!(r.record.unwrap().user, None);
    assert_eq!(rotate("nope", "c1", "x8"), Rotation { rotated: false, record: None });
}

#[test]
fn a_rotated_token_is_usable_again_only_within_the_reuse_interval() {
    let store = seeded();
    let new = |hash: &str| NewRefresh { token_hash: hash.into(), issued_at: NOW, expires_at: NOW + 500, jkt: None };
    let rotate =
        |old: &str, client_id: &str, next: &str, at: u64| block_on(store.rotate_refresh_for(old, client_id, &new(next), at, 30)).unwrap();
    assert!(rotate("r1", "c1", "a", NOW).rotated);
    // Again by its own client within the interval: a second token of the same family; the first
    // rotation's time is kept, so a retry does not stretch the interval.
    let again = rotate("r1", "c1", "b", NOW + 29);
    assert!(again.rotated);
    let old = again.record.unwrap();
    assert_eq!((old.status, old.rotated_at), (RefreshStatus::Rotated, Some(NOW)));
    for hash in ["a", "b"] {
        let t = block_on(store.refresh(hash)).unwrap().unwrap();
        assert_eq!((t.status, t.token.family_id.as_str()), (RefreshStatus::Active, "f1"), "{hash}");
    }
    // Another client, or once the interval is over: refused, untouched.
    assert!(!rotate("r1", "c2", "c", NOW + 1).rotated);
    assert!(!rotate("r1", "c1", "d", NOW + 30).rotated);
    assert_eq!(block_on(store.refresh("d")), Ok(None));
    // A zero interval is strict: the same second is reuse already.
    let strict = |old: &str, next: &str| block_on(store.rotate_refresh_for(old, "c1", &new(next), NOW + 1, 0)).unwrap().rotated;
    assert!(strict("a", "e"));
    assert!(!strict("a", "f"));
}

#[test]
fn ending_a_grant_revokes_all_its_tokens_and_only_them() {
    let store = seeded();
    let new = NewRefresh { token_hash: "r1-next".into(), issued_at: NOW, expires_at: NOW + 500, jkt: None };
    assert!(block_on(store.rotate_refresh_for("r1", "c1", &new, NOW, 0)).unwrap().rotated);
    block_on(store.end_grant("f1", NOW + 300)).unwrap();
    for hash in ["r1", "r1-next"] {
        assert_eq!(block_on(store.refresh(hash)).unwrap().unwrap().status, RefreshStatus::Revoked, "{hash}");
    }
    assert_eq!(block_on(store.refresh("r2")).unwrap().unwrap().status, RefreshStatus::Active, "another family");
    // Deleting a client revokes its tokens too.
    assert_eq!(block_on(store.delete_client("c2")), Ok(true));
    assert_eq!(block_on(store.refresh("r2")).unwrap().unwrap().status, RefreshStatus::Revoked);
    assert_eq!(block_on(store.delete_client("c2")), Ok(false));
}

fn access(jti: &str, client: &str, grant: Option<&str>, user: Option<&str>) -> AccessCheck {
    AccessCheck {
        jti: jti.into(),
        client_id: client.into(),
        grant_id: grant.map(String::from),
        user_id: user.map(String::from),
        issued_at: NOW,
    }
}

#[test]
fn an_access_token_is_usable_until_its_grant_client_or_user_ends() {
    let store = seeded();
    let usable = |t: &AccessCheck| block_on(store.access_token_usable(t)).unwrap();
    let t = access("jti-9", "c1", Some("f1"), Some("u1"));
    assert!(usable(&t));
    assert!(usable(&access("jti-9", "c1", None, None)), "a client's own token has no grant or user");
    assert!(!usable(&access("jti-9", "nope", None, None)), "no such client");
    assert!(!usable(&access("jti-9", "c1", Some("f1"), Some("nobody"))), "no such user");
    // The grant ends: this token, not another grant's.
    block_on(store.end_grant("f1", NOW + 300)).unwrap();
    assert!(!usable(&t));
    assert!(usable(&access("jti-9", "c1", Some("f2"), Some("u1"))));
    // A revoked jti.
    block_on(store.revoke_access("jti-8", NOW + 300)).unwrap();
    assert!(!usable(&access("jti-8", "c1", None, None)));
    // The client's grants end at NOW: tokens issued then or before stop, later ones work.
    block_on(store.end_client_grants("c1", NOW)).unwrap();
    assert!(!usable(&access("jti-9", "c1", Some("f2"), Some("u1"))));
    assert!(usable(&AccessCheck { issued_at: NOW + 1, ..access("jti-9", "c1", Some("f2"), Some("u1")) }));
    assert_eq!(block_on(store.refresh("r1")).unwrap().unwrap().status, RefreshStatus::Revoked, "its refresh tokens are revoked");
}

#[test]
fn an_attempt_is_reserved_atomically_before_it_is_checked_and_refused_while_locked() {
    let store = MemoryStore::default();
    let reserve = |now| block_on(store.reserve_attempt("k", now, &crate::oauth::lockout::lock_curve(now))).unwrap();
    for i in 1..LOCK_AFTER_FAILURES {
        let r = reserve(NOW);
        assert!(r.granted && r.throttle.failures == i && r.throttle.locked_until == 0, "{r:?}");
    }
    // The budget's last attempt is granted and earns the lock...
    let last = reserve(NOW);
    assert!(last.granted);
    assert_eq!(last.throttle.locked_until, NOW + LOCK_BASE_SECONDS);
    // ...every attempt during the lock is refused and counts nothing.
    for _ in 0..10 {
        let r = reserve(NOW + 1);
        assert!(!r.granted);
        assert_eq!(r.throttle.failures, LOCK_AFTER_FAILURES);
    }
    // After the lock, the next attempt doubles it.
    let after = reserve(NOW + LOCK_BASE_SECONDS);
    assert!(after.granted);
    assert_eq!(after.throttle.locked_until, NOW + LOCK_BASE_SECONDS + 2 * LOCK_BASE_SECONDS);
    // A success clears; counts decay after THROTTLE_MEMORY without attempts.
    block_on(store.clear_failures("k")).unwrap();
    assert_eq!(reserve(NOW + 1000).throttle.failures, 1);
    assert_eq!(reserve(NOW + 1000 + THROTTLE_MEMORY).throttle.failures, 1, "decayed");
}

#[test]
fn address_budgets_count_per_window() {
    let store = MemoryStore::default();
    let allow = |limit, addr, now| block_on(store.allow(limit, addr, now)).unwrap();
    for _ in 0..AddressLimit::Registration.budget() {
        assert!(allow(AddressLimit::Registration, "a", NOW));
    }
    assert!(!allow(AddressLimit::Registration, "a", NOW + 1));
    assert!(allow(AddressLimit::Registration, "b", NOW + 1), "another address");
    assert!(allow(AddressLimit::SignIn, "a", NOW + 1), "another budget");
    assert!(allow(AddressLimit::Registration, "a", NOW + ADDRESS_WINDOW), "a new window");
}
