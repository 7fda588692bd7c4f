//! Metabase's login throttler (spec `people-and-groups.md` §2.4). Failed login attempts are
//! remembered per key (lower-cased username, or client IP) for one hour. With `n` failures in
//! the last hour and `k = n + 1 − threshold`, an attempt with `k > 0` must come at least
//! `15 s × k^1.5` after the most recent failure. State is in memory and bounded.

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use lru::LruCache;
use parking_lot::Mutex;

/// How long a failure is remembered.
pub const MEMORY: Duration = Duration::from_secs(3600);
/// Base delay of the first throttled attempt.
pub const INITIAL_DELAY_SECS: f64 = 15.0;
/// Exponent applied to `k`.
pub const DELAY_EXPONENT: f64 = 1.5;
/// Maximum number of keys tracked at once.
pub const MAX_KEYS: usize = 100_000;

/// Failures kept per key beyond the threshold. With `k = EXTRA_KEPT + 1` the required wait
/// (15 s × 41^1.5 ≈ 3938 s) already exceeds the one-hour memory, so keeping more could never
/// change whether an attempt is allowed: an attempt that late would find no failure left.
/// Only the reported wait is capped (at about 3938 s) for keys with even more failures.
const EXTRA_KEPT: usize = 40;

const DEFAULT_MAX_KEYS: NonZeroUsize = match NonZeroUsize::new(MAX_KEYS) {
    Some(n) => n,
    None => panic!("MAX_KEYS must be non-zero"), // evaluated at compile time
};

/// One throttler (the username one or the IP one). Cheap to share behind an `Arc`.
pub struct Throttler {
    threshold: u32,
    /// Oldest failure first. Keys are ordered by their most recent failure (only
    /// `record_failure` promotes), so expired keys collect at the least-recent end.
    failures: Mutex<LruCache<String, VecDeque<Instant>>>,
}

impl Throttler {
    /// A throttler that lets `threshold` failures through before delaying attempts.
    pub fn new(threshold: u32) -> Self {
        Self::with_max_keys(threshold, DEFAULT_MAX_KEYS)
    }

    /// Like [`Throttler::new`], tracking at most `max_keys` keys (least recently failed
    /// dropped first).
    pub fn with_max_keys(threshold: u32, max_keys: NonZeroUsize) -> Self {
        Throttler {
            threshold,
            failures: Mutex::new(LruCache::new(max_keys)),
        }
    }

    fn max_per_key(&self) -> usize {
        (self.threshold as usize).saturating_add(EXTRA_KEPT)
    }

    /// Checks an attempt for `key` at `now`. `Err(n)` means the attempt is throttled and must
    /// wait `n` more seconds (rounded up). Callers pass the lower-cased username or the IP.
    pub fn check(&self, key: &str, now: Instant) -> Result<(), u64> {
        let mut map = self.failures.lock();
        prune_expired_keys(&mut map, now);
        // `peek_mut` keeps the LRU order tied to failures, not to checks.
        let Some(list) = map.peek_mut(key) else {
            return Ok(());
        };
        drop_expired(list, now);
        let (n, last) = match list.back() {
            Some(&last) => (list.len(), last),
            None => {
                map.pop(key);
                return Ok(());
            }
        };
        let k = (n as u64 + 1).saturating_sub(u64::from(self.threshold));
        if k == 0 {
            return Ok(());
        }
        let wait = required_wait(k);
        let elapsed = now.saturating_duration_since(last);
        if elapsed >= wait {
            Ok(())
        } else {
            Err(ceil_secs(wait - elapsed))
        }
    }

    /// Records a failed attempt for `key` at `now` (a wrong password, an inactive account or a
    /// throttled attempt).
    pub fn record_failure(&self, key: &str, now: Instant) {
        let max = self.max_per_key();
        let mut map = self.failures.lock();
        prune_expired_keys(&mut map, now);
        match map.get_mut(key) {
            Some(list) => {
                drop_expired(list, now);
                list.push_back(now);
                while list.len() > max {
                    list.pop_front();
                }
            }
            None => {
                map.put(key.to_owned(), VecDeque::from([now]));
            }
        }
    }

    /// Number of keys currently tracked.
    pub fn tracked_keys(&self) -> usize {
        self.failures.lock().len()
    }
}

/// `15 s × k^1.5`.
fn required_wait(k: u64) -> Duration {
    let secs = INITIAL_DELAY_SECS * (k as f64).powf(DELAY_EXPONENT);
    // `secs` is finite and positive for any k ≥ 1; the fallback is only for absurd values.
    Duration::try_from_secs_f64(secs).unwrap_or(Duration::MAX)
}

fn ceil_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

fn is_expired(failure: Instant, now: Instant) -> bool {
    now.saturating_duration_since(failure) >= MEMORY
}

fn drop_expired(list: &mut VecDeque<Instant>, now: Instant) {
    while list.front().is_some_and(|&f| is_expired(f, now)) {
        list.pop_front();
    }
}

/// Drops keys whose failures have all expired, starting from the least recently failed key.
/// Amortised O(1): each key is removed at most once per insertion.
fn prune_expired_keys(map: &mut LruCache<String, VecDeque<Instant>>, now: Instant) {
    while map
        .peek_lru()
        .is_some_and(|(_, list)| list.back().is_none_or(|&last| is_expired(last, now)))
    {
        map.pop_lru();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// Simulates a login attempt with a wrong password: throttled or not, it is a failure.
    fn attempt(t: &Throttler, key: &str, now: Instant) -> Result<(), u64> {
        let result = t.check(key, now);
        t.record_failure(key, now);
        result
    }

    #[test]
    fn worked_example() {
        let t = Throttler::new(10);
        let t0 = Instant::now();
        for i in 0..10 {
            assert_eq!(attempt(&t, "alice@example.com", t0), Ok(()), "attempt {i}");
        }
        assert_eq!(attempt(&t, "alice@example.com", t0), Err(15)); // 11th
        assert_eq!(attempt(&t, "alice@example.com", t0), Err(43)); // 12th: 42.4 s
        let t12 = t0;
        // 13th, 43 s after the 12th: needs 77.9 s.
        assert_eq!(t.check("alice@example.com", t12 + secs(43)), Err(35));
        // At 78 s or later the password is checked again.
        assert_eq!(t.check("alice@example.com", t12 + secs(78)), Ok(()));
        assert_eq!(t.check("alice@example.com", t12 + secs(500)), Ok(()));
    }

    #[test]
    fn thirteenth_recorded_as_failure_then_waits_grow() {
        let t = Throttler::new(10);
        let t0 = Instant::now();
        for _ in 0..12 {
            let _ = attempt(&t, "bob", t0);
        }
        assert_eq!(attempt(&t, "bob", t0 + secs(43)), Err(35));
        // 13 failures now: k = 4, 15 × 8 = 120 s after the 13th.
        assert_eq!(t.check("bob", t0 + secs(43)), Err(120));
        assert_eq!(t.check("bob", t0 + secs(43 + 120)), Ok(()));
    }

    #[test]
    fn throttle_ends_exactly_at_wait() {
        let t = Throttler::new(1);
        let t0 = Instant::now();
        t.record_failure("k", t0);
        assert_eq!(t.check("k", t0), Err(15));
        assert_eq!(t.check("k", t0 + Duration::from_millis(14_001)), Err(1));
        assert_eq!(t.check("k", t0 + secs(15)), Ok(()));
    }

    #[test]
    fn failures_expire_after_an_hour() {
        let t = Throttler::new(10);
        let t0 = Instant::now();
        for _ in 0..12 {
            t.record_failure("carol", t0);
        }
        assert!(t.check("carol", t0 + secs(60)).is_err());
        // Just under an hour the failures still count (k = 3, 78 s wait long passed).
        assert_eq!(t.check("carol", t0 + secs(3599)), Ok(()));
        // One more failure now: 13 failures in the hour, k = 4.
        t.record_failure("carol", t0 + secs(3599));
        assert_eq!(t.check("carol", t0 + secs(3599)), Err(120));
        // At one hour the first 12 are forgotten: 1 failure, below the threshold.
        assert_eq!(t.check("carol", t0 + secs(3600)), Ok(()));
        for _ in 0..8 {
            t.record_failure("carol", t0 + secs(3600));
        }
        // 9 failures in the last hour: still Ok; a 10th makes the next attempt wait.
        assert_eq!(t.check("carol", t0 + secs(3600)), Ok(()));
        t.record_failure("carol", t0 + secs(3600));
        assert_eq!(t.check("carol", t0 + secs(3600)), Err(15));
    }

    #[test]
    fn expired_keys_are_dropped() {
        let t = Throttler::new(10);
        let t0 = Instant::now();
        t.record_failure("a", t0);
        t.record_failure("b", t0 + secs(10));
        assert_eq!(t.tracked_keys(), 2);
        assert_eq!(t.check("zzz", t0 + secs(3605)), Ok(()));
        assert_eq!(t.tracked_keys(), 1);
        t.record_failure("c", t0 + secs(3700));
        assert_eq!(t.tracked_keys(), 1);
        // A key checked after its failures expired is removed too.
        let t = Throttler::new(10);
        t.record_failure("d", t0);
        assert_eq!(t.check("d", t0 + secs(3600)), Ok(()));
        assert_eq!(t.tracked_keys(), 0);
    }

    #[test]
    fn keys_are_independent_and_bounded() {
        let t = Throttler::with_max_keys(1, NonZeroUsize::new(2).expect("non-zero"));
        let t0 = Instant::now();
        t.record_failure("a", t0);
        t.record_failure("b", t0);
        assert_eq!(t.check("a", t0), Err(15));
        assert_eq!(t.check("c", t0), Ok(()));
        t.record_failure("c", t0); // evicts "a", the least recently failed
        assert_eq!(t.tracked_keys(), 2);
        assert_eq!(t.check("a", t0), Ok(()));
        assert_eq!(t.check("b", t0), Err(15));
    }

    #[test]
    fn per_key_memory_is_bounded() {
        let t = Throttler::new(10);
        let t0 = Instant::now();
        for i in 0..10_000 {
            t.record_failure("x", t0 + Duration::from_millis(i));
        }
        let len = t.failures.lock().peek("x").map_or(0, VecDeque::len);
        assert_eq!(len, 10 + EXTRA_KEPT);
        assert!(required_wait(EXTRA_KEPT as u64 + 1) > MEMORY);
        assert!(t.check("x", t0 + secs(3000)).is_err());
    }

    #[test]
    fn zero_threshold_throttles_after_first_failure() {
        let t = Throttler::new(0);
        let t0 = Instant::now();
        assert_eq!(t.check("k", t0), Ok(()));
        t.record_failure("k", t0);
        assert_eq!(t.check("k", t0), Err(43)); // n = 1, k = 2
    }

    /// Unbounded reference model of §2.4.
    fn model_check(failures: &[Instant], threshold: u32, now: Instant) -> Result<(), u64> {
        let recent: Vec<_> = failures
            .iter()
            .filter(|&&f| now.saturating_duration_since(f) < MEMORY)
            .collect();
        let k = (recent.len() as i64) + 1 - i64::from(threshold);
        match recent.last() {
            Some(&&last) if k > 0 => {
                let wait = required_wait(k as u64);
                let elapsed = now.saturating_duration_since(last);
                if elapsed >= wait {
                    Ok(())
                } else {
                    Err(ceil_secs(wait - elapsed))
                }
            }
            _ => Ok(()),
        }
    }

    proptest! {
        /// The bounded throttler makes the same allow/deny decisions as the unbounded model. It
        /// reports the same wait unless the model's total wait exceeds an hour, and never more.
        #[test]
        fn matches_unbounded_model(
            threshold in 0u32..4,
            steps in prop::collection::vec(
                (prop_oneof![19 => 0u64..10, 1 => 0u64..1800], any::<bool>()),
                1..300,
            ),
        ) {
            let t = Throttler::new(threshold);
            let mut model = Vec::new();
            let mut now = Instant::now();
            for (gap, fail) in steps {
                now += secs(gap);
                let got = t.check("k", now);
                let want = model_check(&model, threshold, now);
                prop_assert_eq!(got.is_ok(), want.is_ok());
                if let (Err(g), Err(w)) = (got, want) {
                    let last = model.last().copied().unwrap_or(now);
                    if now.saturating_duration_since(last) + secs(w) <= MEMORY {
                        prop_assert_eq!(g, w);
                    }
                    prop_assert!(g <= w);
                }
                if fail {
                    t.record_failure("k", now);
                    model.push(now);
                }
            }
        }
    }
}
