//! What one query may make the process hold (docs/security.md): a cap per cell, per row and per
//! interactive result, counted as cells are converted ([`Meter`]), and an admission limit on
//! queries running at once with a bounded queue ([`Admission`]); beyond the queue a request gets
//! `503` instead of waiting, so a burst cannot pile up unbounded work.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::cell::Cell;
use super::error::QueryError;
use crate::config::QueryLimits;

/// The SQLite heap limit (process-wide, `PRAGMA hard_heap_limit`): SQLite answers `SQLITE_NOMEM`
/// beyond it instead of letting one statement's sort or expression exhaust the process.
pub const SQLITE_HEAP_LIMIT: i64 = 512 << 20;

/// Caps of one run, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultCaps {
    pub cell: usize,
    pub row: usize,
    /// The whole result (interactive runs); `None` for downloads, which stream.
    pub total: Option<usize>,
}

impl ResultCaps {
    pub fn interactive(l: &QueryLimits) -> ResultCaps {
        let total = usize::try_from(l.max_result_bytes).unwrap_or(usize::MAX);
        ResultCaps {
            cell: usize::try_from(l.max_cell_bytes).unwrap_or(usize::MAX),
            row: total,
            total: Some(total),
        }
    }

    pub fn download(l: &QueryLimits) -> ResultCaps {
        ResultCaps {
            total: None,
            ..ResultCaps::interactive(l)
        }
    }
}

pub fn cell_too_big(cap: usize) -> QueryError {
    QueryError::invalid(format!(
        "A value in the result is larger than {cap} bytes, the limit set by --query-max-cell-bytes."
    ))
}

fn row_too_big(cap: usize) -> QueryError {
    QueryError::invalid(format!(
        "A row of the result is larger than {cap} bytes, the limit set by --query-max-result-bytes."
    ))
}

fn result_too_big(cap: usize) -> QueryError {
    QueryError::invalid(format!(
        "The result is larger than {cap} bytes, the limit set by --query-max-result-bytes."
    ))
}

/// The bytes a cell holds (its payload; fixed-size values count 8).
pub fn cell_bytes(c: &Cell) -> usize {
    match c {
        Cell::Null | Cell::Bool(_) => 1,
        Cell::Int(_) | Cell::Float(_) => 8,
        Cell::Decimal(s) | Cell::Text(s) => s.len(),
        Cell::Array(items) => items.iter().map(cell_bytes).sum::<usize>() + 2,
    }
}

/// Counts a run's bytes against its caps.
#[derive(Debug)]
pub struct Meter {
    caps: ResultCaps,
    row: usize,
    total: usize,
}

impl Meter {
    pub fn new(caps: ResultCaps) -> Meter {
        Meter {
            caps,
            row: 0,
            total: 0,
        }
    }

    /// Checks the size of a value before it is copied (`len` bytes).
    pub fn precheck(&self, len: usize) -> Result<(), QueryError> {
        if len > self.caps.cell {
            return Err(cell_too_big(self.caps.cell));
        }
        Ok(())
    }

    /// Counts one converted cell of the current row.
    pub fn cell(&mut self, c: &Cell) -> Result<(), QueryError> {
        let n = cell_bytes(c);
        self.precheck(n)?;
        self.row = self.row.saturating_add(n);
        if self.row > self.caps.row {
            return Err(row_too_big(self.caps.row));
        }
        self.total = self.total.saturating_add(n);
        match self.caps.total {
            Some(cap) if self.total > cap => Err(result_too_big(cap)),
            _ => Ok(()),
        }
    }

    /// Ends the current row.
    pub fn end_row(&mut self) {
        self.row = 0;
    }
}

/// Admission of queries: `concurrency` run at once, `queue` more may wait.
pub struct Admission {
    running: Arc<Semaphore>,
    capacity: usize,
    waiting: AtomicUsize,
    queue: usize,
}

/// A running query's slot; released when dropped (when the query's producer ends).
#[derive(Debug)]
pub struct Slot {
    _permit: OwnedSemaphorePermit,
}

/// The queue is full.
#[derive(Debug, PartialEq, Eq)]
pub struct Busy;

/// Un-counts a waiter however its wait ends (granted, timed out, or the request dropped).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Admission {
    pub fn new(l: &QueryLimits) -> Admission {
        let capacity = l.concurrency.max(1) as usize;
        Admission {
            running: Arc::new(Semaphore::new(capacity)),
            capacity,
            waiting: AtomicUsize::new(0),
            queue: l.queue as usize,
        }
    }

    /// A slot at once when one is free; otherwise waits in the queue (until `deadline`, when
    /// the query's timeout would pass anyway), or answers [`Busy`] when the queue is full.
    pub async fn enter(&self, deadline: tokio::time::Instant) -> Result<Option<Slot>, Busy> {
        if let Ok(p) = self.running.clone().try_acquire_owned() {
            return Ok(Some(Slot { _permit: p }));
        }
        let before = self.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = Waiting(&self.waiting);
        if before >= self.queue {
            return Err(Busy);
        }
        match tokio::time::timeout_at(deadline, self.running.clone().acquire_owned()).await {
            Ok(Ok(p)) => Ok(Some(Slot { _permit: p })),
            // The deadline passed while queued: the caller reports its timeout.
            _ => Ok(None),
        }
    }

    /// A slot for background work (sync), waiting as long as it takes and outside the queue
    /// bound: at most one sync per database asks at a time.
    pub async fn background(&self) -> Option<Slot> {
        let permit = self.running.clone().acquire_owned().await.ok()?;
        Some(Slot { _permit: permit })
    }

    /// Queries running now (for tests and diagnostics).
    pub fn running(&self) -> usize {
        self.capacity
            .saturating_sub(self.running.available_permits())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(concurrency: u32, queue: u32) -> QueryLimits {
        QueryLimits {
            concurrency,
            queue,
            ..QueryLimits::default()
        }
    }

    #[tokio::test]
    async fn a_full_queue_is_busy_and_a_freed_slot_admits_the_next() {
        let l = limits(1, 1);
        let a = Arc::new(Admission::new(&l));
        let far = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        let first = a.enter(far).await.unwrap().unwrap();
        let a2 = a.clone();
        let waiter = tokio::spawn(async move { a2.enter(far).await.map(|s| s.is_some()) });
        while a.waiting.load(Ordering::SeqCst) == 0 {
            tokio::task::yield_now().await;
        }
        assert_eq!(a.enter(far).await.unwrap_err(), Busy);
        assert_eq!(a.running(), 1);
        drop(first);
        assert_eq!(waiter.await.unwrap(), Ok(true));
        assert_eq!(a.waiting.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_queued_query_past_its_deadline_gets_no_slot() {
        let a = Admission::new(&limits(1, 4));
        let far = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        let _first = a.enter(far).await.unwrap().unwrap();
        let soon = tokio::time::Instant::now() + std::time::Duration::from_millis(20);
        assert!(a.enter(soon).await.unwrap().is_none());
        assert_eq!(a.waiting.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn the_meter_refuses_a_big_cell_a_big_row_and_a_big_result() {
        let caps = ResultCaps {
            cell: 10,
            row: 15,
            total: Some(25),
        };
        let mut m = Meter::new(caps);
        assert!(m.cell(&Cell::Text("x".repeat(11))).is_err());
        let mut m = Meter::new(caps);
        m.cell(&Cell::Text("x".repeat(10))).unwrap();
        assert!(m.cell(&Cell::Text("x".repeat(6))).is_err());
        let mut m = Meter::new(caps);
        for _ in 0..2 {
            m.cell(&Cell::Text("x".repeat(10))).unwrap();
            m.end_row();
        }
        let e = m.cell(&Cell::Text("x".repeat(6))).unwrap_err();
        assert!(
            e.message.contains("--query-max-result-bytes"),
            "{}",
            e.message
        );
        let mut dl = Meter::new(ResultCaps {
            total: None,
            ..caps
        });
        for _ in 0..100 {
            dl.cell(&Cell::Text("x".repeat(10))).unwrap();
            dl.end_row();
        }
    }
}
