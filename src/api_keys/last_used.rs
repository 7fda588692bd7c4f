//! `last_used_at` (api-keys.md 4.7): uses are recorded in memory on the request path and flushed
//! in batches, at most one write per key per 60 s; the database value only moves forward.
use std::collections::HashMap;

use parking_lot::Mutex;

/// Minimum time between two writes of the same key, in microseconds.
pub const WRITE_INTERVAL_MICROS: i64 = 60_000_000;

#[derive(Debug, Default)]
struct Inner {
    /// Uses not yet written: key id → newest use.
    pending: HashMap<i64, i64>,
    /// key id → when this instance last wrote it.
    written_at: HashMap<i64, i64>,
    /// key id → newest use seen by this instance (shown in responses).
    seen: HashMap<i64, i64>,
}

#[derive(Debug, Default)]
pub struct LastUsed {
    inner: Mutex<Inner>,
}

impl LastUsed {
    pub fn record(&self, key_id: i64, at: i64) {
        let mut g = self.inner.lock();
        let p = g.pending.entry(key_id).or_insert(at);
        *p = (*p).max(at);
        let s = g.seen.entry(key_id).or_insert(at);
        *s = (*s).max(at);
    }

    /// The newest use this instance knows of.
    pub fn seen(&self, key_id: i64) -> Option<i64> {
        self.inner.lock().seen.get(&key_id).copied()
    }

    /// Pending uses that may be written at `now` (all of them when `force`, at shutdown).
    /// They are removed from the pending set; call [`LastUsed::restore`] if the write fails.
    pub fn take_due(&self, now: i64, force: bool) -> Vec<(i64, i64)> {
        let mut g = self.inner.lock();
        let due: Vec<(i64, i64)> = g
            .pending
            .iter()
            .filter(|(id, _)| {
                force
                    || g.written_at
                        .get(id)
                        .is_none_or(|w| now - *w >= WRITE_INTERVAL_MICROS)
            })
            .map(|(id, at)| (*id, *at))
            .collect();
        for (id, _) in &due {
            g.pending.remove(id);
            g.written_at.insert(*id, now);
        }
        due
    }

    /// Puts back uses whose write failed, so the next flush retries them.
    pub fn restore(&self, uses: &[(i64, i64)]) {
        let mut g = self.inner.lock();
        for (id, at) in uses {
            g.written_at.remove(id);
            let p = g.pending.entry(*id).or_insert(*at);
            *p = (*p).max(*at);
        }
    }

    /// Drops everything about a deleted key.
    pub fn forget(&self, key_id: i64) {
        let mut g = self.inner.lock();
        g.pending.remove(&key_id);
        g.written_at.remove(&key_id);
        g.seen.remove(&key_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    /// 200 uses spread over 30 s with flushes every 10 s (at several phases): at most one write
    /// during those 30 s, writes at least 60 s apart, and the last use written within 70 s of it.
    #[test]
    fn at_most_one_write_per_key_per_minute_and_the_last_use_lands() {
        for phase in [0, S / 2, 3 * S, 9_999_999] {
            let lu = LastUsed::default();
            // (write time, value written)
            let mut writes: Vec<(i64, i64)> = Vec::new();
            let mut next_tick = phase;
            let mut flush_until = |until: i64, writes: &mut Vec<(i64, i64)>| {
                while next_tick <= until {
                    for (id, at) in lu.take_due(next_tick, false) {
                        assert_eq!(id, 7);
                        writes.push((next_tick, at));
                    }
                    next_tick += 10 * S;
                }
            };
            let last_use = 199 * 30 * S / 200;
            for i in 0..200 {
                let t = i * 30 * S / 200;
                flush_until(t - 1, &mut writes);
                lu.record(7, t);
            }
            flush_until(last_use + 70 * S, &mut writes);
            let during = writes.iter().filter(|(w, _)| *w < 30 * S).count();
            assert!(during <= 1, "phase {phase}: {writes:?}");
            assert!(
                writes
                    .windows(2)
                    .all(|p| p[1].0 - p[0].0 >= WRITE_INTERVAL_MICROS),
                "{writes:?}"
            );
            assert_eq!(
                writes.last().map(|w| w.1),
                Some(last_use),
                "phase {phase}: {writes:?}"
            );
            assert!(writes.last().is_some_and(|w| w.0 <= last_use + 70 * S));
        }
    }

    #[test]
    fn shutdown_flush_writes_everything_pending() {
        let lu = LastUsed::default();
        lu.record(1, 5);
        assert_eq!(lu.take_due(10, false), vec![(1, 5)]);
        lu.record(1, 20);
        // Not due yet (written 10 µs ago), but a forced flush takes it.
        assert!(lu.take_due(30, false).is_empty());
        assert_eq!(lu.take_due(30, true), vec![(1, 20)]);
        assert_eq!(lu.seen(1), Some(20));
    }

    #[test]
    fn restore_and_forget() {
        let lu = LastUsed::default();
        lu.record(1, 5);
        let due = lu.take_due(100, false);
        assert_eq!(due, vec![(1, 5)]);
        lu.restore(&due);
        assert_eq!(lu.take_due(101, false), vec![(1, 5)]);
        lu.record(1, 9);
        lu.forget(1);
        assert!(lu.take_due(i64::MAX, true).is_empty());
        assert_eq!(lu.seen(1), None);
    }
}
