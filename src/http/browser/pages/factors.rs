//! The pages of two-step sign-in: the second step, setting an authenticator app up (during a
//! sign-in or from the account page), the recovery codes shown once, and the account page's
//! "Passkeys", "Two-step sign-in" and "Sessions" sections. maud templates: every interpolated
//! value is escaped (the QR code is SVG drawn by `qr.rs` from the key's URI).

use super::{csrf_input, hidden_inputs, notice_html, page, Notice};
use crate::http::Branding;
use crate::oauth::second_factor::TotpSetup;
use maud::{html, Markup, PreEscaped};

/// The code field: "Authentication code", digits by default (recovery codes fit too).
fn code_field(described: bool) -> Markup {
    html! {
        label for="code" { "Authentication code" }
        input id="code" name="code" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" required maxlength="32"
            autofocus aria-describedby=[described.then_some("notice")] aria-invalid=[described.then_some("true")];
    }
}

/// The second step of a sign-in: the code from the person's app, or a recovery code.
/// `hidden` carries the pending sign-in, the anti-CSRF token and the authorization request.
pub fn second_factor(b: &Branding, hidden: &[(&str, &str)], notice: Option<&Notice<'_>>) -> String {
    let body = html! {
        h1 { "Two-step sign-in" }
        p { "Enter the 6-digit code from your authenticator app. If you cannot use the app, enter one of your recovery codes." }
        (notice_html(notice))
        form method="post" action="/login/second-factor" {
            (hidden_inputs(hidden))
            (code_field(notice.is_some()))
            button type="submit" { "Verify" }
        }
    };
    page(b, "Two-step sign-in", body)
}

/// The secret, its URI and its QR code, then the field confirming the first code.
fn setup_body(setup: &TotpSetup, qr: Option<&str>, action: &str, hidden: &[(&str, &str)], notice: Option<&Notice<'_>>) -> Markup {
    html! {
        p { "Scan this QR code with your authenticator app, or enter the key by hand." }
        // SVG drawn by `qr::svg` (its only text, the label, is escaped there).
        @if let Some(svg) = qr { (PreEscaped(svg)) }
        p { "Key: " code id="totp-secret" { (setup.secret) } }
        p { a id="totp-uri" href=(setup.uri) { "Open in an authenticator app" } }
        (notice_html(notice))
        p { "Then enter the code the app shows." }
        form method="post" action=(action) {
            (hidden_inputs(hidden))
            (code_field(notice.is_some()))
            button type="submit" { "Verify" }
        }
    }
}

/// Setting an app up from the account page.
pub fn account_totp_setup(
    b: &Branding,
    setup: &TotpSetup,
    qr: Option<&str>,
    hidden: &[(&str, &str)],
    notice: Option<&Notice<'_>>,
) -> String {
    let body = html! {
        h1 { "Set up an authenticator app" }
        (setup_body(setup, qr, "/account/totp", hidden, notice))
    };
    page(b, "Set up an authenticator app", body)
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
    let body = html! {
        h1 { "Set up two-step sign-in" }
        p { strong { (client_name) } " requires two-step sign-in. Set up an authenticator app to continue." }
        (setup_body(setup, qr, "/login/second-factor", hidden, notice))
    };
    page(b, "Set up two-step sign-in", body)
}

/// The new recovery codes, shown once; then "Continue" (a sign-in carries on) or a link back
/// to the account page.
pub fn recovery_codes(b: &Branding, codes: &[String], continue_form: Option<&[(&str, &str)]>) -> String {
    let body = html! {
        h1 { "Two-step sign-in is on" }
        p role="status" {
            "Save these recovery codes somewhere safe. Each works once, in place of a code from your app. They are not shown again."
        }
        ul id="recovery-codes" aria-label="Recovery codes" {
            @for c in codes { li { code { (c) } } }
        }
        @match continue_form {
            Some(hidden) => form method="post" action="/login/second-factor" {
                (hidden_inputs(hidden))
                button type="submit" { "Continue" }
            },
            None => p { a href="/account" { "Back to your account" } },
        }
    };
    page(b, "Recovery codes", body)
}

/// A browser session on the account page.
pub struct SessionItem {
    pub id: String,
    pub signed_in: String,
    pub browser: String,
    pub current: bool,
}

/// The account page's "Two-step sign-in" section.
pub fn totp_section(csrf: &str, enabled: bool, recovery_left: u32) -> Markup {
    html! {
        h2 { "Two-step sign-in" }
        @if enabled {
            p { "On: an authenticator app. " (recovery_left) " recovery codes left." }
            form method="post" action="/account/totp" {
                (csrf_input(csrf))
                label for="totp-code" { "Authentication code" }
                input id="totp-code" name="code" autocomplete="one-time-code" required maxlength="32";
                button type="submit" name="action" value="recovery" class="secondary" { "New recovery codes" }
                button type="submit" name="action" value="disable" class="secondary" { "Turn off two-step sign-in" }
            }
        } @else {
            p { "Off. Add a second step to your sign-in with an authenticator app." }
            form method="post" action="/account/totp" {
                (csrf_input(csrf))
                input type="hidden" name="action" value="setup";
                button type="submit" { "Set up an authenticator app" }
            }
        }
    }
}

/// The account page's "Sessions" section: each browser signed in, with "Sign out".
pub fn sessions_section(csrf: &str, sessions: &[SessionItem]) -> Markup {
    html! {
        h2 { "Sessions" }
        p { "Browsers signed in to your account." }
        ul id="sessions" {
            @for (i, s) in sessions.iter().enumerate() {
                li {
                    "Signed in " (s.signed_in) " · " (if s.browser.is_empty() { "unknown browser" } else { &s.browser })
                    @if s.current { " (this browser)" }
                    form method="post" action="/account/sessions" {
                        (csrf_input(csrf))
                        input type="hidden" name="session" value=(s.id);
                        button type="submit" class="secondary" aria-label={ "Revoke session " (i + 1) } { "Revoke" }
                    }
                }
            }
        }
    }
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
pub fn passkeys_section(csrf: &str, passkeys: &[PasskeyItem]) -> Markup {
    html! {
        h2 { "Passkeys" }
        p { "Sign in with your fingerprint, face or device PIN instead of a password." }
        @if passkeys.is_empty() {
            p { "No passkeys yet." }
        } @else {
            ul id="passkeys" {
                @for p in passkeys {
                    li {
                        strong { (p.name) } br;
                        "Added " (p.added) " · "
                        @match &p.last_used {
                            Some(t) => { "last used " (t) },
                            None => "never used",
                        }
                        form method="post" action="/account/passkeys" {
                            (csrf_input(csrf))
                            input type="hidden" name="action" value="remove";
                            input type="hidden" name="credential_id" value=(p.id);
                            button type="submit" class="secondary" aria-label={ "Remove passkey " (p.name) } { "Remove" }
                        }
                    }
                }
            }
        }
        form id="passkey-add" method="post" action="/account/passkeys" {
            (csrf_input(csrf))
            input type="hidden" name="action" value="register";
            input type="hidden" name="credential" value="";
            label for="passkey-name" { "Passkey name" }
            input id="passkey-name" name="name" required maxlength="64" value="Passkey";
            button type="submit" { "Add a passkey" }
            p class="error passkey-error" role="alert" hidden {}
        }
        script src="/passkeys.js" defer {}
    }
}
