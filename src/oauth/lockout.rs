//! The lockout curve of sign-in throttling (docs/API.md "Sign-in throttling"): after
//! `LOCK_AFTER_FAILURES` attempts without a success, an (account, address) pair is locked for a
//! minute, doubling with each further attempt up to an hour. The protocol states it here; the
//! store applies it (`ThrottleStore::reserve_attempt` takes `lock_curve`).

/// After this many attempts without a success an account is locked for the address they came
/// from, first for `LOCK_BASE_SECONDS`, doubling with each further attempt up to
/// `LOCK_MAX_SECONDS`.
pub const LOCK_AFTER_FAILURES: u32 = 5;
pub const LOCK_BASE_SECONDS: u64 = 60;
pub const LOCK_MAX_SECONDS: u64 = 3600;

/// Doublings stop counting here (so the shift cannot overflow): from `LOCK_AFTER_FAILURES +
/// LOCK_MAX_DOUBLINGS` failures on, the lock no longer grows.
const LOCK_MAX_DOUBLINGS: u32 = 16;

/// The lock that follows `failures` consecutive failures at `now`. The only statement of the
/// lockout curve; the stores apply it as `lock_curve` gives it to them.
pub fn lock_until(failures: u32, now: u64) -> u64 {
    if failures < LOCK_AFTER_FAILURES {
        return 0;
    }
    let doublings = (failures - LOCK_AFTER_FAILURES).min(LOCK_MAX_DOUBLINGS);
    now + (LOCK_BASE_SECONDS << doublings).min(LOCK_MAX_SECONDS)
}

/// `lock_until(failures, now)` for every count of failures from 0 to the one from which it no
/// longer grows: what `ThrottleStore::reserve_attempt` is given, so that a backend counting
/// failures in its own atomic statement looks the new count's lock up in it, clamped to the
/// last entry.
pub fn lock_curve(now: u64) -> Vec<u64> {
    (0..=LOCK_AFTER_FAILURES + LOCK_MAX_DOUBLINGS).map(|failures| lock_until(failures, now)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_starts_after_five_failures_doubles_and_is_capped() {
        let now = 1_000;
        for failures in 0..LOCK_AFTER_FAILURES {
            assert_eq!(lock_until(failures, now), 0, "{failures} failures do not lock");
        }
        assert_eq!(lock_until(LOCK_AFTER_FAILURES, now), now + LOCK_BASE_SECONDS);
        assert_eq!(lock_until(LOCK_AFTER_FAILURES + 1, now), now + 2 * LOCK_BASE_SECONDS);
        assert_eq!(lock_until(LOCK_AFTER_FAILURES + 2, now), now + 4 * LOCK_BASE_SECONDS);
        let mut previous = 0;
        for failures in LOCK_AFTER_FAILURES..200 {
            let lock = lock_until(failures, now);
            assert!(lock >= previous, "the lock never shortens as failures grow");
            assert!(lock <= now + LOCK_MAX_SECONDS);
            previous = lock;
        }
        assert_eq!(previous, now + LOCK_MAX_SECONDS, "the cap is reached");
        assert_eq!(lock_until(u32::MAX, now), now + LOCK_MAX_SECONDS, "no overflow at the largest count");
    }

    #[test]
    fn the_lock_curve_is_lock_until_clamped_to_its_last_entry() {
        // D1's record_failure relies on exactly this: curve[min(failures, len - 1)].
        for now in [0, 1_000, 1_764_000_000] {
            let curve = lock_curve(now);
            assert!(curve.len() >= 2, "a new row looks up entry 1");
            for failures in 0..1_000 {
                assert_eq!(curve[(failures as usize).min(curve.len() - 1)], lock_until(failures, now), "{failures} at {now}");
            }
            assert_eq!(*curve.last().unwrap(), lock_until(u32::MAX, now));
        }
    }
}
