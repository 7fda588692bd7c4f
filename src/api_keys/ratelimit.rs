//! Rate limit on failed API-key attempts (spec `api-keys.md` §4.6): per client IP, fixed
//! windows of 60 seconds opened by the first failed attempt; the 11th and later failed attempts
//! in a window are answered 429 with `Retry-After`. State is in memory, bounded to 100,000 IPs
//! (least recently active dropped first). Successful keys never reach this module.

use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use lru::LruCache;
use parking_lot::Mutex;

/// Length of a counting window.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Failed attempts allowed per window; the next one is limited.
pub const LIMIT: u32 = 10;
/// Maximum number of IPs tracked at once.
pub const CAPACITY: usize = 100_000;

const DEFAULT_CAPACITY: NonZeroUsize = match NonZeroUsize::new(CAPACITY) {
    Some(n) => n,
    None => panic!("CAPACITY must be non-zero"), // evaluated at compile time
};

/// The window of one IP.
#[derive(Clone, Copy, Debug)]
struct Window {
    opened: Instant,
    failures: u32,
}

/// Counts failed API-key attempts per client IP.
pub struct FailedKeyLimiter {
    /// `None` when disabled (`FERROBASE_DISABLE_API_KEY_THROTTLE=true`).
    windows: Option<Mutex<LruCache<IpAddr, Window>>>,
}

impl FailedKeyLimiter {
    /// A limiter tracking up to 100,000 IPs; `enabled == false` never limits.
    pub fn new(enabled: bool) -> Self {
        Self::with_capacity(enabled, DEFAULT_CAPACITY)
    }

    /// A limiter tracking up to `capacity` IPs (for tests and tuning).
    pub fn with_capacity(enabled: bool, capacity: NonZeroUsize) -> Self {
        FailedKeyLimiter {
            windows: enabled.then(|| Mutex::new(LruCache::new(capacity))),
        }
    }

    /// Whether the limit is active.
    pub fn is_enabled(&self) -> bool {
        self.windows.is_some()
    }

    /// Records one failed attempt from `ip` at `now`. Returns `Some(retry_after_secs)` (the
    /// seconds until the window closes, rounded up, at least 1) when this attempt is the 11th or
    /// later in the current window and must be answered 429; `None` otherwise.
    pub fn record_failure(&self, ip: IpAddr, now: Instant) -> Option<u64> {
        let windows = self.windows.as_ref()?;
        // `::ffff:a.b.c.d` and `a.b.c.d` are the same client on a dual-stack listener.
        let ip = ip.to_canonical();
        let mut windows = windows.lock();
        // `get_mut` also marks the IP as most recently active.
        if let Some(window) = windows.get_mut(&ip) {
            let elapsed = now.saturating_duration_since(window.opened);
            if elapsed < WINDOW {
                window.failures = window.failures.saturating_add(1);
                return (window.failures > LIMIT).then(|| retry_after(WINDOW - elapsed));
            }
        }
        // No window, or it has closed: this failure opens a new one.
        windows.put(
            ip,
            Window {
                opened: now,
                failures: 1,
            },
        );
        None
    }

    /// Number of IPs currently tracked.
    pub fn tracked(&self) -> usize {
        self.windows.as_ref().map_or(0, |w| w.lock().len())
    }
}

/// Whole seconds in `remaining`, rounded up, at least 1.
fn retry_after(remaining: Duration) -> u64 {
    let secs = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
    secs.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, last))
    }

    fn fail_n(limiter: &FailedKeyLimiter, ip: IpAddr, now: Instant, n: usize) -> Vec<Option<u64>> {
        (0..n).map(|_| limiter.record_failure(ip, now)).collect()
    }

    #[test]
    fn ten_failures_pass_the_eleventh_is_limited() {
        let limiter = FailedKeyLimiter::new(true);
        let t0 = Instant::now();
        assert!(fail_n(&limiter, ip(1), t0, 10).iter().all(Option::is_none));
        assert_eq!(limiter.record_failure(ip(1), t0), Some(60));
        assert_eq!(limiter.record_failure(ip(1), t0), Some(60));
    }

    #[test]
    fn retry_after_counts_down_to_window_close() {
        let limiter = FailedKeyLimiter::new(true);
        let t0 = Instant::now();
        fail_n(&limiter, ip(1), t0, 10);
        let at = |ms: u64| limiter.record_failure(ip(1), t0 + Duration::from_millis(ms));
        assert_eq!(at(500), Some(60)); // 59.5 s left, rounded up
        assert_eq!(at(1_000), Some(59));
        assert_eq!(at(30_000), Some(30));
        assert_eq!(at(59_000), Some(1));
        assert_eq!(at(59_999), Some(1)); // at least 1
        for r in [at(10), at(45_001)].into_iter().flatten() {
            assert!((1..=60).contains(&r));
        }
    }

    #[test]
    fn new_window_after_close() {
        let limiter = FailedKeyLimiter::new(true);
        let t0 = Instant::now();
        fail_n(&limiter, ip(1), t0, 10);
        assert!(limiter
            .record_failure(ip(1), t0 + Duration::from_secs(5))
            .is_some());
        // The window closes exactly 60 s after it opened.
        let t1 = t0 + WINDOW;
        let results = fail_n(&limiter, ip(1), t1, 10);
        assert!(results.iter().all(Option::is_none), "{results:?}");
        assert_eq!(limiter.record_failure(ip(1), t1), Some(60));
    }

    #[test]
    fn window_is_fixed_not_sliding() {
        let limiter = FailedKeyLimiter::new(true);
        let t0 = Instant::now();
        // 10 failures spread over the window: the 11th at 59 s is still limited, because the
        // window opened at the first failure.
        for i in 0..10 {
            assert!(limiter
                .record_failure(ip(1), t0 + Duration::from_secs(i * 5))
                .is_none());
        }
        let late = t0 + Duration::from_secs(59);
        assert_eq!(limiter.record_failure(ip(1), late), Some(1));
        // Just after the window closed, a failure opens a fresh window.
        let after = t0 + Duration::from_secs(61);
        assert!(limiter.record_failure(ip(1), after).is_none());
    }

    #[test]
    fn ips_are_independent() {
        let limiter = FailedKeyLimiter::new(true);
        let t0 = Instant::now();
        fail_n(&limiter, ip(1), t0, 10);
        assert!(limiter.record_failure(ip(1), t0).is_some());
        assert!(fail_n(&limiter, ip(2), t0, 10).iter().all(Option::is_none));
        assert!(limiter.record_failure(ip(2), t0).is_some());
        let v6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1));
        assert!(limiter.record_failure(v6, t0).is_none());
        assert_eq!(limiter.tracked(), 3);
    }

    #[test]
    fn ipv4_mapped_ipv6_is_the_same_client() {
        let limiter = FailedKeyLimiter::new(true);
        let t0 = Instant::now();
        fail_n(&limiter, ip(9), t0, 10);
        let mapped = IpAddr::V6(Ipv4Addr::new(192, 0, 2, 9).to_ipv6_mapped());
        assert!(limiter.record_failure(mapped, t0).is_some());
        assert_eq!(limiter.tracked(), 1);
    }

    #[test]
    fn disabled_never_limits() {
        let limiter = FailedKeyLimiter::new(false);
        assert!(!limiter.is_enabled());
        let t0 = Instant::now();
        assert!(fail_n(&limiter, ip(1), t0, 100).iter().all(Option::is_none));
        assert_eq!(limiter.tracked(), 0);
    }

    #[test]
    fn capacity_evicts_least_recently_active() {
        let cap = NonZeroUsize::new(2).expect("non-zero");
        let limiter = FailedKeyLimiter::with_capacity(true, cap);
        let t0 = Instant::now();
        fail_n(&limiter, ip(1), t0, 10);
        fail_n(&limiter, ip(2), t0, 10);
        // ip(1) becomes the most recently active; ip(3) then evicts ip(2).
        assert!(limiter.record_failure(ip(1), t0).is_some());
        assert!(limiter.record_failure(ip(3), t0).is_none());
        assert_eq!(limiter.tracked(), 2);
        // ip(2) was forgotten, so it starts over with a fresh window (and evicts ip(1), now the
        // least recently active).
        assert!(limiter.record_failure(ip(2), t0).is_none());
        assert!(limiter.record_failure(ip(1), t0).is_none());
        assert_eq!(limiter.tracked(), 2);
    }

    #[test]
    fn default_capacity_is_100k() {
        let limiter = FailedKeyLimiter::new(true);
        let t0 = Instant::now();
        for i in 0..(CAPACITY as u32 + 5) {
            limiter.record_failure(IpAddr::V4(Ipv4Addr::from(i)), t0);
        }
        assert_eq!(limiter.tracked(), CAPACITY);
    }

    #[test]
    fn concurrent_use_counts_every_failure() {
        let limiter = std::sync::Arc::new(FailedKeyLimiter::new(true));
        let t0 = Instant::now();
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let l = limiter.clone();
                std::thread::spawn(move || fail_n(&l, ip(1), t0, 5))
            })
            .collect();
        let limited = handles
            .into_iter()
            .flat_map(|h| h.join().expect("thread"))
            .filter(Option::is_some)
            .count();
        assert_eq!(limited, 10); // 20 failures, the first 10 pass
    }
}
