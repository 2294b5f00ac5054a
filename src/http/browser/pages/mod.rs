//! The HTML pages: login, consent, error, sign-out and the account page here, the second step's
//! and the account's factor sections in `factors.rs`, QR codes in `qr.rs`. Pages render values
//! and import no handler, flow or storage. Every interpolated value is HTML-escaped; no external
//! assets (the CSP allows none); the pages work without JavaScript. Product name and accent
//! colour come from the `PRODUCT_NAME` and `BRAND_COLOR` vars.

pub mod factors;
pub mod qr;

use crate::http::Branding;

/// Escapes text for HTML element content and quoted attribute values.
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

/// Hidden form fields carrying `hidden` (name, value), escaped.
pub(super) fn hidden_inputs(hidden: &[(&str, &str)]) -> String {
    hidden.iter().map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(k), escape(v))).collect()
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

pub(super) fn page(b: &Branding, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"robots\" content=\"noindex\">\
<title>{} · {}</title><style>{}</style></head>\
<body><main><p class=\"brand\">{}</p>{body}</main><footer>Secured by {}</footer></body></html>",
        escape(title),
        escape(&b.product_name),
        style(&b.color),
        escape(&b.product_name),
        escape(&b.product_name),
    )
}

/// The login form. `hidden` are the authorization parameters carried to `/login`; `error` is
/// shown above the form and tied to both inputs with `aria-describedby`.
pub fn login(b: &Branding, client_name: &str, hidden: &[(&str, &str)], username: &str, error: Option<&str>) -> String {
    let fields = hidden_inputs(hidden);
    let (err_html, described) = match error {
        Some(e) => (
            format!("<p id=\"login-error\" class=\"error\" role=\"alert\">{}</p>", escape(e)),
            " aria-describedby=\"login-error\" aria-invalid=\"true\"",
        ),
        None => (String::new(), ""),
    };
    page(
        b,
        "Sign in",
        &format!(
            "<h1>Sign in</h1><p>to continue to <strong>{}</strong></p>{err_html}\
<form method=\"post\" action=\"/login\">{fields}\
<label for=\"username\">Username</label>\
<input id=\"username\" name=\"username\" autocomplete=\"username webauthn\" autocapitalize=\"none\" spellcheck=\"false\" required maxlength=\"64\" value=\"{}\"{described}{}>\
<label for=\"password\">Password</label>\
<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required maxlength=\"256\"{described}{}>\
<button type=\"submit\">Sign in</button></form>{}",
            escape(client_name),
            escape(username),
            if username.is_empty() { " autofocus" } else { "" },
            if username.is_empty() { "" } else { " autofocus" },
            passkey_form(),
        ),
    )
}

/// "Sign in with a passkey": hidden until the script (`/passkeys.js`) finds WebAuthn; it then
/// posts the answer to `/login/passkey` with a copy of the page's form's hidden fields (the
/// authorization request and the anti-CSRF token), so the page holds each field once.
pub(super) fn passkey_form() -> &'static str {
    "<div id=\"passkey-sign-in\" hidden><button type=\"button\" class=\"secondary\">Sign in with a passkey</button>\
<p class=\"error passkey-error\" role=\"alert\" hidden></p></div><script src=\"/passkeys.js\" defer></script>"
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
    let fields = hidden_inputs(c.hidden);
    let items: String = c.permissions.iter().map(|p| format!("<li>{}</li>", escape(p))).collect();
    let resources = match c.resources {
        [] => String::new(),
        rs => format!(
            "<p id=\"resources-label\">For use with:</p><ul aria-labelledby=\"resources-label\">{}</ul>",
            rs.iter().map(|r| format!("<li>{}</li>", escape(r))).collect::<String>()
        ),
    };
    let home = match c.client_uri.filter(|u| u.starts_with("https://")) {
        Some(u) => format!(" (<a href=\"{}\" rel=\"noopener noreferrer\" target=\"_blank\">about this application</a>)", escape(u)),
        None => String::new(),
    };
    page(
        b,
        "Allow access?",
        &format!(
            "<h1>Allow access?</h1><p><strong>{}</strong>{home} wants to access your {} account. \
You will be sent to <strong>{}</strong>.</p>\
<p id=\"permissions-label\">It will be able to:</p><ul aria-labelledby=\"permissions-label\">{items}</ul>{resources}\
<p>Only allow applications you trust. You can sign out at any time.</p>\
<form method=\"post\" action=\"/consent\">{fields}\
<button type=\"submit\" name=\"decision\" value=\"allow\">Allow</button>\
<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button></form>",
            escape(c.client_name),
            escape(&b.product_name),
            escape(c.redirect_host),
        ),
    )
}

pub fn error(b: &Branding, title: &str, message: &str) -> String {
    page(b, title, &format!("<h1>{}</h1><p class=\"error\" role=\"alert\">{}</p>", escape(title), escape(message)))
}

/// Asks a signed-in person whether to sign out; the button posts `hidden` to `/logout`.
pub fn confirm_sign_out(b: &Branding, hidden: &[(&str, &str)]) -> String {
    let fields = hidden_inputs(hidden);
    page(
        b,
        "Sign out",
        &format!(
            "<h1>Sign out?</h1><p>Do you want to sign out of {}?</p>\
<form method=\"post\" action=\"/logout\">{fields}<button type=\"submit\">Sign out</button></form>",
            escape(&b.product_name)
        ),
    )
}

/// A message above a form: an error (`role="alert"`) or a confirmation (`role="status"`).
pub enum Notice<'a> {
    Error(&'a str),
    Done(&'a str),
}

pub(super) fn notice_html(notice: Option<&Notice<'_>>) -> String {
    match notice {
        Some(Notice::Error(m)) => format!("<p id=\"notice\" class=\"error\" role=\"alert\">{}</p>", escape(m)),
        Some(Notice::Done(m)) => format!("<p id=\"notice\" role=\"status\"><strong>{}</strong></p>", escape(m)),
        None => String::new(),
    }
}

/// Signing in to the account page itself (no application involved).
pub fn account_sign_in(b: &Branding, csrf: &str, username: &str, notice: Option<&Notice<'_>>) -> String {
    page(
        b,
        "Sign in",
        &format!(
            "<h1>Sign in</h1><p>to manage your account</p>{}\
<form method=\"post\" action=\"/account/login\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
<label for=\"username\">Username</label>\
<input id=\"username\" name=\"username\" autocomplete=\"username webauthn\" autocapitalize=\"none\" spellcheck=\"false\" required maxlength=\"64\" value=\"{}\" autofocus>\
<label for=\"password\">Password</label>\
<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required maxlength=\"256\">\
<button type=\"submit\">Sign in</button></form>{}",
            notice_html(notice),
            escape(csrf),
            escape(username),
            passkey_form(),
        ),
    )
}

/// A third-party client the person has allowed, on the account page.
pub struct ConnectedApp {
    pub client_id: String,
    pub name: String,
    /// What it may do, in plain words.
    pub permissions: Vec<String>,
}

fn connected_apps(csrf: &str, apps: &[ConnectedApp]) -> String {
    if apps.is_empty() {
        return "<h2>Connected apps</h2><p>No application has access to your account.</p>".to_string();
    }
    let items: String = apps
        .iter()
        .map(|a| {
            format!(
                "<li><strong>{}</strong><br>{}\
<form method=\"post\" action=\"/account/apps\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<input type=\"hidden\" name=\"client_id\" value=\"{}\">\
<button type=\"submit\" class=\"secondary\" aria-label=\"Remove access for {}\">Remove access</button></form></li>",
                escape(&a.name),
                escape(&a.permissions.join("; ")),
                escape(&a.client_id),
                escape(&a.name),
            )
        })
        .collect();
    format!("<h2>Connected apps</h2><p>These applications can use your account until you remove their access.</p><ul>{items}</ul>")
}

/// The account page of a signed-in person: who they are, "Change password", the `sections`
/// (two-step sign-in, passkeys, sessions: `factor_pages.rs`), "Connected apps", "Sign out".
pub fn account(
    b: &Branding,
    csrf: &str,
    username: &str,
    email: &str,
    sections: &str,
    apps: &[ConnectedApp],
    notice: Option<&Notice<'_>>,
) -> String {
    let csrf = escape(csrf);
    let apps = connected_apps(&csrf, apps);
    page(
        b,
        "Your account",
        &format!(
            "<h1>Your account</h1><p>Signed in as <strong>{}</strong> ({})</p>{}\
<h2>Change password</h2>\
<form method=\"post\" action=\"/account/password\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label for=\"current-password\">Current password</label>\
<input id=\"current-password\" name=\"current_password\" type=\"password\" autocomplete=\"current-password\" required maxlength=\"256\">\
<label for=\"new-password\">New password</label>\
<input id=\"new-password\" name=\"new_password\" type=\"password\" autocomplete=\"new-password\" required minlength=\"8\" maxlength=\"256\">\
<button type=\"submit\">Change password</button></form>{sections}{apps}\
<form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<button type=\"submit\">Sign out</button></form>",
            escape(username),
            escape(email),
            notice_html(notice),
        ),
    )
}

pub fn signed_out(b: &Branding) -> String {
    page(b, "Signed out", "<h1>Signed out</h1><p>You have been signed out. You can close this window.</p>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_interpolated() {
        let b = Branding::new(Some("<Acme>".into()), Some("red;}</style>".into()));
        let html = login(&b, "<script>x</script>", &[("state", "\"><img src=x onerror=alert(1)>")], "a'b", Some("<b>"));
        assert!(!html.contains("<script>x"));
        assert!(!html.contains("<img"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("a&#39;b"));
        assert!(html.contains("&lt;b&gt;"));
        assert!(html.contains("&lt;Acme&gt;"));
        assert!(!html.contains("</style>\"") && html.contains("--accent:#0b57d0"), "an unsafe colour falls back");
        assert!(html.contains("aria-describedby=\"login-error\""));
    }
}
