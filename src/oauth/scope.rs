//! Scopes (RFC 6749 §3.3): space-delimited, case-sensitive, each `%x21 / %x23-5B / %x5D-7E`.

use std::collections::BTreeSet;

pub const OPENID: &str = "openid";
pub const PROFILE: &str = "profile";
pub const EMAIL: &str = "email";
/// Opens the admin endpoints (docs/API.md "Admin bearer"): granted only to users whose role is
/// `admin`, only through clients registered with it, and never by default.
pub const ADMIN: &str = "admin";
/// Scopes this server understands by itself; clients may be registered with others.
pub const STANDARD: [&str; 4] = [OPENID, PROFILE, EMAIL, "offline_access"];

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope(BTreeSet<String>);

impl Scope {
    /// Parses a scope string; `None` when a token has a character RFC 6749 §3.3 forbids.
    pub fn parse(s: &str) -> Option<Self> {
        let mut set = BTreeSet::new();
        for tok in s.split(' ').filter(|t| !t.is_empty()) {
            let ok = tok.len() <= 128 && tok.bytes().all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b));
            if !ok {
                return None;
            }
            set.insert(tok.to_string());
        }
        Some(Self(set))
    }

    pub fn from_list<I: IntoIterator<Item = S>, S: Into<String>>(items: I) -> Self {
        Self(items.into_iter().map(Into::into).collect())
    }

    pub fn contains(&self, s: &str) -> bool {
        self.0.contains(s)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn is_subset(&self, other: &Scope) -> bool {
        self.0.is_subset(&other.0)
    }
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
    pub fn to_vec(&self) -> Vec<String> {
        self.0.iter().cloned().collect()
    }

    /// The scope to grant against a client's registered scopes: the requested one when it is
    /// within `allowed`; `None` (→ `invalid_scope`) when it exceeds it. Without a request, the
    /// pre-defined default of RFC 6749 §3.3 ("the authorization server MUST either process the
    /// request using a pre-defined default value or fail the request"): the registered scopes
    /// except `admin`, which is granted only when asked for.
    pub fn narrow(requested: Option<&Scope>, allowed: &Scope) -> Option<Scope> {
        match requested {
            None => Some(allowed.without(ADMIN)),
            Some(r) if r.is_empty() => Some(allowed.without(ADMIN)),
            Some(r) if r.is_subset(allowed) => Some(r.clone()),
            Some(_) => None,
        }
    }

    /// The names in both.
    pub fn intersection(&self, other: &Scope) -> Scope {
        Scope(self.0.intersection(&other.0).cloned().collect())
    }

    /// This scope without `name`.
    pub fn without(&self, name: &str) -> Scope {
        Scope(self.0.iter().filter(|s| *s != name).cloned().collect())
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v: Vec<&str> = self.iter().collect();
        f.write_str(&v.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_display() {
        let s = Scope::parse("  openid  email profile email").unwrap();
        assert_eq!(s.to_string(), "email openid profile");
        assert!(Scope::parse("bad\"quote").is_none());
        assert!(Scope::parse("back\\slash").is_none());
        assert!(Scope::parse("tab\there").is_none());
        assert!(Scope::parse("").unwrap().is_empty());
    }

    #[test]
    fn narrowing() {
        let granted = Scope::parse("openid profile email").unwrap();
        let fewer = Scope::parse("openid email").unwrap();
        let more = Scope::parse("openid admin").unwrap();
        assert_eq!(Scope::narrow(Some(&fewer), &granted), Some(fewer.clone()));
        assert_eq!(Scope::narrow(None, &granted), Some(granted.clone()));
        assert_eq!(Scope::narrow(Some(&Scope::default()), &granted), Some(granted.clone()));
        assert_eq!(Scope::narrow(Some(&more), &granted), None);
        assert_eq!(Scope::narrow(Some(&granted), &fewer), None);
        // `admin` is never part of the default, only granted when asked for.
        let with_admin = Scope::parse("openid admin").unwrap();
        assert_eq!(Scope::narrow(None, &with_admin), Scope::parse("openid"));
        assert_eq!(Scope::narrow(Some(&with_admin), &with_admin), Some(with_admin.clone()));
    }
}
