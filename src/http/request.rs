//! The incoming request as a value, and the strict parsing every endpoint shares: form and JSON
//! bodies, query strings, repeated parameters, HTTP Basic client credentials and bearer tokens.

use crate::crypto::b64url_decode;
use crate::form;
use crate::oauth::clients::ClientCredentials;
use crate::oauth::secrets::{BearerToken, ClientSecret};
use crate::oauth::{ErrorCode, OAuthError, OAuthResult};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde::de::DeserializeOwned;

#[derive(Default, Clone)]
pub struct Incoming {
    pub method: String,
    /// Path without query, as received (still percent-encoded).
    pub path: String,
    /// Query string without the `?`.
    pub query: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Set when the body was over `MAX_BODY` (and was not read).
    pub body_too_large: bool,
    /// `scheme://host[:port]` of the request URL.
    pub origin: String,
}

/// Decoded parameters; a parameter sent twice is an error when it is read (RFC 6749 §3.1,
/// §3.2: "parameters MUST NOT be included more than once").
#[derive(Default, Clone)]
pub struct Params(Vec<(String, String)>);

/// A request as `{:?}` shows it: never a credential. Header values of `authorization` and
/// `cookie` are left out, as are the body (a password, a client secret, a code) and the query's
/// values (a code, a token hint): only their names and sizes.
impl std::fmt::Debug for Incoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(k, v)| if matches!(k.as_str(), "authorization" | "cookie") { format!("{k}: [redacted]") } else { format!("{k}: {v}") })
            .collect();
        let query: Vec<&str> = self.query.split('&').filter(|p| !p.is_empty()).map(|p| p.split('=').next().unwrap_or("")).collect();
        f.debug_struct("Incoming")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("query_names", &query)
            .field("headers", &headers)
            .field("body_bytes", &self.body.len())
            .field("body_too_large", &self.body_too_large)
            .field("origin", &self.origin)
            .finish()
    }
}

/// Parameters as `{:?}` shows them: their names, never their values (a password, a secret).
impl std::fmt::Debug for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter().map(|(k, _)| k)).finish()
    }
}

impl Params {
    pub fn get(&self, name: &str) -> OAuthResult<Option<String>> {
        let mut found = self.0.iter().filter(|(k, _)| k == name);
        let first = found.next().map(|(_, v)| v.clone());
        if found.next().is_some() {
            return Err(OAuthError::invalid_request(format!("{name} is repeated")));
        }
        Ok(first)
    }

    /// Like `get`, with an empty value read as absent.
    pub fn opt(&self, name: &str) -> OAuthResult<Option<String>> {
        Ok(self.get(name)?.filter(|v| !v.is_empty()))
    }

    /// Every value of a repeatable parameter (RFC 8707 `resource`), in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

impl From<Vec<(String, String)>> for Params {
    fn from(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// The `DPoP` header (RFC 9449 §4.1): at most one proof. Headers sent twice arrive joined
    /// by a comma, which no JWT holds.
    pub fn dpop(&self) -> OAuthResult<Option<&str>> {
        match self.header("dpop").map(str::trim) {
            Some(p) if p.contains(',') => Err(OAuthError::invalid_dpop_proof("send one DPoP proof (RFC 9449 §4.3)")),
            Some("") | None => Ok(None),
            Some(p) => Ok(Some(p)),
        }
    }

    /// The URL the request reached, without its query (a DPoP proof's `htu`).
    pub fn url(&self) -> String {
        format!("{}{}", self.origin, self.path)
    }

    fn content_type(&self) -> String {
        self.header("content-type").unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase()
    }

    pub fn is_form(&self) -> bool {
        self.content_type() == "application/x-www-form-urlencoded"
    }

    pub fn is_json(&self) -> bool {
        let ct = self.content_type();
        ct == "application/json" || (ct.starts_with("application/") && ct.ends_with("+json"))
    }

    pub fn query_params(&self) -> OAuthResult<Params> {
        form::parse(&self.query).map(Params).ok_or_else(|| OAuthError::invalid_request("the query string is not valid UTF-8"))
    }

    /// The body as a form (RFC 6749 §3.2 requires `application/x-www-form-urlencoded`).
    pub fn form(&self) -> OAuthResult<Params> {
        if !self.is_form() {
            return Err(OAuthError::invalid_request("the body must be application/x-www-form-urlencoded"));
        }
        let text = std::str::from_utf8(&self.body).map_err(|_| OAuthError::invalid_request("the body is not valid UTF-8"))?;
        form::parse(text).map(Params).ok_or_else(|| OAuthError::invalid_request("the body is not valid UTF-8"))
    }

    /// The body as JSON of type `T`; errors name the offending field where serde can.
    pub fn json<T: DeserializeOwned>(&self) -> OAuthResult<T> {
        if !self.is_json() {
            return Err(OAuthError::new(ErrorCode::InvalidRequest, "the body must be application/json"));
        }
        serde_json::from_slice(&self.body)
            .map_err(|e| OAuthError::invalid_request(format!("invalid JSON body: {}", redact_values(&e.to_string()))))
    }

    /// `Authorization: Bearer <token>` (RFC 6750 §2.1); `Ok(None)` without the header.
    pub fn bearer(&self) -> OAuthResult<Option<BearerToken>> {
        self.authorization_token("bearer", "malformed bearer token")
    }

    /// An access token sent with the `DPoP` scheme (RFC 9449 §7.1: `Authorization: DPoP <token>`).
    pub fn dpop_bound_token(&self) -> OAuthResult<Option<BearerToken>> {
        self.authorization_token("dpop", "malformed DPoP access token")
    }

    /// The token of an `Authorization: <scheme> <token>` header (the scheme in any case);
    /// `Ok(None)` without the header or with another scheme; `invalid_token` (`malformed`) for
    /// an empty or oversized token.
    fn authorization_token(&self, scheme: &str, malformed: &str) -> OAuthResult<Option<BearerToken>> {
        let Some(h) = self.header("authorization").map(str::trim) else { return Ok(None) };
        let (sent, rest) = h.split_once(' ').unwrap_or((h, ""));
        if !sent.eq_ignore_ascii_case(scheme) {
            return Ok(None);
        }
        let token = rest.trim();
        if token.is_empty() || token.len() > 8192 {
            return Err(OAuthError::invalid_token(malformed));
        }
        Ok(Some(BearerToken::new(token)))
    }

    /// `Authorization: Basic` client credentials (RFC 6749 §2.3.1: id and secret are
    /// form-urlencoded before base64, so they are decoded after splitting on the colon).
    pub fn basic(&self) -> OAuthResult<Option<(String, ClientSecret)>> {
        let Some(h) = self.header("authorization").map(str::trim) else { return Ok(None) };
        let (scheme, rest) = h.split_once(' ').unwrap_or((h, ""));
        if !scheme.eq_ignore_ascii_case("basic") {
            return Ok(None);
        }
        let bad = || OAuthError::invalid_client("malformed Basic credentials");
        let raw = rest.trim();
        if raw.len() > 2048 {
            return Err(bad());
        }
        let decoded = STANDARD.decode(raw).ok().or_else(|| b64url_decode(raw.trim_end_matches('='))).ok_or_else(bad)?;
        let text = String::from_utf8(decoded).map_err(|_| bad())?;
        let (id, secret) = text.split_once(':').ok_or_else(bad)?;
        let id = form::decode(id).ok_or_else(bad)?;
        let secret = form::decode(secret).ok_or_else(bad)?;
        if id.is_empty() {
            return Err(bad());
        }
        Ok(Some((id, ClientSecret::new(secret))))
    }

    /// Client credentials from the Authorization header and the form.
    pub fn client_credentials(&self, form: &Params) -> OAuthResult<ClientCredentials> {
        let form_secret = form.opt("client_secret")?.map(ClientSecret::new);
        let assertion = match (form.opt("client_assertion_type")?, form.opt("client_assertion")?) {
            (None, None) => None,
            (Some(kind), Some(jwt)) => Some(crate::oauth::client_auth::ClientAssertion { kind, jwt }),
            _ => return Err(OAuthError::invalid_request("client_assertion and client_assertion_type go together (RFC 7521 §4.2)")),
        };
        Ok(ClientCredentials { basic: self.basic()?, form_id: form.opt("client_id")?, form_secret, assertion, endpoint: self.path.clone() })
    }

    /// A cookie's value from the `Cookie` header (RFC 6265 §5.4).
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.header("cookie")?
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim_matches('"'))
    }

    pub fn wants_json(&self) -> bool {
        self.header("accept").is_some_and(|a| a.contains("application/json"))
    }
}

/// Splits an absolute URL into origin, path and query without `url::Url` (whose IDNA tables
/// would be linked into the wasm only for this); workerd hands us normalised URLs.
pub fn split_url(url: &str) -> (String, String, String) {
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let rest = rest.split('#').next().unwrap_or("");
    let path_start = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path_query) = rest.split_at(path_start);
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    let path = if path.is_empty() { "/" } else { path };
    (format!("{}://{}", scheme.to_ascii_lowercase(), authority.to_ascii_lowercase()), path.to_string(), query.to_string())
}

/// serde's messages name fields and expected types, but quote the offending value too
/// (`invalid type: string "hunter2", expected u32`): values are dropped so that an error never
/// echoes a password or secret sent in the wrong shape. Backticked identifiers (field names)
/// stay; other backticked or double-quoted text goes.
fn redact_values(msg: &str) -> String {
    let mut out = String::new();
    let mut rest = msg;
    while let Some(i) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[i] as char;
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(j) = after.find(quote) else {
            rest = "";
            break;
        };
        let inner = &after[..j];
        let is_identifier = quote == '`' && !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        if is_identifier {
            out.push('`');
            out.push_str(inner);
            out.push('`');
        }
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    out.chars().take(160).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_origin_path_and_query() {
        let s = |u: &str| split_url(u);
        assert_eq!(s("http://127.0.0.1:8787/token?a=1&b=2"), ("http://127.0.0.1:8787".into(), "/token".into(), "a=1&b=2".into()));
        assert_eq!(s("HTTPS://Auth.Example.com"), ("https://auth.example.com".into(), "/".into(), "".into()));
        assert_eq!(s("https://a.example/x/y?"), ("https://a.example".into(), "/x/y".into(), "".into()));
        assert_eq!(s("https://a.example?q=1#frag"), ("https://a.example".into(), "/".into(), "q=1".into()));
        assert_eq!(s("https://a.example/p?q=a?b"), ("https://a.example".into(), "/p".into(), "q=a?b".into()));
    }

    #[test]
    fn json_errors_never_echo_values() {
        let req = |body: &str| Incoming {
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
            ..Default::default()
        };
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct R {
            password: u32,
        }
        for body in [r#"{"password":"hunter2"}"#, r#"{"password":-7777}"#, r#"{"hunter2":1}"#] {
            let e = req(body).json::<R>().unwrap_err().description;
            assert!(!e.contains("hunter2") && !e.contains("7777"), "{e}");
        }
        let e = req(r#"{"other":1}"#).json::<R>().unwrap_err().description;
        assert!(e.contains("`password`"), "{e}");
    }

    fn with_auth(value: &str) -> Incoming {
        Incoming { headers: vec![("authorization".into(), value.into())], ..Default::default() }
    }

    #[test]
    fn basic_credentials_are_urldecoded_after_the_split() {
        // id "my:client" and secret "p@ss word" form-urlencoded, then base64 (RFC 6749 §2.3.1).
        let raw = STANDARD.encode("my%3Aclient:p%40ss+word");
        let got = with_auth(&format!("Basic {raw}")).basic().unwrap().unwrap();
        assert_eq!((got.0.as_str(), got.1.expose()), ("my:client", "p@ss word"));
        let plain = STANDARD.encode("id:secret:with:colons");
        assert_eq!(with_auth(&format!("basic {plain}")).basic().unwrap().unwrap().1.expose(), "secret:with:colons");
    }

    #[test]
    fn malformed_basic_and_bearer() {
        for v in [
            "Basic",
            "Basic !!!",
            &format!("Basic {}", STANDARD.encode("nocolon")),
            &format!("Basic {}", STANDARD.encode(":secret")),
            &format!("Basic {}", STANDARD.encode([0xff, b':', b'x'])),
        ] {
            let e = with_auth(v).basic().unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidClient, "{v}");
        }
        assert_eq!(with_auth("Bearer abc").basic().unwrap(), None);
        assert_eq!(with_auth("Bearer abc").bearer().unwrap().as_ref().map(BearerToken::expose), Some("abc"));
        assert_eq!(with_auth("Bearer ").bearer().unwrap_err().code, ErrorCode::InvalidToken);
        assert_eq!(with_auth("Basic abc").bearer().unwrap(), None);
    }

    #[test]
    fn a_request_never_prints_its_credentials() {
        let req = Incoming {
            method: "POST".into(),
            path: "/token".into(),
            query: "code=the-code-itself&state=s".into(),
            headers: vec![
                ("authorization".into(), "Bearer the-bearer-token".into()),
                ("cookie".into(), "edge_oidc_session=the-session".into()),
                ("content-type".into(), "application/x-www-form-urlencoded".into()),
            ],
            body: b"password=the-password&client_secret=the-secret".to_vec(),
            ..Default::default()
        };
        let shown = format!("{req:?} {:?}", req.form().unwrap());
        for secret in ["the-code-itself", "the-bearer-token", "the-session", "the-password", "the-secret"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
        assert!(
            shown.contains("\"code\"") && shown.contains("\"password\"") && shown.contains("application/x-www-form-urlencoded"),
            "{shown}"
        );
    }

    #[test]
    fn forms_and_repeats() {
        let req = Incoming {
            headers: vec![("content-type".into(), "application/x-www-form-urlencoded; charset=UTF-8".into())],
            body: b"a=1&b=&a=2".to_vec(),
            ..Default::default()
        };
        let f = req.form().unwrap();
        assert!(f.get("a").is_err());
        assert_eq!(f.get("b").unwrap().as_deref(), Some(""));
        assert_eq!(f.opt("b").unwrap(), None);
        let json =
            Incoming { body: b"a=1".to_vec(), headers: vec![("content-type".into(), "application/json".into())], ..Default::default() };
        assert!(json.form().is_err());
    }
}
