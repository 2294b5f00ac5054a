//! One-time passwords for authenticator apps: HOTP (RFC 4226) over HMAC-SHA-1 and TOTP
//! (RFC 6238) with the parameters every app supports (SHA-1, 6 digits, 30-second steps), and the
//! base32 (RFC 4648 §6) the `otpauth://` URI carries the secret in.

use hmac::{Hmac, Mac};
use sha1::Sha1;

/// RFC 6238 §4.1 X: the time step, in seconds.
pub const STEP_SECONDS: u64 = 30;
/// Digits of a code (RFC 4226 §5.3 "Digit = 6").
pub const DIGITS: u32 = 6;
/// Bytes of a shared secret: RFC 4226 §4 R6 asks for at least 128 bits and recommends 160.
pub const SECRET_BYTES: usize = 20;

/// RFC 4226 §5.3: HMAC-SHA-1 of the big-endian counter, dynamically truncated to 31 bits, modulo
/// 10^DIGITS.
pub fn hotp(secret: &[u8], counter: u64) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(&counter.to_be_bytes());
    let hs = mac.finalize().into_bytes();
    let offset = (hs[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([hs[offset] & 0x7f, hs[offset + 1], hs[offset + 2], hs[offset + 3]]);
    bin % 10u32.pow(DIGITS)
}

/// RFC 6238 §4.2: the time step of `unix_seconds` (T0 = 0).
pub fn step_at(unix_seconds: u64) -> u64 {
    unix_seconds / STEP_SECONDS
}

/// The code for a time step, zero-padded to `DIGITS` digits.
pub fn code_at_step(secret: &[u8], step: u64) -> String {
    format!("{:0width$}", hotp(secret, step), width = DIGITS as usize)
}

/// The step within `now`'s step ± `window` whose code `code` is, if any. The code is compared in
/// constant time per step; a code that is not `DIGITS` ASCII digits matches nothing.
pub fn matching_step(secret: &[u8], code: &str, now: u64, window: u64) -> Option<u64> {
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_at(now);
    let mut found = None;
    for step in current.saturating_sub(window)..=current + window {
        if super::constant_time_eq(code_at_step(secret, step).as_bytes(), code.as_bytes()) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 §6 base32 without padding (as Google Authenticator's key URI format writes secrets).
pub fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    for chunk in bytes.chunks(5) {
        let mut buf = [0u8; 5];
        buf[..chunk.len()].copy_from_slice(chunk);
        let bits = u64::from_be_bytes([0, 0, 0, buf[0], buf[1], buf[2], buf[3], buf[4]]);
        let chars = (chunk.len() * 8).div_ceil(5);
        for i in 0..chars {
            out.push(BASE32[((bits >> (35 - 5 * i)) & 31) as usize] as char);
        }
    }
    out
}

/// Decodes RFC 4648 §6 base32 (upper case, without padding; spaces ignored, as people copy
/// grouped keys); `None` for any other character.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0u64;
    let mut n = 0;
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    for c in text.bytes().filter(|c| *c != b' ') {
        let v = BASE32.iter().position(|x| *x == c)? as u64;
        bits = ((bits << 5) | v) & 0xffff;
        n += 5;
        if n >= 8 {
            out.push((bits >> (n - 8)) as u8);
            n -= 8;
        }
    }
    Some(out)
}

/// The `otpauth://totp/` key URI authenticator apps scan (the de facto format of Google
/// Authenticator's "Key Uri Format"): issuer and account name in the label and `issuer`.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    let label = format!("{}:{}", crate::form::encode(issuer), crate::form::encode(account));
    format!(
        "otpauth://totp/{label}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
        base32(secret),
        crate::form::encode(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4226_appendix_d_hotp_values() {
        let secret = b"12345678901234567890";
        let expected = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
        for (counter, want) in expected.iter().enumerate() {
            assert_eq!(hotp(secret, counter as u64), *want, "counter {counter}");
        }
    }

    #[test]
    fn rfc6238_appendix_b_sha1_values_in_six_digits() {
        // The appendix gives 8 digits; a 6-digit code is the same value modulo 10^6.
        let secret = b"12345678901234567890";
        for (time, eight) in [
            (59u64, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(code_at_step(secret, step_at(time)), eight[2..], "T={time}");
        }
    }

    #[test]
    fn a_code_matches_within_one_step_either_side_only() {
        let secret = [7u8; SECRET_BYTES];
        let now = 1_700_000_000;
        let at = |offset: i64| code_at_step(&secret, (step_at(now) as i64 + offset) as u64);
        assert_eq!(matching_step(&secret, &at(0), now, 1), Some(step_at(now)));
        assert_eq!(matching_step(&secret, &at(-1), now, 1), Some(step_at(now) - 1));
        assert_eq!(matching_step(&secret, &at(1), now, 1), Some(step_at(now) + 1));
        assert_eq!(matching_step(&secret, &at(2), now, 1), None);
        assert_eq!(matching_step(&secret, &at(-2), now, 1), None);
        for bad in ["", "12345", "1234567", "12a456", " 23456", "１２３４５６"] {
            assert_eq!(matching_step(&secret, bad, now, 1), None, "{bad:?}");
        }
    }

    #[test]
    fn base32_matches_rfc4648_section_10() {
        for (input, want) in
            [("", ""), ("f", "MY"), ("fo", "MZXQ"), ("foo", "MZXW6"), ("foob", "MZXW6YQ"), ("fooba", "MZXW6YTB"), ("foobar", "MZXW6YTBOI")]
        {
            assert_eq!(base32(input.as_bytes()), want);
        }
        assert_eq!(base32(&[0u8; SECRET_BYTES]).len(), 32);
        for (want, input) in [("foobar", "MZXW6YTBOI"), ("fooba", "MZXW 6YTB"), ("", "")] {
            assert_eq!(base32_decode(input).unwrap(), want.as_bytes());
        }
        assert_eq!(base32_decode("mzxw6"), None, "lower case is not base32");
        let secret = [0xa5u8; SECRET_BYTES];
        assert_eq!(base32_decode(&base32(&secret)).unwrap(), secret);
    }

    #[test]
    fn the_key_uri_names_issuer_account_and_parameters() {
        let uri = otpauth_uri("Acme Co", "alice@example.com", b"12345678901234567890");
        assert_eq!(
            uri,
            "otpauth://totp/Acme%20Co:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Acme%20Co&algorithm=SHA1&digits=6&period=30"
        );
    }
}
