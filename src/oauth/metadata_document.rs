//! Client ID metadata documents (draft-ietf-oauth-client-id-metadata-document, the MCP
//! authorization specification's preferred way for a client to introduce itself): a `client_id`
//! that is an `https` URL names a JSON document of RFC 7591 client metadata. The document is
//! fetched (`store::DocumentFetcher`: no redirects, a size cap, a timeout), must name itself
//! (`client_id` equal to the URL), is held to the rules of open registration
//! (`registration::third_party_metadata`: code and refresh grants, https or loopback redirect
//! URIs, never `admin`), and describes a public third-party client (consent is asked). It is
//! kept as a client row and fetched again when its HTTP caching headers say it is stale.

use super::clients::{apply_metadata, new_client};
use super::outbound::OutboundError;
use super::registration::{as_registration_error, metadata_error, third_party_metadata};
use super::{OAuthError, OAuthResult, Provider};
use crate::store::{AddressLimit, Client, ClientType, Platform, Store, ADDRESS_WINDOW};
use serde_json::Value;

const MAX_URL: usize = 512;
/// A document without caching headers is fetched again after this long.
pub const DEFAULT_TTL: u64 = 300;
/// However long its headers allow, a document is fetched again after a day.
pub const MAX_TTL: u64 = 24 * 3600;

/// Whether `client_id` names a metadata document: an `https` URL with a path (the draft's §3:
/// "MUST use the https scheme and MUST contain a path component", no fragment, no credentials,
/// no dot segments). `http_loopback` admits `http://127.0.0.1`, `http://[::1]` and
/// `http://localhost` too: for development only, behind its own setting.
pub fn is_document_url(client_id: &str, http_loopback: bool) -> bool {
    let rest = if let Some(r) = client_id.strip_prefix("https://") {
        r
    } else if let Some(r) = client_id.strip_prefix("http://").filter(|_| http_loopback) {
        let host = r.split(['/', '?']).next().unwrap_or("");
        let host = host.rsplit_once(':').filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
        if !matches!(host, "127.0.0.1" | "[::1]" | "localhost") {
            return false;
        }
        r
    } else {
        return false;
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => return false,
    };
    client_id.len() <= MAX_URL
        && !authority.is_empty()
        && !authority.contains('@')
        && path.len() > 1
        && !client_id.contains('#')
        && !path.split(['/', '?']).any(|seg| seg == "." || seg == "..")
        && client_id.bytes().all(|b| b.is_ascii_graphic())
}

/// How long a fetched document may be used (RFC 9111 §5.2.2): `no-store` and `no-cache` mean
/// fetch it again next time, `max-age` says how long, anything else gets `DEFAULT_TTL`; never
/// past `MAX_TTL`.
pub fn cache_ttl(cache_control: Option<&str>) -> u64 {
    let Some(cc) = cache_control else { return DEFAULT_TTL };
    let mut ttl = DEFAULT_TTL;
    for directive in cc.split(',').map(|d| d.trim().to_ascii_lowercase()) {
        match directive.split_once('=') {
            None if directive == "no-store" || directive == "no-cache" => return 0,
            Some(("max-age", v)) => {
                if let Ok(secs) = v.trim_matches('"').parse::<u64>() {
                    ttl = secs;
                }
            }
            _ => {}
        }
    }
    ttl.min(MAX_TTL)
}

/// The client a document describes, held to open registration's rules.
pub fn client_from_document(url: &str, body: &[u8], now: u64) -> OAuthResult<Client> {
    let mut doc: Value = serde_json::from_slice(body).map_err(|_| metadata_error("the metadata document is not JSON"))?;
    let obj = doc.as_object_mut().ok_or_else(|| metadata_error("the metadata document must be a JSON object"))?;
    // "The client_id property MUST match the URL of the document" (draft §3).
    match obj.remove("client_id") {
        Some(Value::String(id)) if id == url => {}
        _ => return Err(metadata_error("the metadata document's client_id is not its own URL")),
    }
    // No shared secret: the document is public (draft §4.1).
    for secret in ["client_secret", "client_secret_expires_at"] {
        if obj.contains_key(secret) {
            return Err(metadata_error(format!("{secret} cannot be in a metadata document")));
        }
    }
    match obj.get("token_endpoint_auth_method") {
        None => {
            obj.insert("token_endpoint_auth_method".into(), Value::String("none".into()));
        }
        Some(Value::String(m)) if m == "none" => {}
        // Keys published by the document's owner: the client proves itself with them (RFC 7523).
        Some(Value::String(m)) if m == "private_key_jwt" && (obj.contains_key("jwks_uri") || obj.contains_key("jwks")) => {}
        Some(_) => {
            return Err(metadata_error(
                "token_endpoint_auth_method: 'none', or 'private_key_jwt' with jwks_uri, for a metadata document client",
            ))
        }
    }
    let mut meta = third_party_metadata(&doc, true)?;
    if meta.client_name.is_none() {
        meta.client_name = Some(url.split('/').nth(2).unwrap_or(url).to_string());
    }
    let mut client = new_client(now);
    apply_metadata(&mut client, meta, true).map_err(as_registration_error)?;
    client.client_id = url.to_string();
    client.client_type = if client.token_endpoint_auth_method == crate::store::AuthMethod::PrivateKeyJwt {
        ClientType::Confidential
    } else {
        ClientType::Public
    };
    client.client_secret_hash = None;
    client.dynamic = true;
    Ok(client)
}

/// One answer for every way a document fetch fails or is refused: a URL naming an internal
/// address, a port that refuses, one that answers HTTP 404, one that hangs. Different words
/// would let anyone map the network the server sits in (a port-scan oracle); what happened is
/// only in the log line.
fn fetch_failure(e: OutboundError) -> OAuthError {
    OAuthError {
        internal: Some(e.detail()),
        ..OAuthError::invalid_client(
            "the client's metadata document could not be fetched (https, a public host, HTTP 200, at most 5 KiB within 3 s)",
        )
    }
}

impl<S: Store, P: Platform> Provider<'_, S, P> {
    /// Whether `client_id` names a metadata document this deployment resolves.
    pub fn names_document(&self, client_id: &str) -> bool {
        self.config.client_metadata_documents && is_document_url(client_id, self.config.metadata_document_http_loopback)
    }

    /// The client a metadata document URL names (`names_document`): the stored copy while it is
    /// fresh, else the document fetched again (each fetch counts against the caller's address
    /// like a registration). `Err` says why a document could not be used. The general lookup is
    /// `Provider::client_by_id` (clients.rs).
    pub(super) async fn document_client(&self, client_id: &str) -> OAuthResult<Option<Client>> {
        let stored = self.store.client(client_id).await?;
        if let Some(c) = &stored {
            if c.metadata_expires_at.is_some_and(|t| t > self.now) || !c.is_active {
                // Fresh; or deactivated by an administrator, which no document undoes.
                return Ok(stored);
            }
        }
        if !self.platform.allow(AddressLimit::ClientRegistration, self.address, self.now).await? {
            return Err(OAuthError::too_many("too many client metadata fetches from this address; try again later", ADDRESS_WINDOW));
        }
        let fetched = match self.fetch_outbound(client_id).await {
            Ok(f) => f,
            // A stored client stays usable while its document cannot be reached (RFC 5861's
            // stale-if-error); an unknown one cannot be used.
            Err(OutboundError::Failed(_)) if stored.is_some() => return Ok(stored),
            Err(e) => return Err(fetch_failure(e)),
        };
        let mut client = client_from_document(client_id, &fetched.body, self.now)?;
        client.metadata_expires_at = Some(self.now + cache_ttl(fetched.cache_control.as_deref()));
        match &stored {
            Some(old) => {
                client.created_at = old.created_at;
                self.store.update_client(&client).await?;
            }
            None => match self.store.insert_client(&client).await {
                // Another request stored it meanwhile: store this copy over it.
                Err(crate::store::StoreError::Conflict(_)) => {
                    self.store.update_client(&client).await?;
                }
                other => other?,
            },
        }
        Ok(Some(client))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oauth::block_on;
    use crate::store::{FetchError, FetchedDocument};
    use crate::testing::World;
    use serde_json::json;

    const URL: &str = "https://mcp-client.example/client.json";

    fn doc(extra: Value) -> Vec<u8> {
        let mut d = json!({ "client_id": URL, "client_name": "Doc Client", "redirect_uris": ["https://mcp-client.example/cb"] });
        d.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        serde_json::to_vec(&d).unwrap()
    }

    #[test]
    fn document_urls() {
        for ok in [URL, "https://a.example/c?v=1"] {
            assert!(is_document_url(ok, false), "{ok}");
        }
        for bad in [
            "https://a.example",
            "https://a.example/",
            "https://a.example/c#f",
            "https://u:p@a.example/c",
            "https://a.example/./c",
            "https://a.example/../c",
            "http://a.example/c",
            "plain-id",
            "https://a.example/ c",
        ] {
            assert!(!is_document_url(bad, false), "{bad}");
        }
        assert!(!is_document_url("http://127.0.0.1:8080/c.json", false));
        assert!(is_document_url("http://127.0.0.1:8080/c.json", true));
        assert!(is_document_url("http://localhost/c.json", true));
        assert!(!is_document_url("http://evil.example/c.json", true), "loopback only");
        assert!(!is_document_url(&format!("https://a.example/{}", "x".repeat(600)), false));
    }

    #[test]
    fn caching_headers() {
        assert_eq!(cache_ttl(None), DEFAULT_TTL);
        assert_eq!(cache_ttl(Some("public, max-age=600")), 600);
        assert_eq!(cache_ttl(Some("max-age=999999999")), MAX_TTL);
        assert_eq!(cache_ttl(Some("no-store")), 0);
        assert_eq!(cache_ttl(Some("max-age=600, no-cache")), 0);
        assert_eq!(cache_ttl(Some("private")), DEFAULT_TTL);
    }

    #[test]
    fn a_document_describes_a_public_third_party_client() {
        let c = client_from_document(URL, &doc(json!({ "scope": "openid profile" })), 5).unwrap();
        assert_eq!((c.client_id.as_str(), c.client_type, c.token_endpoint_auth_method.as_str()), (URL, ClientType::Public, "none"));
        assert!(c.dynamic && c.client_secret_hash.is_none());
        assert_eq!(c.scopes, vec!["openid", "profile"]);
        let code = |body: &[u8]| client_from_document(URL, body, 5).unwrap_err().code.as_str();
        assert_eq!(code(&doc(json!({ "client_id": "https://other.example/client.json" }))), "invalid_client_metadata");
        assert_eq!(code(&doc(json!({ "client_secret": "x" }))), "invalid_client_metadata");
        assert_eq!(code(&doc(json!({ "token_endpoint_auth_method": "client_secret_basic" }))), "invalid_client_metadata");
        assert_eq!(code(&doc(json!({ "scope": "openid admin" }))), "invalid_client_metadata");
        assert_eq!(code(&doc(json!({ "grant_types": ["client_credentials"] }))), "invalid_client_metadata");
        assert_eq!(code(&doc(json!({ "redirect_uris": ["http://evil.example/cb"] }))), "invalid_redirect_uri");
        assert_eq!(code(&doc(json!({ "redirect_uris": ["javascript:alert(1)"] }))), "invalid_redirect_uri");
        assert_eq!(code(b"not json"), "invalid_client_metadata");
        assert_eq!(code(b"[]"), "invalid_client_metadata");
    }

    #[test]
    fn fetched_once_then_cached_by_its_headers_and_stale_if_error() {
        let w = World::new();
        let answer = |cc: Option<&str>| Ok(FetchedDocument { body: doc(json!({})), cache_control: cc.map(String::from) });
        w.store.serve_document(URL, answer(Some("max-age=120")));
        let c = block_on(w.at(1000).client_by_id(URL)).unwrap().unwrap();
        assert_eq!((c.client_name.as_str(), c.metadata_expires_at), ("Doc Client", Some(1120)));
        assert!(block_on(w.at(1100).client_by_id(URL)).unwrap().is_some());
        assert_eq!(w.store.fetches(), 1, "served from the stored copy while fresh");
        // Stale: fetched again; unreachable then: the stored copy is used.
        w.store.serve_document(URL, Err(FetchError::Timeout));
        assert!(block_on(w.at(1200).client_by_id(URL)).unwrap().is_some());
        assert_eq!(w.store.fetches(), 2);
        // An unknown document that cannot be fetched: one answer whatever the failure (no
        // port-scan oracle); what happened goes to the log line only.
        let mut answers = Vec::new();
        for (e, logged) in [
            (FetchError::Timeout, "took over"),
            (FetchError::TooLarge, "larger than"),
            (FetchError::Status(404), "HTTP 404"),
            (FetchError::Network("connection refused".into()), "connection refused"),
        ] {
            let url = "https://slow.example/client.json";
            w.store.serve_document(url, Err(e));
            let err = block_on(w.at(1000).client_by_id(url)).unwrap_err();
            assert_eq!(err.code.as_str(), "invalid_client");
            assert!(err.internal.as_deref().is_some_and(|d| d.contains(logged)), "{:?}", err.internal);
            answers.push(err.description);
        }
        assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
        // A document that lies about its client_id is refused, and nothing is stored.
        let liar = "https://liar.example/client.json";
        w.store.serve_document(
            liar,
            answer(None).map(|mut d| {
                d.body = doc(json!({}));
                d
            }),
        );
        assert_eq!(block_on(w.at(1000).client_by_id(liar)).unwrap_err().code.as_str(), "invalid_client_metadata");
        assert!(block_on(crate::store::ClientStore::client(&w.store, liar)).unwrap().is_none());
    }

    #[test]
    fn internal_addresses_are_refused_before_any_connection_with_the_same_answer() {
        let w = World::new();
        w.store.serve_document("https://missing.example/client.json", Err(FetchError::Status(404)));
        let missing = block_on(w.at(1000).client_by_id("https://missing.example/client.json")).unwrap_err();
        let fetched = w.store.fetches();
        for (i, url) in [
            "https://127.0.0.1/client.json",
            "https://localhost/client.json",
            "https://[::1]/client.json",
            "https://10.1.2.3/client.json",
            "https://192.168.0.1/client.json",
            "https://172.16.0.1/client.json",
            "https://[fd12::1]/client.json",
            "https://169.254.169.254/latest/meta-data",
            "https://[fe80::1]/client.json",
            "https://2130706433/client.json",
            "https://0x7f.1/client.json",
            "https://[::ffff:127.0.0.1]/client.json",
        ]
        .into_iter()
        .enumerate()
        {
            w.store.serve_document(url, Ok(FetchedDocument { body: doc(json!({})), cache_control: None }));
            // Each from an address of its own: every attempt counts against the caller's budget.
            let address = format!("192.0.2.{}", 10 + i);
            let err = block_on(w.at_from(1000, &address).client_by_id(url)).unwrap_err();
            assert_eq!((err.code, &err.description), (missing.code, &missing.description), "{url}");
            assert!(err.internal.as_deref().is_some_and(|d| d.contains("refused")), "{url}: {:?}", err.internal);
            assert!(block_on(crate::store::ClientStore::client(&w.store, url)).unwrap().is_none());
        }
        assert_eq!(w.store.fetches(), fetched, "no connection was made");
        // The development setting admits loopback (and nothing else special).
        let mut dev = World::new();
        dev.config.metadata_document_http_loopback = true;
        let local = "http://127.0.0.1:8080/client.json";
        let mut body: Value = serde_json::from_slice(&doc(json!({}))).unwrap();
        body["client_id"] = json!(local);
        dev.store.serve_document(local, Ok(FetchedDocument { body: serde_json::to_vec(&body).unwrap(), cache_control: None }));
        assert!(block_on(dev.at(1000).client_by_id(local)).unwrap().is_some());
        assert!(block_on(dev.at(1000).client_by_id("https://10.0.0.1/client.json")).is_err());
        assert_eq!(dev.store.fetches(), 1);
    }

    #[test]
    fn documents_are_off_when_the_deployment_says_so() {
        let mut w = World::new();
        w.config.client_metadata_documents = false;
        w.store.serve_document(URL, Ok(FetchedDocument { body: doc(json!({})), cache_control: None }));
        assert!(block_on(w.at(1000).client_by_id(URL)).unwrap().is_none());
        assert_eq!(w.store.fetches(), 0);
    }
}
