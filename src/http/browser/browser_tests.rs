//! The browser-facing protections of `/login` and `/logout` on the host: cross-site posts, the
//! anti-CSRF token of the forms, and the sign-out confirmation.

use crate::http::Outgoing;
use crate::oauth::block_on;
use crate::oauth::clients::ClientMetadata;
use crate::oauth::users::validate_registration;
use crate::testing::{request, World};

const NOW: u64 = 1_800_000_000;

fn setup(w: &World) -> String {
    let p = w.at(NOW);
    let meta: ClientMetadata = serde_json::from_str(
        r#"{"client_name":"App","redirect_uris":["https://app.example/cb"],"post_logout_redirect_uris":["https://app.example/bye"]}"#,
    )
    .unwrap();
    let (client, _) = block_on(p.create_client(meta)).unwrap();
    block_on(p.register_user(validate_registration("alice", "alice@example.com", "correct horse", None).unwrap())).unwrap();
    client.client_id
}

/// The `name=value` a response sets for `cookie`.
fn set_cookie(out: &Outgoing, cookie: &str) -> String {
    let v = out.headers.iter().filter(|(k, _)| k == "set-cookie").map(|(_, v)| v).find(|v| v.starts_with(cookie)).expect("cookie set");
    v.split(';').next().unwrap().to_string()
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} field")) + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

fn login_form(client_id: &str) -> Vec<(&'static str, String)> {
    vec![
        ("username", "alice".into()),
        ("password", "correct horse".into()),
        ("redirect", "https://app.example/cb".into()),
        ("state", "s".into()),
        ("client_id", client_id.into()),
    ]
}

fn post_login(w: &World, form: &[(&str, String)], headers: &[(&str, &str)]) -> Outgoing {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut req = request("POST", "/login").with_form(&pairs);
    for (k, v) in headers {
        req = req.with_header(k, v);
    }
    w.serve(NOW, &req)
}

#[test]
fn a_browser_signs_in_only_with_the_token_of_its_own_form() {
    let w = World::new();
    let client_id = setup(&w);
    let page = w.serve(
        NOW,
        &request("GET", "/authorize").with_query(&format!(
            "response_type=code&client_id={client_id}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid&state=s"
        )),
    );
    assert_eq!(page.status, 200);
    let cookie = set_cookie(&page, "__Host-edge_oidc_csrf=");
    let token = hidden(&String::from_utf8_lossy(&page.body), "csrf");
    assert_eq!(cookie, format!("__Host-edge_oidc_csrf={token}"));

    let origin = ("origin", "https://issuer.example");
    let mut form = login_form(&client_id);
    // A browser post without the token (a cross-site form could send exactly this): refused
    // before any password work.
    let out = post_login(&w, &form, &[origin, ("cookie", &cookie)]);
    assert_eq!(out.status, 403);
    // With another browser's token: refused.
    form.push(("csrf", token.clone()));
    let other = format!("__Host-edge_oidc_csrf={}", crate::crypto::random_token());
    assert_eq!(post_login(&w, &form, &[origin, ("cookie", &other)]).status, 403);
    // Its own: signed in.
    assert_eq!(post_login(&w, &form, &[origin, ("cookie", &cookie)]).status, 302);
    // An API client (no Origin, no cookie, no Sec-Fetch-Site) needs no token.
    assert_eq!(post_login(&w, &login_form(&client_id), &[]).status, 302);
}

#[test]
fn origin_null_passes_only_as_a_same_origin_form() {
    let w = World::new();
    let client_id = setup(&w);
    let form = login_form(&client_id);
    assert_eq!(post_login(&w, &form, &[("origin", "null")]).status, 403, "sandboxed frames and older browsers send null for anyone");
    assert_eq!(post_login(&w, &form, &[("origin", "null"), ("sec-fetch-site", "cross-site")]).status, 403);
    // Same-origin under no-referrer: the cross-site check passes; the token is still required.
    assert_eq!(post_login(&w, &form, &[("origin", "null"), ("sec-fetch-site", "same-origin")]).status, 403);
    let token = crate::crypto::random_token();
    let mut with_token = form.clone();
    with_token.push(("csrf", token.clone()));
    let cookie = format!("__Host-edge_oidc_csrf={token}");
    assert_eq!(post_login(&w, &with_token, &[("origin", "null"), ("sec-fetch-site", "same-origin"), ("cookie", &cookie)]).status, 302);
}

#[test]
fn sign_out_without_a_hint_asks_first_and_a_cross_site_post_ends_nothing() {
    let w = World::new();
    let client_id = setup(&w);
    let user = block_on(crate::store::UserStore::user_by_username(&w.store, "alice")).unwrap().unwrap();
    let session = block_on(w.at(NOW).start_session(&user, &crate::oauth::amr::Authentication::password(NOW), "test")).unwrap();
    let session_cookie = format!("__Host-edge_oidc_session={}", session.expose());
    let signed_in = || block_on(w.at(NOW).current_session(&session)).unwrap().is_some();

    // A link from anywhere: a confirmation page, the session untouched.
    let query = format!("client_id={client_id}&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye&state=z");
    let page = w.serve(NOW, &request("GET", "/logout").with_query(&query).with_header("cookie", &session_cookie));
    assert_eq!(page.status, 200);
    let html = String::from_utf8_lossy(&page.body).to_string();
    assert!(html.contains("Sign out") && html.contains("action=\"/logout\""));
    assert!(signed_in());
    assert!(page.header_value("content-security-policy").unwrap().contains("form-action 'self' https://app.example"));
    let csrf_cookie = set_cookie(&page, "__Host-edge_oidc_csrf=");
    let token = hidden(&html, "csrf");

    let post =
        |fields: &[(&str, &str)], cookies: &str| w.serve(NOW, &request("POST", "/logout").with_form(fields).with_header("cookie", cookies));
    let fields = [("client_id", client_id.as_str()), ("post_logout_redirect_uri", "https://app.example/bye"), ("state", "z")];
    // A cross-site form post without the token: asked again, nothing ended.
    assert_eq!(post(&fields, &session_cookie).status, 200);
    assert!(signed_in());
    // The person presses "Sign out": ended, and sent to the registered URI with the state.
    let mut confirmed = fields.to_vec();
    confirmed.push(("csrf", &token));
    let out = post(&confirmed, &format!("{session_cookie}; {csrf_cookie}"));
    assert_eq!(out.status, 302);
    assert_eq!(out.header_value("location"), Some("https://app.example/bye?state=z"));
    assert!(!signed_in());
}

#[test]
fn sign_out_with_a_valid_hint_ends_at_once() {
    let w = World::new();
    let client_id = setup(&w);
    let user = block_on(crate::store::UserStore::user_by_username(&w.store, "alice")).unwrap().unwrap();
    let session = block_on(w.at(NOW).start_session(&user, &crate::oauth::amr::Authentication::password(NOW), "test")).unwrap();
    let hint =
        crate::crypto::jwt::sign(&w.keys, "JWT", &serde_json::json!({ "iss": "https://issuer.example", "aud": client_id, "sub": user.id }));
    let out = w.serve(
        NOW,
        &request("GET", "/logout")
            .with_query(&format!("id_token_hint={hint}&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye"))
            .with_header("cookie", &format!("__Host-edge_oidc_session={}", session.expose())),
    );
    assert_eq!(out.status, 302);
    assert!(block_on(w.at(NOW).current_session(&session)).unwrap().is_none());
    // An unregistered target ends nothing and redirects nowhere.
    let again = block_on(w.at(NOW).start_session(&user, &crate::oauth::amr::Authentication::password(NOW), "test")).unwrap();
    let bad = w.serve(
        NOW,
        &request("GET", "/logout")
            .with_query(&format!("id_token_hint={hint}&post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F"))
            .with_header("cookie", &format!("__Host-edge_oidc_session={}", again.expose())),
    );
    assert_eq!((bad.status, bad.header_value("location")), (400, None));
    assert!(block_on(w.at(NOW).current_session(&again)).unwrap().is_some());
}

#[test]
fn an_id_token_of_someone_else_does_not_end_the_session_without_confirmation() {
    let w = World::new();
    let client_id = setup(&w);
    let user = block_on(crate::store::UserStore::user_by_username(&w.store, "alice")).unwrap().unwrap();
    let session = block_on(w.at(NOW).start_session(&user, &crate::oauth::amr::Authentication::password(NOW), "test")).unwrap();
    // A valid ID token, but of another person (the attacker's own, say).
    let theirs = crate::crypto::jwt::sign(
        &w.keys,
        "JWT",
        &serde_json::json!({ "iss": "https://issuer.example", "aud": client_id, "sub": "someone-else" }),
    );
    let out = w.serve(
        NOW,
        &request("GET", "/logout")
            .with_query(&format!("id_token_hint={theirs}&post_logout_redirect_uri=https%3A%2F%2Fapp.example%2Fbye&state=z"))
            .with_header("cookie", &format!("__Host-edge_oidc_session={}", session.expose())),
    );
    assert_eq!(out.status, 200, "the confirmation page, not a redirect");
    let html = String::from_utf8_lossy(&out.body).to_string();
    assert!(html.contains("Sign out"), "{html}");
    assert_eq!(hidden(&html, "client_id"), client_id, "the hinted client's redirect survives the confirmation");
    assert!(block_on(w.at(NOW).current_session(&session)).unwrap().is_some(), "the session lives on");
}

#[test]
fn the_account_page_signs_in_changes_the_password_and_ends_the_other_sessions() {
    let w = World::new();
    setup(&w);
    // Not signed in: the account's own sign-in form.
    let page = w.serve(NOW, &request("GET", "/account"));
    assert_eq!(page.status, 200);
    let html = String::from_utf8_lossy(&page.body).to_string();
    assert!(html.contains("action=\"/account/login\""));
    let csrf_cookie = set_cookie(&page, "__Host-edge_oidc_csrf=");
    let token = hidden(&html, "csrf");
    let sign_in = |fields: &[(&str, &str)], cookie: &str| {
        w.serve(
            NOW,
            &request("POST", "/account/login")
                .with_form(fields)
                .with_header("cookie", cookie)
                .with_header("origin", "https://issuer.example"),
        )
    };
    // Without the page's token: refused before any password work.
    assert_eq!(sign_in(&[("username", "alice"), ("password", "correct horse")], &csrf_cookie).status, 403);
    assert_eq!(sign_in(&[("username", "alice"), ("password", "wrong"), ("csrf", &token)], &csrf_cookie).status, 401);
    let ok = sign_in(&[("username", "alice"), ("password", "correct horse"), ("csrf", &token)], &csrf_cookie);
    assert_eq!((ok.status, ok.header_value("location")), (303, Some("/account")));
    let session = set_cookie(&ok, "__Host-edge_oidc_session=");
    let cookies = format!("{session}; {csrf_cookie}");
    let account = w.serve(NOW, &request("GET", "/account").with_header("cookie", &cookies));
    let html = String::from_utf8_lossy(&account.body).to_string();
    assert!(html.contains("Signed in as <strong>alice</strong>") && html.contains("Change password") && html.contains("Sign out"));

    // Another browser of the same person.
    let user = block_on(crate::store::UserStore::user_by_username(&w.store, "alice")).unwrap().unwrap();
    let elsewhere = block_on(w.at(NOW).start_session(&user, &crate::oauth::amr::Authentication::password(NOW), "test")).unwrap();
    let change = |fields: &[(&str, &str)]| {
        w.serve(
            NOW + 1,
            &request("POST", "/account/password")
                .with_form(fields)
                .with_header("cookie", &cookies)
                .with_header("origin", "https://issuer.example"),
        )
    };
    let wrong = change(&[("current_password", "nope"), ("new_password", "a new secret 1"), ("csrf", &token)]);
    assert_eq!(wrong.status, 403, "access_denied: the current password is wrong");
    assert_eq!(change(&[("current_password", "correct horse"), ("new_password", "short"), ("csrf", &token)]).status, 400);
    assert_eq!(change(&[("current_password", "correct horse"), ("new_password", "a new secret 1")]).status, 403, "no token");
    let done = change(&[("current_password", "correct horse"), ("new_password", "a new secret 1"), ("csrf", &token)]);
    assert_eq!(done.status, 200);
    assert!(String::from_utf8_lossy(&done.body).contains("Your password was changed"));
    let session_value = session.split_once('=').unwrap().1;
    assert!(
        block_on(w.at(NOW + 2).current_session(&crate::oauth::secrets::SessionToken::new(session_value))).unwrap().is_some(),
        "this browser stays signed in"
    );
    assert!(block_on(w.at(NOW + 2).current_session(&elsewhere)).unwrap().is_none(), "the others are signed out");
    assert!(block_on(w.at(NOW + 2).authenticate_user("alice", &crate::oauth::secrets::Password::new("a new secret 1"))).unwrap().is_some());
    // Not signed in: no change.
    let anonymous = w.serve(NOW, &request("POST", "/account/password").with_form(&[("current_password", "x"), ("new_password", "y")]));
    assert_eq!(anonymous.status, 401);
}

#[test]
fn the_second_step_carries_only_its_record_and_the_request_comes_from_the_record() {
    use crate::crypto::totp;
    let w = World::new();
    let client_id = setup(&w);
    let user = block_on(crate::store::UserStore::user_by_username(&w.store, "alice")).unwrap().unwrap();
    let setup_app = block_on(w.at(NOW).begin_totp_setup(&user, false)).unwrap();
    let secret = totp::base32_decode(&setup_app.secret).unwrap();
    block_on(w.at(NOW).confirm_totp(&user, &totp::code_at_step(&secret, totp::step_at(NOW)))).unwrap();
    let page = w.serve(
        NOW,
        &request("GET", "/authorize").with_query(&format!(
            "response_type=code&client_id={client_id}&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid&state=s"
        )),
    );
    let cookie = set_cookie(&page, "__Host-edge_oidc_csrf=");
    let token = hidden(&String::from_utf8_lossy(&page.body), "csrf");
    let mut form = login_form(&client_id);
    form.push(("csrf", token.clone()));
    let origin = ("origin", "https://issuer.example");
    let step = post_login(&w, &form, &[origin, ("cookie", &cookie)]);
    assert_eq!(step.status, 200);
    let html = String::from_utf8_lossy(&step.body).to_string();
    let fields: Vec<&str> =
        html.match_indices("<input type=\"hidden\" name=\"").map(|(i, m)| html[i + m.len()..].split('"').next().unwrap()).collect();
    assert_eq!(fields, ["pending", "csrf"], "the page carries the record's id, not the request");
    // A form that adds request fields of its own changes nothing: the record's request is used.
    let later = NOW + 30;
    let code = totp::code_at_step(&secret, totp::step_at(later));
    let pending = hidden(&html, "pending");
    let pairs = [
        ("pending", pending.as_str()),
        ("csrf", &token),
        ("code", &code),
        ("redirect", "https://evil.example/cb"),
        ("client_id", "someone-else"),
    ];
    let out = w.serve(
        later,
        &request("POST", "/login/second-factor")
            .with_form(&pairs)
            .with_header("origin", "https://issuer.example")
            .with_header("cookie", &cookie),
    );
    assert_eq!(out.status, 302, "{}", String::from_utf8_lossy(&out.body));
    let location = out.header_value("location").unwrap();
    assert!(location.starts_with("https://app.example/cb?code="), "{location}");
}
