//! The response as a value (`Outgoing`): what every handler returns, below every handler and
//! page (it imports none), and the few formats the answers share.

use crate::oauth::error::HttpCode;
use crate::oauth::{ErrorCode, OAuthError};
use serde::Serialize;

/// Bodies over this are refused with 413 (the contract's 64 KiB).
pub const MAX_BODY: usize = 64 * 1024;

/// A response as a value.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// What went wrong inside, for the request's log line only (never sent).
    pub log_detail: Option<String>,
}

impl Outgoing {
    pub fn json<T: Serialize>(status: u16, value: &T) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
        Self { status, headers: vec![("content-type".into(), "application/json".into())], body, log_detail: None }
            .header("cache-control", "no-store")
    }

    pub fn html(status: u16, html: String) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: html.into_bytes(),
            log_detail: None,
        }
        .header("cache-control", "no-store")
        .header("x-frame-options", "DENY")
        .header("referrer-policy", "no-referrer")
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", &page_csp("'self'"))
    }

    pub fn empty(status: u16) -> Self {
        Self { status, headers: vec![], body: vec![], log_detail: None }.header("cache-control", "no-store")
    }

    /// A 302 to `location` whose body is the URL as a JSON string (the contract's `/login` shape, docs/API.md).
    pub fn redirect(location: &str) -> Self {
        Self::json(302, &location).header("location", location)
    }

    /// Attaches what went wrong inside, for the log line only.
    pub fn with_log_detail(mut self, detail: Option<String>) -> Self {
        if detail.is_some() {
            self.log_detail = detail;
        }
        self
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    /// Sets a header, replacing one of the same name.
    /// Sets a header, replacing any of that name, except `Set-Cookie`, which is added (each
    /// cookie is a header of its own, RFC 6265 §3).
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if !name.eq_ignore_ascii_case("set-cookie") {
            self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        }
        self.headers.push((name.to_ascii_lowercase(), value.to_string()));
        self
    }

    pub fn header_value(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The JSON error answer, with the headers its code requires.
    pub fn error(e: &OAuthError) -> Self {
        let body = serde_json::json!({ "error": e.code.as_str(), "error_description": e.description });
        if e.dpop_challenge {
            // RFC 9449 §7.1: 401 and a DPoP challenge naming the error and the algorithms.
            let mut out = Self::json(401, &body).header(
                "www-authenticate",
                &format!(
                    "DPoP realm=\"edge-oidc\", error=\"{}\", error_description=\"{}\", algs=\"{}\"",
                    e.code.as_str(),
                    header_safe(&e.description),
                    crate::oauth::dpop::DPOP_ALGS.join(" ")
                ),
            );
            out.log_detail = e.internal.clone();
            return out;
        }
        let mut out = Self::json(e.status(), &body);
        out.log_detail = e.internal.clone();
        match e.code {
            // RFC 6750 §3: the challenge names the error.
            ErrorCode::InvalidToken | ErrorCode::InsufficientScope => out.header(
                "www-authenticate",
                &format!(
                    "Bearer realm=\"edge-oidc\", error=\"{}\", error_description=\"{}\"",
                    e.code.as_str(),
                    header_safe(&e.description)
                ),
            ),
            // RFC 6749 §5.2: 401 invalid_client carries a challenge for the scheme used.
            ErrorCode::InvalidClient => out.header("www-authenticate", "Basic realm=\"edge-oidc\""),
            ErrorCode::Http(HttpCode::RateLimited) => out.header("retry-after", &e.retry_after.unwrap_or(60).to_string()),
            _ => out,
        }
    }
}

/// The pages' CSP: nothing loads but inline styles; forms post only to `form_action`; no framing.
pub fn page_csp(form_action: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; img-src data:; form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
    )
}

fn header_safe(s: &str) -> String {
    s.chars().filter(|c| *c != '"' && *c != '\\' && !c.is_control()).collect()
}

/// `YYYY-MM-DDTHH:MM:SSZ` from Unix seconds (proleptic Gregorian, H. Hinnant's algorithm).
pub fn iso8601(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso8601() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::iso8601(1_796_042_096), "2026-11-30T12:34:56Z");
    }
}
