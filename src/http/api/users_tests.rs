//! User administration and the audit log through the HTTP surface, on the in-memory store: who
//! may do what, what ends when, and that no secret ever reaches `/audit`.

use crate::oauth::block_on;
use crate::oauth::clients::{ClientCredentials, ClientMetadata};
use crate::oauth::secrets::{Password, RefreshTokenSecret};
use crate::oauth::users::validate_registration;
use crate::oauth::TokenRequest;
use crate::testing::{request, World, BOOTSTRAP};
use serde_json::{json, Value};

const NOW: u64 = 1_800_000_000;

fn admin_get(w: &World, path: &str) -> (u16, Value) {
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let out = w.serve(NOW, &request("GET", path).with_query(query).with_bearer(BOOTSTRAP));
    let body = if out.body.is_empty() { Value::Null } else { out.json_body() };
    (out.status, body)
}

fn patch(w: &World, id: &str, body: Value) -> (u16, Value) {
    let out = w.serve(NOW, &request("PATCH", &format!("/users/{id}")).with_bearer(BOOTSTRAP).with_json(&body));
    (out.status, out.json_body())
}

struct Signed {
    user_id: String,
    creds: ClientCredentials,
    access: String,
    refresh: Option<RefreshTokenSecret>,
}

/// A user with a token from the password grant and a browser session.
fn signed_in(w: &World, username: &str) -> (Signed, crate::oauth::secrets::SessionToken) {
    let p = w.at(NOW);
    let user =
        block_on(p.register_user(validate_registration(username, &format!("{username}@example.com"), "correct horse", None).unwrap()))
            .unwrap();
    let meta: ClientMetadata =
        serde_json::from_str(r#"{"client_name":"App","grant_types":["password","refresh_token"],"scopes":"openid"}"#).unwrap();
    let (client, secret) = block_on(p.create_client(meta)).unwrap();
    let creds = ClientCredentials { basic: Some((client.client_id, secret.unwrap())), ..Default::default() };
    let req = TokenRequest::Password { username: username.into(), password: Password::new("correct horse"), scope: None };
    let t = block_on(p.token(&creds, &req)).unwrap();
    let session = block_on(p.start_session(&user, &crate::oauth::amr::Authentication::password(p.now), "test")).unwrap();
    w.flush_audit();
    (Signed { user_id: user.id, creds, access: t.access_token, refresh: t.refresh_token }, session)
}

fn password_grant(w: &World, s: &Signed, username: &str, password: &str) -> Result<String, crate::oauth::OAuthError> {
    let req = TokenRequest::Password { username: username.into(), password: Password::new(password), scope: None };
    block_on(w.at(NOW + 5).token(&s.creds, &req)).map(|t| t.access_token)
}

#[test]
fn users_are_listed_by_prefix_a_page_at_a_time() {
    let w = World::new();
    for name in ["ann", "anna", "annabel", "bob", "carl"] {
        block_on(w.at(NOW).register_user(validate_registration(name, &format!("{name}@example.com"), "password123", None).unwrap()))
            .unwrap();
    }
    let (status, page) = admin_get(&w, "/users?limit=2");
    assert_eq!(status, 200);
    let names = |v: &Value| v["users"].as_array().unwrap().iter().map(|u| u["username"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert_eq!(names(&page), ["ann", "anna"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let (_, page2) = admin_get(&w, &format!("/users?limit=2&cursor={cursor}"));
    assert_eq!(names(&page2), ["annabel", "bob"]);
    let (_, last) = admin_get(&w, &format!("/users?limit=2&cursor={}", page2["next_cursor"].as_str().unwrap()));
    assert_eq!((names(&last), last["next_cursor"].is_null()), (vec!["carl".to_string()], true));
    let (_, found) = admin_get(&w, "/users?q=ANNA");
    assert_eq!(names(&found), ["anna", "annabel"], "case-insensitive prefix of username or email");
    // Never a hash; `disabled` and the factors summary are there.
    let u = &page["users"][0];
    assert!(u.get("password_hash").is_none() && u.get("password").is_none());
    assert_eq!((u["disabled"].clone(), u["factors"].clone()), (json!(false), json!({ "passkeys": 0, "totp": false })));
    for bad in ["/users?limit=0", "/users?limit=1000", "/users?cursor=!!"] {
        assert_eq!(admin_get(&w, bad).0, 400, "{bad}");
    }
}

#[test]
fn only_an_admin_credential_reaches_user_administration() {
    let w = World::new();
    let (s, _) = signed_in(&w, "plain");
    for (method, path) in [("GET", "/users"), ("GET", "/audit"), ("DELETE", "/users/x"), ("PATCH", "/users/x")] {
        let mut r = request(method, path);
        if method == "PATCH" {
            r = r.with_json(&json!({ "role": "admin" }));
        }
        assert_eq!(w.serve(NOW, &r).status, 401, "{method} {path} without a token");
        assert_eq!(w.serve(NOW, &r.clone().with_bearer(&s.access)).status, 403, "{method} {path} with a user's token");
    }
    assert_eq!(admin_get(&w, "/users/nobody").0, 404);
    assert_eq!(patch(&w, "nobody", json!({ "disabled": true })).0, 404);
}

#[test]
fn field_rules_and_conflicts() {
    let w = World::new();
    let (a, _) = signed_in(&w, "alice");
    signed_in(&w, "bob");
    let (status, body) = patch(&w, &a.user_id, json!({ "email": "bob@example.com" }));
    assert_eq!((status, body["error"].as_str()), (409, Some("conflict")));
    for (bad, field) in
        [(json!({ "email": "nope" }), "email"), (json!({ "password": "short" }), "password"), (json!({ "role": "Admin!" }), "role")]
    {
        let (status, body) = patch(&w, &a.user_id, bad);
        assert_eq!(status, 400);
        assert!(body["error_description"].as_str().unwrap().starts_with(field));
    }
    assert_eq!(patch(&w, &a.user_id, json!({ "password_hash": "x" })).0, 400, "unknown fields are refused");
    let (status, body) = patch(&w, &a.user_id, json!({ "role": "auditor", "email": "alice2@example.com" }));
    assert_eq!((status, body["role"].as_str(), body["email"].as_str()), (200, Some("auditor"), Some("alice2@example.com")));
}

#[test]
fn disabling_ends_sessions_and_grants_and_sign_in_for_good() {
    let w = World::new();
    let (s, session) = signed_in(&w, "carol");
    let p = w.at(NOW + 1);
    assert!(block_on(p.verify_access_token(&s.access)).unwrap().is_some());
    assert_eq!(patch(&w, &s.user_id, json!({ "disabled": true })).1["disabled"], true);
    assert!(block_on(p.verify_access_token(&s.access)).unwrap().is_none(), "access tokens stop at once");
    assert!(block_on(p.current_session(&session)).unwrap().is_none(), "sessions end");
    let refresh = TokenRequest::RefreshToken { refresh_token: s.refresh.clone().unwrap(), scope: None };
    assert!(block_on(p.token(&s.creds, &refresh)).is_err(), "refresh tokens end");
    let e = password_grant(&w, &s, "carol", "correct horse").unwrap_err();
    assert_eq!(e.description, "invalid username or password", "the generic answer");
    // Re-enabled: signs in again, but nothing from before comes back.
    assert_eq!(patch(&w, &s.user_id, json!({ "disabled": false })).1["disabled"], false);
    assert!(password_grant(&w, &s, "carol", "correct horse").is_ok());
    assert!(block_on(w.at(NOW + 6).verify_access_token(&s.access)).unwrap().is_none());
}

#[test]
fn a_password_set_by_an_admin_ends_grants_and_works() {
    let w = World::new();
    let (s, session) = signed_in(&w, "dave");
    let (status, _) = patch(&w, &s.user_id, json!({ "password": "a brand new secret" }));
    assert_eq!(status, 200);
    assert!(block_on(w.at(NOW + 1).verify_access_token(&s.access)).unwrap().is_none());
    assert!(block_on(w.at(NOW + 1).current_session(&session)).unwrap().is_none());
    assert!(password_grant(&w, &s, "dave", "correct horse").is_err());
    assert!(password_grant(&w, &s, "dave", "a brand new secret").is_ok());
}

#[test]
fn an_admin_removes_a_lost_authenticator_app_but_cannot_set_one_up() {
    let w = World::new();
    let (s, _) = signed_in(&w, "erin");
    let p = w.at(NOW);
    let user = block_on(p.user(&s.user_id)).unwrap();
    let setup = block_on(p.begin_totp_setup(&user, false)).unwrap();
    let secret = crate::crypto::totp::base32_decode(&setup.secret).unwrap();
    block_on(p.confirm_totp(&user, &crate::crypto::totp::code_at_step(&secret, crate::crypto::totp::step_at(NOW)))).unwrap();
    assert!(password_grant(&w, &s, "erin", "correct horse").is_err(), "two-step sign-in blocks the password grant");
    assert_eq!(patch(&w, &s.user_id, json!({ "totp": true })).0, 400);
    assert_eq!(patch(&w, &s.user_id, json!({ "totp": false })).0, 200);
    assert!(!block_on(p.has_totp(&s.user_id)).unwrap());
    assert!(password_grant(&w, &s, "erin", "correct horse").is_ok());
    let (_, events) = admin_get(&w, &format!("/audit?user_id={}&type=totp.disabled", s.user_id));
    assert_eq!(events["events"][0]["detail"]["by"], "bootstrap");
}

#[test]
fn deleting_a_user_ends_everything() {
    let w = World::new();
    let (s, session) = signed_in(&w, "erin");
    let out = w.serve(NOW, &request("DELETE", &format!("/users/{}", s.user_id)).with_bearer(BOOTSTRAP));
    assert_eq!(out.status, 204);
    assert_eq!(admin_get(&w, &format!("/users/{}", s.user_id)).0, 404);
    assert!(block_on(w.at(NOW + 1).verify_access_token(&s.access)).unwrap().is_none());
    assert!(block_on(w.at(NOW + 1).current_session(&session)).unwrap().is_none());
    assert_eq!(w.serve(NOW, &request("DELETE", &format!("/users/{}", s.user_id)).with_bearer(BOOTSTRAP)).status, 404);
}

#[test]
fn a_user_changes_their_own_password_and_keeps_only_this_session() {
    let w = World::new();
    let (s, session) = signed_in(&w, "fay");
    let other = block_on(w.at(NOW).start_session(
        &block_on(w.at(NOW).user(&s.user_id)).unwrap(),
        &crate::oauth::amr::Authentication::password(NOW),
        "test",
    ))
    .unwrap();
    let user = block_on(w.at(NOW).user(&s.user_id)).unwrap();
    let keep = crate::crypto::sha256_b64url(session.expose());
    let p = w.at(NOW + 1);
    assert!(block_on(p.change_own_password(&user, &Password::new("wrong"), &Password::new("a brand new secret"), Some(&keep))).is_err());
    block_on(p.change_own_password(&user, &Password::new("correct horse"), &Password::new("a brand new secret"), Some(&keep))).unwrap();
    assert!(block_on(p.current_session(&session)).unwrap().is_some(), "this session stays");
    assert!(block_on(p.current_session(&other)).unwrap().is_none(), "the others end");
    assert!(block_on(p.verify_access_token(&s.access)).unwrap().is_none(), "and the grants");
}

#[test]
fn the_audit_log_records_sign_ins_and_administration_and_never_a_secret() {
    let w = World::new();
    let (s, _) = signed_in(&w, "gus");
    // A failure from another address, an unknown account, an admin action.
    let from = |addr| request("POST", "/token").with_header("cf-connecting-ip", addr);
    let (id, secret) = s.creds.basic.clone().unwrap();
    let basic = |r: crate::http::Incoming| {
        use base64::Engine;
        r.with_header(
            "authorization",
            &format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{}", secret.expose()))),
        )
    };
    let form =
        |user: &str, pw: &str| vec![("grant_type", "password".to_string()), ("username", user.to_string()), ("password", pw.to_string())];
    let post = |r: crate::http::Incoming, f: Vec<(&str, String)>| {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        w.serve(NOW, &r.with_form(&pairs))
    };
    assert_eq!(post(basic(from("198.51.100.9")), form("gus", "hunter2-wrong")).status, 400);
    assert_eq!(post(basic(from("198.51.100.9")), form("hunter2-typed-into-username", "x")).status, 400);
    patch(&w, &s.user_id, json!({ "password": "hunter3-new-password" }));

    let (status, page) = admin_get(&w, "/audit?limit=50");
    assert_eq!(status, 200);
    let events = page["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(kinds[0], "password.changed", "newest first: {kinds:?}");
    for k in ["user.registered", "sign_in.succeeded", "sign_in.failed", "user.updated"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    let failed: Vec<&Value> = events.iter().filter(|e| e["type"] == "sign_in.failed").collect();
    assert_eq!(failed.len(), 2);
    assert!(failed.iter().any(|e| e["user_id"] == s.user_id.as_str() && e["address"] == "198.51.100.9"));
    assert!(failed.iter().any(|e| e.get("user_id").is_none() && e["detail"]["account"] == "unknown"));
    // Never a password, token or secret, nor an unknown "username" (it may be a password).
    let text = page.to_string();
    for secret in ["hunter2", "hunter3", "correct horse", s.access.as_str(), secret.expose(), "typed-into-username"] {
        assert!(!text.contains(secret), "{secret} reached the audit log");
    }
    // Filters and pages.
    let (_, mine) = admin_get(&w, &format!("/audit?user_id={}&type=sign_in.failed", s.user_id));
    assert_eq!(mine["events"].as_array().unwrap().len(), 1);
    let (_, first) = admin_get(&w, "/audit?limit=2");
    let (_, second) = admin_get(&w, &format!("/audit?limit=2&cursor={}", first["next_cursor"].as_str().unwrap()));
    assert!(first["events"][1]["id"].as_u64().unwrap() > second["events"][0]["id"].as_u64().unwrap());
}

#[test]
fn the_user_administration_reports_each_users_real_factors() {
    use crate::crypto::totp;
    use crate::store::FactorStore;
    let w = World::new();
    let (s, _) = signed_in(&w, "fay");
    signed_in(&w, "fiona");
    let user = block_on(w.at(NOW).user(&s.user_id)).unwrap();
    let p = w.at(NOW);
    let setup = block_on(p.begin_totp_setup(&user, false)).unwrap();
    let code = totp::code_at_step(&totp::base32_decode(&setup.secret).unwrap(), totp::step_at(NOW));
    block_on(p.confirm_totp(&user, &code)).unwrap();
    for (i, id) in ["cred-a", "cred-b"].iter().enumerate() {
        let passkey = crate::store::Passkey {
            credential_id: id.to_string(),
            user_id: user.id.clone(),
            name: format!("key {i}"),
            public_key: String::new(),
            algorithm: -7,
            sign_count: 0,
            created_at: NOW,
            last_used_at: None,
        };
        block_on(w.store.insert_passkey(&passkey)).unwrap();
    }
    let (status, list) = admin_get(&w, "/users?q=f");
    assert_eq!(status, 200);
    let factors: Vec<(String, Value)> =
        list["users"].as_array().unwrap().iter().map(|u| (u["username"].as_str().unwrap().to_string(), u["factors"].clone())).collect();
    assert_eq!(
        factors,
        [("fay".to_string(), json!({ "passkeys": 2, "totp": true })), ("fiona".to_string(), json!({ "passkeys": 0, "totp": false }))]
    );
    assert_eq!(admin_get(&w, &format!("/users/{}", user.id)).1["factors"], json!({ "passkeys": 2, "totp": true }));
    assert_eq!(patch(&w, &user.id, json!({ "totp": false })).1["factors"], json!({ "passkeys": 2, "totp": false }));
}
