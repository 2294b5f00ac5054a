//! The HTML pages: login, consent, error, sign-out and the account page here, the second step's
//! and the account's factor sections in `factors.rs`, QR codes in `qr.rs`. Pages render values
//! and import no handler, flow or storage. They are maud templates, which escape every
//! interpolated value unless it is marked `PreEscaped` (only the stylesheet and the QR code's
//! SVG, both made here from checked values); no external assets (the CSP allows none); the pages
//! work without JavaScript. Product name and accent colour come from the `PRODUCT_NAME` and
//! `BRAND_COLOR` vars.

pub mod factors;
pub mod qr;

use crate::http::Branding;
use maud::{html, Markup, PreEscaped, DOCTYPE};

/// Escapes text for HTML element content and quoted attribute values (for text built outside a
/// template).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Hidden form fields carrying `hidden` (name, value).
pub(super) fn hidden_inputs(hidden: &[(&str, &str)]) -> Markup {
    html! {
        @for (name, value) in hidden {
            input type="hidden" name=(name) value=(value);
        }
    }
}

fn style(accent: &str) -> String {
    format!(
        ":root{{--accent:{accent};--text:#1f2328;--muted:#59636e;--line:#8c959f;--bg:#f3f4f6;--card:#fff;--err:#b42318;--errbg:#fef3f2}}\
@media (prefers-color-scheme:dark){{:root{{--text:#e6edf3;--muted:#9198a1;--line:#656c76;--bg:#0d1117;--card:#161b22;--err:#ff8182;--errbg:#3c1618}}}}\
*{{box-sizing:border-box}}html{{font:16px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:var(--text);background:var(--bg)}}\
body{{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;justify-content:center;padding:1rem}}\
main{{background:var(--card);width:100%;max-width:25rem;padding:2rem;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12),0 8px 24px rgba(0,0,0,.06)}}\
.brand{{margin:0 0 1.25rem;font-weight:700;color:var(--accent);letter-spacing:.01em}}\
h1{{font-size:1.5rem;line-height:1.25;margin:0 0 .25rem}}p{{margin:.25rem 0 1rem;color:var(--muted)}}\
label{{display:block;font-weight:600;margin:1rem 0 .3rem}}\
input{{width:100%;padding:.65rem .75rem;border:1px solid var(--line);border-radius:8px;font:inherit;color:inherit;background:transparent}}\
input[aria-invalid=true]{{border-color:var(--err)}}\
input:focus-visible,button:focus-visible,a:focus-visible{{outline:3px solid var(--accent);outline-offset:2px}}\
button{{margin-top:1.5rem;width:100%;padding:.75rem;border:0;border-radius:8px;background:var(--accent);color:#fff;font:inherit;font-weight:600;cursor:pointer}}\
button:hover{{filter:brightness(1.08)}}\
button.secondary{{background:transparent;color:var(--text);border:1px solid var(--line);margin-top:.75rem}}\
ul{{margin:.5rem 0 0;padding-left:1.25rem}}li{{margin:.25rem 0}}\
.error{{color:var(--err);background:var(--errbg);border-radius:8px;padding:.6rem .8rem;margin:1rem 0 0}}\
footer{{margin-top:1rem;font-size:.85rem;color:var(--muted)}}"
    )
}

/// The frame of every page: title, stylesheet, the product's name, `body`, the footer.
pub(super) fn page(b: &Branding, title: &str, body: Markup) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) " · " (b.product_name) }
                // The accent colour is a checked `#rgb`/`#rrggbb` (`Branding::new`).
                style { (PreEscaped(style(&b.color))) }
            }
            body {
                main {
                    p class="brand" { (b.product_name) }
                    (body)
                }
                footer { "Secured by " (b.product_name) }
            }
        }
    }
    .into_string()
}

/// The login form. `hidden` are the authorization parameters carried to `/login`; `error` is
/// shown above the form and tied to both inputs with `aria-describedby`.
pub fn login(b: &Branding, client_name: &str, hidden: &[(&str, &str)], username: &str, error: Option<&str>) -> String {
    let described = error.map(|_| "login-error");
    let invalid = error.map(|_| "true");
    let body = html! {
        h1 { "Sign in" }
        p { "to continue to " strong { (client_name) } }
        @if let Some(e) = error {
            p id="login-error" class="error" role="alert" { (e) }
        }
        form method="post" action="/login" {
            (hidden_inputs(hidden))
            label for="username" { "Username" }
            input id="username" name="username" autocomplete="username webauthn" autocapitalize="none" spellcheck="false" required
                maxlength="64" value=(username) aria-describedby=[described] aria-invalid=[invalid] autofocus[username.is_empty()];
            label for="password" { "Password" }
            input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256"
                aria-describedby=[described] aria-invalid=[invalid] autofocus[!username.is_empty()];
            button type="submit" { "Sign in" }
        }
        (passkey_form())
    };
    page(b, "Sign in", body)
}

/// "Sign in with a passkey": hidden until the script (`/passkeys.js`) finds WebAuthn; it then
/// posts the answer to `/login/passkey` with a copy of the page's form's hidden fields (the
/// authorization request and the anti-CSRF token), so the page holds each field once.
pub(super) fn passkey_form() -> Markup {
    html! {
        div id="passkey-sign-in" hidden {
            button type="button" class="secondary" { "Sign in with a passkey" }
            p class="error passkey-error" role="alert" hidden {}
        }
        script src="/passkeys.js" defer {}
    }
}

/// What the consent page shows.
pub struct Consent<'a> {
    pub client_name: &'a str,
    /// Where "Allow" or "Deny" sends the person.
    pub redirect_host: &'a str,
    pub client_uri: Option<&'a str>,
    /// The scopes in plain words.
    pub permissions: &'a [String],
    /// RFC 8707 resources the access is for.
    pub resources: &'a [&'a str],
    /// The authorization request and the anti-CSRF token, carried to `POST /consent`.
    pub hidden: &'a [(&'a str, &'a str)],
}

/// The consent page: who asks, where the answer goes, what they may do; "Allow" and "Deny".
pub fn consent(b: &Branding, c: &Consent<'_>) -> String {
    let body = html! {
        h1 { "Allow access?" }
        p {
            strong { (c.client_name) }
            @if let Some(u) = c.client_uri.filter(|u| u.starts_with("https://")) {
                " (" a href=(u) rel="noopener noreferrer" target="_blank" { "about this application" } ")"
            }
            " wants to access your " (b.product_name) " account. You will be sent to " strong { (c.redirect_host) } "."
        }
        p id="permissions-label" { "It will be able to:" }
        ul aria-labelledby="permissions-label" {
            @for p in c.permissions { li { (p) } }
        }
        @if !c.resources.is_empty() {
            p id="resources-label" { "For use with:" }
            ul aria-labelledby="resources-label" {
                @for r in c.resources { li { (r) } }
            }
        }
        p { "Only allow applications you trust. You can sign out at any time." }
        form method="post" action="/consent" {
            (hidden_inputs(c.hidden))
            button type="submit" name="decision" value="allow" { "Allow" }
            button type="submit" name="decision" value="deny" class="secondary" { "Deny" }
        }
    };
    page(b, "Allow access?", body)
}

pub fn error(b: &Branding, title: &str, message: &str) -> String {
    page(b, title, html! { h1 { (title) } p class="error" role="alert" { (message) } })
}

/// Asks a signed-in person whether to sign out; the button posts `hidden` to `/logout`.
pub fn confirm_sign_out(b: &Branding, hidden: &[(&str, &str)]) -> String {
    let body = html! {
        h1 { "Sign out?" }
        p { "Do you want to sign out of " (b.product_name) "?" }
        form method="post" action="/logout" {
            (hidden_inputs(hidden))
            button type="submit" { "Sign out" }
        }
    };
    page(b, "Sign out", body)
}

/// A message above a form: an error (`role="alert"`) or a confirmation (`role="status"`).
pub enum Notice<'a> {
    Error(&'a str),
    Done(&'a str),
}

pub(super) fn notice_html(notice: Option<&Notice<'_>>) -> Markup {
    html! {
        @match notice {
            Some(Notice::Error(m)) => p id="notice" class="error" role="alert" { (m) },
            Some(Notice::Done(m)) => p id="notice" role="status" { strong { (m) } },
            None => {},
        }
    }
}

/// The anti-CSRF token as the hidden field of an account form.
pub(super) fn csrf_input(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// Signing in to the account page itself (no application involved).
pub fn account_sign_in(b: &Branding, csrf: &str, username: &str, notice: Option<&Notice<'_>>) -> String {
    let body = html! {
        h1 { "Sign in" }
        p { "to manage your account" }
        (notice_html(notice))
        form method="post" action="/account/login" {
            (csrf_input(csrf))
            label for="username" { "Username" }
            input id="username" name="username" autocomplete="username webauthn" autocapitalize="none" spellcheck="false" required
                maxlength="64" value=(username) autofocus;
            label for="password" { "Password" }
            input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256";
            button type="submit" { "Sign in" }
        }
        (passkey_form())
    };
    page(b, "Sign in", body)
}

/// A third-party client the person has allowed, on the account page.
pub struct ConnectedApp {
    pub client_id: String,
    pub name: String,
    /// What it may do, in plain words.
    pub permissions: Vec<String>,
}

fn connected_apps(csrf: &str, apps: &[ConnectedApp]) -> Markup {
    html! {
        h2 { "Connected apps" }
        @if apps.is_empty() {
            p { "No application has access to your account." }
        } @else {
            p { "These applications can use your account until you remove their access." }
            ul {
                @for a in apps {
                    li {
                        strong { (a.name) } br; (a.permissions.join("; "))
                        form method="post" action="/account/apps" {
                            (csrf_input(csrf))
                            input type="hidden" name="client_id" value=(a.client_id);
                            button type="submit" class="secondary" aria-label={ "Remove access for " (a.name) } { "Remove access" }
                        }
                    }
                }
            }
        }
    }
}

/// The account page of a signed-in person: who they are, "Change password", the `sections`
/// (passkeys, two-step sign-in, sessions: `factors.rs`), "Connected apps", "Sign out".
pub fn account(
    b: &Branding,
    csrf: &str,
    username: &str,
    email: &str,
    sections: Markup,
    apps: &[ConnectedApp],
    notice: Option<&Notice<'_>>,
) -> String {
    let body = html! {
        h1 { "Your account" }
        p { "Signed in as " strong { (username) } " (" (email) ")" }
        (notice_html(notice))
        h2 { "Change password" }
        form method="post" action="/account/password" {
            (csrf_input(csrf))
            label for="current-password" { "Current password" }
            input id="current-password" name="current_password" type="password" autocomplete="current-password" required maxlength="256";
            label for="new-password" { "New password" }
            input id="new-password" name="new_password" type="password" autocomplete="new-password" required minlength="8" maxlength="256";
            button type="submit" { "Change password" }
        }
        (sections)
        (connected_apps(csrf, apps))
        form method="post" action="/logout" {
            (csrf_input(csrf))
            button type="submit" { "Sign out" }
        }
    };
    page(b, "Your account", body)
}

pub fn signed_out(b: &Branding) -> String {
    page(b, "Signed out", html! { h1 { "Signed out" } p { "You have been signed out. You can close this window." } })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_interpolated() {
        let b = Branding::new(Some("<Acme>".into()), Some("red;}</style>".into()));
        let html = login(&b, "<script>x</script>", &[("state", "\"><img src=x onerror=alert(1)>")], "a'b\"c", Some("<b>"));
        assert!(!html.contains("<script>x"));
        assert!(!html.contains("<img"));
        assert!(html.contains("&lt;script&gt;"));
        // In a double-quoted attribute a quote is escaped; an apostrophe cannot end it.
        assert!(html.contains("value=\"a'b&quot;c\""));
        assert!(html.contains("&lt;b&gt;"));
        assert!(html.contains("&lt;Acme&gt;"));
        assert!(!html.contains("</style>\"") && html.contains("--accent:#0b57d0"), "an unsafe colour falls back");
        assert!(html.contains("aria-describedby=\"login-error\""));
    }

    #[test]
    fn the_login_form_reads_as_before() {
        let b = Branding::default();
        let html = login(&b, "App", &[("state", "s")], "", None);
        assert!(html.starts_with("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"), "{html}");
        assert!(html.contains("<input type=\"hidden\" name=\"state\" value=\"s\">"));
        assert!(html.contains("<title>Sign in · edge-oidc</title>"));
        assert!(html.contains("maxlength=\"64\" value=\"\" autofocus>"), "{html}");
        assert!(!html.contains("aria-invalid=\"true\""));
        let again = login(&b, "App", &[], "alice", Some("Invalid username or password."));
        assert!(again.contains("<p id=\"login-error\" class=\"error\" role=\"alert\">Invalid username or password.</p>"));
        assert!(again.contains("maxlength=\"256\" aria-describedby=\"login-error\" aria-invalid=\"true\" autofocus>"), "{again}");
    }
}
