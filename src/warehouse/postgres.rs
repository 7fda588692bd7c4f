//! Postgres warehouses (queries.md §1.1, §1.5, §4.1, §4.7): every statement runs inside
//! `BEGIN READ ONLY … ROLLBACK` with the session time zone set; a statement is stopped with
//! `pg_cancel_backend` from a second connection when its deadline passes or its client leaves.
//!
//! The sandbox (docs/security.md): every new connection starts with
//! `default_transaction_read_only`, `statement_timeout` and `idle_in_transaction_session_timeout`
//! set by the startup packet, is refused when its role is privileged (superuser, or a member of
//! the roles that run server programs or read and write server files) unless the admin opted in,
//! and is refused when the database is ferrobase's own application database. Every connection
//! going back to the pool is reset with `DISCARD ALL` (temp tables, session settings, advisory
//! locks, prepared statements), so nothing one query leaves behind reaches the next.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::TryStreamExt;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgTypeInfo};
use sqlx::{Column as _, ConnectOptions, Connection, Executor, Row, Statement, ValueRef};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::bound::Bound;
use super::cell::{Cell, Column};
use super::engine::WarehouseOptions;
use super::engine::{Batcher, Event, Exec};
use super::error::{Class, ErrorType, QueryError};
use super::limits::Meter;
use super::pgdecode::{self, Kind};
use super::pool::Pool;

/// Connection settings of a Postgres warehouse.
#[derive(Debug, Clone)]
pub struct PgTarget {
    pub opts: PgConnectOptions,
    /// `details."allow-privileged-role"`: the admin accepts a privileged role.
    pub allow_privileged: bool,
}

pub const PRIVILEGED: &str = "Connect with a role that is not a superuser and cannot run server programs or read server files.";

/// SQL: whether the connected role may reach beyond the database (its server's programs and
/// files): it is, or is a member of (so may `SET ROLE` to), a superuser role or one of the
/// roles that grant server programs and files. `pg_has_role(…, 'MEMBER')` counts indirect and
/// `NOINHERIT` memberships too, and every role is a member of itself.
macro_rules! privileged_sql {
    () => {
        "EXISTS (SELECT 1 FROM pg_catalog.pg_roles r \
         WHERE (r.rolsuper OR r.rolname IN \
         ('pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files')) \
         AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER'))"
    };
}

/// SQL: whether the database holds ferrobase's identity table (an application database).
macro_rules! identity_sql {
    ($param:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM pg_catalog.pg_class WHERE relname = ",
            $param,
            " AND relkind IN ('r', 'p'))"
        )
    };
}

/// The checks of a new connection.
const VET: &str = concat!("SELECT ", privileged_sql!(), ", ", identity_sql!("$1"));

/// First statement of every run: the session time zone, and both checks again.
const RUN_PREAMBLE: &str = concat!(
    "SELECT set_config('TimeZone', $1, true), ",
    privileged_sql!(),
    ", ",
    identity_sql!("$2")
);

/// Why a connection was not usable.
#[derive(Debug)]
pub enum ConnectError {
    Sql(sqlx::Error),
    /// Connected, but ferrobase refuses to use it: the message and the `details` key to blame.
    Refused(&'static str, &'static [&'static str]),
}

impl From<sqlx::Error> for ConnectError {
    fn from(e: sqlx::Error) -> Self {
        ConnectError::Sql(e)
    }
}

impl ConnectError {
    fn query_error(&self) -> QueryError {
        match self {
            ConnectError::Sql(e) => {
                let mut err = query_error(e);
                err.error_type = ErrorType::Db;
                err
            }
            ConnectError::Refused(m, _) => QueryError::db(Class::Ferrobase, *m),
        }
    }
}

pub struct PgConn {
    conn: PgConnection,
    pid: i32,
}

pub struct PgWarehouse {
    target: PgTarget,
    options: WarehouseOptions,
    pool: Arc<Pool<PgConn>>,
}

/// A failed connection test: the message and the `details` keys to blame (§1.5).
#[derive(Debug, Clone)]
pub struct ConnectFailure {
    pub message: String,
    pub keys: &'static [&'static str],
    /// The connection worked but ferrobase's own rules refuse it (application database,
    /// privileged role): the message says what to change, so it is also the hint.
    pub refused: bool,
}

const CONNECT_BUDGET: Duration = Duration::from_secs(10);

/// Which `details` keys a connection error points at.
fn classify(e: &sqlx::Error) -> ConnectFailure {
    let message = match e {
        sqlx::Error::Database(db) => db.message().to_string(),
        other => other.to_string(),
    };
    let lower = message.to_ascii_lowercase();
    let keys: &'static [&'static str] = match e {
        sqlx::Error::Tls(_) => &["ssl"],
        _ if lower.contains("ssl") || lower.contains("encryption") || lower.contains("tls") => {
            &["ssl"]
        }
        sqlx::Error::Database(db) => match db.code().as_deref() {
            Some("28P01") | Some("28000") => &["user", "password"],
            Some("3D000") => &["dbname"],
            _ => &["host"],
        },
        _ => &["host", "port"],
    };
    ConnectFailure {
        message,
        keys,
        refused: false,
    }
}

/// A query failure reported by Postgres or by the connection.
fn query_error(e: &sqlx::Error) -> QueryError {
    match e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.to_string());
            let connection = code
                .as_deref()
                .is_some_and(|c| c.starts_with("08") || c.starts_with("57P"));
            QueryError {
                error_type: if connection {
                    ErrorType::Db
                } else {
                    ErrorType::InvalidQuery
                },
                message: db.message().to_string(),
                class: Class::Postgres,
                state: code,
            }
        }
        other => QueryError::db(Class::Postgres, other.to_string()),
    }
}

fn is_cancel(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("57014"))
}

fn param_type(b: &Bound) -> PgTypeInfo {
    match b {
        Bound::Text(_) => <String as sqlx::Type<sqlx::Postgres>>::type_info(),
        Bound::Int(_) => <i64 as sqlx::Type<sqlx::Postgres>>::type_info(),
        Bound::Float(_) => <f64 as sqlx::Type<sqlx::Postgres>>::type_info(),
        Bound::Bool(_) => <bool as sqlx::Type<sqlx::Postgres>>::type_info(),
    }
}

impl PgWarehouse {
    pub fn new(target: PgTarget, options: WarehouseOptions) -> PgWarehouse {
        PgWarehouse {
            target,
            options,
            pool: Pool::new(options.pool_size),
        }
    }

    pub fn clear(&self) {
        self.pool.clear();
    }

    async fn connect_raw(&self, budget: Duration) -> Result<PgConnection, sqlx::Error> {
        let opts = self.target.opts.clone().disable_statement_logging();
        match tokio::time::timeout(budget, opts.connect()).await {
            Ok(r) => r,
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }

    /// A connection for queries: session guards set by the startup packet (so `DISCARD ALL`
    /// returns to them), and the role and database checked.
    async fn connect(&self, budget: Duration) -> Result<PgConn, ConnectError> {
        let ms = self.options.timeout_secs.saturating_mul(1000).to_string();
        let opts = self
            .target
            .opts
            .clone()
            .disable_statement_logging()
            .options([
                ("default_transaction_read_only", "on"),
                ("statement_timeout", ms.as_str()),
                ("idle_in_transaction_session_timeout", ms.as_str()),
            ]);
        let mut conn = match tokio::time::timeout(budget, opts.connect()).await {
            Ok(r) => r?,
            Err(_) => return Err(sqlx::Error::PoolTimedOut.into()),
        };
        if let Err(e) = self.vet(&mut conn).await {
            let _ = conn.close().await;
            return Err(e);
        }
        let (pid,): (i32,) = sqlx::query_as("SELECT pg_backend_pid()")
            .fetch_one(&mut conn)
            .await?;
        Ok(PgConn { conn, pid })
    }

    /// Refuses a privileged role (unless allowed) and ferrobase's own application database.
    async fn vet(&self, conn: &mut PgConnection) -> Result<(), ConnectError> {
        let (privileged, own): (bool, bool) = sqlx::query_as(VET)
            .bind(super::sqlite_guard::IDENTITY_TABLE)
            .fetch_one(&mut *conn)
            .await?;
        if own {
            return Err(ConnectError::Refused(
                super::sqlite_guard::OWN_DATABASE,
                &["dbname"],
            ));
        }
        if privileged && !self.target.allow_privileged {
            return Err(ConnectError::Refused(PRIVILEGED, &["user"]));
        }
        Ok(())
    }

    /// The connection test of §1.5: connect, vet and run `SELECT 1` within 10 s.
    pub async fn test(&self) -> Result<(), ConnectFailure> {
        let attempt = async {
            let mut c = self.connect(CONNECT_BUDGET).await?;
            sqlx::query("SELECT 1").execute(&mut c.conn).await?;
            let _ = c.conn.close().await;
            Ok::<(), ConnectError>(())
        };
        match tokio::time::timeout(CONNECT_BUDGET, attempt).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(ConnectError::Sql(sqlx::Error::PoolTimedOut))) | Err(_) => Err(ConnectFailure {
                message: "No answer from the database server within 10 seconds.".into(),
                keys: &["host"],
                refused: false,
            }),
            Ok(Err(ConnectError::Sql(e))) => Err(classify(&e)),
            Ok(Err(ConnectError::Refused(message, keys))) => Err(ConnectFailure {
                message: message.into(),
                keys,
                refused: true,
            }),
        }
    }

    /// Asks the server to cancel whatever backend `pid` runs.
    async fn cancel(&self, pid: i32) {
        let attempt = async {
            let mut c = self.connect_raw(Duration::from_secs(5)).await?;
            sqlx::query("SELECT pg_cancel_backend($1)")
                .bind(pid)
                .execute(&mut c)
                .await?;
            let _ = c.close().await;
            Ok::<(), sqlx::Error>(())
        };
        if let Err(e) = attempt.await {
            tracing::warn!(error = %e, "could not cancel a warehouse statement");
        }
    }

    /// Columns of `sql` without running it (content.md §2.3).
    pub async fn describe(&self, sql: &str, params: &[Bound]) -> Result<Vec<Column>, QueryError> {
        let mut c = self
            .connect(CONNECT_BUDGET)
            .await
            .map_err(|e| e.query_error())?;
        let types: Vec<PgTypeInfo> = params.iter().map(param_type).collect();
        let r = async {
            c.conn.execute("BEGIN READ ONLY").await?;
            let stmt = c.conn.prepare_with(sql, &types).await?;
            Ok::<Vec<Column>, sqlx::Error>(columns_of(stmt.columns()).0)
        }
        .await;
        let _ = c.conn.close().await;
        r.map_err(|e| query_error(&e))
    }

    /// A connection inside `BEGIN READ ONLY`: the pooled one, or a new one when there is none
    /// or the pooled one turns out to be dead (the server restarted since it was opened).
    async fn ready(&self, pooled: Option<PgConn>, exec: &Exec) -> Result<PgConn, QueryError> {
        let mut pooled = pooled;
        loop {
            let reused = pooled.is_some();
            let mut c = match pooled.take() {
                Some(c) => c,
                None => {
                    let budget = exec
                        .deadline
                        .saturating_duration_since(tokio::time::Instant::now())
                        .min(CONNECT_BUDGET);
                    match self.connect(budget).await {
                        Ok(c) => c,
                        Err(ConnectError::Sql(sqlx::Error::PoolTimedOut)) => {
                            return Err(QueryError::timed_out(exec.timeout_secs))
                        }
                        Err(e) => return Err(e.query_error()),
                    }
                }
            };
            match c.conn.execute("BEGIN READ ONLY").await {
                Ok(_) => return Ok(c),
                Err(e) if reused && (query_error(&e).error_type == ErrorType::Db) => continue,
                Err(e) => {
                    let mut err = query_error(&e);
                    err.error_type = ErrorType::Db;
                    return Err(err);
                }
            }
        }
    }

    pub async fn execute(&self, exec: Exec, tx: mpsc::Sender<Event>, shutdown: CancellationToken) {
        let timeout = QueryError::timed_out(exec.timeout_secs);
        let mut lease = match self.pool.lease(exec.deadline).await {
            Ok(l) => l,
            Err(_) => {
                let _ = tx.send(Event::Failed(timeout)).await;
                return;
            }
        };
        let mut conn = match self.ready(lease.conn.take(), &exec).await {
            Ok(c) => c,
            Err(e) => {
                let _ = tx.send(Event::Failed(e)).await;
                return;
            }
        };
        let done = CancellationToken::new();
        let fired = Arc::new(AtomicBool::new(false));
        let timed_out = Arc::new(AtomicBool::new(false));
        let watchdog = {
            let (done, fired, timed_out, tx) =
                (done.clone(), fired.clone(), timed_out.clone(), tx.clone());
            let deadline = exec.deadline;
            let pid = conn.pid;
            let this = PgWarehouse {
                target: self.target.clone(),
                options: self.options,
                pool: self.pool.clone(),
            };
            tokio::spawn(async move {
                tokio::select! {
                    _ = done.cancelled() => return,
                    _ = tx.closed() => {}
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep_until(deadline) => timed_out.store(true, Ordering::SeqCst),
                }
                fired.store(true, Ordering::SeqCst);
                // A cancel that reaches the server between statements is ignored, so repeat it
                // until the run is over (the connection is closed afterwards either way).
                loop {
                    this.cancel(pid).await;
                    tokio::select! {
                        _ = done.cancelled() => return,
                        _ = tokio::time::sleep(Duration::from_millis(500)) => {}
                    }
                }
            })
        };
        let result = run(&mut conn.conn, &exec, self.target.allow_privileged, &tx).await;
        done.cancel();
        let _ = watchdog.await;
        let mut healthy = !fired.load(Ordering::SeqCst);
        match result {
            Ok(false) => {}
            Ok(true) => {
                // Rows are left unread: stop the statement rather than drain its result.
                self.cancel(conn.pid).await;
            }
            Err(Stop::Gone) => {}
            Err(Stop::Limit(e)) => {
                self.cancel(conn.pid).await;
                let _ = tx.send(Event::Failed(e)).await;
            }
            Err(Stop::Refused(e)) => {
                healthy = false;
                let _ = tx.send(Event::Failed(e)).await;
            }
            Err(Stop::Error(e)) if is_cancel(&e) || fired.load(Ordering::SeqCst) => {
                if timed_out.load(Ordering::SeqCst) {
                    let _ = tx.send(Event::Failed(timeout)).await;
                }
            }
            Err(Stop::Error(e)) => {
                let err = query_error(&e);
                if err.error_type == ErrorType::Db || !matches!(e, sqlx::Error::Database(_)) {
                    healthy = false;
                }
                let _ = tx.send(Event::Failed(err)).await;
            }
        }
        // Cancelling never leaves a transaction open: roll back, or drop the connection.
        // Then the session goes back to how it was opened (temp tables, settings, advisory
        // locks, prepared statements: `DISCARD ALL`), or the connection is dropped.
        if healthy {
            let reset = async {
                conn.conn.execute("ROLLBACK").await?;
                conn.conn.clear_cached_statements().await?;
                conn.conn.execute("DISCARD ALL").await?;
                Ok::<(), sqlx::Error>(())
            };
            let r = tokio::time::timeout(Duration::from_secs(30), reset).await;
            healthy = matches!(r, Ok(Ok(())));
        }
        if healthy {
            lease.conn = Some(conn);
        }
    }
}

enum Stop {
    Gone,
    Error(sqlx::Error),
    /// A byte cap was reached (rows are left unread).
    Limit(QueryError),
    /// The role or database may not be used (the connection is dropped).
    Refused(QueryError),
}

impl From<sqlx::Error> for Stop {
    fn from(e: sqlx::Error) -> Self {
        Stop::Error(e)
    }
}

fn columns_of(cols: &[sqlx::postgres::PgColumn]) -> (Vec<Column>, Vec<Kind>) {
    let mut columns = Vec::with_capacity(cols.len());
    let mut kinds = Vec::with_capacity(cols.len());
    for c in cols {
        let (database_type, base_type, kind) = pgdecode::describe(c.type_info());
        columns.push(Column {
            name: c.name().to_string(),
            base_type,
            database_type,
        });
        kinds.push(kind);
    }
    (columns, kinds)
}

/// Runs the statement; `Ok(true)` when rows were left unread (truncated).
async fn run(
    conn: &mut PgConnection,
    exec: &Exec,
    allow_privileged: bool,
    tx: &mpsc::Sender<Event>,
) -> Result<bool, Stop> {
    // The role and database are vetted again on every run, in the round trip that sets the
    // time zone: a role granted superuser while its connection sat in the pool is caught too.
    let (_, privileged, own): (String, bool, bool) = sqlx::query_as(RUN_PREAMBLE)
        .bind(&exec.timezone)
        .bind(super::sqlite_guard::IDENTITY_TABLE)
        .fetch_one(&mut *conn)
        .await?;
    if own {
        return Err(Stop::Refused(QueryError::db(
            Class::Ferrobase,
            super::sqlite_guard::OWN_DATABASE,
        )));
    }
    if privileged && !allow_privileged {
        return Err(Stop::Refused(QueryError::db(Class::Ferrobase, PRIVILEGED)));
    }
    let types: Vec<PgTypeInfo> = exec.params.iter().map(param_type).collect();
    let stmt = conn.prepare_with(&exec.sql, &types).await?;
    let (columns, kinds) = columns_of(stmt.columns());
    if tx.send(Event::Columns(columns.clone())).await.is_err() {
        return Err(Stop::Gone);
    }
    let mut q = stmt.query();
    for p in &exec.params {
        q = match p {
            Bound::Text(s) => q.bind(s.clone()),
            Bound::Int(i) => q.bind(*i),
            Bound::Float(f) => q.bind(*f),
            Bound::Bool(b) => q.bind(*b),
        };
    }
    let zone = (exec.timezone != "UTC")
        .then(|| super::tz::Zone::named(&exec.timezone))
        .flatten();
    let mut rows = q.fetch(&mut *conn);
    let mut batch = Batcher::new();
    let mut count = 0usize;
    let mut truncated = false;
    let mut meter = Meter::new(exec.caps);
    while let Some(row) = rows.try_next().await? {
        if count == exec.cap {
            truncated = true;
            break;
        }
        count += 1;
        let mut cells = Vec::with_capacity(kinds.len());
        for (i, kind) in kinds.iter().enumerate() {
            let cell = match row.try_get_raw(i) {
                Ok(v) if v.is_null() => Cell::Null,
                Ok(v) => {
                    let format = v.format();
                    match v.as_bytes() {
                        Ok(bytes) => {
                            meter.precheck(bytes.len()).map_err(Stop::Limit)?;
                            pgdecode::decode(kind, format, bytes, zone.as_ref())
                        }
                        Err(_) => Cell::Null,
                    }
                }
                Err(_) => Cell::Null,
            };
            meter.cell(&cell).map_err(Stop::Limit)?;
            cells.push(cell);
        }
        meter.end_row();
        if let Some(b) = batch.push(cells) {
            if tx.send(Event::Rows(b)).await.is_err() {
                return Err(Stop::Gone);
            }
        }
    }
    drop(rows);
    if let Some(b) = batch.finish() {
        if tx.send(Event::Rows(b)).await.is_err() {
            return Err(Stop::Gone);
        }
    }
    let _ = tx.send(Event::Done { columns, truncated }).await;
    Ok(truncated)
}
