//! DPoP proofs (RFC 9449 §4.3) rule by rule, and the binding of tokens (§5, §6, §7.1).

use super::*;
use crate::crypto::jose::Jwk;
use crate::oauth::block_on;
use crate::oauth::clients::{ClientCredentials, ClientMetadata};
use crate::oauth::{ErrorCode, TokenRequest};
use crate::testing::World;
use p256::ecdsa::SigningKey;
use serde_json::{json, Value};

const NOW: u64 = 1_000_000;
const TOKEN_URL: &str = "https://issuer.example/token";

fn key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

fn proof_with(key: &SigningKey, header: Value, claims: Value) -> String {
    let mut h = json!({"typ":"dpop+jwt","alg":"ES256","jwk": Jwk::Ec(*key.verifying_key()).to_value()});
    for (k, v) in header.as_object().unwrap() {
        h[k] = v.clone();
    }
    let input = format!("{}.{}", b64url(h.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
    let signature = crate::crypto::es256::sign(key, input.as_bytes()).to_bytes();
    format!("{input}.{}", b64url(&signature))
}

fn claims(htm: &str, htu: &str) -> Value {
    json!({"jti": crate::crypto::random_id(), "htm": htm, "htu": htu, "iat": NOW})
}

fn proof(key: &SigningKey) -> String {
    proof_with(key, json!({}), claims("POST", TOKEN_URL))
}

fn check(w: &World, proof: &str, access_token: Option<&str>) -> OAuthResult<Proof> {
    block_on(w.at(NOW).check_dpop(proof, "POST", TOKEN_URL, access_token))
}

#[test]
fn a_good_proof_gives_its_keys_thumbprint() {
    let w = World::new();
    let k = key(9);
    let p = check(&w, &proof(&k), None).unwrap();
    assert_eq!(p.jkt, Jwk::Ec(*k.verifying_key()).thumbprint());
    // htu compares without query, default port or case.
    let loose = proof_with(&k, json!({}), claims("POST", "HTTPS://Issuer.Example:443/token?x=1"));
    assert!(check(&w, &loose, None).is_ok());
}

#[test]
fn each_broken_rule_is_invalid_dpop_proof() {
    let w = World::new();
    let k = key(9);
    let other = key(10);
    let mut c = claims("POST", TOKEN_URL);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut c = claims("POST", TOKEN_URL);
        f(&mut c);
        c
    };
    let forged = {
        let good = proof(&k);
        let (input, _) = good.rsplit_once('.').unwrap();
        let signature = crate::crypto::es256::sign(&other, input.as_bytes()).to_bytes();
        format!("{input}.{}", b64url(&signature))
    };
    c["jti"] = json!("fixed");
    let cases: Vec<(&str, String)> = vec![
        ("wrong typ", proof_with(&k, json!({"typ":"JWT"}), claims("POST", TOKEN_URL))),
        ("alg none", proof_with(&k, json!({"alg":"none"}), claims("POST", TOKEN_URL))),
        ("HS256", proof_with(&k, json!({"alg":"HS256"}), claims("POST", TOKEN_URL))),
        ("no jwk", proof_with(&k, json!({"jwk": null}), claims("POST", TOKEN_URL))),
        (
            "private jwk",
            proof_with(&k, json!({"jwk": serde_json::from_str::<Value>(crate::testing::TEST_JWK).unwrap()}), claims("POST", TOKEN_URL)),
        ),
        ("signed by another key", forged),
        ("wrong htm", proof_with(&k, json!({}), claims("GET", TOKEN_URL))),
        ("wrong htu", proof_with(&k, json!({}), claims("POST", "https://issuer.example/userinfo"))),
        ("other host", proof_with(&k, json!({}), claims("POST", "https://evil.example/token"))),
        ("old iat", proof_with(&k, json!({}), with(&|c| c["iat"] = json!(NOW - MAX_AGE - 1)))),
        ("future iat", proof_with(&k, json!({}), with(&|c| c["iat"] = json!(NOW + MAX_AHEAD + 1)))),
        ("no jti", proof_with(&k, json!({}), with(&|c| drop(c.as_object_mut().unwrap().remove("jti"))))),
        ("not a JWT", "nope".into()),
    ];
    for (what, p) in cases {
        let e = check(&w, &p, None).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidDpopProof, "{what}: {e:?}");
        assert_eq!(e.status(), 400, "{what}");
    }
    // Replay of a jti.
    let once = proof_with(&k, json!({}), c);
    assert!(check(&w, &once, None).is_ok());
    assert!(check(&w, &once, None).unwrap_err().description.contains("already used"));
    // ath at a resource.
    let with_ath = proof_with(&k, json!({}), with(&|c| c["ath"] = json!(access_token_hash("the-token"))));
    assert!(check(&w, &with_ath, Some("another-token")).is_err());
    let with_ath = proof_with(&k, json!({}), with(&|c| c["ath"] = json!(access_token_hash("the-token"))));
    assert!(check(&w, &with_ath, Some("the-token")).is_ok());
    assert!(check(&w, &proof(&k), Some("the-token")).is_err(), "no ath where a token is presented");
}

fn password_client(w: &World, public: bool, dpop_required: bool) -> (crate::store::Client, ClientCredentials) {
    let meta = json!({
        "client_name": "D", "client_type": if public { "public" } else { "confidential" },
        "grant_types": if public { json!(["authorization_code","refresh_token"]) } else { json!(["password","refresh_token","client_credentials"]) },
        "redirect_uris": ["https://app.example/cb"], "dpop_bound_access_tokens": dpop_required,
    });
    let (client, secret) = block_on(w.at(NOW).create_client(serde_json::from_value::<ClientMetadata>(meta).unwrap())).unwrap();
    let creds = match secret {
        Some(s) => ClientCredentials { basic: Some((client.client_id.clone(), s)), ..Default::default() },
        None => ClientCredentials { form_id: Some(client.client_id.clone()), ..Default::default() },
    };
    (client, creds)
}

#[test]
fn bound_tokens_carry_cnf_and_are_refused_as_bearer() {
    let w = World::new();
    let (_, creds) = password_client(&w, false, false);
    block_on(w.at(NOW).register_user(crate::oauth::users::validate_registration("dana", "d@example.com", "correct horse", None).unwrap()))
        .unwrap();
    let k = key(9);
    let jkt = Jwk::Ec(*k.verifying_key()).thumbprint();
    let req = TokenRequest::Password {
        username: "dana".into(),
        password: crate::oauth::secrets::Password::new("correct horse"),
        scope: Some("openid".into()),
    };
    let t = block_on(w.at(NOW).token_for(&creds, &req, &[], Some(&jkt))).unwrap();
    assert_eq!(t.token_type, "DPoP");
    let claims = block_on(w.at(NOW).verify_any_access_token(&t.access_token)).unwrap().unwrap();
    assert_eq!(claims.cnf.unwrap().jkt, jkt);
    // As a Bearer token it is refused; with its key it is good; with another key it is not.
    assert!(block_on(w.at(NOW).verify_access_token(&t.access_token)).unwrap().is_none());
    assert!(block_on(w.at(NOW).userinfo(&t.access_token, None)).is_err());
    assert!(block_on(w.at(NOW).userinfo(&t.access_token, Some(&jkt))).is_ok());
    assert!(block_on(w.at(NOW).userinfo(&t.access_token, Some("another-jkt"))).is_err());
    // Introspection reports the binding.
    let i = block_on(w.at(NOW).introspect(&t.access_token)).unwrap();
    assert_eq!((i.token_type, i.cnf.map(|c| c.jkt)), (Some("DPoP"), Some(jkt.clone())));
    // An unbound token is refused with the DPoP scheme.
    let plain = block_on(w.at(NOW).token_for(&creds, &req, &[], None)).unwrap();
    assert_eq!(plain.token_type, "Bearer");
    assert!(block_on(w.at(NOW).userinfo(&plain.access_token, Some(&jkt))).is_err());
    // A confidential client's refresh tokens are not bound (its authentication binds them).
    let refresh = TokenRequest::RefreshToken { refresh_token: t.refresh_token.unwrap(), scope: None };
    assert_eq!(block_on(w.at(NOW).token_for(&creds, &refresh, &[], None)).unwrap().token_type, "Bearer");
}

#[test]
fn a_client_registered_for_dpop_needs_a_proof() {
    let w = World::new();
    let (_, creds) = password_client(&w, false, true);
    let req = TokenRequest::ClientCredentials { scope: None };
    let e = block_on(w.at(NOW).token_for(&creds, &req, &[], None)).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidDpopProof);
    assert_eq!(block_on(w.at(NOW).token_for(&creds, &req, &[], Some("jkt"))).unwrap().token_type, "DPoP");
}

#[test]
fn a_public_clients_refresh_tokens_are_bound_to_its_key() {
    let w = World::new();
    let (client, creds) = password_client(&w, true, false);
    let user = block_on(
        w.at(NOW).register_user(crate::oauth::users::validate_registration("erin", "e@example.com", "correct horse", None).unwrap()),
    )
    .unwrap();
    let (verifier, challenge) = ("a".repeat(43), crate::oauth::pkce::s256_challenge(&"a".repeat(43)));
    let code = crate::oauth::grants::tests::code(&w, &client, &user, Some(&challenge));
    let k = key(9);
    let jkt = Jwk::Ec(*k.verifying_key()).thumbprint();
    let req = TokenRequest::AuthorizationCode {
        code: crate::oauth::secrets::CodeSecret::new(code),
        redirect_uri: "https://app.example/cb".into(),
        code_verifier: Some(crate::oauth::secrets::CodeVerifier::new(verifier)),
    };
    let t = block_on(w.at(1001).token_for(&creds, &req, &[], Some(&jkt))).unwrap();
    let refresh = |token| TokenRequest::RefreshToken { refresh_token: token, scope: None };
    // Without a proof, or with another key, the refresh token is refused and stays usable.
    let rt = t.refresh_token.unwrap();
    assert_eq!(block_on(w.at(1001).token_for(&creds, &refresh(rt.clone()), &[], None)).unwrap_err().code, ErrorCode::InvalidGrant);
    assert_eq!(block_on(w.at(1001).token_for(&creds, &refresh(rt.clone()), &[], Some("other"))).unwrap_err().code, ErrorCode::InvalidGrant);
    let next = block_on(w.at(1002).token_for(&creds, &refresh(rt), &[], Some(&jkt))).unwrap();
    assert_eq!(next.token_type, "DPoP");
    // The rotated token keeps the binding.
    let rt2 = next.refresh_token.unwrap();
    assert!(block_on(w.at(1003).token_for(&creds, &refresh(rt2.clone()), &[], None)).is_err());
    assert!(block_on(w.at(1003).token_for(&creds, &refresh(rt2), &[], Some(&jkt))).is_ok());
}
