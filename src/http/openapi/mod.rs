//! The OpenAPI 3.1 document (`GET /openapi.json`). It is generated from the route types by
//! `generate.rs` (exhaustive matches over every `Operation`), which only tests compile; the
//! worker serves the result, committed as `openapi.json`, with this deployment's issuer as its
//! server. `the_committed_document_is_the_generated_one` fails when the two differ; to refresh the
//! file, run `UPDATE_OPENAPI=1 cargo test openapi`. (The generator's `json!` code was ~135 KB of
//! the wasm; the static document costs its text, compressed in the bundle.)

use super::{App, Outgoing};
use crate::store::{Platform, Store};

#[cfg(test)]
mod generate;
#[cfg(test)]
mod schemas;

/// The issuer the committed document names as its server (replaced when served).
const PLACEHOLDER_ISSUER: &str = "https://issuer.invalid";
const DOCUMENT: &str = include_str!("openapi.json");

pub fn document<S: Store, P: Platform>(app: &App<'_, S, P>) -> Outgoing {
    // The issuer as a JSON string's content (an issuer is a URL: only `"` and `\` need escaping).
    let issuer = app.provider.config.issuer.replace('\\', "\\\\").replace('"', "\\\"");
    let body = DOCUMENT.replacen(&format!("\"url\": \"{PLACEHOLDER_ISSUER}\""), &format!("\"url\": \"{issuer}\""), 1);
    let mut out = Outgoing::empty(200).header("content-type", "application/json").header("cache-control", "public, max-age=300");
    out.body = body.into_bytes();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_committed_document_is_the_generated_one() {
        let generated = serde_json::to_string_pretty(&generate::document(PLACEHOLDER_ISSUER)).unwrap() + "\n";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/openapi/openapi.json");
        if std::env::var("UPDATE_OPENAPI").as_deref() == Ok("1") {
            std::fs::write(path, &generated).unwrap();
        }
        assert!(
            DOCUMENT == generated,
            "src/http/openapi/openapi.json is not what the routes generate: run `UPDATE_OPENAPI=1 cargo test openapi` and commit it"
        );
    }

    #[test]
    fn the_served_document_names_this_issuer() {
        let w = crate::testing::World::for_issuer("https://auth.example.com");
        let out = w.serve(1, &crate::testing::request("GET", "/openapi.json"));
        let doc = out.json_body();
        assert_eq!(doc["servers"][0]["url"], "https://auth.example.com");
        assert_eq!(doc["openapi"], "3.1.0");
    }
}
