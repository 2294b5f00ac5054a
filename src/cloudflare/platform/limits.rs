//! `AddressLimits` on the Workers Rate Limiting bindings (`[[ratelimits]]` in wrangler.toml):
//! per-address budgets counted at the edge, without a D1 write. Counts are per Cloudflare
//! location and approximate, which suits a budget against spraying; the exact, atomic
//! per-account lock stays in D1 (`throttle.rs`).

use super::*;

impl AddressLimit {
    fn binding(self) -> &'static str {
        match self {
            Self::SignIn => "SIGN_IN_LIMITER",
            Self::Registration | Self::ClientRegistration => "REGISTRATION_LIMITER",
            Self::Challenge => "CHALLENGE_LIMITER",
        }
    }
}

impl AddressLimits for CloudflarePlatform {
    async fn allow(&self, limit: AddressLimit, address: &str, _now: u64) -> StoreResult<bool> {
        // A deployment without the binding has no per-address budget (the per-account lock
        // still holds); wrangler.toml declares them all.
        let Ok(limiter) = self.env.rate_limiter(limit.binding()) else { return Ok(true) };
        // User and client registrations share a binding; their keys do not collide.
        let key = match limit {
            AddressLimit::ClientRegistration => format!("client:{address}"),
            AddressLimit::SignIn | AddressLimit::Registration | AddressLimit::Challenge => address.to_string(),
        };
        let outcome = limiter.limit(key).await.map_err(backend)?;
        Ok(outcome.success)
    }
}
