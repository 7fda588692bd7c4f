//! Sync (data-model.md §2): discovers a warehouse's relations and columns, stores them as tables
//! and fields, applies keys, analyses new fields and refreshes cached field values. One sync per
//! database at a time in this process ([`Syncs`]); further requests while one runs are merged
//! into one follow-up.
pub mod analyze;
pub mod apply;
pub mod discover;
pub mod sample;
pub mod schedule;
pub mod values;

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::databases::store::DatabaseRow;
use crate::state::App;
use crate::warehouse::cell::Cell;
use crate::warehouse::engine::{Exec, Warehouse};
use crate::warehouse::error::QueryError;
use crate::warehouse::limits::ResultCaps;
use crate::warehouse::sqltext::Dialect;

pub use schedule::Syncs;

/// Runs sync's statements on one warehouse: read-only, one pooled connection at a time, each
/// under the query timeout.
pub struct Runner {
    warehouse: Arc<Warehouse>,
    app: Arc<App>,
    cancel: CancellationToken,
}

/// Most rows one catalogue statement may return (a warehouse of 100,000 columns).
const CATALOGUE_ROWS: usize = 1_000_000;

impl Runner {
    pub fn dialect(&self) -> Dialect {
        self.warehouse.dialect()
    }

    /// All rows of `sql` (no parameters), at most [`CATALOGUE_ROWS`].
    pub async fn rows(&self, sql: &str) -> Result<Vec<Vec<Cell>>, QueryError> {
        self.rows_capped(sql, CATALOGUE_ROWS).await
    }

    pub async fn rows_capped(&self, sql: &str, cap: usize) -> Result<Vec<Vec<Cell>>, QueryError> {
        if self.cancel.is_cancelled() {
            return Err(QueryError::invalid("The sync was cancelled."));
        }
        let secs = self.app.config.query_timeout_secs;
        let exec = Exec {
            sql: sql.to_string(),
            params: Vec::new(),
            cap,
            caps: ResultCaps::download(&self.app.config.query_limits),
            deadline: tokio::time::Instant::now() + Duration::from_secs(secs),
            timeout_secs: secs,
            timezone: "UTC".into(),
        };
        let Some(slot) = self.app.queries.background().await else {
            return Err(QueryError::invalid("The server is shutting down."));
        };
        self.warehouse
            .fetch_all(exec, self.cancel.clone(), slot)
            .await
    }
}

/// A transaction for sync's writes to the application database (their commit is relaxed:
/// [`crate::data_model::store::TableTx::dm_relaxed_commit`]).
pub async fn begin(app: &App) -> Result<Box<dyn crate::store::Tx>, SyncError> {
    let mut tx = app.store.begin().await?;
    tx.dm_relaxed_commit().await?;
    Ok(tx)
}

/// Tables written per transaction by [`Batch`]: one transaction costs the application
/// database a few round trips and a commit, which on PostgreSQL were most of a first sync's
/// write time when every table had its own (2,000 transactions for 1,000 tables).
pub const TABLES_PER_TRANSACTION: usize = 50;

/// Sync's writes grouped into transactions of up to [`TABLES_PER_TRANSACTION`] tables
/// ([`begin`]'s relaxed commit). A crash or an error loses at most the open batch, never half
/// of a table: the caller ends a table's writes with [`Batch::table_done`].
pub struct Batch<'a> {
    app: &'a App,
    tx: Option<Box<dyn crate::store::Tx>>,
    tables: usize,
}

impl<'a> Batch<'a> {
    pub fn new(app: &'a App) -> Self {
        Batch {
            app,
            tx: None,
            tables: 0,
        }
    }

    /// The open transaction, begun when none is.
    pub async fn tx(&mut self) -> Result<&mut dyn crate::store::Tx, SyncError> {
        let tx = match self.tx.take() {
            Some(tx) => tx,
            None => begin(self.app).await?,
        };
        Ok(self.tx.insert(tx).as_mut())
    }

    /// One more table written; commits when the batch is full.
    pub async fn table_done(&mut self) -> Result<(), SyncError> {
        self.tables += 1;
        if self.tables >= TABLES_PER_TRANSACTION {
            self.commit().await?;
        }
        Ok(())
    }

    /// Commits what is open (nothing when nothing is).
    pub async fn commit(&mut self) -> Result<(), SyncError> {
        self.tables = 0;
        if let Some(tx) = self.tx.take() {
            tx.commit().await?;
        }
        Ok(())
    }
}

/// A runner on `db`'s warehouse after a successful connection test.
pub async fn connect(
    app: &Arc<App>,
    db: &DatabaseRow,
    cancel: CancellationToken,
) -> Result<Runner, SyncError> {
    let Some(warehouse) = crate::databases::pooled_warehouse(app, db) else {
        return Err(SyncError(
            "The database's connection details are invalid.".into(),
        ));
    };
    if let Err(e) = warehouse.test().await {
        return Err(SyncError(e.message));
    }
    Ok(Runner {
        warehouse,
        app: app.clone(),
        cancel,
    })
}

/// Time a pipelined step spent reading the warehouse and writing the application database
/// (the two overlap), for the sync's debug line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Busy {
    pub read: Duration,
    pub write: Duration,
}

/// What one sync did, for the log line of §2.10.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub tables_created: usize,
    pub tables_updated: usize,
    pub tables_deactivated: usize,
    pub tables_reactivated: usize,
    pub fields_created: usize,
    pub fields_updated: usize,
    pub fields_deactivated: usize,
    pub fields_reactivated: usize,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, o: Counts) {
        self.tables_created += o.tables_created;
        self.tables_updated += o.tables_updated;
        self.tables_deactivated += o.tables_deactivated;
        self.tables_reactivated += o.tables_reactivated;
        self.fields_created += o.fields_created;
        self.fields_updated += o.fields_updated;
        self.fields_deactivated += o.fields_deactivated;
        self.fields_reactivated += o.fields_reactivated;
    }
}

/// Why a sync did not complete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncError(pub String);

impl std::fmt::Display for SyncError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<crate::store::StoreError> for SyncError {
    fn from(e: crate::store::StoreError) -> Self {
        tracing::error!(error = %e, "sync: application database error");
        SyncError("The application database failed during the sync.".into())
    }
}

/// Which part of a database one sync covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Database,
    /// One table (by id): its columns, keys, analysis and values; the table list is not re-read.
    Table(i64),
}

/// One complete sync of `db` (§2.2). Connection failures change nothing.
pub async fn run(
    app: &Arc<App>,
    db: &DatabaseRow,
    scope: &Scope,
    cancel: CancellationToken,
) -> Result<Counts, SyncError> {
    let Some(warehouse) = crate::databases::pooled_warehouse(app, db) else {
        return Err(SyncError(
            "The database's connection details are invalid.".into(),
        ));
    };
    if let Err(e) = warehouse.test().await {
        return Err(SyncError(e.message));
    }
    let runner = Runner {
        warehouse,
        app: app.clone(),
        cancel,
    };
    let started = std::time::Instant::now();
    let discovered = match runner.dialect() {
        Dialect::Sqlite => discover::sqlite(&runner).await,
        Dialect::Postgres => discover::postgres(&runner).await,
    }
    .map_err(|e| SyncError(e.message))?;
    let discover_ms = started.elapsed().as_millis();
    let t0 = std::time::Instant::now();
    let mut counts = Counts::default();
    let mut applied = apply::apply(app, db.id, discovered, scope, &mut counts).await?;
    let t1 = t0.elapsed().as_millis();
    let analysis = analyze::analyze(app, &runner, db.id, &mut applied).await?;
    let t2 = t0.elapsed().as_millis();
    let tables = applied
        .table_ids
        .iter()
        .filter_map(|id| applied.rows.remove(id))
        .collect();
    let values = values::refresh_loaded(app, &runner, tables).await?;
    let t3 = t0.elapsed().as_millis();
    apply::finish(app, &applied).await?;
    tracing::debug!(
        db_id = db.id,
        discover_ms,
        apply_ms = t1,
        analyze_ms = t2 - t1,
        values_ms = t3 - t2,
        analyze_read_ms = analysis.read.as_millis(),
        analyze_write_ms = analysis.write.as_millis(),
        values_read_ms = values.read.as_millis(),
        values_write_ms = values.write.as_millis(),
        "sync phases"
    );
    Ok(counts)
}
