//! What every handler gets (`App`): the protocol core for this request and the settings that do
//! not depend on it. Below every handler and page: it imports none.

use crate::oauth::Provider;

/// What every handler gets: the core provider plus the request-independent settings.
pub struct App<'a, S, P> {
    pub provider: Provider<'a, S, P>,
    pub bootstrap_token: Option<&'a crate::oauth::secrets::BootstrapToken>,
    pub branding: Branding,
}

/// How the pages name and colour the product (`PRODUCT_NAME`, `BRAND_COLOR`).
#[derive(Debug, Clone)]
pub struct Branding {
    pub product_name: String,
    /// A `#rgb` or `#rrggbb` colour (anything else is ignored: it lands in CSS).
    pub color: String,
}

impl Default for Branding {
    fn default() -> Self {
        Self { product_name: "edge-oidc".into(), color: "#0b57d0".into() }
    }
}

impl Branding {
    pub fn new(product_name: Option<String>, color: Option<String>) -> Self {
        let d = Self::default();
        let name = product_name.map(|n| n.trim().chars().take(60).collect::<String>()).filter(|n| !n.is_empty());
        let color = color
            .map(|c| c.trim().to_string())
            .filter(|c| (c.len() == 4 || c.len() == 7) && c.starts_with('#') && c[1..].bytes().all(|b| b.is_ascii_hexdigit()));
        Self { product_name: name.unwrap_or(d.product_name), color: color.unwrap_or(d.color) }
    }
}
