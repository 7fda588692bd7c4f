//! A per-instance cache of the `GET /api/user/current` body, the hot path of key-authenticated
//! scripts. Entries are the serialised JSON bytes, keyed by user and by whether the caller came
//! with an API key (the view differs), and stamped with the store's write generation read
//! *before* the query that produced them ([`crate::store::generation`]). An entry is served
//! only while the generation is unchanged, so any committed write — on this instance or, on
//! PostgreSQL, on another one — makes every entry stale without naming what changed. The view
//! has no time-dependent field; a bounded size (LRU) and a short TTL are the safety net.
use std::num::NonZeroUsize;
use std::time::{Duration, Instant};

use bytes::Bytes;
use lru::LruCache;
use parking_lot::Mutex;

pub const CACHE_TTL: Duration = Duration::from_secs(10);
pub const CACHE_CAPACITY: usize = 10_000;

/// (user id, authenticated with an API key).
pub type ViewKey = (i64, bool);

#[derive(Debug, Clone)]
struct Entry {
    generation: u64,
    body: Bytes,
    inserted: Instant,
}

pub struct CurrentUserCache {
    entries: Mutex<LruCache<ViewKey, Entry>>,
    ttl: Duration,
}

impl Default for CurrentUserCache {
    fn default() -> Self {
        Self::new(CACHE_CAPACITY, CACHE_TTL)
    }
}

impl CurrentUserCache {
    pub fn new(capacity: usize, ttl: Duration) -> Self {
        CurrentUserCache {
            entries: Mutex::new(LruCache::new(
                NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN),
            )),
            ttl,
        }
    }

    /// The cached body, if it was filled at generation `now_generation` (the current one)
    /// less than the TTL ago.
    pub fn get(&self, key: ViewKey, now_generation: u64) -> Option<Bytes> {
        let mut entries = self.entries.lock();
        match entries.get(&key) {
            Some(e) if e.generation == now_generation && e.inserted.elapsed() < self.ttl => {
                Some(e.body.clone())
            }
            Some(_) => {
                entries.pop(&key);
                None
            }
            None => None,
        }
    }

    /// Stores a body computed by a query that started at generation `read_generation`.
    pub fn put(&self, key: ViewKey, read_generation: u64, body: Bytes) {
        self.entries.lock().put(
            key,
            Entry {
                generation: read_generation,
                body,
                inserted: Instant::now(),
            },
        );
    }

    pub fn len(&self) -> usize {
        self.entries.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::generation::WriteGeneration;

    fn body(s: &'static str) -> Bytes {
        Bytes::from_static(s.as_bytes())
    }

    #[test]
    fn a_hit_needs_the_generation_of_the_fill() {
        let g = WriteGeneration::new(true);
        let cache = CurrentUserCache::default();
        let before = g.current().expect("trusted");
        cache.put((1, true), before, body("a"));
        assert_eq!(cache.get((1, true), before), Some(body("a")));
        // The key and session views are separate entries.
        assert_eq!(cache.get((1, false), before), None);
        g.bump();
        let after = g.current().expect("trusted");
        assert_eq!(cache.get((1, true), after), None);
        // A stale entry is dropped, not kept for an old generation to find again.
        assert_eq!(cache.get((1, true), before), None);
    }

    /// The race the epoch guard exists for: a query reads the old row, a write commits and
    /// bumps the generation, then the query fills the cache. The entry carries the generation
    /// read before the query, so it is never served.
    #[test]
    fn a_fill_that_raced_with_a_write_is_never_served() {
        let g = WriteGeneration::new(true);
        let cache = CurrentUserCache::default();
        let read = g.current().expect("trusted");
        // ... query runs and sees the old row; meanwhile a write commits:
        g.bump();
        cache.put((7, true), read, body("old"));
        let now = g.current().expect("trusted");
        assert_eq!(cache.get((7, true), now), None);
        // The next fill, made after the write, is served.
        cache.put((7, true), now, body("new"));
        assert_eq!(cache.get((7, true), now), Some(body("new")));
    }

    #[test]
    fn entries_expire_and_the_size_is_bounded() {
        let cache = CurrentUserCache::new(2, Duration::ZERO);
        cache.put((1, true), 0, body("a"));
        assert_eq!(cache.get((1, true), 0), None);
        let cache = CurrentUserCache::new(2, CACHE_TTL);
        for id in 0..5 {
            cache.put((id, true), 0, body("x"));
        }
        assert_eq!(cache.len(), 2);
        assert!(cache.get((4, true), 0).is_some());
        assert!(cache.get((0, true), 0).is_none());
    }
}
