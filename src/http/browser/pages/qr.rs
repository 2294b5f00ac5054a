//! A QR code as inline SVG (the account page's authenticator-app set-up): one `<path>` of unit
//! squares, a quiet zone of four modules (ISO/IEC 18004 §6.3.8), no script or external resource.

use qrcodegen::{QrCode, QrCodeEcc};

/// `text` as an SVG QR code with the accessible name `label`, or `None` if it is too long for
/// any QR version (the caller shows the text alone).
pub fn svg(text: &str, label: &str) -> Option<String> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let size = qr.size();
    let border = 4;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    let dim = size + 2 * border;
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {dim} {dim}\" width=\"200\" height=\"200\" role=\"img\" \
aria-label=\"{}\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\
<path d=\"{path}\" fill=\"#000\"/></svg>",
        super::escape(label)
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_a_square_code_with_a_quiet_zone() {
        let svg = super::svg("otpauth://totp/x:y?secret=ABC", "QR <code>").unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("aria-label=\"QR &lt;code&gt;\""));
        // Version 3 (29 modules) at medium error correction for this length, plus 4 on each side.
        assert!(svg.contains("viewBox=\"0 0 37 37\""), "{}", &svg[..120]);
        // The finder pattern's corner module sits just inside the quiet zone.
        assert!(svg.contains("M4,4h1v1h-1z"));
        assert!(super::svg(&"x".repeat(5000), "too long").is_none());
    }
}
