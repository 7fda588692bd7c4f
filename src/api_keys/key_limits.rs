//! The per-key parts of key restrictions that need state (key-restrictions.md §2.4–2.5): each
//! restricted key's request budget (`rate_limit`, counted per key and per instance in fixed
//! windows of `per_seconds` opened by the first request) and which refused addresses were
//! already audited this minute (`api-key-ip-denied` is recorded once per key and address per
//! minute). Both are in memory and bounded (least recently active entries dropped first).
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use lru::LruCache;
use parking_lot::Mutex;

use crate::auth::restrictions::RateLimit;

pub const RATE_LIMIT_MESSAGE: &str = "This API key's rate limit is exceeded. Try again later.";
/// How long a refused (key, address) pair stays audited.
pub const DENIAL_WINDOW: Duration = Duration::from_secs(60);
/// Keys with a rate limit tracked at once, and (key, address) denials remembered at once.
pub const CAPACITY: usize = 100_000;

const DEFAULT_CAPACITY: NonZeroUsize = match NonZeroUsize::new(CAPACITY) {
    Some(n) => n,
    None => panic!("CAPACITY must be non-zero"),
};

#[derive(Debug, Clone, Copy)]
struct Window {
    opened: Instant,
    /// The limit the window was opened under: a changed limit starts a new window.
    limit: RateLimit,
    used: u32,
}

pub struct KeyLimits {
    windows: Mutex<LruCache<i64, Window>>,
    denials: Mutex<LruCache<(i64, IpAddr), Instant>>,
}

impl Default for KeyLimits {
    fn default() -> Self {
        KeyLimits {
            windows: Mutex::new(LruCache::new(DEFAULT_CAPACITY)),
            denials: Mutex::new(LruCache::new(DEFAULT_CAPACITY)),
        }
    }
}

/// Whole seconds until `left` has passed, at least 1.
fn whole_seconds(left: Duration) -> u64 {
    let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
    secs.max(1)
}

impl KeyLimits {
    /// Counts one request of key `key_id` under `limit` at `now`: `Err(retry_after)` when it is
    /// over the limit (and is not counted).
    pub fn take(&self, key_id: i64, limit: RateLimit, now: Instant) -> Result<(), u64> {
        let span = Duration::from_secs(u64::from(limit.per_seconds));
        let mut windows = self.windows.lock();
        if let Some(w) = windows.get_mut(&key_id) {
            let elapsed = now.saturating_duration_since(w.opened);
            if elapsed < span && w.limit == limit {
                if w.used >= limit.requests {
                    return Err(whole_seconds(span - elapsed));
                }
                w.used += 1;
                return Ok(());
            }
        }
        windows.put(
            key_id,
            Window {
                opened: now,
                limit,
                used: 1,
            },
        );
        Ok(())
    }

    /// Whether a refusal of key `key_id` from `ip` at `now` is the first in its minute (and so
    /// must be audited).
    pub fn first_denial(&self, key_id: i64, ip: IpAddr, now: Instant) -> bool {
        let mut denials = self.denials.lock();
        let pair = (key_id, ip.to_canonical());
        match denials.get(&pair) {
            Some(at) if now.saturating_duration_since(*at) < DENIAL_WINDOW => false,
            _ => {
                denials.put(pair, now);
                true
            }
        }
    }

    /// Forgets a key's window (its restrictions changed or it was deleted).
    pub fn forget(&self, key_id: i64) {
        self.windows.lock().pop(&key_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(requests: u32, per_seconds: u32) -> RateLimit {
        RateLimit {
            requests,
            per_seconds,
        }
    }

    #[test]
    fn counts_per_key_in_fixed_windows() {
        let l = KeyLimits::default();
        let t0 = Instant::now();
        let five = limit(5, 60);
        for _ in 0..5 {
            assert_eq!(l.take(1, five, t0), Ok(()));
        }
        assert_eq!(l.take(1, five, t0 + Duration::from_millis(500)), Err(60));
        assert_eq!(l.take(1, five, t0 + Duration::from_secs(59)), Err(1));
        // Another key has its own budget.
        assert_eq!(l.take(2, five, t0), Ok(()));
        // The window closes; a new one opens with this request.
        assert_eq!(l.take(1, five, t0 + Duration::from_secs(60)), Ok(()));
        // A changed limit starts afresh.
        for _ in 0..4 {
            assert_eq!(l.take(1, five, t0 + Duration::from_secs(61)), Ok(()));
        }
        assert!(l.take(1, five, t0 + Duration::from_secs(61)).is_err());
        assert_eq!(
            l.take(1, limit(6, 60), t0 + Duration::from_secs(61)),
            Ok(())
        );
    }

    #[test]
    fn denials_are_audited_once_per_key_and_address_per_minute() {
        let l = KeyLimits::default();
        let t0 = Instant::now();
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert!(l.first_denial(1, ip, t0));
        assert!(!l.first_denial(1, ip, t0 + Duration::from_secs(30)));
        assert!(!l.first_denial(1, mapped, t0 + Duration::from_secs(30)));
        assert!(l.first_denial(2, ip, t0 + Duration::from_secs(30)));
        assert!(l.first_denial(1, ip, t0 + Duration::from_secs(60)));
    }
}
