//! Sign-in throttling: the per-key attempt counts and `ThrottleStore`. The lockout curve is the protocol's (`oauth::lockout`); the store applies the curve it is given.

use super::*;

/// Sign-in attempts for one key (an account at one client address), for brute-force protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Throttle {
    /// Attempts counted since the last success (each counted before it is checked).
    pub failures: u32,
    /// Unix seconds until which attempts for this key are refused.
    pub locked_until: u64,
}

/// The answer to reserving a sign-in attempt (`ThrottleStore::reserve_attempt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservation {
    /// The attempt may go ahead; false while a lock is in force (nothing was counted).
    pub granted: bool,
    /// The key's state after the reservation.
    pub throttle: Throttle,
}

/// Counts decay: attempts older than this (with no lock in force) are forgotten, by the next
/// reservation and by the cleanup.
pub const THROTTLE_MEMORY: u64 = 24 * 3600;

/// Sign-in throttling (brute-force protection).
#[allow(async_fn_in_trait)]
pub trait ThrottleStore {
    /// Reserves one sign-in attempt for `key` before the costly check, in one atomic statement,
    /// so that concurrent attempts can never exceed the budget: while a lock is in force it is
    /// refused and nothing changes; otherwise the attempt is counted (as a failure, in advance:
    /// a success clears it) and the lock that count earns is set: `curve[count]`, clamped to
    /// its last entry (`oauth::lockout::lock_curve`). A count whose last attempt is older than
    /// `THROTTLE_MEMORY` starts again.
    async fn reserve_attempt(&self, key: &str, now: u64, curve: &[u64]) -> StoreResult<Reservation>;
    /// A successful sign-in: the key's count starts again.
    async fn clear_failures(&self, key: &str) -> StoreResult<()>;
}
