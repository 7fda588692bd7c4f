//! Running one statement on a warehouse database (queries.md §1.1, §4.1, §4.6, §4.7): a pool per
//! database, a producer task per query that sends [`Event`]s through a bounded channel (so
//! memory stays flat however many rows stream), and a watchdog that cancels the statement at
//! the database when the deadline passes, the receiver goes away or the server shuts down.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::bound::Bound;
use super::cell::{Cell, Column};
use super::error::{QueryError, ONE_STATEMENT};
use super::limits::{cell_bytes, ResultCaps, Slot};
use super::pool::Pool;
pub use super::postgres::ConnectFailure;
use super::postgres::{PgTarget, PgWarehouse};
use super::sqlite::{RunError, SqliteConn, SqliteFile};
use super::sqltext::Dialect;

/// What a running query reports, in order: `Columns`, any number of `Rows`, then `Done` or
/// `Failed` (which may also come first).
#[derive(Debug)]
pub enum Event {
    Columns(Vec<Column>),
    Rows(Vec<Vec<Cell>>),
    /// Final column types (SQLite expressions are typed by their values) and truncation.
    Done {
        columns: Vec<Column>,
        truncated: bool,
    },
    Failed(QueryError),
}

/// Groups rows: the first alone (so the response status is known early), then up to 1,000
/// rows, 1 MiB or 25 ms at a time (the byte bound keeps a channel of batches small however
/// wide the rows are).
pub struct Batcher {
    rows: Vec<Vec<Cell>>,
    bytes: usize,
    started: Instant,
    sent_first: bool,
}

const BATCH_BYTES: usize = 1 << 20;

impl Default for Batcher {
    fn default() -> Self {
        Self::new()
    }
}

impl Batcher {
    pub fn new() -> Batcher {
        Batcher {
            rows: Vec::new(),
            bytes: 0,
            started: Instant::now(),
            sent_first: false,
        }
    }

    pub fn push(&mut self, row: Vec<Cell>) -> Option<Vec<Vec<Cell>>> {
        if self.rows.is_empty() {
            self.started = Instant::now();
        }
        self.bytes += row.iter().map(cell_bytes).sum::<usize>();
        self.rows.push(row);
        if !self.sent_first
            || self.rows.len() >= 1000
            || self.bytes >= BATCH_BYTES
            || self.started.elapsed() >= Duration::from_millis(25)
        {
            self.sent_first = true;
            self.bytes = 0;
            return Some(std::mem::take(&mut self.rows));
        }
        None
    }

    pub fn finish(&mut self) -> Option<Vec<Vec<Cell>>> {
        self.bytes = 0;
        (!self.rows.is_empty()).then(|| std::mem::take(&mut self.rows))
    }
}

/// One statement to run.
#[derive(Debug, Clone)]
pub struct Exec {
    /// Exactly one statement, placeholders in the engine's style.
    pub sql: String,
    pub params: Vec<Bound>,
    /// At most this many rows are returned (`cap + 1` are read to detect truncation).
    pub cap: usize,
    /// Byte caps on cells, rows and the whole result.
    pub caps: ResultCaps,
    pub deadline: tokio::time::Instant,
    pub timeout_secs: u64,
    /// Postgres session time zone.
    pub timezone: String,
}

/// A warehouse database ferrobase connects to.
pub enum Warehouse {
    Sqlite(SqliteWarehouse),
    Postgres(Box<PgWarehouse>),
}

pub struct SqliteWarehouse {
    pub file: SqliteFile,
    max_cell: usize,
    pool: Arc<Pool<SqliteConn>>,
}

/// How warehouse connections are opened and kept (from the configuration).
#[derive(Debug, Clone, Copy)]
pub struct WarehouseOptions {
    pub pool_size: u32,
    /// Largest string or blob (SQLite's `SQLITE_LIMIT_LENGTH`).
    pub max_cell: usize,
    /// Postgres `statement_timeout` and `idle_in_transaction_session_timeout`, in seconds.
    pub timeout_secs: u64,
}

impl WarehouseOptions {
    pub fn from_config(c: &crate::config::Config) -> WarehouseOptions {
        WarehouseOptions {
            pool_size: c.warehouse_pool_size,
            max_cell: usize::try_from(c.query_limits.max_cell_bytes).unwrap_or(usize::MAX),
            timeout_secs: c.query_timeout_secs,
        }
    }

    /// One connection at a time (connection tests, column descriptions).
    pub fn single(c: &crate::config::Config) -> WarehouseOptions {
        WarehouseOptions {
            pool_size: 1,
            ..WarehouseOptions::from_config(c)
        }
    }
}

/// Numbers query runs, so a late interrupt never reaches the next query on a connection.
static RUNS: AtomicU64 = AtomicU64::new(1);

impl Warehouse {
    pub fn dialect(&self) -> Dialect {
        match self {
            Warehouse::Sqlite(_) => Dialect::Sqlite,
            Warehouse::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Starts `exec`; events arrive on the returned channel. Dropping the receiver cancels.
    /// The admission `slot` is held until the run is over.
    pub fn execute(
        self: &Arc<Self>,
        exec: Exec,
        shutdown: CancellationToken,
        slot: Slot,
    ) -> mpsc::Receiver<Event> {
        let (tx, rx) = mpsc::channel(4);
        let wh = self.clone();
        tokio::spawn(async move {
            match &*wh {
                Warehouse::Sqlite(s) => s.execute(exec, tx, shutdown).await,
                Warehouse::Postgres(p) => p.execute(exec, tx, shutdown).await,
            }
            drop(slot);
        });
        rx
    }

    /// Runs `exec` and collects its rows (for sync: catalogue queries and samples, whose size
    /// `exec.cap` and `exec.caps` bound).
    pub async fn fetch_all(
        self: &Arc<Self>,
        exec: Exec,
        shutdown: CancellationToken,
        slot: Slot,
    ) -> Result<Vec<Vec<Cell>>, QueryError> {
        let mut rx = self.execute(exec, shutdown, slot);
        let mut rows = Vec::new();
        while let Some(event) = rx.recv().await {
            match event {
                Event::Columns(_) => {}
                Event::Rows(batch) => rows.extend(batch),
                Event::Done { .. } => return Ok(rows),
                Event::Failed(e) => return Err(e),
            }
        }
        Err(QueryError::invalid("The query ended without a result."))
    }

    /// The connection test of §1.5 (10 s budget).
    pub async fn test(&self) -> Result<(), ConnectFailure> {
        match self {
            Warehouse::Sqlite(s) => {
                let (file, max_cell) = (s.file.clone(), s.max_cell);
                let r =
                    tokio::task::spawn_blocking(move || SqliteConn::open(&file, max_cell)?.check())
                        .await;
                match r {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(e)) => Err(ConnectFailure {
                        // SQLite's own failures carry its class; ferrobase's are refusals.
                        refused: e.class == super::error::Class::Ferrobase,
                        message: e.message,
                        keys: &["db"],
                    }),
                    Err(_) => Err(ConnectFailure {
                        message: "The SQLite file could not be opened.".into(),
                        keys: &["db"],
                        refused: false,
                    }),
                }
            }
            Warehouse::Postgres(p) => p.test().await,
        }
    }

    /// Result columns of `sql` without fetching rows (content.md §2.3).
    pub async fn describe(
        &self,
        sql: String,
        params: Vec<Bound>,
    ) -> Result<Vec<Column>, QueryError> {
        let sql = super::sqltext::single_statement(&sql, self.dialect())
            .ok_or_else(|| QueryError::invalid(ONE_STATEMENT))?;
        match self {
            Warehouse::Sqlite(s) => {
                let (file, max_cell) = (s.file.clone(), s.max_cell);
                tokio::task::spawn_blocking(move || {
                    SqliteConn::open(&file, max_cell)?.describe(&sql)
                })
                .await
                .map_err(|_| QueryError::invalid("The query could not be prepared."))?
            }
            Warehouse::Postgres(p) => p.describe(&sql, &params).await,
        }
    }
}

impl SqliteWarehouse {
    async fn execute(&self, exec: Exec, tx: mpsc::Sender<Event>, shutdown: CancellationToken) {
        let mut lease = match self.pool.lease(exec.deadline).await {
            Ok(l) => l,
            Err(_) => {
                let _ = tx
                    .send(Event::Failed(QueryError::timed_out(exec.timeout_secs)))
                    .await;
                return;
            }
        };
        let conn = match lease.conn.take() {
            Some(c) => c,
            None => match self.open().await {
                Ok(Some(c)) => c,
                Ok(None) => return,
                Err(e) => {
                    let _ = tx.send(Event::Failed(e)).await;
                    return;
                }
            },
        };
        let run = RUNS.fetch_add(1, Ordering::Relaxed);
        let done = CancellationToken::new();
        let timed_out = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watchdog = interrupt_watchdog(
            conn.interrupter(),
            run,
            exec.deadline,
            done.clone(),
            timed_out.clone(),
            tx.clone(),
            shutdown,
        );
        let sender = tx.clone();
        let worker = tokio::task::spawn_blocking(move || {
            let mut sink = |e: Event| sender.blocking_send(e).is_ok();
            let r = conn.run(run, &exec.sql, &exec.params, exec.cap, exec.caps, &mut sink);
            // A connection goes back to the pool only when its state is proven clean.
            let clean = conn.is_clean();
            (conn, r, clean, exec.timeout_secs)
        });
        let outcome = worker.await;
        done.cancel();
        let _ = watchdog.await;
        let Ok((conn, result, clean, secs)) = outcome else {
            return;
        };
        if clean {
            lease.conn = Some(conn);
        }
        match result {
            Ok(()) | Err(RunError::Gone) => {}
            Err(RunError::Interrupted) => {
                if timed_out.load(Ordering::SeqCst) {
                    let _ = tx.send(Event::Failed(QueryError::timed_out(secs))).await;
                }
            }
            Err(RunError::Query(e)) => {
                if e.error_type == super::error::ErrorType::Db
                    || e.state.as_deref() == Some("SQLITE_NOMEM")
                {
                    lease.discard();
                }
                let _ = tx.send(Event::Failed(e)).await;
            }
        }
    }

    /// A new connection, opened off the async threads; `None` when that task died.
    async fn open(&self) -> Result<Option<SqliteConn>, QueryError> {
        let (file, max_cell) = (self.file.clone(), self.max_cell);
        match tokio::task::spawn_blocking(move || SqliteConn::open(&file, max_cell)).await {
            Ok(Ok(c)) => Ok(Some(c)),
            Ok(Err(e)) => Err(e),
            Err(_) => Ok(None),
        }
    }
}

/// Interrupts run `run` when the client leaves, at shutdown or at the deadline (then setting
/// `timed_out`), until `done`.
fn interrupt_watchdog(
    interrupter: Arc<super::sqlite::Interrupter>,
    run: u64,
    deadline: tokio::time::Instant,
    done: CancellationToken,
    timed_out: Arc<std::sync::atomic::AtomicBool>,
    tx: mpsc::Sender<Event>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::select! {
            _ = done.cancelled() => return,
            _ = tx.closed() => {}
            _ = shutdown.cancelled() => {}
            _ = tokio::time::sleep_until(deadline) => {
                timed_out.store(true, Ordering::SeqCst);
            }
        }
        // SQLite forgets an interrupt that arrives before the statement starts stepping, so
        // repeat it until the run is over.
        loop {
            interrupter.interrupt(run);
            tokio::select! {
                _ = done.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
    })
}

/// Where a database's details point, resolved (queries.md §1.1).
#[derive(Debug, Clone)]
pub enum Target {
    Sqlite(SqliteFile),
    Postgres(Box<PgTarget>),
}

impl Target {
    pub fn build(&self, o: WarehouseOptions) -> Warehouse {
        match self {
            Target::Sqlite(file) => Warehouse::Sqlite(SqliteWarehouse {
                file: file.clone(),
                max_cell: o.max_cell,
                pool: Pool::new(o.pool_size),
            }),
            Target::Postgres(t) => {
                Warehouse::Postgres(Box::new(PgWarehouse::new((**t).clone(), o)))
            }
        }
    }
}

/// The pool cache: one [`Warehouse`] per database id, rebuilt when its details change.
#[derive(Default)]
pub struct Warehouses {
    map: Mutex<HashMap<i64, (String, Arc<Warehouse>)>>,
}

impl Warehouses {
    /// The warehouse for database `id` whose stored details are `key`.
    pub fn get(&self, id: i64, key: &str, target: &Target, o: WarehouseOptions) -> Arc<Warehouse> {
        let mut map = self.map.lock();
        if let Some((k, w)) = map.get(&id) {
            if k == key {
                return w.clone();
            }
        }
        let w = Arc::new(target.build(o));
        map.insert(id, (key.to_string(), w.clone()));
        w
    }

    /// Forgets database `id` (details changed or deleted); idle connections close.
    pub fn forget(&self, id: i64) {
        if let Some((_, w)) = self.map.lock().remove(&id) {
            match &*w {
                Warehouse::Sqlite(s) => s.pool.clear(),
                Warehouse::Postgres(p) => p.clear(),
            }
        }
    }
}
