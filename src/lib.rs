//! edge-oidc: an OAuth 2.0 / OpenID Connect authorization server as a Cloudflare Worker. The
//! protocol (`oauth`), its HTTP surface (`http`), storage traits (`store`), crypto and WebAuthn
//! know nothing of the runtime; everything that touches Workers is in `cloudflare`
//! (docs/ARCHITECTURE.md).

pub mod cloudflare;
pub mod crypto;
pub mod form;
pub mod future;
pub mod http;
pub mod oauth;
pub mod store;
#[cfg(test)]
mod testing;
pub mod webauthn;
