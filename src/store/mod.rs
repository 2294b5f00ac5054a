//! Storage: the records the protocol keeps and the traits through which it reaches them, one
//! file per concern with its records (users, audit, clients, codes, refresh tokens, sessions,
//! factors, challenges, consents, throttling), what the platform provides beside storage
//! (`platform.rs`: outbound fetches, per-address budgets, signatures), the error type, and
//! `Store`, which is all of them. `crate::cloudflare::store` implements them on D1 and KV;
//! `memory` implements them for host tests. The traits use native `async fn` without `Send`:
//! futures in Workers are not `Send`.

pub mod cache;
pub mod memory;
#[cfg(test)]
mod tests;

mod audit;
mod challenges;
mod clients;
mod codes;
mod consents;
mod error;
mod factors;
mod platform;
mod refresh;
mod replay;
mod sessions;
mod throttle;
mod users;

pub use audit::*;
pub use challenges::*;
pub use clients::*;
pub use codes::*;
pub use consents::*;
pub use error::*;
pub use factors::*;
pub use platform::*;
pub use refresh::*;
pub use replay::*;
pub use sessions::*;
pub use throttle::*;
pub use users::*;

// The storage contract, one trait per concern. `Store` is all of them: bounds say `S: Store`,
// and a backend implements each trait. Through such a bound every method is callable; on a
// concrete store (`MemoryStore`, `CloudflareStore`) a method needs its concern's trait in scope.

/// Housekeeping across the concerns (the cron trigger).
#[allow(async_fn_in_trait)]
pub trait Maintenance {
    /// Deletes what has expired: refresh tokens, consumed-code records, revoked-token records,
    /// stale throttle rows and expired sessions. Returns how many rows went.
    async fn purge_expired(&self, now: u64) -> StoreResult<u64>;
}

/// `Store` with its supertraits, and its blanket implementation over the same list: the list is
/// written once.
macro_rules! store {
    ($(#[$doc:meta])* $($concern:ident),+ $(,)?) => {
        $(#[$doc])*
        pub trait Store: $($concern +)+ {}
        impl<T: $($concern +)+> Store for T {}
    };
}

store!(
    /// All the storage the protocol needs. Implemented for every type that implements each
    /// concern's trait; a backend implements those, never this.
    UserStore,
    ClientStore,
    CodeStore,
    RefreshStore,
    SessionStore,
    FactorStore,
    ChallengeStore,
    ConsentStore,
    ThrottleStore,
    AuditStore,
    ReplayStore,
    Maintenance,
);
