//! Redirection URIs: what may be registered (RFC 6749 §3.1.2, RFC 8252 §7.3/§8.3) and how a
//! requested URI is matched against the registered ones (exact string comparison, RFC 6749
//! §3.1.2.3 and OAuth 2.0 Security BCP §4.1.3; the port of a loopback IP URI may vary).

use crate::store::ClientType;

/// The parts of an absolute URI that the rules look at.
#[derive(Debug, PartialEq, Eq)]
struct Parts<'a> {
    scheme: &'a str,
    host: &'a str,
    port: Option<&'a str>,
    /// Everything after the authority: path and query.
    rest: &'a str,
}

fn split(uri: &str) -> Option<Parts<'_>> {
    if uri.len() > 2000 || uri.bytes().any(|b| b <= 0x20 || b >= 0x7f || b == b'\\') {
        return None;
    }
    let (scheme, after) = uri.split_once("://")?;
    if scheme.is_empty() || !scheme.bytes().all(|b| b.is_ascii_lowercase()) {
        return None;
    }
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, tail) = v6.split_once(']')?;
        let port = match tail {
            "" => None,
            t => Some(t.strip_prefix(':')?),
        };
        (&authority[..h.len() + 2], port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    if let Some(p) = port {
        if p.is_empty() || p.len() > 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
    }
    Some(Parts { scheme, host, port, rest })
}

fn is_loopback_ip(host: &str) -> bool {
    host == "127.0.0.1" || host == "[::1]"
}

fn is_loopback(host: &str) -> bool {
    is_loopback_ip(host) || host.eq_ignore_ascii_case("localhost")
}

/// Why a URI cannot be registered, or `Ok` when it can.
pub fn validate_registered(uri: &str) -> Result<(), &'static str> {
    let p = split(uri).ok_or("must be an absolute URI (scheme://host/path)")?;
    if p.rest.contains('#') {
        return Err("must not contain a fragment");
    }
    match p.scheme {
        "https" => Ok(()),
        "http" if is_loopback(p.host) => Ok(()),
        "http" => Err("must use https (http only for loopback addresses)"),
        _ => Err("must use https (http only for loopback addresses)"),
    }
}

/// Whether `requested` is one of `registered`: exact string match, except that a public
/// (native) client's registered loopback IP URI (`http://127.0.0.1/...`, `http://[::1]/...`)
/// matches on any port (RFC 8252 §7.3: "the authorization server MUST allow any port to be
/// specified at the time of the request for loopback IP redirect URIs, to accommodate clients
/// that obtain an available ephemeral port from the operating system"). That flexibility is
/// for native apps only: a confidential client is matched exactly (RFC 9700 §4.1.3, "exact
/// string matching"), since a port on the loopback interface is anyone's on a shared machine.
/// Never a prefix or pattern match.
pub fn matches(requested: &str, registered: &[String], client_type: ClientType) -> bool {
    let any_port = client_type == ClientType::Public;
    registered.iter().any(|r| r == requested || (any_port && loopback_port_match(requested, r)))
}

fn loopback_port_match(requested: &str, registered: &str) -> bool {
    let (Some(a), Some(b)) = (split(requested), split(registered)) else {
        return false;
    };
    a.scheme == "http" && b.scheme == "http" && is_loopback_ip(b.host) && a.host == b.host && a.rest == b.rest
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_rules() {
        assert!(validate_registered("https://app.example.com/cb").is_ok());
        assert!(validate_registered("https://app.example.com:8443/cb?x=1").is_ok());
        assert!(validate_registered("http://127.0.0.1:3000/cb").is_ok());
        assert!(validate_registered("http://localhost/cb").is_ok());
        assert!(validate_registered("http://[::1]:9/cb").is_ok());
        for bad in [
            "http://app.example.com/cb",
            "https://app.example.com/cb#frag",
            "javascript:alert(1)",
            "data:text/html,hi",
            "/relative/cb",
            "https:///nohost",
            "https://user@evil.example/cb",
            "https://app.example.com/c b",
            "HTTPS://app.example.com/cb",
            "https://app.example.com:abc/cb",
            "ftp://example.com/x",
            "",
        ] {
            assert!(validate_registered(bad).is_err(), "{bad}");
        }
    }

    fn matches(requested: &str, registered: &[String]) -> bool {
        super::matches(requested, registered, ClientType::Public)
    }

    #[test]
    fn exact_matching() {
        let reg = vec!["https://app.example.com/cb".to_string()];
        assert!(matches("https://app.example.com/cb", &reg));
        assert!(!matches("https://app.example.com/cb/", &reg));
        assert!(!matches("https://app.example.com/cb?x=1", &reg));
        assert!(!matches("https://app.example.com/cbx", &reg));
        assert!(!matches("https://APP.example.com/cb", &reg));
        assert!(!matches("https://app.example.com.evil.com/cb", &reg));
        assert!(!matches("https://app.example.com:443/cb", &reg));
    }

    #[test]
    fn loopback_port_rule_of_rfc8252() {
        let reg = vec!["http://127.0.0.1/cb".to_string(), "http://[::1]:80/cb".to_string()];
        assert!(matches("http://127.0.0.1:51234/cb", &reg));
        assert!(matches("http://[::1]:5000/cb", &reg));
        assert!(!matches("http://127.0.0.1:51234/other", &reg));
        assert!(!matches("http://127.0.0.2:51234/cb", &reg));
        // Only loopback IP literals get the port rule, not https hosts or "localhost".
        assert!(!matches("http://localhost:1/cb", &["http://localhost:2/cb".to_string()]));
        assert!(!matches("https://a.example:1/cb", &["https://a.example:2/cb".to_string()]));
    }

    #[test]
    fn any_loopback_port_only_for_public_clients() {
        let reg = vec!["http://127.0.0.1:8080/cb".to_string(), "http://[::1]/cb".to_string()];
        for requested in ["http://127.0.0.1:51234/cb", "http://[::1]:5000/cb"] {
            assert!(super::matches(requested, &reg, ClientType::Public), "{requested}");
            assert!(!super::matches(requested, &reg, ClientType::Confidential), "{requested}");
        }
        assert!(super::matches("http://127.0.0.1:8080/cb", &reg, ClientType::Confidential), "exactly as registered");
    }
}
