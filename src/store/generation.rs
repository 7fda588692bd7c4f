//! The write generation: a counter that moves after every committed write transaction, so
//! read caches can tell whether anything may have changed since they filled an entry.
//!
//! Every [`crate::store::Store::begin`] transaction bumps it when it commits, on both backends.
//! On PostgreSQL each commit also sends `NOTIFY ferrobase_write` and the `LISTEN` connection
//! bumps the counter on receipt, so writes made by other instances move it too. While that
//! listener is down the generation is *untrusted*: [`WriteGeneration::current`] returns `None`
//! and caches must go to the database.
//!
//! A cache reads the generation *before* its query and stores it with the result; the entry is
//! a hit only while the generation is still that value. A write that commits after the read
//! bumps the counter after committing, so the entry is never served; a write that committed
//! before the read is seen by the query.
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

#[derive(Debug)]
pub struct WriteGeneration {
    counter: AtomicU64,
    trusted: AtomicBool,
}

impl WriteGeneration {
    /// `trusted`: whether the store sees every write from the start (SQLite: one instance per
    /// file) or must wait for its listener (PostgreSQL).
    pub fn new(trusted: bool) -> Self {
        WriteGeneration {
            counter: AtomicU64::new(0),
            trusted: AtomicBool::new(trusted),
        }
    }

    /// The generation, or `None` while writes by other instances could go unnoticed.
    pub fn current(&self) -> Option<u64> {
        if !self.trusted.load(Ordering::SeqCst) {
            return None;
        }
        Some(self.counter.load(Ordering::SeqCst))
    }

    /// A write committed (here, or on another instance).
    pub fn bump(&self) {
        self.counter.fetch_add(1, Ordering::SeqCst);
    }

    /// The listener connected (`true`) or was lost (`false`). Either way every cached entry is
    /// now stale: writes may have been missed while nobody listened.
    pub fn set_trusted(&self, trusted: bool) {
        if trusted {
            self.bump();
            self.trusted.store(true, Ordering::SeqCst);
        } else {
            self.trusted.store(false, Ordering::SeqCst);
            self.bump();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_on_writes_and_hides_while_untrusted() {
        let g = WriteGeneration::new(true);
        let a = g.current().expect("trusted");
        g.bump();
        let b = g.current().expect("trusted");
        assert_ne!(a, b);
        g.set_trusted(false);
        assert_eq!(g.current(), None);
        g.bump();
        g.set_trusted(true);
        let c = g.current().expect("trusted again");
        assert!(c != a && c != b);
        assert_eq!(WriteGeneration::new(false).current(), None);
    }
}
