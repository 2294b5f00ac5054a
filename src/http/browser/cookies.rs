//! The browser's two cookies, in one place: the session (single sign-on at `/authorize`) and the
//! anti-CSRF token of the forms.
//!
//! Anti-CSRF tokens for the browser forms (every page with a form): the double-submit pattern
//! with a cookie bound to this browser. The page sets a random
//! token in a `SameSite=Strict`, `HttpOnly` cookie (`__Host-` prefixed over https) and in a
//! hidden form field; a post is accepted only when both are present and equal. Another site can
//! make a browser post the form but can neither read nor set this cookie, so it cannot supply
//! the matching field (OWASP CSRF Prevention Cheat Sheet, "Signed Double-Submit Cookie" without
//! the signature, which the `__Host-` prefix makes unnecessary over https).
//!
//! A request that shows no sign of a browser (no `Origin`, no `Cookie`, no `Sec-Fetch-Site`) is
//! an API client such as curl, which no other site can steer: it needs no token. That keeps the
//! contract's `/login` usable as an API.

use crate::crypto::{constant_time_eq, random_token};
use crate::http::{Incoming, Outgoing};
use crate::oauth::secrets::SessionToken;

/// The session cookie: `__Host-` prefixed and `Secure` when the issuer is https (the prefix
/// requires Secure); a plain name over http (local development), where Secure cannot be set.
fn session_cookie_name(issuer: &str) -> &'static str {
    if issuer.starts_with("https://") {
        "__Host-edge_oidc_session"
    } else {
        "edge_oidc_session"
    }
}

/// The `Set-Cookie` value of the session cookie (`value` empty and `max_age` 0 end it).
pub fn session_cookie(issuer: &str, value: &str, max_age: u64) -> String {
    let secure = if issuer.starts_with("https://") { "; Secure" } else { "" };
    format!("{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}", session_cookie_name(issuer))
}

/// The session token the browser sent, if any.
pub fn session_token(req: &Incoming, issuer: &str) -> Option<SessionToken> {
    req.cookie(session_cookie_name(issuer)).map(SessionToken::new)
}

/// The hidden form field.
pub const CSRF_FIELD: &str = "csrf";

fn csrf_cookie_name(issuer: &str) -> &'static str {
    if issuer.starts_with("https://") {
        "__Host-edge_oidc_csrf"
    } else {
        "edge_oidc_csrf"
    }
}

/// Whether a token looks like one of ours (43 base64url characters).
fn well_formed(token: &str) -> bool {
    token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The browser's anti-CSRF token: the one its cookie already holds, or a new one. The page
/// that embeds it must be sent with `set_csrf_cookie`.
pub fn csrf_token(req: &Incoming, issuer: &str) -> String {
    req.cookie(csrf_cookie_name(issuer)).filter(|t| well_formed(t)).map(str::to_string).unwrap_or_else(random_token)
}

/// Sets the anti-CSRF token's cookie on a page that embeds it (for the lifetime of a form: an
/// hour; a form left open longer is refused and shown again with a fresh token).
pub fn set_csrf_cookie(out: Outgoing, issuer: &str, token: &str) -> Outgoing {
    let secure = if issuer.starts_with("https://") { "; Secure" } else { "" };
    out.header("set-cookie", &format!("{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=3600{secure}", csrf_cookie_name(issuer)))
}

/// Whether the request comes from a browser (which a cross-site page could steer).
pub fn from_browser(req: &Incoming) -> bool {
    req.header("origin").is_some() || req.header("cookie").is_some() || req.header("sec-fetch-site").is_some()
}

/// Whether a browser's post carries its own token in `field`.
pub fn csrf_verified(req: &Incoming, issuer: &str, field: Option<&str>) -> bool {
    match (req.cookie(csrf_cookie_name(issuer)), field) {
        (Some(cookie), Some(field)) => well_formed(cookie) && constant_time_eq(cookie.as_bytes(), field.as_bytes()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::request;

    #[test]
    fn a_post_needs_the_cookie_and_the_same_field() {
        let issuer = "https://issuer.example";
        let t = random_token();
        let with_cookie = request("POST", "/login").with_header("cookie", &format!("a=b; __Host-edge_oidc_csrf={t}"));
        assert!(csrf_verified(&with_cookie, issuer, Some(&t)));
        assert!(!csrf_verified(&with_cookie, issuer, Some(&random_token())), "another token");
        assert!(!csrf_verified(&with_cookie, issuer, None), "no field");
        assert!(!csrf_verified(&request("POST", "/login"), issuer, Some(&t)), "no cookie");
        // Over http the cookie has no prefix; a prefixed name does not count there, nor the reverse.
        assert!(!csrf_verified(&with_cookie, "http://127.0.0.1:8787", Some(&t)));
        let short = request("POST", "/login").with_header("cookie", "__Host-edge_oidc_csrf=x");
        assert!(!csrf_verified(&short, issuer, Some("x")), "a planted short value is not a token");
        // The page reuses the browser's token, or makes one.
        assert_eq!(csrf_token(&with_cookie, issuer), t);
        assert_eq!(csrf_token(&request("GET", "/authorize"), issuer).len(), 43);
        let set = set_csrf_cookie(Outgoing::empty(200), issuer, &t);
        let cookie = set.header_value("set-cookie").unwrap();
        assert!(cookie.starts_with("__Host-edge_oidc_csrf=") && cookie.contains("SameSite=Strict") && cookie.contains("Secure"));
    }

    #[test]
    fn browsers_are_told_apart_from_api_clients() {
        assert!(!from_browser(&request("POST", "/login")));
        assert!(from_browser(&request("POST", "/login").with_header("origin", "null")));
        assert!(from_browser(&request("POST", "/login").with_header("sec-fetch-site", "same-origin")));
        assert!(from_browser(&request("POST", "/login").with_header("cookie", "x=y")));
    }
}
