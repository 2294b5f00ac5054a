//! The consent page of third-party (dynamically registered) clients through the HTTP surface:
//! shown after sign-in, Allow and Deny, remembered, `prompt=consent` and `prompt=none`, and the
//! form's protections (anti-CSRF token, same-origin, a signed-in browser).

use crate::http::Outgoing;
use crate::oauth::block_on;
use crate::oauth::users::validate_registration;
use crate::testing::{request, World};
use serde_json::json;

const NOW: u64 = 1_800_000_000;
const ORIGIN: (&str, &str) = ("origin", "https://issuer.example");
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn setup(w: &World) -> String {
    let body = json!({ "client_name": "Notes MCP", "redirect_uris": ["https://notes.example/cb"], "token_endpoint_auth_method": "none",
                       "scope": "openid profile email", "client_uri": "https://notes.example" });
    let out = w.serve(NOW, &request("POST", "/clients").with_header("cf-connecting-ip", "203.0.113.9").with_json(&body));
    assert_eq!(out.status, 201);
    block_on(w.at(NOW).register_user(validate_registration("alice", "alice@example.com", "correct horse", None).unwrap())).unwrap();
    out.json_body()["client_id"].as_str().unwrap().to_string()
}

fn body(out: &Outgoing) -> String {
    String::from_utf8_lossy(&out.body).to_string()
}

/// The hidden fields of the page's form, unescaped.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" name=\"")
        .skip(1)
        .map(|rest| {
            let (name, rest) = rest.split_once("\" value=\"").unwrap();
            let value = rest.split('"').next().unwrap().replace("&amp;", "&").replace("&#39;", "'").replace("&quot;", "\"");
            (name.to_string(), value)
        })
        .collect()
}

fn authorize_query(client_id: &str, extra: &str) -> String {
    format!(
        "response_type=code&client_id={client_id}&redirect_uri=https%3A%2F%2Fnotes.example%2Fcb&scope=openid%20email&state=st\
         &code_challenge={CHALLENGE}&code_challenge_method=S256&resource=https%3A%2F%2Fnotes.example%2Fmcp{extra}"
    )
}

struct Browser {
    cookies: Vec<String>,
}

impl Browser {
    fn header(&self) -> String {
        self.cookies.join("; ")
    }
    fn keep(&mut self, out: &Outgoing) {
        for (k, v) in &out.headers {
            if k == "set-cookie" {
                let pair = v.split(';').next().unwrap().to_string();
                let name = pair.split('=').next().unwrap().to_string();
                self.cookies.retain(|c| !c.starts_with(&format!("{name}=")));
                self.cookies.push(pair);
            }
        }
    }
    fn get(&mut self, w: &World, path: &str, query: &str) -> Outgoing {
        let mut req = request("GET", path).with_query(query);
        if !self.cookies.is_empty() {
            req = req.with_header("cookie", &self.header());
        }
        let out = w.serve(NOW, &req);
        self.keep(&out);
        out
    }
    fn post(&mut self, w: &World, path: &str, form: &[(String, String)]) -> Outgoing {
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let req = request("POST", path).with_form(&pairs).with_header(ORIGIN.0, ORIGIN.1).with_header("cookie", &self.header());
        let out = w.serve(NOW, &req);
        self.keep(&out);
        out
    }
}

fn location_params(out: &Outgoing) -> Vec<(String, String)> {
    let loc = out.headers.iter().find(|(k, _)| k == "location").map(|(_, v)| v.clone()).expect("a redirect");
    assert!(loc.starts_with("https://notes.example/cb?"), "{loc}");
    crate::form::parse(loc.split_once('?').unwrap().1).unwrap()
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// Signs in on the sign-in page; returns the consent page.
fn sign_in(w: &World, b: &mut Browser, client_id: &str) -> Outgoing {
    let page = b.get(w, "/authorize", &authorize_query(client_id, ""));
    assert_eq!(page.status, 200);
    let mut form = hidden_fields(&body(&page));
    form.push(("username".into(), "alice".into()));
    form.push(("password".into(), "correct horse".into()));
    b.post(w, "/login", &form)
}

fn decide(w: &World, b: &mut Browser, page: &Outgoing, decision: &str) -> Outgoing {
    let mut form = hidden_fields(&body(page));
    form.push(("decision".into(), decision.into()));
    b.post(w, "/consent", &form)
}

#[test]
fn a_third_party_client_asks_after_sign_in_and_deny_goes_back_with_access_denied() {
    let w = World::new();
    let client_id = setup(&w);
    let mut b = Browser { cookies: vec![] };
    let page = sign_in(&w, &mut b, &client_id);
    assert_eq!(page.status, 200, "{}", body(&page));
    let html = body(&page);
    for shown in ["Allow access?", "Notes MCP", "notes.example", "See your email address", "https://notes.example/mcp", ">Allow<", ">Deny<"]
    {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    assert!(!html.contains("See your username"), "only the scopes asked for");
    let csp = page.headers.iter().find(|(k, _)| k == "content-security-policy").unwrap().1.clone();
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self' https://notes.example"));
    let set: Vec<&str> = page.headers.iter().filter(|(k, _)| k == "set-cookie").map(|(_, v)| v.as_str()).collect();
    assert!(set.iter().any(|c| c.starts_with("__Host-edge_oidc_session=")), "signed in while asked: {set:?}");
    assert!(set.iter().any(|c| c.starts_with("__Host-edge_oidc_csrf=")), "the form's token cookie too: {set:?}");

    let denied = decide(&w, &mut b, &page, "deny");
    assert_eq!(denied.status, 302);
    let params = location_params(&denied);
    assert_eq!((param(&params, "error"), param(&params, "state")), (Some("access_denied"), Some("st")));
    assert_eq!(param(&params, "code"), None);

    // Not remembered: the signed-in browser is asked again.
    let again = b.get(&w, "/authorize", &authorize_query(&client_id, ""));
    assert_eq!(again.status, 200);
    assert!(body(&again).contains("Allow access?"));
}

#[test]
fn allow_redirects_with_a_code_and_is_remembered_until_prompt_consent() {
    let w = World::new();
    let client_id = setup(&w);
    let mut b = Browser { cookies: vec![] };
    let page = sign_in(&w, &mut b, &client_id);
    let allowed = decide(&w, &mut b, &page, "allow");
    assert_eq!(allowed.status, 302);
    let params = location_params(&allowed);
    assert!(param(&params, "code").is_some() && param(&params, "state") == Some("st"));

    // Remembered: the next request with the same scopes gets its code at once.
    let next = b.get(&w, "/authorize", &authorize_query(&client_id, ""));
    assert_eq!(next.status, 302);
    assert!(param(&location_params(&next), "code").is_some());
    // prompt=consent asks again; prompt=none with more scopes cannot ask: consent_required.
    let asked = b.get(&w, "/authorize", &authorize_query(&client_id, "&prompt=consent"));
    assert_eq!(asked.status, 200);
    assert!(body(&asked).contains("Allow access?"));
    let q = authorize_query(&client_id, "&prompt=none").replace("scope=openid%20email", "scope=openid%20profile");
    let none = b.get(&w, "/authorize", &q);
    assert_eq!(param(&location_params(&none), "error"), Some("consent_required"));

    // The code works at the token endpoint (PKCE, public client) and carries the resource.
    let code = param(&params, "code").unwrap().to_string();
    let token = w.serve(
        NOW,
        &request("POST", "/token").with_form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://notes.example/cb"),
            ("client_id", &client_id),
            ("code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
        ]),
    );
    assert_eq!(token.status, 200, "{}", body(&token));
    let claims = block_on(w.at(NOW).verify_access_token(token.json_body()["access_token"].as_str().unwrap())).unwrap().unwrap();
    assert!(claims.aud.is_only("https://notes.example/mcp"));
}

#[test]
fn the_consent_form_needs_its_token_its_site_and_a_signed_in_browser() {
    let w = World::new();
    let client_id = setup(&w);
    let mut b = Browser { cookies: vec![] };
    let page = sign_in(&w, &mut b, &client_id);
    let mut form = hidden_fields(&body(&page));
    form.push(("decision".into(), "allow".into()));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let post = |headers: &[(&str, &str)], pairs: &[(&str, &str)]| {
        let mut req = request("POST", "/consent").with_form(pairs);
        for (k, v) in headers {
            req = req.with_header(k, v);
        }
        w.serve(NOW, &req)
    };
    let cookies = b.header();
    // Cross-site: refused, whatever it carries.
    assert_eq!(post(&[("origin", "https://evil.example"), ("cookie", &cookies)], &pairs).status, 403);
    // Without the browser's anti-CSRF cookie (another browser, or a forged post): refused.
    let jar = |name: &str| b.cookies.iter().find(|c| c.starts_with(name)).cloned().expect("cookie kept");
    let session_only = jar("__Host-edge_oidc_session=");
    assert_eq!(post(&[ORIGIN, ("cookie", &session_only)], &pairs).status, 403);
    // Without a session: the person is no longer signed in.
    let csrf_only = jar("__Host-edge_oidc_csrf=");
    assert_eq!(post(&[ORIGIN, ("cookie", &csrf_only)], &pairs).status, 401);
    // A decision that is neither: refused, no code.
    let odd: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| if *k == "decision" { (*k, "maybe") } else { (*k, *v) }).collect();
    assert_eq!(post(&[ORIGIN, ("cookie", &cookies)], &odd).status, 400);
    // A tampered redirect (the page carries none: the request is the question's record) is
    // refused: an error page, never a redirect.
    let mut evil = pairs.clone();
    evil.push(("redirect", "https://evil.example/cb"));
    let out = post(&[ORIGIN, ("cookie", &cookies)], &evil);
    assert_eq!(out.status, 400);
    assert!(!out.headers.iter().any(|(k, _)| k == "location"));
    // Nothing was remembered by any of those.
    assert!(block_on(crate::store::ConsentStore::consent(&w.store, "x", &client_id)).unwrap().is_none());
}

#[test]
fn an_api_sign_in_for_a_third_party_client_is_told_to_use_a_browser() {
    let w = World::new();
    let client_id = setup(&w);
    let out = w.serve(
        NOW,
        &request("POST", "/login").with_header("accept", "application/json").with_form(&[
            ("username", "alice"),
            ("password", "correct horse"),
            ("redirect", "https://notes.example/cb"),
            ("state", "s"),
            ("client_id", &client_id),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]),
    );
    assert_eq!((out.status, out.json_body()["error"].as_str()), (400, Some("consent_required")));
}

#[test]
fn the_account_page_lists_connected_apps_and_removing_one_ends_its_grants() {
    let w = World::new();
    let client_id = setup(&w);
    let mut b = Browser { cookies: vec![] };
    let page = sign_in(&w, &mut b, &client_id);
    let code = param(&location_params(&decide(&w, &mut b, &page, "allow")), "code").unwrap().to_string();
    let token = |form: &[(&str, &str)]| w.serve(NOW, &request("POST", "/token").with_form(form));
    let tokens = token(&[
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", "https://notes.example/cb"),
        ("client_id", &client_id),
        ("code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    ])
    .json_body();
    let access = tokens["access_token"].as_str().unwrap().to_string();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_string();

    let account = b.get(&w, "/account", "");
    let html = body(&account);
    assert!(html.contains("Connected apps") && html.contains("Notes MCP") && html.contains("See your email address"), "{html}");
    assert!(html.contains("aria-label=\"Remove access for Notes MCP\""));
    let csrf = hidden_fields(&html).into_iter().find(|(k, _)| k == "csrf").unwrap().1;

    // A refused password change shows the same page, apps included.
    let wrong = b.post(
        &w,
        "/account/password",
        &[("csrf".into(), csrf.clone()), ("current_password".into(), "wrong".into()), ("new_password".into(), "a new password".into())],
    );
    assert!(wrong.status >= 400 && body(&wrong).contains("Remove access for Notes MCP"), "{}", wrong.status);
    // Without the form's token: refused, nothing removed.
    let forged = b.post(&w, "/account/apps", &[("client_id".into(), client_id.clone())]);
    assert_eq!(forged.status, 403);
    let removed = b.post(&w, "/account/apps", &[("csrf".into(), csrf.clone()), ("client_id".into(), client_id.clone())]);
    assert_eq!(removed.status, 200);
    assert!(body(&removed).contains("Access removed") && body(&removed).contains("No application has access"));
    // Its grants ended: the access token is no longer usable, the refresh token refused.
    assert!(block_on(w.at(NOW + 1).verify_access_token(&access)).unwrap().is_none());
    let r = token(&[("grant_type", "refresh_token"), ("refresh_token", &refresh), ("client_id", &client_id)]);
    assert_eq!((r.status, r.json_body()["error"].as_str()), (400, Some("invalid_grant")));
    // And the next request asks again.
    let again = b.get(&w, "/authorize", &authorize_query(&client_id, ""));
    assert!(body(&again).contains("Allow access?"));
    // Removing one it does not have: 404.
    let none = b.post(&w, "/account/apps", &[("csrf".into(), csrf), ("client_id".into(), client_id)]);
    assert_eq!(none.status, 404);
}

#[test]
fn the_consent_page_carries_only_its_question_which_is_answered_once() {
    let w = World::new();
    let client_id = setup(&w);
    let mut b = Browser { cookies: vec![] };
    let page = sign_in(&w, &mut b, &client_id);
    let names: Vec<String> = hidden_fields(&body(&page)).into_iter().map(|(k, _)| k).collect();
    assert_eq!(names, ["pending", "csrf"], "the request is in the question's record");
    let allowed = decide(&w, &mut b, &page, "allow");
    assert_eq!(allowed.status, 302);
    // The same page posted again (a double click, a replay): the question was answered.
    let again = decide(&w, &mut b, &page, "deny");
    assert_eq!(again.status, 403);
    assert!(!again.headers.iter().any(|(k, _)| k == "location"));
}
