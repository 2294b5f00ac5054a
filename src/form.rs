//! `application/x-www-form-urlencoded` (WHATWG URL §5) parsing and serialising, used for form
//! bodies, query strings and the parameters added to redirect URIs.

/// Parses a form body or query string. `None` when a value is not valid UTF-8 after
/// percent-decoding. Repeated parameters are kept in order; callers decide (RFC 6749 §3.1:
/// parameters MUST NOT be repeated).
pub fn parse(input: &str) -> Option<Vec<(String, String)>> {
    input
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(k)?, decode(v)?))
        })
        .collect()
}

/// Percent-decodes one component, with `+` as space. Invalid escapes are kept literally.
pub fn decode(s: &str) -> Option<String> {
    decode_with(s, true)
}

/// Percent-decodes a path segment (RFC 3986 §2.1; `+` is itself there): a client ID metadata
/// document's URL arrives as `/clients/https%3A%2F%2F...`.
pub fn decode_path(s: &str) -> Option<String> {
    decode_with(s, false)
}

fn decode_with(s: &str, plus_is_space: bool) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encodes one component for a form or query (space as `%20`, which every parser
/// reads, unlike `+` in some path contexts).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Serialises pairs as `k=v&k=v`.
pub fn serialize<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    pairs.into_iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect::<Vec<_>>().join("&")
}

/// Adds query parameters to a URI that may already have a query (RFC 6749 §3.1.2: the query
/// component of a registered redirect URI MUST be retained).
pub fn append_query<'a>(uri: &str, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let q = serialize(pairs);
    if q.is_empty() {
        return uri.to_string();
    }
    let sep = if uri.contains('?') {
        if uri.ends_with('?') || uri.ends_with('&') {
            ""
        } else {
            "&"
        }
    } else {
        "?"
    };
    format!("{uri}{sep}{q}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let s = serialize([("a b", "c&d=e"), ("ü", "+%")]);
        assert_eq!(s, "a%20b=c%26d%3De&%C3%BC=%2B%25");
        assert_eq!(parse(&s).unwrap(), vec![("a b".into(), "c&d=e".into()), ("ü".into(), "+%".into())]);
        assert_eq!(parse("x=1+2&y&&z=%zz").unwrap(), vec![("x".into(), "1 2".into()), ("y".into(), "".into()), ("z".into(), "%zz".into())]);
        assert_eq!(parse("bad=%ff"), None);
        assert_eq!(decode("%4"), Some("%4".into()));
        assert_eq!(decode("%"), Some("%".into()));
    }

    #[test]
    fn append() {
        assert_eq!(append_query("https://a/cb", [("code", "x")]), "https://a/cb?code=x");
        assert_eq!(append_query("https://a/cb?k=v", [("code", "x")]), "https://a/cb?k=v&code=x");
    }
}
