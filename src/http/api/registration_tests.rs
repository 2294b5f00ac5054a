//! Open dynamic client registration (RFC 7591) and its management (RFC 7592) through the HTTP
//! surface: what a stranger may register, the errors RFC 7591 names, and that a registration
//! access token manages its own client and nothing else.

use crate::testing::{request, World, BOOTSTRAP};
use serde_json::{json, Value};

const NOW: u64 = 1_800_000_000;

fn register(w: &World, body: Value) -> (u16, Value) {
    register_from(w, body, "203.0.113.20")
}

fn register_from(w: &World, body: Value, address: &str) -> (u16, Value) {
    let out = w.serve(NOW, &request("POST", "/clients").with_header("cf-connecting-ip", address).with_json(&body));
    (out.status, out.json_body())
}

/// What an MCP client sends (the TypeScript SDK's shape).
fn mcp_client() -> Value {
    json!({
        "client_name": "Claude-ish MCP client",
        "redirect_uris": ["http://127.0.0.1:33418/callback"],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
        "scope": "openid profile",
        "client_uri": "https://mcp-client.example",
        "logo_uri": "https://mcp-client.example/logo.png",
        "software_id": "something-unknown-to-this-server",
    })
}

#[test]
fn anyone_may_register_a_safe_client_and_gets_its_management_token() {
    let w = World::new();
    let (status, c) = register(&w, mcp_client());
    assert_eq!(status, 201, "{c}");
    assert_eq!((c["client_type"].as_str(), c["token_endpoint_auth_method"].as_str()), (Some("public"), Some("none")));
    assert!(c.get("client_secret").is_none(), "a public client has no secret");
    assert_eq!(c["scope"], "openid profile");
    let token = c["registration_access_token"].as_str().unwrap();
    assert_eq!(c["registration_client_uri"], format!("https://issuer.example/clients/{}", c["client_id"].as_str().unwrap()));
    assert_eq!(token.len(), 43);
    // Stored only as a hash: the client record never holds the token.
    let id = c["client_id"].as_str().unwrap();
    let stored = block_on_client(&w, id);
    assert!(stored.dynamic && stored.registration_token_hash.as_deref() != Some(token));
    // A confidential one gets a secret too.
    let (status, conf) = register(&w, json!({ "redirect_uris": ["https://app.example/cb"] }));
    assert_eq!(status, 201);
    assert!(conf["client_secret"].as_str().is_some() && conf["client_secret_expires_at"] == 0);
    assert_eq!(conf["client_name"], "app.example", "named by its redirect host when it names none");
}

fn block_on_client(w: &World, id: &str) -> crate::store::Client {
    crate::oauth::block_on(crate::store::ClientStore::client(&w.store, id)).unwrap().unwrap()
}

#[test]
fn unsafe_metadata_is_refused_with_rfc_7591_codes() {
    let w = World::new();
    // Each from an address of its own: attempts count against the address's budget too.
    let n = std::cell::Cell::new(0);
    let with = |patch: Value| {
        let mut body = mcp_client();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        n.set(n.get() + 1);
        register_from(&w, body, &format!("198.51.100.{}", n.get()))
    };
    for (patch, code) in [
        (json!({ "redirect_uris": ["http://app.example/cb"] }), "invalid_redirect_uri"),
        (json!({ "redirect_uris": ["javascript:alert(1)"] }), "invalid_redirect_uri"),
        (json!({ "redirect_uris": ["https://app.example/cb#frag"] }), "invalid_redirect_uri"),
        (json!({ "redirect_uris": [] }), "invalid_redirect_uri"),
        (json!({ "scope": "openid admin" }), "invalid_client_metadata"),
        (json!({ "grant_types": ["client_credentials"] }), "invalid_client_metadata"),
        (json!({ "grant_types": ["password"] }), "invalid_client_metadata"),
        (json!({ "client_type": "confidential" }), "invalid_client_metadata"),
        (json!({ "is_active": true }), "invalid_client_metadata"),
        (json!({ "redirect_uris": "https://app.example/cb" }), "invalid_client_metadata"),
        (json!({ "client_uri": "javascript:x" }), "invalid_client_metadata"),
        (json!({ "token_endpoint_auth_method": "private_key_jwt" }), "invalid_client_metadata"),
        // Oversized metadata within the body cap.
        (json!({ "client_name": "x".repeat(1000) }), "invalid_client_metadata"),
        (json!({ "redirect_uris": (0..200).map(|i| format!("https://app.example/cb{i}")).collect::<Vec<_>>() }), "invalid_redirect_uri"),
    ] {
        let (status, body) = with(patch.clone());
        assert_eq!((status, body["error"].as_str()), (400, Some(code)), "{patch}");
    }
    let (status, body) = register(&w, json!([1, 2]));
    assert_eq!((status, body["error"].as_str()), (400, Some("invalid_client_metadata")));
}

#[test]
fn one_address_registers_a_limited_number_of_clients() {
    let w = World::new();
    for _ in 0..crate::store::AddressLimit::ClientRegistration.budget() {
        assert_eq!(register_from(&w, mcp_client(), "198.51.100.30").0, 201);
    }
    let (status, body) = register_from(&w, mcp_client(), "198.51.100.30");
    assert_eq!((status, body["error"].as_str()), (429, Some("rate_limited")));
    assert_eq!(register_from(&w, mcp_client(), "198.51.100.31").0, 201);
}

#[test]
fn registration_can_be_closed_to_admins() {
    let mut w = World::new();
    w.config.dynamic_registration = false;
    let (status, body) = register(&w, mcp_client());
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")));
    let admin = w.serve(
        NOW,
        &request("POST", "/clients")
            .with_bearer(BOOTSTRAP)
            .with_json(&json!({ "client_name": "A", "redirect_uris": ["https://a.example/cb"] })),
    );
    assert_eq!(admin.status, 201);
}

#[test]
fn a_registration_access_token_manages_its_client_and_nothing_else() {
    let w = World::new();
    let (_, mine) = register(&w, mcp_client());
    let (_, theirs) = register(&w, json!({ "redirect_uris": ["https://other.example/cb"] }));
    let (id, token) = (mine["client_id"].as_str().unwrap(), mine["registration_access_token"].as_str().unwrap());
    let other = theirs["client_id"].as_str().unwrap();
    let call = |method: &str, path: &str, body: Option<Value>| {
        let mut r = request(method, path).with_bearer(token);
        if let Some(b) = body {
            r = r.with_json(&b);
        }
        w.serve(NOW, &r)
    };
    // Read and update its own client (RFC 7592 §2.1, §2.2), within the third-party rules.
    let got = call("GET", &format!("/clients/{id}"), None);
    assert_eq!((got.status, got.json_body()["client_id"].as_str()), (200, Some(id)));
    let put = call("PUT", &format!("/clients/{id}"), Some(json!({ "client_name": "Renamed", "redirect_uris": ["http://127.0.0.1:1/cb"] })));
    assert_eq!((put.status, put.json_body()["client_name"].as_str()), (200, Some("Renamed")));
    let escalate = call("PUT", &format!("/clients/{id}"), Some(json!({ "scope": "openid admin" })));
    assert_eq!(escalate.status, 400);
    assert_eq!(call("PUT", &format!("/clients/{id}"), Some(json!({ "grant_types": ["client_credentials"] }))).status, 400);
    // Nothing else: another client, the list, the admin endpoints.
    for (method, path) in
        [("GET", format!("/clients/{other}")), ("PUT", format!("/clients/{other}")), ("DELETE", format!("/clients/{other}"))]
    {
        let out = call(method, &path, (method == "PUT").then(|| json!({ "client_name": "x" })));
        assert_eq!(out.status, 401, "{method} {path}");
    }
    for (method, path) in [("GET", "/clients"), ("GET", "/users"), ("GET", "/audit"), ("POST", &format!("/clients/{id}/secret") as &str)] {
        assert_eq!(call(method, path, None).status, 401, "{method} {path}");
    }
    // An admin still manages it; the owner deletes it (RFC 7592 §2.3), and then it is gone.
    assert_eq!(w.serve(NOW, &request("GET", &format!("/clients/{id}")).with_bearer(BOOTSTRAP)).status, 200);
    assert_eq!(call("DELETE", &format!("/clients/{id}"), None).status, 204);
    assert_eq!(call("GET", &format!("/clients/{id}"), None).status, 401);
}

#[test]
fn never_used_dynamic_clients_expire_used_ones_and_admin_ones_stay() {
    let w = World::new();
    let (_, unused) = register(&w, mcp_client());
    let (_, used) = register(&w, mcp_client());
    let admin = w.serve(
        NOW,
        &request("POST", "/clients")
            .with_bearer(BOOTSTRAP)
            .with_json(&json!({ "client_name": "A", "redirect_uris": ["https://a.example/cb"] })),
    );
    let admin_id = admin.json_body()["client_id"].as_str().unwrap().to_string();
    let consumed =
        crate::store::ConsumedCode { code_hash: "c".into(), family_id: None, access_jti: "j".into(), access_exp: NOW, expires_at: NOW };
    let client_use = crate::store::ClientUse { client_id: used["client_id"].as_str().unwrap(), at: NOW };
    crate::oauth::block_on(crate::store::CodeStore::redeem_code(&w.store, &consumed, Some(client_use), None)).unwrap();
    let gone = crate::oauth::block_on(crate::store::ClientStore::purge_unused_dynamic_clients(&w.store, NOW)).unwrap();
    assert_eq!(gone, 1);
    let exists = |id: &str| crate::oauth::block_on(crate::store::ClientStore::client(&w.store, id)).unwrap().is_some();
    assert!(!exists(unused["client_id"].as_str().unwrap()));
    assert!(exists(used["client_id"].as_str().unwrap()) && exists(&admin_id));
}

#[test]
fn an_admin_manages_a_metadata_document_client_by_its_encoded_url() {
    use crate::store::FetchedDocument;
    let w = World::new();
    let url = "https://doc.example/client.json";
    let doc = json!({ "client_id": url, "client_name": "Doc", "redirect_uris": ["https://doc.example/cb"] });
    w.store.serve_document(url, Ok(FetchedDocument { body: serde_json::to_vec(&doc).unwrap(), cache_control: Some("max-age=60".into()) }));
    crate::oauth::block_on(w.at(NOW).client_by_id(url)).unwrap().unwrap();
    let path = "/clients/https%3A%2F%2Fdoc.example%2Fclient.json";
    let out = w.serve(NOW, &request("GET", path).with_bearer(BOOTSTRAP));
    assert_eq!((out.status, out.json_body()["client_id"].as_str()), (200, Some(url)));
    let out = w.serve(NOW, &request("PUT", path).with_bearer(BOOTSTRAP).with_json(&json!({ "is_active": false })));
    assert_eq!(out.status, 200, "{}", out.json_body());
    // Deactivated: a later, stale lookup keeps it so without fetching the document again.
    let fetches = w.store.fetches();
    let c = crate::oauth::block_on(w.at(NOW + 3600).client_by_id(url)).unwrap().unwrap();
    assert!(!c.is_active);
    assert_eq!(w.store.fetches(), fetches);
}

#[test]
fn an_anonymous_registration_of_a_first_party_redirect_uri_neither_breaks_nor_takes_its_login() {
    let w = World::new();
    let first = json!({ "client_name": "First", "grant_types": ["authorization_code"], "redirect_uris": ["https://app.example/cb"] });
    let out = w.serve(NOW, &request("POST", "/clients").with_bearer(BOOTSTRAP).with_json(&first));
    assert_eq!(out.status, 201);
    let first_id = out.json_body()["client_id"].as_str().unwrap().to_string();
    let user = crate::oauth::users::validate_registration("erin", "erin@example.com", "correct horse", None).unwrap();
    crate::oauth::block_on(w.at(NOW).register_user(user)).unwrap();
    // Someone registers the first-party app's redirect URI as their own client.
    let (status, _) = register(
        &w,
        json!({ "client_name": "Squatter", "redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": "none" }),
    );
    assert_eq!(status, 201);
    // The seed's `/login` without client_id still finds the first-party client, and only it.
    let login = request("POST", "/login").with_header("accept", "application/json").with_form(&[
        ("username", "erin"),
        ("password", "correct horse"),
        ("redirect", "https://app.example/cb"),
        ("state", "s"),
    ]);
    let out = w.serve(NOW, &login);
    assert_eq!(out.status, 200, "{}", String::from_utf8_lossy(&out.body));
    let location = out.json_body().as_str().unwrap().to_string();
    let code = crate::form::parse(location.split_once('?').unwrap().1).unwrap().into_iter().find(|(k, _)| k == "code").unwrap().1;
    let stored = crate::oauth::block_on(crate::store::CodeStore::code(&w.store, &crate::crypto::sha256_b64url(&code))).unwrap().unwrap();
    assert_eq!(stored.client_id, first_id);
}
