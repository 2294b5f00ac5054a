//! The pages of two-step sign-in: the second step, setting an authenticator app up (during a
//! sign-in or from the account page), the recovery codes shown once, and the account page's
//! "Two-step sign-in" and "Sessions" sections. Every interpolated value is escaped.

use super::{escape, hidden_inputs, notice_html, page, Notice};
use crate::http::Branding;
use crate::oauth::second_factor::TotpSetup;

/// The code field: "Authentication code", digits by default (recovery codes fit too).
fn code_field(described: bool) -> String {
    format!(
        "<label for=\"code\">Authentication code</label>\
<input id=\"code\" name=\"code\" autocomplete=\"one-time-code\" autocapitalize=\"none\" spellcheck=\"false\" required maxlength=\"32\" autofocus{}>",
        if described { " aria-describedby=\"notice\" aria-invalid=\"true\"" } else { "" }
    )
}

/// The second step of a sign-in: the code from the person's app, or a recovery code.
/// `hidden` carries the pending sign-in, the anti-CSRF token and the authorization request.
pub fn second_factor(b: &Branding, hidden: &[(&str, &str)], notice: Option<&Notice<'_>>) -> String {
    page(
        b,
        "Two-step sign-in",
        &format!(
            "<h1>Two-step sign-in</h1><p>Enter the 6-digit code from your authenticator app. \
If you cannot use the app, enter one of your recovery codes.</p>{}\
<form method=\"post\" action=\"/login/second-factor\">{}{}<button type=\"submit\">Verify</button></form>",
            notice_html(notice),
            hidden_inputs(hidden),
            code_field(notice.is_some()),
        ),
    )
}

/// The secret, its URI and its QR code, then the field confirming the first code.
fn setup_body(setup: &TotpSetup, qr: Option<&str>, action: &str, hidden: &[(&str, &str)], notice: Option<&Notice<'_>>) -> String {
    format!(
        "<p>Scan this QR code with your authenticator app, or enter the key by hand.</p>{}\
<p>Key: <code id=\"totp-secret\">{}</code></p>\
<p><a id=\"totp-uri\" href=\"{}\">Open in an authenticator app</a></p>{}\
<p>Then enter the code the app shows.</p>\
<form method=\"post\" action=\"{action}\">{}{}<button type=\"submit\">Verify</button></form>",
        qr.unwrap_or(""),
        escape(&setup.secret),
        escape(&setup.uri),
        notice_html(notice),
        hidden_inputs(hidden),
        code_field(notice.is_some()),
    )
}

/// Setting an app up from the account page.
pub fn account_totp_setup(
    b: &Branding,
    setup: &TotpSetup,
    qr: Option<&str>,
    hidden: &[(&str, &str)],
    notice: Option<&Notice<'_>>,
) -> String {
    page(
        b,
        "Set up an authenticator app",
        &format!("<h1>Set up an authenticator app</h1>{}", setup_body(setup, qr, "/account/totp", hidden, notice)),
    )
}

/// Setting an app up during a sign-in whose client demands two factors.
pub fn enroll(
    b: &Branding,
    client_name: &str,
    setup: &TotpSetup,
    qr: Option<&str>,
    hidden: &[(&str, &str)],
    notice: Option<&Notice<'_>>,
) -> String {
    page(
        b,
        "Set up two-step sign-in",
        &format!(
            "<h1>Set up two-step sign-in</h1><p><strong>{}</strong> requires two-step sign-in. Set up an authenticator app to continue.</p>{}",
            escape(client_name),
            setup_body(setup, qr, "/login/second-factor", hidden, notice)
        ),
    )
}

/// The new recovery codes, shown once; then "Continue" (a sign-in carries on) or a link back
/// to the account page.
pub fn recovery_codes(b: &Branding, codes: &[String], continue_form: Option<&[(&str, &str)]>) -> String {
    let list: String = codes.iter().map(|c| format!("<li><code>{}</code></li>", escape(c))).collect();
    let next = match continue_form {
        Some(hidden) => {
            format!(
                "<form method=\"post\" action=\"/login/second-factor\">{}<button type=\"submit\">Continue</button></form>",
                hidden_inputs(hidden)
            )
        }
        None => "<p><a href=\"/account\">Back to your account</a></p>".to_string(),
    };
    page(
        b,
        "Recovery codes",
        &format!(
            "<h1>Two-step sign-in is on</h1><p role=\"status\">Save these recovery codes somewhere safe. Each works once, \
in place of a code from your app. They are not shown again.</p><ul id=\"recovery-codes\" aria-label=\"Recovery codes\">{list}</ul>{next}"
        ),
    )
}

/// A browser session on the account page.
pub struct SessionItem {
    pub id: String,
    pub signed_in: String,
    pub browser: String,
    pub current: bool,
}

/// The account page's "Two-step sign-in" section.
pub fn totp_section(csrf: &str, enabled: bool, recovery_left: u32) -> String {
    if enabled {
        format!(
            "<h2>Two-step sign-in</h2><p>On: an authenticator app. {recovery_left} recovery codes left.</p>\
<form method=\"post\" action=\"/account/totp\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<label for=\"totp-code\">Authentication code</label>\
<input id=\"totp-code\" name=\"code\" autocomplete=\"one-time-code\" required maxlength=\"32\">\
<button type=\"submit\" name=\"action\" value=\"recovery\" class=\"secondary\">New recovery codes</button>\
<button type=\"submit\" name=\"action\" value=\"disable\" class=\"secondary\">Turn off two-step sign-in</button></form>"
        )
    } else {
        format!(
            "<h2>Two-step sign-in</h2><p>Off. Add a second step to your sign-in with an authenticator app.</p>\
<form method=\"post\" action=\"/account/totp\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<input type=\"hidden\" name=\"action\" value=\"setup\"><button type=\"submit\">Set up an authenticator app</button></form>"
        )
    }
}

/// The account page's "Sessions" section: each browser signed in, with "Sign out".
pub fn sessions_section(csrf: &str, sessions: &[SessionItem]) -> String {
    let items: String = sessions
        .iter()
        .enumerate()
        .map(|(i, s)| {
            format!(
                "<li>Signed in {} · {}{}<form method=\"post\" action=\"/account/sessions\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"session\" value=\"{}\">\
<button type=\"submit\" class=\"secondary\" aria-label=\"Revoke session {}\">Revoke</button></form></li>",
                escape(&s.signed_in),
                escape(if s.browser.is_empty() { "unknown browser" } else { &s.browser }),
                if s.current { " (this browser)" } else { "" },
                escape(&s.id),
                i + 1,
            )
        })
        .collect();
    format!("<h2>Sessions</h2><p>Browsers signed in to your account.</p><ul id=\"sessions\">{items}</ul>")
}

/// A passkey on the account page.
pub struct PasskeyItem {
    pub id: String,
    pub name: String,
    pub added: String,
    pub last_used: Option<String>,
}

/// The account page's "Passkeys" section: each passkey with its name and last use and a
/// "Remove" button; "Add a passkey" (the script runs the ceremony and posts its answer).
pub fn passkeys_section(csrf: &str, passkeys: &[PasskeyItem]) -> String {
    let items: String = passkeys
        .iter()
        .map(|p| {
            format!(
                "<li><strong>{}</strong><br>Added {} · {}<form method=\"post\" action=\"/account/passkeys\">\
<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"action\" value=\"remove\">\
<input type=\"hidden\" name=\"credential_id\" value=\"{}\">\
<button type=\"submit\" class=\"secondary\" aria-label=\"Remove passkey {}\">Remove</button></form></li>",
                escape(&p.name),
                escape(&p.added),
                match &p.last_used {
                    Some(t) => format!("last used {}", escape(t)),
                    None => "never used".to_string(),
                },
                escape(&p.id),
                escape(&p.name),
            )
        })
        .collect();
    let list = if passkeys.is_empty() { "<p>No passkeys yet.</p>".to_string() } else { format!("<ul id=\"passkeys\">{items}</ul>") };
    format!(
        "<h2>Passkeys</h2><p>Sign in with your fingerprint, face or device PIN instead of a password.</p>{list}\
<form id=\"passkey-add\" method=\"post\" action=\"/account/passkeys\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
<input type=\"hidden\" name=\"action\" value=\"register\"><input type=\"hidden\" name=\"credential\" value=\"\">\
<label for=\"passkey-name\">Passkey name</label><input id=\"passkey-name\" name=\"name\" required maxlength=\"64\" value=\"Passkey\">\
<button type=\"submit\">Add a passkey</button><p class=\"error passkey-error\" role=\"alert\" hidden></p></form>\
<script src=\"/passkeys.js\" defer></script>"
    )
}
