//! How often, and after how long, entries the bus refused for a transient reason are put again
//! within one invocation: exponential backoff with full jitter, so throttled invocations on many
//! shards do not retry in step.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::time::Duration;

/// Retries within one invocation; beyond them, Lambda retries the stream records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Calls per entry at most, the first included.
    pub attempts: u32,
    /// The ceiling of the first retry's delay, doubled for each later one.
    pub base: Duration,
    /// The largest ceiling.
    pub cap: Duration,
}

impl RetryPolicy {
    /// The deployed policy: 4 calls, delays under 100, 200 and 400 ms. A batch of 100 records
    /// is 10 calls, so even a fully throttled batch ends in seconds, far inside the timeout.
    pub const DEPLOYED: Self = Self {
        attempts: 4,
        base: Duration::from_millis(100),
        cap: Duration::from_secs(1),
    };

    /// The delay before retry number `retry` (1 for the first), at `fraction` (0 to 1) of its
    /// ceiling.
    pub fn delay(&self, retry: u32, fraction: f64) -> Duration {
        let doublings = retry.saturating_sub(1).min(16);
        let ceiling = self.base.saturating_mul(1u32 << doublings).min(self.cap);
        ceiling.mul_f64(fraction.clamp(0.0, 1.0))
    }

    /// The delay before retry number `retry`, at a random fraction of its ceiling.
    pub fn jittered_delay(&self, retry: u32) -> Duration {
        self.delay(retry, random_fraction())
    }
}

/// A fraction in [0, 1) from the standard library's per-instance random hash keys (enough to
/// spread retries; nothing secret depends on it).
fn random_fraction() -> f64 {
    let bits = RandomState::new().hash_one(std::time::Instant::now());
    (bits >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_double_up_to_the_cap_and_stay_under_their_ceiling() {
        let policy = RetryPolicy {
            attempts: 8,
            base: Duration::from_millis(100),
            cap: Duration::from_millis(350),
        };
        assert_eq!(policy.delay(1, 1.0), Duration::from_millis(100));
        assert_eq!(policy.delay(2, 1.0), Duration::from_millis(200));
        assert_eq!(policy.delay(3, 1.0), Duration::from_millis(350));
        assert_eq!(policy.delay(30, 1.0), Duration::from_millis(350));
        assert_eq!(policy.delay(2, 0.5), Duration::from_millis(100));
        assert_eq!(policy.delay(2, 0.0), Duration::ZERO);
        for _ in 0..100 {
            assert!(policy.jittered_delay(2) < Duration::from_millis(200));
        }
    }
}
