//! The browser application: the pages a person sees (sign-in, the second step, consent, the
//! account page, sign-out) and the posts of their forms. Layers, each importing only those
//! below it, so that no cycle can come back:
//!
//! 1. `pages/`: HTML from values; no handler, no flow, no storage.
//! 2. `cookies.rs`: the session and anti-CSRF cookies, in one place.
//! 3. `flow.rs`: what follows an authentication step (the pending second step, the session, the
//!    code), decided by `oauth::prompt::next_step` and returned as a `Step`; it never renders.
//! 4. `views.rs`: pages as responses (status, CSP, cookies), and a flow `Step` rendered.
//! 5. `prologue.rs`: the one prologue of every browser post (cross-site check, form, anti-CSRF
//!    token, the carried authorization request checked again); `account_page.rs`: the account
//!    page as a response and the signed-in variant of the prologue, shared by two handlers.
//! 6. The handlers, one file per route group: run the prologue, call the core or the flow, render
//!    the outcome: `authorize.rs` (`/authorize`, `/login`), `second_factor.rs`, `consent.rs`,
//!    `account.rs`, `passkeys.rs`, `logout.rs`.

pub mod account;
pub mod account_page;
pub mod authorize;
pub mod consent;
pub mod cookies;
pub mod flow;
pub mod logout;
pub mod pages;
pub mod passkeys;
pub mod prologue;
pub mod second_factor;
pub mod views;

#[cfg(test)]
mod browser_tests;
#[cfg(test)]
mod consent_tests;

/// `scheme://authority` of an absolute URL (for `Origin` checks and CSP sources).
pub fn origin_of(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://{}", rest.split('/').next().unwrap_or("")),
        None => url.to_string(),
    }
}
