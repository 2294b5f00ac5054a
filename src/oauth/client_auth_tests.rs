//! Client assertions (RFC 7523 §3): each rule, with ES256, RS256 and HS256, keys by value and by
//! URL, replay, audience, expiry and the wrong key.

use super::*;
use crate::crypto::jose::Jwk;
use crate::crypto::{b64url, rs256::RsaKey};
use crate::oauth::block_on;
use crate::oauth::clients::{ClientCredentials, ClientMetadata};
use crate::oauth::{ErrorCode, GrantType, TokenRequest};
use crate::store::memory::MemoryStore;
use crate::store::FetchedDocument;
use crate::testing::World;
use p256::ecdsa::SigningKey;
use serde_json::json;

const NOW: u64 = 1_000_000;

fn ec_key(seed: u8) -> SigningKey {
    SigningKey::from_slice(&[seed; 32]).unwrap()
}

fn public_jwk(key: &SigningKey, kid: &str) -> Value {
    let mut jwk = Jwk::Ec(*key.verifying_key()).to_value();
    jwk["kid"] = json!(kid);
    jwk
}

fn rsa_key() -> RsaKey {
    RsaKey::from_jwk(&serde_json::from_str(crate::testing::RS256_JWK).unwrap()).unwrap()
}

/// A compact JWS of `claims` with `header`, signed by `sign`.
fn jws(header: Value, claims: &Value, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
    let signature = sign(input.as_bytes());
    format!("{input}.{}", b64url(&signature))
}

fn es256(key: &SigningKey, kid: &str, claims: &Value) -> String {
    jws(json!({"alg":"ES256","kid":kid,"typ":"JWT"}), claims, |m| crate::crypto::es256::sign(key, m).to_bytes().to_vec())
}

fn claims(client_id: &str, jti: &str) -> Value {
    json!({"iss": client_id, "sub": client_id, "aud": "https://issuer.example", "exp": NOW + 60, "iat": NOW, "jti": jti})
}

fn creds(jwt: String) -> ClientCredentials {
    ClientCredentials {
        assertion: Some(ClientAssertion { kind: JWT_BEARER_CLIENT_ASSERTION.into(), jwt }),
        endpoint: "/token".into(),
        ..Default::default()
    }
}

fn register(w: &World, meta: Value) -> (Client, Option<crate::oauth::secrets::ClientSecret>) {
    let mut meta = meta;
    meta["client_name"] = json!("Key client");
    meta["grant_types"] = json!(["client_credentials"]);
    let meta: ClientMetadata = serde_json::from_value(meta).unwrap();
    block_on(w.at(NOW).create_client(meta)).unwrap()
}

fn authenticate(w: &World, c: &ClientCredentials) -> OAuthResult<Client> {
    block_on(w.at(NOW).authenticate_client(c))
}

#[test]
fn private_key_jwt_with_jwks_by_value() {
    let w = World::new();
    let key = ec_key(3);
    let (client, secret) = register(&w, json!({"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[public_jwk(&key, "k1")]}}));
    assert!(secret.is_none(), "a private_key_jwt client gets no secret");
    let id = client.client_id.as_str();
    assert_eq!(authenticate(&w, &creds(es256(&key, "k1", &claims(id, "a")))).unwrap().client_id, id);
    // The client's own token request works end to end.
    let token = block_on(w.at(NOW).token(&creds(es256(&key, "k1", &claims(id, "b"))), &TokenRequest::ClientCredentials { scope: None }));
    assert!(token.is_ok(), "{token:?}");
    // Without a kid the key is found by its type.
    let no_kid = jws(json!({"alg":"ES256"}), &claims(id, "c"), |m| crate::crypto::es256::sign(&key, m).to_bytes().to_vec());
    assert!(authenticate(&w, &creds(no_kid)).is_ok());
    // The secret methods are refused to it, and its client_id alone is not enough.
    let by_id = ClientCredentials { form_id: Some(id.into()), ..Default::default() };
    assert_eq!(authenticate(&w, &by_id).unwrap_err().code, ErrorCode::InvalidClient);
}

#[test]
fn each_broken_rule_is_invalid_client() {
    let w = World::new();
    let key = ec_key(3);
    let (client, _) = register(&w, json!({"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[public_jwk(&key, "k1")]}}));
    let id = client.client_id.as_str();
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = claims(id, &crate::crypto::random_id());
        change(&mut c);
        es256(&key, "k1", &c)
    };
    let cases: Vec<(&str, String)> = vec![
        ("expired", with(&|c| c["exp"] = json!(NOW))),
        ("exp too far", with(&|c| c["exp"] = json!(NOW + 301))),
        ("no exp", with(&|c| drop(c.as_object_mut().unwrap().remove("exp")))),
        ("nbf ahead", with(&|c| c["nbf"] = json!(NOW + 120))),
        ("wrong aud", with(&|c| c["aud"] = json!("https://other.example"))),
        ("aud of another path", with(&|c| c["aud"] = json!("https://issuer.example/introspect"))),
        ("no jti", with(&|c| drop(c.as_object_mut().unwrap().remove("jti")))),
        ("iss differs", with(&|c| c["iss"] = json!("someone"))),
        (
            "unknown client",
            with(&|c| {
                c["iss"] = json!("nobody");
                c["sub"] = json!("nobody");
            }),
        ),
        ("another key", es256(&ec_key(4), "k1", &claims(id, "x"))),
        ("unknown kid", es256(&key, "k9", &claims(id, "y"))),
        ("alg none", format!("{}.{}.", b64url(br#"{"alg":"none"}"#), b64url(claims(id, "z").to_string().as_bytes()))),
        ("HS256 for a key client", jws(json!({"alg":"HS256"}), &claims(id, "h"), |m| hs256("guess", m).to_vec())),
        ("not a JWT", "abc".into()),
    ];
    for (what, jwt) in cases {
        let e = authenticate(&w, &creds(jwt)).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidClient, "{what}: {e:?}");
        assert_eq!(e.status(), 401, "{what}");
    }
    // The audience may be the issuer, the token endpoint, or the endpoint presented to, in a list.
    for aud in [json!("https://issuer.example/token"), json!(["https://x.example", "https://issuer.example"])] {
        assert!(authenticate(&w, &creds(with(&|c| c["aud"] = aud.clone()))).is_ok(), "{aud}");
    }
    let mut at_revoke = creds(with(&|c| c["aud"] = json!("https://issuer.example/revoke")));
    at_revoke.endpoint = "/revoke".into();
    assert!(authenticate(&w, &at_revoke).is_ok());
    // A wrong assertion type, and an assertion beside a secret.
    let mut other_type = creds(with(&|_| {}));
    other_type.assertion.as_mut().unwrap().kind = "urn:ietf:params:oauth:client-assertion-type:saml2-bearer".into();
    assert_eq!(authenticate(&w, &other_type).unwrap_err().code, ErrorCode::InvalidClient);
    let mut two = creds(with(&|_| {}));
    two.form_secret = Some(crate::oauth::secrets::ClientSecret::new("x"));
    assert_eq!(authenticate(&w, &two).unwrap_err().code, ErrorCode::InvalidRequest);
    // client_id, when sent, must be the assertion's.
    let mut other_id = creds(with(&|_| {}));
    other_id.form_id = Some("another".into());
    assert_eq!(authenticate(&w, &other_id).unwrap_err().code, ErrorCode::InvalidClient);
}

#[test]
fn a_jti_is_single_use_until_the_assertion_expires() {
    let w = World::new();
    let key = ec_key(3);
    let (client, _) = register(&w, json!({"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[public_jwk(&key, "k1")]}}));
    let jwt = es256(&key, "k1", &claims(&client.client_id, "once"));
    assert!(authenticate(&w, &creds(jwt.clone())).is_ok());
    let replay = authenticate(&w, &creds(jwt)).unwrap_err();
    assert_eq!(replay.code, ErrorCode::InvalidClient);
    assert!(replay.description.contains("already used"), "{}", replay.description);
    // Another client may use the same jti.
    let key2 = ec_key(5);
    let (other, _) = register(&w, json!({"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[public_jwk(&key2, "k")]}}));
    assert!(authenticate(&w, &creds(es256(&key2, "k", &claims(&other.client_id, "once")))).is_ok());
}

#[test]
fn rs256_keys_and_a_jwks_uri() {
    let w = World::new();
    let rsa = rsa_key();
    let mut public = rsa.public.to_jwk();
    public["kid"] = json!("r1");
    let url = "https://keys.example/jwks.json";
    w.store.serve_document(url, Ok(FetchedDocument { body: json!({"keys":[public]}).to_string().into_bytes(), cache_control: None }));
    let (client, _) =
        register(&w, json!({"token_endpoint_auth_method":"private_key_jwt","jwks_uri":url,"token_endpoint_auth_signing_alg":"RS256"}));
    let id = client.client_id.as_str();
    let rs = |jti: &str| jws(json!({"alg":"RS256","kid":"r1"}), &claims(id, jti), |m| rsa.sign(m));
    assert!(authenticate(&w, &creds(rs("1"))).is_ok());
    assert!(authenticate(&w, &creds(rs("2"))).is_ok());
    assert_eq!(w.store.fetches(), 1, "the JWK Set is kept between requests");
    // The registered algorithm is the only one.
    let key = ec_key(3);
    assert_eq!(authenticate(&w, &creds(es256(&key, "r1", &claims(id, "3")))).unwrap_err().code, ErrorCode::InvalidClient);
    // A set that cannot be fetched is a clear invalid_client.
    let (broken, _) = register(&w, json!({"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://keys.example/missing.json"}));
    let e = authenticate(&w, &creds(es256(&key, "k", &claims(&broken.client_id, "4")))).unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidClient);
    assert!(e.description.contains("jwks_uri"), "{}", e.description);
}

#[test]
fn a_rotated_key_is_fetched_again() {
    let w = World::new();
    let (old, new) = (ec_key(3), ec_key(4));
    let url = "https://keys.example/rotating.json";
    let serve = |key: &SigningKey, kid: &str| {
        w.store.serve_document(
            url,
            Ok(FetchedDocument { body: json!({"keys":[public_jwk(key, kid)]}).to_string().into_bytes(), cache_control: None }),
        )
    };
    serve(&old, "old");
    let (client, _) = register(&w, json!({"token_endpoint_auth_method":"private_key_jwt","jwks_uri":url}));
    let id = client.client_id.clone();
    assert!(authenticate(&w, &creds(es256(&old, "old", &claims(&id, "1")))).is_ok());
    serve(&new, "new");
    // Within JWKS_REFETCH the kept set answers; after it, an unknown kid fetches again.
    assert!(authenticate(&w, &creds(es256(&new, "new", &claims(&id, "2")))).is_err());
    let later = NOW + JWKS_REFETCH;
    let c = ClientCredentials {
        ..creds(es256(&new, "new", &json!({"iss":id,"sub":id,"aud":"https://issuer.example","exp":later+60,"jti":"3"})))
    };
    assert!(block_on(w.at(later).authenticate_client(&c)).is_ok());
}

#[test]
fn client_secret_jwt_uses_the_sealed_secret() {
    let w = World::new();
    let (client, secret) = register(&w, json!({"token_endpoint_auth_method":"client_secret_jwt"}));
    let secret = secret.expect("a client_secret_jwt client has a secret");
    let sealed = client.client_secret_sealed.clone().expect("its secret is sealed");
    assert!(!sealed.contains(secret.expose()), "never in the clear");
    let id = client.client_id.as_str();
    let hs = |key: &str, jti: &str| jws(json!({"alg":"HS256"}), &claims(id, jti), |m| hs256(key, m).to_vec());
    assert!(authenticate(&w, &creds(hs(secret.expose(), "1"))).is_ok());
    assert_eq!(authenticate(&w, &creds(hs("wrong", "2"))).unwrap_err().code, ErrorCode::InvalidClient);
    // A new secret replaces the sealed one.
    let (_, new) = block_on(w.at(NOW).rotate_client_secret(id)).unwrap();
    assert!(authenticate(&w, &creds(hs(secret.expose(), "3"))).is_err());
    assert!(authenticate(&w, &creds(hs(new.expose(), "4"))).is_ok());
    // The other clients keep no sealed copy.
    let (plain, _) = register(&w, json!({}));
    assert!(plain.client_secret_sealed.is_none());
}

#[test]
fn key_metadata_is_checked() {
    let w = World::new();
    let key = ec_key(3);
    for bad in [
        json!({"token_endpoint_auth_method":"private_key_jwt"}),
        json!({"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[]}}),
        json!({"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}}),
        json!({"token_endpoint_auth_method":"private_key_jwt","jwks":[public_jwk(&key, "k")]}),
        json!({"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[serde_json::from_str::<Value>(crate::testing::TEST_JWK).unwrap()]}}),
        json!({"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"ftp://keys.example/k"}),
        json!({"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://a.example/k","jwks":{"keys":[public_jwk(&key, "k")]}}),
        json!({"token_endpoint_auth_method":"private_key_jwt","jwks_uri":"https://a.example/k","token_endpoint_auth_signing_alg":"HS256"}),
        json!({"token_endpoint_auth_method":"client_secret_jwt","token_endpoint_auth_signing_alg":"ES256"}),
        json!({"fapi":"1.0"}),
    ] {
        let mut meta = bad.clone();
        meta["client_name"] = json!("K");
        meta["grant_types"] = json!(["client_credentials"]);
        let e = block_on(w.at(NOW).create_client(serde_json::from_value(meta).unwrap())).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest, "{bad}");
    }
    // A private_key_jwt client has no secret to rotate.
    let (client, _) = register(&w, json!({"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[public_jwk(&key, "k")]}}));
    assert!(block_on(w.at(NOW).rotate_client_secret(&client.client_id)).is_err());
    assert!(client.allows_grant(GrantType::ClientCredentials));
}

#[test]
fn a_stale_cached_client_is_read_again() {
    let w = World::new();
    let (old, new) = (ec_key(3), ec_key(4));
    let (client, _) = register(&w, json!({"token_endpoint_auth_method":"private_key_jwt","jwks":{"keys":[public_jwk(&old, "k")]}}));
    let meta: ClientMetadata = serde_json::from_value(json!({"jwks":{"keys":[public_jwk(&new, "k")]}})).unwrap();
    block_on(w.at(NOW).update_client(&client.client_id, meta)).unwrap();
    // Another isolate still holds the client with its old keys.
    MemoryStore::serve_stale_client(&w.store, client.clone());
    assert!(authenticate(&w, &creds(es256(&new, "k", &claims(&client.client_id, "1")))).is_ok());
}
