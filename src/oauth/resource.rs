//! Resource indicators (RFC 8707): the `resource` parameter of `/authorize` and `/token` names the
//! protected resources (an MCP server, an API) an access token is for. The resources requested at
//! `/authorize` are held by the grant (its code, then its refresh family); each token request may
//! narrow them, never widen them, and the access token's `aud` is the resources it targets.

use super::{OAuthError, OAuthResult};
use serde::{Deserialize, Serialize};

/// More would be a request for a token to everything.
pub const MAX_RESOURCES: usize = 10;
const MAX_LENGTH: usize = 2048;

/// An access token's `aud` (RFC 7519 §4.1.3): one string in the common case, an array when a
/// token targets several resources.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    /// The resources a token targets, or `default` (the deployment's audience) when none.
    pub fn of(resources: &[String], default: &str) -> Self {
        match resources {
            [] => Self::One(default.to_string()),
            [one] => Self::One(one.clone()),
            many => Self::Many(many.to_vec()),
        }
    }

    /// Whether the token is for `resource` and nothing else (the admin API asks this of its
    /// issuer: a token also good elsewhere could be replayed here by that other resource).
    pub fn is_only(&self, resource: &str) -> bool {
        match self {
            Self::One(a) => a == resource,
            Self::Many(v) => v.len() == 1 && v[0] == resource,
        }
    }
}

impl Audience {
    /// Whether the token is for `resource` (among others, perhaps).
    pub fn contains(&self, resource: &str) -> bool {
        match self {
            Self::One(a) => a == resource,
            Self::Many(v) => v.iter().any(|a| a == resource),
        }
    }
}

impl PartialEq<&str> for Audience {
    fn eq(&self, other: &&str) -> bool {
        self.is_only(other)
    }
}

/// The `resource` values of a request, checked: RFC 8707 §2 "The value of the resource parameter
/// MUST be an absolute URI, as specified by Section 4.3 of [RFC3986], which MAY include a query
/// component, but MUST NOT include a fragment component." Anything else is `invalid_target`.
/// Repeats of one value count once; the order is kept.
pub fn parse(values: &[String]) -> OAuthResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        if !is_absolute_uri(v) {
            return Err(OAuthError::invalid_target("resource must be an absolute URI without a fragment (RFC 8707 §2)"));
        }
        if !out.contains(v) {
            // Refused as soon as there are too many (a form may repeat it thousands of times).
            if out.len() == MAX_RESOURCES {
                return Err(OAuthError::invalid_target(format!("at most {MAX_RESOURCES} resources per request")));
            }
            out.push(v.clone());
        }
    }
    Ok(out)
}

/// What a token request may target of what its grant holds (RFC 8707 §2.2): no `resource` asks
/// for everything granted; otherwise every one asked for must be granted ("narrowed, never
/// widened"), or the answer is `invalid_target`.
pub fn narrow(requested: &[String], granted: &[String]) -> OAuthResult<Vec<String>> {
    if requested.is_empty() {
        return Ok(granted.to_vec());
    }
    match requested.iter().find(|r| !granted.contains(r)) {
        None => Ok(requested.to_vec()),
        Some(_) if granted.is_empty() => {
            Err(OAuthError::invalid_target("this grant holds no resource: name it in the authorization request"))
        }
        Some(_) => Err(OAuthError::invalid_target("a requested resource was not granted in the authorization request")),
    }
}

/// RFC 3986 §4.3 `absolute-URI = scheme ":" hier-part [ "?" query ]`, with §3.1's scheme
/// (`ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`), something after the colon, no fragment, and
/// only characters a URI may hold (no spaces or controls; RFC 3986 §2).
fn is_absolute_uri(v: &str) -> bool {
    let Some((scheme, rest)) = v.split_once(':') else { return false };
    let mut chars = scheme.chars();
    let scheme_ok =
        chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    scheme_ok
        && !rest.is_empty()
        && v.len() <= MAX_LENGTH
        && !v.contains('#')
        && v.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"' | b'{' | b'}' | b'|' | b'\\' | b'^' | b'`'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn resources_are_absolute_uris_without_fragments() {
        for ok in ["https://mcp.example/mcp", "https://api.example/v1?tenant=a", "urn:example:api", "http://127.0.0.1:8080/"] {
            assert_eq!(parse(&v(&[ok])).unwrap(), v(&[ok]), "{ok}");
        }
        for bad in
            ["", "/relative", "mcp.example", "https://mcp.example/#frag", "https://a b", "1http://x", "https:", ":x", "https://x/\u{7f}"]
        {
            assert_eq!(parse(&v(&[bad])).unwrap_err().code.as_str(), "invalid_target", "{bad:?}");
        }
        assert!(parse(&v(&[&format!("https://x/{}", "a".repeat(2048))])).is_err());
    }

    #[test]
    fn repeats_count_once_and_there_is_a_limit() {
        assert_eq!(parse(&v(&["urn:a", "urn:b", "urn:a"])).unwrap(), v(&["urn:a", "urn:b"]));
        let many: Vec<String> = (0..=MAX_RESOURCES).map(|i| format!("urn:r{i}")).collect();
        assert_eq!(parse(&many).unwrap_err().code.as_str(), "invalid_target");
        assert!(parse(&many[..MAX_RESOURCES]).is_ok());
    }

    #[test]
    fn a_token_request_narrows_never_widens() {
        let granted = v(&["urn:a", "urn:b"]);
        assert_eq!(narrow(&[], &granted).unwrap(), granted);
        assert_eq!(narrow(&v(&["urn:b"]), &granted).unwrap(), v(&["urn:b"]));
        assert_eq!(narrow(&v(&["urn:c"]), &granted).unwrap_err().code.as_str(), "invalid_target");
        assert_eq!(narrow(&v(&["urn:a", "urn:c"]), &granted).unwrap_err().code.as_str(), "invalid_target");
        assert_eq!(narrow(&v(&["urn:a"]), &[]).unwrap_err().code.as_str(), "invalid_target");
        assert!(narrow(&[], &[]).unwrap().is_empty());
    }

    #[test]
    fn the_audience_is_a_string_unless_several() {
        assert_eq!(serde_json::to_value(Audience::of(&[], "https://issuer")).unwrap(), "https://issuer");
        assert_eq!(serde_json::to_value(Audience::of(&v(&["urn:a"]), "x")).unwrap(), "urn:a");
        assert_eq!(serde_json::to_value(Audience::of(&v(&["urn:a", "urn:b"]), "x")).unwrap(), serde_json::json!(["urn:a", "urn:b"]));
        let many: Audience = serde_json::from_value(serde_json::json!(["urn:a", "urn:b"])).unwrap();
        assert_eq!(many, Audience::Many(vec!["urn:a".into(), "urn:b".into()]));
        assert!(!many.is_only("urn:a"));
        assert!(Audience::One("urn:a".into()).is_only("urn:a"));
    }
}
