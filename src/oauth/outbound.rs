//! The guard every outbound HTTP fetch of the server passes before a connection is made (client ID
//! metadata documents now, a client's `jwks_uri` later): it refuses URLs that would point the
//! server at itself, at the network it runs in, or at a cloud metadata service (server-side
//! request forgery, OAuth 2.0 Security BCP (RFC 9700) §4.16 and the client ID metadata document
//! draft's security considerations).
//!
//! The host is read the way the WHATWG URL Standard reads it, since that is what the Workers
//! `fetch()` uses: `\` ends the authority, the host is percent-decoded and lowercased, and a host
//! ending in a number is an IPv4 address in any of the forms that parser accepts (`2130706433`,
//! `0x7f.1`, `0177.0.0.1`, `127.1`). Whatever that parser would read differently from this one —
//! non-ASCII hosts (IDNA maps `１２７.０.０.１` to an address), zone ids, slashes other than `//` —
//! is refused as malformed rather than guessed at. Addresses are judged against the IANA
//! special-purpose address registries (RFC 6890); names against the special-use domain names
//! that resolve locally. A public name that resolves to a private address is beyond what the URL's
//! text can tell.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Why an outbound URL is refused (for the log line only: callers answer every refusal and every
/// fetch failure with the same words, so that the answer is no port-scan oracle).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not `https` (nor `http` to a loopback host with `http_loopback`).
    NotHttps,
    /// Not an absolute URL, or one a WHATWG parser would read differently or reject.
    Malformed,
    /// Userinfo in the authority.
    Credentials,
    /// Loopback, private, link-local, documentation, multicast or otherwise special-use host.
    SpecialUseHost,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NotHttps => "not an https URL",
            Refusal::Malformed => "malformed URL",
            Refusal::Credentials => "URL carries credentials",
            Refusal::SpecialUseHost => "host is loopback, private or special-use",
        }
    }
}

/// `Ok` when `url` may be fetched: an absolute `https` URL whose host is a public DNS name or a
/// public IP address. `http_loopback` (a development setting) also admits `http://` and `https://`
/// URLs whose host is loopback (127.0.0.0/8, `[::1]`, `localhost`) — and nothing else special.
pub fn check(url: &str, http_loopback: bool) -> Result<(), Refusal> {
    use Refusal::*;
    // WHATWG drops tabs and newlines anywhere and trims spaces: refuse them rather than follow.
    if url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(Malformed);
    }
    let (scheme, rest) = url.split_once(':').ok_or(Malformed)?;
    let mut chars = scheme.chars();
    if !chars.next().is_some_and(|c| c.is_ascii_alphabetic()) || !chars.all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) {
        return Err(Malformed); // no scheme: a relative reference
    }
    let https = scheme.eq_ignore_ascii_case("https");
    let http = http_loopback && scheme.eq_ignore_ascii_case("http");
    if !(https || http) {
        return Err(NotHttps);
    }
    // WHATWG skips any run of `/` and `\` after a special scheme; only the plain `//` is taken.
    let rest = rest.strip_prefix("//").ok_or(Malformed)?;
    // For special schemes the authority ends at `/`, `?`, `#` or `\` (WHATWG reads `\` as `/`).
    let authority = &rest[..rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len())];
    if authority.contains('@') {
        return Err(Credentials);
    }
    let host = parse_host(authority)?;
    if http_loopback && is_loopback(&host) {
        return Ok(());
    }
    if !https {
        return Err(NotHttps);
    }
    let special = match &host {
        Host::V4(a) => special_v4(*a),
        Host::V6(a) => special_v6(*a),
        Host::Name(n) => special_name(n),
    };
    if special {
        Err(SpecialUseHost)
    } else {
        Ok(())
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Host {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
    /// Lowercase, percent-decoded, without its trailing dot.
    Name(String),
}

/// The host of `authority` (no userinfo), as the WHATWG host parser reads it; the port is checked
/// and dropped.
fn parse_host(authority: &str) -> Result<Host, Refusal> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (inner, tail) = v6.split_once(']').ok_or(Refusal::Malformed)?;
            // Inside brackets nothing is percent-decoded, so a zone id (`%25eth0`) fails here.
            let addr = inner.parse::<Ipv6Addr>().map_err(|_| Refusal::Malformed)?;
            (Host::V6(addr), if tail.is_empty() { None } else { Some(tail.strip_prefix(':').ok_or(Refusal::Malformed)?) })
        }
        None => {
            let (host, port) = authority.split_once(':').map_or((authority, None), |(h, p)| (h, Some(p)));
            (name_or_v4(host)?, port)
        }
    };
    // An empty port means the default one; otherwise digits, at most 65535.
    let port_ok = port.unwrap_or("").bytes().try_fold(0u32, |n, b| Some(n * 10 + char::from(b).to_digit(10)?).filter(|&n| n <= 65535));
    port_ok.map(|_| host).ok_or(Refusal::Malformed)
}

fn name_or_v4(raw: &str) -> Result<Host, Refusal> {
    let host = percent_decode(raw).ok_or(Refusal::Malformed)?;
    if ends_in_number(&host) {
        return ipv4(&host).map(Host::V4).ok_or(Refusal::Malformed);
    }
    let name = host.strip_suffix('.').unwrap_or(&host);
    let label_ok = |l: &str| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !name.split('.').all(label_ok) {
        return Err(Refusal::Malformed);
    }
    Ok(Host::Name(name.to_owned()))
}

/// `%XX` decoded, then ASCII-lowercased, as WHATWG does before reading the host. Non-ASCII (raw or
/// decoded) is `None`: WHATWG would run IDNA over it, which maps e.g. fullwidth digits to ASCII.
fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let hex = |i: usize| b.get(i).and_then(|&c| char::from(c).to_digit(16));
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match (c, hex(i + 1), hex(i + 2)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            _ => {
                out.push(c);
                i += 1;
            }
        }
    }
    out.make_ascii_lowercase();
    String::from_utf8(out).ok().filter(|s| s.is_ascii())
}

/// WHATWG "ends in a number": the last label (a trailing dot aside) is decimal digits, or `0x`
/// followed by hex digits (possibly none). Such a host is an IPv4 address or a failure.
fn ends_in_number(host: &str) -> bool {
    let last = host.strip_suffix('.').unwrap_or(host).rsplit('.').next().unwrap_or("");
    (!last.is_empty() && last.bytes().all(|b| b.is_ascii_digit()))
        || last.strip_prefix("0x").is_some_and(|h| h.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The WHATWG IPv4 parser: 1 to 4 parts, each decimal, octal (leading `0`) or hex (`0x`); every
/// part but the last is one byte, the last fills the remaining bytes.
fn ipv4(host: &str) -> Option<Ipv4Addr> {
    let mut parts: Vec<&str> = host.split('.').collect();
    if parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts.len() > 4 {
        return None;
    }
    let numbers = parts.iter().map(|p| ipv4_number(p)).collect::<Option<Vec<u64>>>()?;
    let (&last, init) = numbers.split_last()?;
    if init.iter().any(|&n| n > 255) || last >= 1 << (8 * (4 - init.len())) {
        return None;
    }
    let addr = init.iter().zip([24, 16, 8]).fold(last, |acc, (&n, shift)| acc | (n << shift));
    u32::try_from(addr).ok().map(Ipv4Addr::from)
}

fn ipv4_number(part: &str) -> Option<u64> {
    let (digits, radix) = match part.strip_prefix("0x") {
        Some(hex) => (hex, 16),
        None if part.len() > 1 && part.starts_with('0') => (&part[1..], 8),
        None if part.is_empty() => return None,
        None => (part, 10),
    };
    // Too large for u64 is too large for any part, so overflow may fail the whole address.
    digits.chars().try_fold(0u64, |n, c| n.checked_mul(u64::from(radix))?.checked_add(u64::from(c.to_digit(radix)?)))
}

fn is_loopback(host: &Host) -> bool {
    match host {
        Host::V4(a) => a.is_loopback(),
        Host::V6(a) => a.is_loopback(),
        Host::Name(n) => in_zone(n, "localhost"),
    }
}

/// IPv4 blocks that are not globally reachable: the IANA IPv4 Special-Purpose Address Registry
/// (RFC 6890 §2.2.2 and its updates), plus multicast.
const SPECIAL_V4: [([u8; 4], u32); 15] = [
    ([0, 0, 0, 0], 8),       // "this host on this network", RFC 1122 §3.2.1.3 (Linux connects 0.0.0.0 to itself)
    ([10, 0, 0, 0], 8),      // private use, RFC 1918
    ([100, 64, 0, 0], 10),   // shared address space (carrier-grade NAT), RFC 6598
    ([127, 0, 0, 0], 8),     // loopback, RFC 1122 §3.2.1.3
    ([169, 254, 0, 0], 16),  // link-local, RFC 3927 (cloud metadata services live at 169.254.169.254)
    ([172, 16, 0, 0], 12),   // private use, RFC 1918
    ([192, 0, 0, 0], 24),    // IETF protocol assignments, RFC 6890 §2.2.2
    ([192, 0, 2, 0], 24),    // documentation (TEST-NET-1), RFC 5737
    ([192, 88, 99, 0], 24),  // 6to4 relay anycast, RFC 7526
    ([192, 168, 0, 0], 16),  // private use, RFC 1918
    ([198, 18, 0, 0], 15),   // benchmarking, RFC 2544
    ([198, 51, 100, 0], 24), // documentation (TEST-NET-2), RFC 5737
    ([203, 0, 113, 0], 24),  // documentation (TEST-NET-3), RFC 5737
    ([224, 0, 0, 0], 4),     // multicast, RFC 5771
    ([240, 0, 0, 0], 4),     // reserved, RFC 1112 §4; includes limited broadcast 255.255.255.255, RFC 919
];

fn special_v4(a: Ipv4Addr) -> bool {
    SPECIAL_V4.iter().any(|&(base, len)| {
        let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
        u32::from(a) & mask == u32::from_be_bytes(base)
    })
}

/// IPv6 blocks that are not globally reachable: the IANA IPv6 Special-Purpose Address Registry
/// (RFC 6890 §2.2.3 and its updates), plus the architecture's scoped blocks (RFC 4291).
const SPECIAL_V6: [(u128, u32); 12] = [
    (0, 96),                      // IPv4-compatible, deprecated (RFC 4291 §2.5.5.1); holds :: and ::1 (§2.5.2, §2.5.3)
    (0x0064_ff9b_0001 << 80, 48), // local-use IPv4/IPv6 translation, RFC 8215
    (0x0100 << 112, 64),          // discard-only, RFC 6666
    (0x2001 << 112, 23),          // IETF protocol assignments, RFC 2928 (includes Teredo 2001::/32, RFC 4380)
    (0x2001_0db8 << 96, 32),      // documentation, RFC 3849
    (0x2002 << 112, 16),          // 6to4, RFC 3056: embeds an IPv4 address
    (0x3fff << 112, 20),          // documentation, RFC 9637
    (0x5f00 << 112, 16),          // segment routing (SRv6) SIDs, RFC 9602
    (0xfc00 << 112, 7),           // unique local, RFC 4193
    (0xfe80 << 112, 10),          // link-local, RFC 4291 §2.5.6
    (0xfec0 << 112, 10),          // site-local, deprecated, RFC 4291 §2.5.7
    (0xff00 << 112, 8),           // multicast, RFC 4291 §2.7
];

fn special_v6(a: Ipv6Addr) -> bool {
    let bits = u128::from(a);
    let within = |base: u128, len: u32| bits & u128::MAX.checked_shl(128 - len).unwrap_or(0) == base;
    // IPv4-mapped (RFC 4291 §2.5.5.2) and well-known NAT64 (RFC 6052 §2.1) reach the embedded
    // IPv4 address: judge that one.
    if within(0xffff << 32, 96) || within(0x0064_ff9b << 96, 96) {
        return special_v4(Ipv4Addr::from(bits as u32));
    }
    // Everything outside 2000::/3 is unallocated or special (IANA IPv6 Address Space registry;
    // global unicast, RFC 4291 §2.4): the table names the blocks, this refuses the rest too.
    SPECIAL_V6.iter().any(|&(base, len)| within(base, len)) || !within(0x2000 << 112, 3)
}

/// Names resolved by the local host or network rather than by the public DNS.
fn special_name(name: &str) -> bool {
    // A single label (`metadata`, `intranet`) goes to the resolver's search list or hosts file.
    !name.contains('.')
        || in_zone(name, "localhost") // loopback, RFC 6761 §6.3
        || in_zone(name, "local") // multicast DNS, RFC 6762
        || in_zone(name, "internal") // private use, reserved by ICANN (2024) for internal networks
        || in_zone(name, "arpa") // infrastructure, RFC 3172: reverse zones and home.arpa (RFC 8375)
        || in_zone(name, "invalid") // RFC 6761 §6.4
        || in_zone(name, "localdomain") // the hosts-file alias `localhost.localdomain`
}

/// `name` is `zone` or a name under it.
fn in_zone(name: &str, zone: &str) -> bool {
    name.strip_suffix(zone).is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
}

/// `Ok` for a URL an administrator may have the server fetch (an admin-made client's
/// `jwks_uri`): `check`'s rules without the special-use host refusal, so any https host and
/// http to loopback (development).
pub fn check_admin_chosen(url: &str) -> Result<(), Refusal> {
    match check(url, true) {
        Err(Refusal::SpecialUseHost) => Ok(()),
        other => other,
    }
}

/// Why an outbound fetch gave nothing usable: refused before any connection, or failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboundError {
    Refused(Refusal),
    Failed(crate::store::FetchError),
}

impl OutboundError {
    /// For the log line only (`OAuthError::internal`): callers answer every case alike.
    pub fn detail(&self) -> String {
        use crate::store::FetchError;
        match self {
            Self::Refused(r) => format!("outbound fetch refused: {}", r.as_str()),
            Self::Failed(FetchError::Status(s)) => format!("outbound fetch answered HTTP {s}"),
            Self::Failed(FetchError::TooLarge) => "outbound fetch larger than its cap".to_string(),
            Self::Failed(FetchError::Timeout) => format!("outbound fetch took over {} ms", crate::store::DOCUMENT_TIMEOUT_MS),
            Self::Failed(FetchError::Network(e)) => format!("outbound fetch failed: {e}"),
        }
    }
}

impl<S: crate::store::Store, P: crate::store::Platform> crate::oauth::Provider<'_, S, P> {
    /// The one way out to the network: `url` is checked by `check` (with the deployment's
    /// development loopback setting) before the store's fetcher may connect.
    pub async fn fetch_outbound(&self, url: &str) -> Result<crate::store::FetchedDocument, OutboundError> {
        self.fetch_outbound_limited(url, crate::store::MAX_DOCUMENT_BYTES).await
    }

    /// `fetch_outbound` with a size cap of `max_bytes`.
    pub async fn fetch_outbound_limited(&self, url: &str, max_bytes: usize) -> Result<crate::store::FetchedDocument, OutboundError> {
        check(url, self.config.metadata_document_http_loopback).map_err(OutboundError::Refused)?;
        self.platform.fetch_document(url, max_bytes).await.map_err(OutboundError::Failed)
    }

    /// A fetch of a URL an administrator chose (an admin-made client's `jwks_uri`): any http or
    /// https URL, loopback included for development, with the same timeout, cap and no redirects.
    pub async fn fetch_trusted(&self, url: &str, max_bytes: usize) -> Result<crate::store::FetchedDocument, OutboundError> {
        check_admin_chosen(url).map_err(OutboundError::Refused)?;
        self.platform.fetch_document(url, max_bytes).await.map_err(OutboundError::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::Refusal::*;
    use super::*;

    fn table(http_loopback: bool, want: Result<(), Refusal>, urls: &[&str]) {
        for url in urls {
            assert_eq!(check(url, http_loopback), want, "{url} (http_loopback: {http_loopback})");
        }
    }

    #[test]
    fn public_https_urls_are_allowed() {
        let ok = [
            "https://mcp-client.example/client.json",
            "https://x.example/",
            "https://a.test/c",
            "https://example.com:8443/a?b",
            "https://example.com:/x",
            "https://example.com:000443/x",
            "https://example.com:65535/x",
            "https://example.com",
            "https://example.com?q",
            "https://example.com#f",
            "HTTPS://EXAMPLE.COM/x",
            "https://Example.COM./x",
            "https://sub_domain.example.com/x",
            "https://xn--nxasmq6b.example/x",
            "https://ex%61mple.com/x",
            "https://localhost.example.com/x",
            "https://local.example/x",
            "https://example.local.com/x",
            "https://1.2.3.example/x",
            "https://8.8.8.8/x",
            "https://134744072/x", // 8.8.8.8
            "https://1.1.1.1:443/x",
            "https://11.0.0.1/",
            "https://172.15.255.255/",
            "https://172.32.0.0/",
            "https://100.63.255.255/",
            "https://100.128.0.0/",
            "https://169.253.255.255/",
            "https://169.255.0.0/",
            "https://192.167.255.255/",
            "https://192.169.0.0/",
            "https://198.17.255.255/",
            "https://198.20.0.0/",
            "https://223.255.255.255/",
            "https://[2606:4700::1]/x",
            "https://[2001:4860:4860::8888]/x",
            "https://[2a00:1450:4001::1]:443/x",
            "https://[2001:200::1]/",
            "https://[::ffff:8.8.8.8]/",
            "https://[64:ff9b::8.8.8.8]/",
        ];
        table(false, Ok(()), &ok);
        table(true, Ok(()), &ok);
    }

    #[test]
    fn only_https_unless_loopback_in_development() {
        let urls = [
            "http://public.example/x",
            "ftp://example.com/x",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "data:,x",
            "wss://example.com/",
        ];
        table(false, Err(NotHttps), &urls);
        table(true, Err(NotHttps), &urls);
        table(false, Err(NotHttps), &["http://127.0.0.1/c", "http://localhost/c", "HTTP://[::1]/c"]);
    }

    #[test]
    fn credentials_are_refused() {
        table(
            false,
            Err(Credentials),
            &[
                "https://user@example.com/x",
                "https://u:p@example.com/",
                "https://@example.com/",
                "https://example.com@127.0.0.1/",
                "https://a@b@c/",
            ],
        );
        table(true, Err(Credentials), &["http://user@localhost/c"]);
        // `\`, `/`, `?` and `#` end the authority (WHATWG), so an `@` after them is in the path.
        table(
            false,
            Ok(()),
            &[
                "https://example.com\\@127.0.0.1/x",
                "https://example.com/@127.0.0.1",
                "https://example.com?@127.0.0.1",
                "https://example.com#@127.0.0.1",
            ],
        );
    }

    #[test]
    fn malformed_urls_are_refused() {
        table(
            false,
            Err(Malformed),
            &[
                "",
                "example.com",
                "//example.com/x",
                "1https://example.com/",
                "https:example.com",
                "https:/example.com",
                "https:\\\\127.0.0.1/",
                "https:///127.0.0.1/",
                "https://\\127.0.0.1/",
                "https:///x",
                "https://:443/x",
                "https://?x",
                "https://example.com:99999/",
                "https://example.com:65536/",
                "https://example.com:8a/",
                "https://example.com:-1/",
                "https://example.com:1:2/",
                "https://exa mple.com/",
                "https://example.com/ x",
                " https://example.com/",
                "https://example.com/\tx",
                "https://127.0.0.\n1/",
                "https://exa\u{0}mple.com/",
                "https://ex%zzample.com/",
                "https://ex%2541mple.com/",
                "https://ex%40mple.com/",
                "https://ex%2fmple.com/",
                "https://a..b.example/",
                "https://.example/",
                "https://example.com../",
                "https://./",
                "https://exa*mple.com/",
                "https://ex\u{e4}mple.com/",
                "https://ex%c3%a4mple.com/",
                "https://\u{ff11}\u{ff12}\u{ff17}.0.0.1/", // fullwidth digits: IDNA would make 127.0.0.1
                "https://127\u{3002}0.0.1/",               // ideographic full stop: IDNA would make a dot
                "https://[::1/",
                "https://[::1]x/",
                "https://[::1]:x/",
                "https://[::1]]/",
                "https://[[::1]]/",
                "https://[fe80::1%25eth0]/",
                "https://[fe80::1%eth0]/",
                "https://[%3a%3a1]/",
                "https://%5b::1%5d/",
                "https://[127.0.0.1]/",
                "https://[::ffff:127.1]/",
                "https://a[::1]/",
                "https://256.0.0.1/",
                "https://1.2.3.256/",
                "https://1.2.65536/",
                "https://1.16777216/",
                "https://4294967296/",
                "https://0x100000000/",
                "https://1.2.3.4.5/",
                "https://08.0.0.1/",
                "https://0x7g.1/",
                "https://foo.123/",
                "https://example.0x/",
                "https://1.2.3.4../",
                "https://99999999999999999999999999/",
            ],
        );
    }

    #[test]
    fn whatwg_ipv4_forms_are_read_as_addresses() {
        let read = |host: &str| name_or_v4(host).ok();
        for (host, addr) in [
            ("2130706433", [127, 0, 0, 1]),
            ("0x7f000001", [127, 0, 0, 1]),
            ("0X7F000001", [127, 0, 0, 1]),
            ("017700000001", [127, 0, 0, 1]),
            ("0177.0.0.1", [127, 0, 0, 1]),
            ("127.1", [127, 0, 0, 1]),
            ("0x7f.1", [127, 0, 0, 1]),
            ("127.0.1", [127, 0, 0, 1]),
            ("127.0.0.1.", [127, 0, 0, 1]),
            ("127%2e0%2e0%2e1", [127, 0, 0, 1]),
            ("0x.0x.0x.0x", [0, 0, 0, 0]),
            ("0", [0, 0, 0, 0]),
            ("00", [0, 0, 0, 0]),
            ("0xa.0.0.010", [10, 0, 0, 8]),
            ("0x00000000000000000000000000000008.8.8.8", [8, 8, 8, 8]),
            ("1.2.3.4", [1, 2, 3, 4]),
            ("4294967295", [255, 255, 255, 255]),
        ] {
            assert_eq!(read(host), Some(Host::V4(Ipv4Addr::from(addr))), "{host}");
        }
        assert_eq!(read("Example.COM."), Some(Host::Name("example.com".into())));
    }

    #[test]
    fn special_ipv4_hosts_are_refused() {
        let urls = [
            "https://2130706433/x",
            "https://0x7f000001/x",
            "https://0177.0.0.1/x",
            "https://127.1/x",
            "https://017700000001/x",
            "https://%31%32%37.0.0.1/x",
            "https://127.0.0.1./x",
            "https://169.254.169.254/latest/meta-data",
            "https://2852039166/latest/meta-data", // 169.254.169.254
            "https://0xa9.0xfe.0xa9.0xfe/",
            "https://10.0.0.1:443/x",
            "https://0xa.1/",
            "https://0.0.0.0/",
            "https://0/",
            "https://0.1.2.3/",
            "https://100.64.0.1/",
            "https://100.127.255.255/",
            "https://127.255.255.254/",
            "https://172.16.0.0/",
            "https://172.31.255.255/",
            "https://192.0.0.8/",
            "https://192.0.2.1/",
            "https://192.88.99.1/",
            "https://192.168.1.1/",
            "https://198.18.0.1/",
            "https://198.19.255.255/",
            "https://198.51.100.7/",
            "https://203.0.113.9/",
            "https://224.0.0.1/",
            "https://239.255.255.250/",
            "https://240.0.0.1/",
            "https://255.255.255.255/",
        ];
        table(false, Err(SpecialUseHost), &urls);
    }

    #[test]
    fn special_ipv6_hosts_are_refused() {
        let urls = [
            "https://[::1]/x",
            "https://[::]/x",
            "https://[0:0:0:0:0:0:0:1]:443/x",
            "https://[::ffff:7f00:1]/x",
            "https://[::FFFF:7F00:1]/x",
            "https://[::ffff:127.0.0.1]/x",
            "https://[::ffff:169.254.169.254]/x",
            "https://[::ffff:10.0.0.1]/x",
            "https://[::127.0.0.1]/x",
            "https://[::8.8.8.8]/x", // IPv4-compatible: refused whatever it embeds
            "https://[64:ff9b::7f00:1]/x",
            "https://[64:ff9b::10.0.0.1]/x",
            "https://[64:ff9b:1::8.8.8.8]/x",
            "https://[100::1]/x",
            "https://[2001::1]/x",
            "https://[2001:1ff:ffff::1]/x",
            "https://[2001:db8::1]/x",
            "https://[2002:7f00:1::1]/x",
            "https://[3fff::1]/x",
            "https://[5f00::1]/x",
            "https://[fc00::1]/",
            "https://[fd12:3456::1]/",
            "https://[fe80::1]/",
            "https://[febf::1]/",
            "https://[fec0::1]/",
            "https://[ff02::1]/",
            "https://[4000::1]/",          // outside 2000::/3: not allocated
            "https://[::ffff:0:7f00:1]/x", // the SIIT form (RFC 2765), outside 2000::/3
        ];
        table(false, Err(SpecialUseHost), &urls);
    }

    #[test]
    fn special_names_are_refused() {
        let urls = [
            "https://localhost/x",
            "https://LOCALHOST./x",
            "https://%6c%6fcalhost/x",
            "https://%4C%4FCALHOST/x",
            "https://a.localhost/x",
            "https://A.LocalHost./x",
            "https://printer.local/x",
            "https://metadata.google.internal/computeMetadata/v1/",
            "https://router.home.arpa/x",
            "https://1.0.0.127.in-addr.arpa/x",
            "https://x.invalid/x",
            "https://localhost.localdomain/x",
            "https://metadata/x",
            "https://intranet/",
            "https://intranet./",
            "https://mylocal:8080/",
        ];
        table(false, Err(SpecialUseHost), &urls);
    }

    #[test]
    fn http_loopback_admits_loopback_and_nothing_else() {
        table(
            true,
            Ok(()),
            &[
                "http://127.0.0.1:8080/c.json",
                "http://[::1]:9/c",
                "http://localhost:3000/c",
                "http://LOCALHOST./c",
                "http://a.localhost/c",
                "http://127.0.0.2/c",
                "http://2130706433/c",
                "https://localhost/c",
                "https://127.0.0.1/c",
            ],
        );
        table(true, Err(NotHttps), &["http://10.0.0.1/c", "http://[::ffff:127.0.0.1]/c", "http://public.example/c", "http://metadata/c"]);
        table(
            true,
            Err(SpecialUseHost),
            &[
                "https://169.254.169.254/",
                "https://10.0.0.1/",
                "https://[::ffff:127.0.0.1]/",
                "https://[fe80::1]/",
                "https://printer.local/",
            ],
        );
        table(false, Err(SpecialUseHost), &["https://localhost/c", "https://127.0.0.1/c", "https://[::1]/c"]);
    }

    #[test]
    fn reasons_are_distinct() {
        let all = [NotHttps, Malformed, Credentials, SpecialUseHost];
        for (i, a) in all.iter().enumerate() {
            assert!(!a.as_str().is_empty());
            assert!(all[..i].iter().all(|b| b.as_str() != a.as_str()));
        }
    }

    #[test]
    fn never_panics() {
        const PIECES: [&str; 30] = [
            "https://",
            "http://",
            "https:",
            "//",
            "/",
            "\\",
            "@",
            ":",
            "::",
            "[",
            "]",
            ".",
            "..",
            "%",
            "%2",
            "%25",
            "%2e",
            "%zz",
            "0",
            "0x",
            "0X",
            "00",
            "127",
            "255",
            "4294967296",
            "ffff",
            "a",
            "é",
            "\u{ff11}",
            "\u{0}",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..600 {
            let len = next() % 10;
            let url: String = (0..len).map(|_| PIECES[(next() % PIECES.len() as u64) as usize]).collect();
            let _ = check(&url, false);
            let _ = check(&url, true);
            let _ = check(&format!("https://{url}"), true);
        }
        for url in ["https://[::ffff:127.0.0.1]:65535/x", "https://%6c%6fcalhost./x", "https://0x7f.0.0.1:08/", "https://é@[::1]\\x"] {
            for (i, _) in url.char_indices() {
                let _ = check(&url[..i], false);
                let _ = check(&url[i..], true);
            }
        }
    }
}
