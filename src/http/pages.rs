//! The HTML pages: login, error and signed-out. Every interpolated value is HTML-escaped; no
//! external assets; the pages work without JavaScript.

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

const STYLE: &str = "*{box-sizing:border-box}body{margin:0;min-height:100vh;display:flex;align-items:center;\
justify-content:center;background:#f4f5f7;font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1f2328}\
main{background:#fff;width:100%;max-width:24rem;margin:1rem;padding:2rem;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08)}\
h1{font-size:1.4rem;margin:0 0 .25rem}p{margin:.25rem 0 1rem;color:#57606a}label{display:block;font-weight:600;margin:.75rem 0 .25rem}\
input{width:100%;padding:.6rem .7rem;border:1px solid #8c959f;border-radius:6px;font:inherit}\
input:focus,button:focus{outline:3px solid #0969da;outline-offset:1px}\
button{margin-top:1.25rem;width:100%;padding:.7rem;border:0;border-radius:6px;background:#0969da;color:#fff;font:inherit;font-weight:600;cursor:pointer}\
.error{color:#b42318;background:#fef3f2;border:1px solid #fda29b;border-radius:6px;padding:.5rem .75rem}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style></head>\
<body><main>{body}</main></body></html>",
        escape(title)
    )
}

/// The login form. `hidden` are the authorization parameters carried to `/login`.
pub fn login(client_name: &str, hidden: &[(&str, &str)], username: &str, error: Option<&str>) -> String {
    let fields: String = hidden
        .iter()
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(k), escape(v)))
        .collect();
    let (err_html, described) = match error {
        Some(e) => (format!("<p id=\"login-error\" class=\"error\" role=\"alert\">{}</p>", escape(e)), " aria-describedby=\"login-error\" aria-invalid=\"true\""),
        None => (String::new(), ""),
    };
    page(
        "Sign in",
        &format!(
            "<h1>Sign in</h1><p>to continue to <strong>{}</strong></p>{err_html}\
<form method=\"post\" action=\"/login\">{fields}\
<label for=\"username\">Username</label>\
<input id=\"username\" name=\"username\" autocomplete=\"username\" required autofocus value=\"{}\"{described}>\
<label for=\"password\">Password</label>\
<input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required{described}>\
<button type=\"submit\">Sign in</button></form>",
            escape(client_name),
            escape(username),
        ),
    )
}

pub fn error(title: &str, message: &str) -> String {
    page(title, &format!("<h1>{}</h1><p class=\"error\" role=\"alert\">{}</p>", escape(title), escape(message)))
}

pub fn signed_out() -> String {
    page("Signed out", "<h1>Signed out</h1><p>You have been signed out. You can close this window.</p>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_interpolated() {
        let html = login("<script>x</script>", &[("state", "\"><img src=x onerror=alert(1)>")], "a'b", Some("<b>"));
        assert!(!html.contains("<script>x"));
        assert!(!html.contains("<img"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("a&#39;b"));
        assert!(html.contains("&lt;b&gt;"));
    }
}
