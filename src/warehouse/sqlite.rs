//! SQLite warehouses through rusqlite (on the same SQLite library sqlx links): files opened
//! read-only through the sandbox of `sqlite_guard` (path rules re-checked on the canonical path,
//! identity marker, authorizer), `ATTACH` disabled, values capped by `SQLITE_LIMIT_LENGTH`,
//! declared column types (queries.md §4.5), and SQLite's interrupt to stop a running statement
//! from another thread (§4.7).
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use rusqlite::limits::Limit;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, InterruptHandle, OpenFlags, Statement};

use super::bound::Bound;
use super::cell::{base64, Cell, Column};
use super::error::{Class, ErrorType, QueryError};
use super::limits::{Meter, ResultCaps, SQLITE_HEAP_LIMIT};
use super::sqlite_guard::{self, PathPolicy};

/// Which file a warehouse connection opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqliteFile {
    /// The Sample Database, which ferrobase writes itself.
    Sample(PathBuf),
    /// A registered file: its stored path, checked against the policy at every open.
    Registered {
        path: PathBuf,
        policy: Arc<PathPolicy>,
    },
}

impl SqliteFile {
    /// The canonical path to open, or why it may not be opened.
    fn resolve(&self) -> Result<PathBuf, QueryError> {
        match self {
            SqliteFile::Sample(p) => Ok(p.clone()),
            SqliteFile::Registered { path, policy } => policy
                .check(path)
                .map_err(|m| QueryError::db(Class::Ferrobase, m)),
        }
    }
}

/// An open, read-only connection.
pub struct SqliteConn {
    conn: Connection,
    interrupter: Arc<Interrupter>,
}

/// Stops the statement of one query run, and nothing else.
pub struct Interrupter {
    handle: InterruptHandle,
    /// The run currently executing (0 = none).
    running: Mutex<u64>,
}

impl Interrupter {
    /// Interrupts run `run` if it is still executing. The interrupt is issued under the lock
    /// that ends a run, so it can never reach the connection's next run.
    pub fn interrupt(&self, run: u64) {
        let running = self.running.lock();
        if *running == run {
            self.handle.interrupt();
        }
    }
}

/// The name of a SQLite result code (`state` in failure bodies).
fn code_name(code: i32) -> &'static str {
    match code & 0xff {
        1 => "SQLITE_ERROR",
        2 => "SQLITE_INTERNAL",
        3 => "SQLITE_PERM",
        4 => "SQLITE_ABORT",
        5 => "SQLITE_BUSY",
        6 => "SQLITE_LOCKED",
        7 => "SQLITE_NOMEM",
        8 => "SQLITE_READONLY",
        9 => "SQLITE_INTERRUPT",
        10 => "SQLITE_IOERR",
        11 => "SQLITE_CORRUPT",
        12 => "SQLITE_NOTFOUND",
        13 => "SQLITE_FULL",
        14 => "SQLITE_CANTOPEN",
        15 => "SQLITE_PROTOCOL",
        16 => "SQLITE_EMPTY",
        17 => "SQLITE_SCHEMA",
        18 => "SQLITE_TOOBIG",
        19 => "SQLITE_CONSTRAINT",
        20 => "SQLITE_MISMATCH",
        21 => "SQLITE_MISUSE",
        22 => "SQLITE_NOLFS",
        23 => "SQLITE_AUTH",
        24 => "SQLITE_FORMAT",
        25 => "SQLITE_RANGE",
        26 => "SQLITE_NOTADB",
        _ => "SQLITE_ERROR",
    }
}

/// A SQLite failure: the file is unusable (`db`, 502) or the statement was refused (400).
pub fn error(code: i32, message: String) -> QueryError {
    let error_type = match code & 0xff {
        5 | 6 | 10 | 11 | 14 | 26 => ErrorType::Db,
        _ => ErrorType::InvalidQuery,
    };
    QueryError {
        error_type,
        message,
        class: Class::Sqlite,
        state: Some(code_name(code).to_string()),
    }
}

/// A rusqlite error as a query failure: SQLite's own code and message when it has them.
fn failure(e: rusqlite::Error) -> QueryError {
    match e {
        rusqlite::Error::SqliteFailure(f, message) => {
            let message = message.unwrap_or_else(|| f.to_string());
            error(f.extended_code, message)
        }
        other => QueryError::invalid(other.to_string()),
    }
}

fn interrupted(e: &rusqlite::Error) -> bool {
    e.sqlite_error_code() == Some(ErrorCode::OperationInterrupted)
}

impl SqliteConn {
    /// Opens `file` read-only inside the sandbox; `max_cell` bytes is the largest string or
    /// blob any expression may build.
    pub fn open(file: &SqliteFile, max_cell: usize) -> Result<SqliteConn, QueryError> {
        let path = file.resolve()?;
        // The canonical path has no symlink left; NOFOLLOW refuses one planted since.
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW;
        let conn = Connection::open_with_flags(&path, flags).map_err(failure)?;
        // Process-wide, so set once: SQLite answers NOMEM past it instead of exhausting the
        // process.
        static HEAP_LIMIT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
        if HEAP_LIMIT.get().is_none() {
            conn.pragma_update(None, "hard_heap_limit", SQLITE_HEAP_LIMIT)
                .map_err(failure)?;
            let _ = HEAP_LIMIT.set(());
        }
        // No ATTACH (nor VACUUM INTO): SQL may read this file and nothing else.
        conn.set_limit(Limit::SQLITE_LIMIT_ATTACHED, 0);
        conn.set_limit(
            Limit::SQLITE_LIMIT_LENGTH,
            i32::try_from(max_cell).unwrap_or(i32::MAX),
        );
        conn.busy_timeout(Duration::from_secs(5)).map_err(failure)?;
        let marked: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND lower(name) = ?1",
                [sqlite_guard::IDENTITY_TABLE],
                |r| r.get(0),
            )
            .map_err(failure)?;
        if marked > 0 {
            return Err(QueryError::db(Class::Ferrobase, sqlite_guard::OWN_DATABASE));
        }
        sqlite_guard::install(&conn);
        let interrupter = Arc::new(Interrupter {
            handle: conn.get_interrupt_handle(),
            running: Mutex::new(0),
        });
        Ok(SqliteConn { conn, interrupter })
    }

    pub fn interrupter(&self) -> Arc<Interrupter> {
        self.interrupter.clone()
    }

    fn set_running(&self, run: u64) {
        *self.interrupter.running.lock() = run;
    }

    /// Whether the connection is as it was opened: no transaction left open (the authorizer
    /// refuses transaction control and temp objects; this proves it before reuse).
    pub fn is_clean(&self) -> bool {
        self.conn.is_autocommit()
            && self
                .conn
                .query_row("SELECT count(*) FROM temp.sqlite_master", [], |r| {
                    r.get::<_, i64>(0)
                })
                .is_ok_and(|n| n == 0)
    }

    /// Checks that the file is a readable SQLite database (the connection test of §1.5).
    pub fn check(&self) -> Result<(), QueryError> {
        self.conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))
            .map_err(failure)
    }

    /// The columns of `sql` without running it (content.md §2.3): expressions get `type/*`.
    pub fn describe(&self, sql: &str) -> Result<Vec<Column>, QueryError> {
        let stmt = self.conn.prepare(sql).map_err(failure)?;
        Ok(columns(&stmt).into_iter().map(|(c, _)| c).collect())
    }

    /// Runs `sql` as run number `run`, handing events to `sink` (which answers `false` once
    /// nobody listens). Reads at most `cap + 1` rows.
    pub fn run(
        &self,
        run: u64,
        sql: &str,
        params: &[Bound],
        cap: usize,
        caps: ResultCaps,
        sink: &mut dyn FnMut(super::engine::Event) -> bool,
    ) -> Result<(), RunError> {
        self.set_running(run);
        let result = self.run_statement(sql, params, cap, caps, sink);
        self.set_running(0);
        result.map_err(|e| match e {
            RunError::Query(q) => RunError::Query(explain_limits(q, caps)),
            other => other,
        })
    }

    fn run_statement(
        &self,
        sql: &str,
        params: &[Bound],
        cap: usize,
        caps: ResultCaps,
        sink: &mut dyn FnMut(super::engine::Event) -> bool,
    ) -> Result<(), RunError> {
        use super::engine::Event;
        let stepped = |e: rusqlite::Error| {
            if interrupted(&e) {
                RunError::Interrupted
            } else {
                RunError::Query(failure(e))
            }
        };
        let mut stmt = self.conn.prepare(sql).map_err(stepped)?;
        bind(&mut stmt, params).map_err(RunError::Query)?;
        let (mut columns, mut typed): (Vec<Column>, Vec<bool>) = columns(&stmt).into_iter().unzip();
        if !sink(Event::Columns(columns.clone())) {
            return Err(RunError::Gone);
        }
        let width = columns.len();
        let mut rows = stmt.raw_query();
        let mut batch = super::engine::Batcher::new();
        let mut count = 0usize;
        let mut truncated = false;
        let mut meter = Meter::new(caps);
        while let Some(row) = rows.next().map_err(stepped)? {
            if count == cap {
                truncated = true;
                break;
            }
            let mut cells = Vec::with_capacity(width);
            for i in 0..width {
                let value = row.get_ref(i).map_err(|e| RunError::Query(failure(e)))?;
                if let ValueRef::Text(b) | ValueRef::Blob(b) = value {
                    meter.precheck(b.len()).map_err(RunError::Query)?;
                }
                if !typed[i] {
                    if let Some((base, db)) = storage_class(&value) {
                        typed[i] = true;
                        columns[i].base_type = base;
                        columns[i].database_type = db.into();
                    }
                }
                let c = cell(value);
                meter.cell(&c).map_err(RunError::Query)?;
                cells.push(c);
            }
            meter.end_row();
            count += 1;
            if let Some(rows) = batch.push(cells) {
                if !sink(Event::Rows(rows)) {
                    return Err(RunError::Gone);
                }
            }
        }
        if let Some(rows) = batch.finish() {
            if !sink(Event::Rows(rows)) {
                return Err(RunError::Gone);
            }
        }
        sink(Event::Done { columns, truncated });
        Ok(())
    }
}

/// SQLite's own refusals of a limit, reworded to name the setting behind them.
fn explain_limits(mut e: QueryError, caps: ResultCaps) -> QueryError {
    match e.state.as_deref() {
        Some("SQLITE_TOOBIG") => {
            e.message = format!(
                "{}: a value may hold at most {} bytes (--query-max-cell-bytes).",
                e.message, caps.cell
            );
        }
        Some("SQLITE_NOMEM") => {
            e.message = format!(
                "{}: the statement needs more memory than the {} MiB ferrobase allows SQLite.",
                e.message,
                SQLITE_HEAP_LIMIT >> 20
            );
        }
        _ => {}
    }
    e
}

/// Why a run stopped early.
#[derive(Debug)]
pub enum RunError {
    Query(QueryError),
    /// SQLite's interrupt (timeout or cancellation; the caller knows which).
    Interrupted,
    /// The receiver went away.
    Gone,
}

fn bind(stmt: &mut Statement<'_>, params: &[Bound]) -> Result<(), QueryError> {
    for (i, p) in params.iter().enumerate() {
        let idx = i + 1;
        let r = match p {
            Bound::Text(s) => stmt.raw_bind_parameter(idx, s.as_str()),
            Bound::Int(v) => stmt.raw_bind_parameter(idx, *v),
            Bound::Float(v) => stmt.raw_bind_parameter(idx, *v),
            Bound::Bool(v) => stmt.raw_bind_parameter(idx, i64::from(*v)),
        };
        r.map_err(failure)?;
    }
    Ok(())
}

/// Each result column, typed by its declaration, and whether it has one (expression columns
/// are typed by their first non-null value instead).
fn columns(stmt: &Statement<'_>) -> Vec<(Column, bool)> {
    stmt.columns()
        .into_iter()
        .map(|c| {
            let name = c.name().to_string();
            match c.decl_type() {
                Some(d) => (declared_column(name, d), true),
                None => (
                    Column {
                        name,
                        base_type: "type/*",
                        database_type: "NULL".into(),
                    },
                    false,
                ),
            }
        })
        .collect()
}

/// A column typed by its declaration (§4.5).
fn declared_column(name: String, decl: &str) -> Column {
    let d = decl.to_ascii_uppercase();
    Column {
        name,
        base_type: declared_base_type(&d),
        database_type: d,
    }
}

/// The base type of a declared column type (queries.md §4.5; data-model.md §2.4).
pub fn declared_base_type(decl: &str) -> &'static str {
    let d = decl.to_ascii_uppercase();
    if d.contains("BIGINT") {
        "type/BigInteger"
    } else if d.contains("INT") {
        "type/Integer"
    } else if d.contains("REAL") || d.contains("FLOA") || d.contains("DOUB") {
        "type/Float"
    } else if d.contains("NUMERIC") || d.contains("DECIMAL") {
        "type/Decimal"
    } else if d.contains("BOOL") {
        "type/Boolean"
    } else if d.contains("DATETIME") || d.contains("TIMESTAMP") {
        "type/DateTime"
    } else if d.contains("DATE") {
        "type/Date"
    } else if d.contains("TIME") {
        "type/Time"
    } else if d.contains("CHAR") || d.contains("CLOB") || d.contains("TEXT") {
        "type/Text"
    } else {
        "type/*"
    }
}

/// Base type and name of a non-null value's storage class (expression columns, §4.5).
fn storage_class(v: &ValueRef<'_>) -> Option<(&'static str, &'static str)> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(_) => Some(("type/Integer", "INTEGER")),
        ValueRef::Real(_) => Some(("type/Float", "REAL")),
        ValueRef::Text(_) => Some(("type/Text", "TEXT")),
        ValueRef::Blob(_) => Some(("type/*", "BLOB")),
    }
}

/// A value as stored (§4.5); blobs as base64.
fn cell(v: ValueRef<'_>) -> Cell {
    match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Real(f) => Cell::Float(f),
        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Cell::Text(base64(b)),
    }
}
