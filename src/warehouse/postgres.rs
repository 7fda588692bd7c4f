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

use sqlx::postgres::{PgConnectOptions, PgConnection, PgTypeInfo};
use sqlx::{ConnectOptions, Connection, Executor, Statement};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::bound::Bound;
use super::cell::Column;
use super::engine::WarehouseOptions;
use super::engine::{Event, Exec};
use super::error::{Class, ErrorType, QueryError};
use super::pg_run::{columns_of, run, Stop};
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
pub(super) const RUN_PREAMBLE: &str = concat!(
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

pub(super) fn param_type(b: &Bound) -> PgTypeInfo {
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
        let mut lease = match self.pool.lease(exec.deadline).await {
            Ok(l) => l,
            Err(_) => {
                let _ = tx
                    .send(Event::Failed(QueryError::timed_out(exec.timeout_secs)))
                    .await;
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
        let watch = Watch::default();
        let watchdog = self.watchdog(&watch, &exec, &tx, shutdown, conn.pid);
        let result = run(&mut conn.conn, &exec, self.target.allow_privileged, &tx).await;
        watch.done.cancel();
        let _ = watchdog.await;
        let healthy = self.settle(result, &watch, &exec, &tx, conn.pid).await;
        // Cancelling never leaves a transaction open: roll back, or drop the connection.
        // Then the session goes back to how it was opened (temp tables, settings, advisory
        // locks, prepared statements: `DISCARD ALL`), or the connection is dropped.
        if healthy && reset(&mut conn.conn).await {
            lease.conn = Some(conn);
        }
    }

    /// Cancels the run of backend `pid` when the client leaves, at shutdown or at the deadline,
    /// until `watch.done`.
    fn watchdog(
        &self,
        watch: &Watch,
        exec: &Exec,
        tx: &mpsc::Sender<Event>,
        shutdown: CancellationToken,
        pid: i32,
    ) -> tokio::task::JoinHandle<()> {
        let (done, fired, timed_out, tx) = (
            watch.done.clone(),
            watch.fired.clone(),
            watch.timed_out.clone(),
            tx.clone(),
        );
        let deadline = exec.deadline;
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
    }

    /// Reports how the run ended (a statement left running is cancelled); whether the
    /// connection may be reused.
    async fn settle(
        &self,
        result: Result<bool, Stop>,
        watch: &Watch,
        exec: &Exec,
        tx: &mpsc::Sender<Event>,
        pid: i32,
    ) -> bool {
        let fired = watch.fired.load(Ordering::SeqCst);
        let mut healthy = !fired;
        match result {
            Ok(false) | Err(Stop::Gone) => {}
            Ok(true) => {
                // Rows are left unread: stop the statement rather than drain its result.
                self.cancel(pid).await;
            }
            Err(Stop::Limit(e)) => {
                self.cancel(pid).await;
                let _ = tx.send(Event::Failed(e)).await;
            }
            Err(Stop::Refused(e)) => {
                healthy = false;
                let _ = tx.send(Event::Failed(e)).await;
            }
            Err(Stop::Error(e)) if is_cancel(&e) || fired => {
                if watch.timed_out.load(Ordering::SeqCst) {
                    let timeout = QueryError::timed_out(exec.timeout_secs);
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
        healthy
    }
}

/// What a run and its watchdog share: the run is over (`done`), the watchdog cancelled it
/// (`fired`), because of the deadline (`timed_out`).
#[derive(Default)]
struct Watch {
    done: CancellationToken,
    fired: Arc<AtomicBool>,
    timed_out: Arc<AtomicBool>,
}

/// Rolls back and resets the session (`DISCARD ALL`) within 30 seconds; whether it worked.
async fn reset(conn: &mut PgConnection) -> bool {
    let reset = async {
        conn.execute("ROLLBACK").await?;
        conn.clear_cached_statements().await?;
        conn.execute("DISCARD ALL").await?;
        Ok::<(), sqlx::Error>(())
    };
    let r = tokio::time::timeout(Duration::from_secs(30), reset).await;
    matches!(r, Ok(Ok(())))
}
