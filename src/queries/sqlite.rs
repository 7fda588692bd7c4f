//! SQLite warehouses through the SQLite C API (the same library sqlx links): files opened
//! read-only with `ATTACH` disabled, declared column types (queries.md §4.5), and
//! `sqlite3_interrupt` to stop a running statement from another thread (§4.7).
//!
//! Every `unsafe` block calls the C API on a handle this module owns; a connection is used by
//! one thread at a time, and [`Interrupter`] only ever calls `sqlite3_interrupt`, under a lock
//! that the connection's `Drop` takes before closing the handle.
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int};
use std::ptr;
use std::sync::Arc;

use libsqlite3_sys as ffi;
use parking_lot::Mutex;

use super::cell::{base64, Cell, Column};
use super::error::{Class, ErrorType, QueryError};
use super::template::Bound;

/// An open, read-only connection.
pub struct SqliteConn {
    db: *mut ffi::sqlite3,
    interrupter: Arc<Interrupter>,
}

// SAFETY: the handle is opened in serialized (FULLMUTEX) mode and used by one thread at a time.
unsafe impl Send for SqliteConn {}

/// Stops the statement of one query run, and nothing else.
pub struct Interrupter {
    state: Mutex<InterruptState>,
}

struct InterruptState {
    /// Null once the connection is closed.
    db: *mut ffi::sqlite3,
    /// The run currently executing (0 = none).
    running: u64,
}

// SAFETY: the pointer is only used for `sqlite3_interrupt`, which SQLite allows from any
// thread, and only while `db` is non-null (the closing side nulls it under the same lock).
unsafe impl Send for InterruptState {}

impl Interrupter {
    /// Interrupts run `run` if it is still executing.
    pub fn interrupt(&self, run: u64) {
        let s = self.state.lock();
        if s.running == run && !s.db.is_null() {
            // SAFETY: see the type's comment.
            unsafe { ffi::sqlite3_interrupt(s.db) };
        }
    }
}

impl Drop for SqliteConn {
    fn drop(&mut self) {
        let mut s = self.interrupter.state.lock();
        s.db = ptr::null_mut();
        // SAFETY: `db` came from `sqlite3_open_v2` and is closed exactly once.
        unsafe { ffi::sqlite3_close(self.db) };
    }
}

/// The name of a SQLite result code (`state` in failure bodies).
fn code_name(code: c_int) -> &'static str {
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
pub fn error(code: c_int, message: String) -> QueryError {
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

fn errmsg(db: *mut ffi::sqlite3) -> String {
    // SAFETY: `db` is a live handle (or null, for which SQLite returns a static string).
    unsafe {
        let m = ffi::sqlite3_errmsg(db);
        if m.is_null() {
            "unknown SQLite error".into()
        } else {
            CStr::from_ptr(m).to_string_lossy().into_owned()
        }
    }
}

impl SqliteConn {
    /// Opens `path` read-only. Errors carry SQLite's code and message.
    pub fn open(path: &str) -> Result<SqliteConn, (c_int, String)> {
        let c_path = CString::new(path).map_err(|_| (14, "invalid file name".to_string()))?;
        let mut db: *mut ffi::sqlite3 = ptr::null_mut();
        let flags = ffi::SQLITE_OPEN_READONLY | ffi::SQLITE_OPEN_FULLMUTEX;
        // SAFETY: valid C string and out-pointer; the handle is closed on every path.
        let rc = unsafe { ffi::sqlite3_open_v2(c_path.as_ptr(), &mut db, flags, ptr::null()) };
        if rc != ffi::SQLITE_OK {
            let msg = errmsg(db);
            // SAFETY: closing a possibly-null handle is allowed.
            unsafe { ffi::sqlite3_close(db) };
            return Err((rc, msg));
        }
        // SAFETY: `db` is open.
        unsafe {
            // No ATTACH (nor VACUUM INTO): SQL may read this file and nothing else.
            ffi::sqlite3_limit(db, ffi::SQLITE_LIMIT_ATTACHED, 0);
            ffi::sqlite3_busy_timeout(db, 5000);
        }
        Ok(SqliteConn {
            db,
            interrupter: Arc::new(Interrupter {
                state: Mutex::new(InterruptState { db, running: 0 }),
            }),
        })
    }

    pub fn interrupter(&self) -> Arc<Interrupter> {
        self.interrupter.clone()
    }

    fn set_running(&self, run: u64) {
        self.interrupter.state.lock().running = run;
    }

    fn prepare(&self, sql: &str) -> Result<Stmt, QueryError> {
        let len = c_int::try_from(sql.len())
            .map_err(|_| QueryError::invalid("The query is too long."))?;
        let mut stmt: *mut ffi::sqlite3_stmt = ptr::null_mut();
        let mut tail: *const c_char = ptr::null();
        // SAFETY: `sql` outlives the call; SQLite copies what it needs.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(self.db, sql.as_ptr().cast(), len, &mut stmt, &mut tail)
        };
        if rc != ffi::SQLITE_OK {
            return Err(error(rc, errmsg(self.db)));
        }
        if stmt.is_null() {
            return Err(QueryError::invalid(super::error::ONE_STATEMENT));
        }
        Ok(Stmt(stmt))
    }

    /// Checks that the file is a readable SQLite database (the connection test of §1.5).
    pub fn check(&self) -> Result<(), QueryError> {
        let stmt = self.prepare("SELECT count(*) FROM sqlite_master")?;
        // SAFETY: `stmt` is a live statement of this connection.
        let rc = unsafe { ffi::sqlite3_step(stmt.0) };
        if rc == ffi::SQLITE_ROW || rc == ffi::SQLITE_DONE {
            Ok(())
        } else {
            Err(error(rc, errmsg(self.db)))
        }
    }

    /// The columns of `sql` without running it (content.md §2.3): expressions get `type/*`.
    pub fn describe(&self, sql: &str) -> Result<Vec<Column>, QueryError> {
        let stmt = self.prepare(sql)?;
        Ok(stmt
            .columns()
            .into_iter()
            .map(|(name, decl)| match decl {
                Some(d) => declared_column(name, &d),
                None => Column {
                    name,
                    base_type: "type/*",
                    database_type: "NULL".into(),
                },
            })
            .collect())
    }

    /// Runs `sql` as run number `run`, handing events to `sink` (which answers `false` once
    /// nobody listens). Reads at most `cap + 1` rows.
    pub fn run(
        &self,
        run: u64,
        sql: &str,
        params: &[Bound],
        cap: usize,
        sink: &mut dyn FnMut(super::engine::Event) -> bool,
    ) -> Result<(), RunError> {
        use super::engine::Event;
        self.set_running(run);
        let result = (|| {
            let stmt = self.prepare(sql).map_err(RunError::Query)?;
            stmt.bind(self.db, params).map_err(RunError::Query)?;
            let cols = stmt.columns();
            let mut columns: Vec<Column> = Vec::with_capacity(cols.len());
            let mut typed: Vec<bool> = Vec::with_capacity(cols.len());
            for (name, decl) in cols {
                typed.push(decl.is_some());
                columns.push(match decl {
                    Some(d) => declared_column(name, &d),
                    None => Column {
                        name,
                        base_type: "type/*",
                        database_type: "NULL".into(),
                    },
                });
            }
            if !sink(Event::Columns(columns.clone())) {
                return Err(RunError::Gone);
            }
            let mut batch = super::engine::Batcher::new();
            let mut count = 0usize;
            let mut truncated = false;
            loop {
                // SAFETY: `stmt` is a live, bound statement of this connection.
                let rc = unsafe { ffi::sqlite3_step(stmt.0) };
                if rc == ffi::SQLITE_DONE {
                    break;
                }
                if rc != ffi::SQLITE_ROW {
                    if rc & 0xff == ffi::SQLITE_INTERRUPT {
                        return Err(RunError::Interrupted);
                    }
                    return Err(RunError::Query(error(rc, errmsg(self.db))));
                }
                if count == cap {
                    truncated = true;
                    break;
                }
                let row = stmt.row(columns.len());
                for (i, cell) in row.iter().enumerate() {
                    if !typed[i] && !matches!(cell, Cell::Null) {
                        typed[i] = true;
                        let (base, db) = storage_class(stmt.column_type(i));
                        columns[i].base_type = base;
                        columns[i].database_type = db.into();
                    }
                }
                count += 1;
                if let Some(rows) = batch.push(row) {
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
        })();
        self.set_running(0);
        result
    }
}

/// Why a run stopped early.
#[derive(Debug)]
pub enum RunError {
    Query(QueryError),
    /// `sqlite3_interrupt` (timeout or cancellation; the caller knows which).
    Interrupted,
    /// The receiver went away.
    Gone,
}

/// A column typed by its declaration (§4.5).
fn declared_column(name: String, decl: &str) -> Column {
    let d = decl.to_ascii_uppercase();
    let base = if d.contains("BIGINT") {
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
    };
    Column {
        name,
        base_type: base,
        database_type: d,
    }
}

/// Base type and name of a value's storage class (expression columns, §4.5).
fn storage_class(code: c_int) -> (&'static str, &'static str) {
    match code {
        ffi::SQLITE_INTEGER => ("type/Integer", "INTEGER"),
        ffi::SQLITE_FLOAT => ("type/Float", "REAL"),
        ffi::SQLITE_TEXT => ("type/Text", "TEXT"),
        ffi::SQLITE_BLOB => ("type/*", "BLOB"),
        _ => ("type/*", "NULL"),
    }
}

struct Stmt(*mut ffi::sqlite3_stmt);

impl Drop for Stmt {
    fn drop(&mut self) {
        // SAFETY: finalized exactly once.
        unsafe { ffi::sqlite3_finalize(self.0) };
    }
}

impl Stmt {
    fn bind(&self, db: *mut ffi::sqlite3, params: &[Bound]) -> Result<(), QueryError> {
        for (i, p) in params.iter().enumerate() {
            let idx =
                c_int::try_from(i + 1).map_err(|_| QueryError::invalid("Too many parameters."))?;
            // SAFETY: live statement; text is copied (SQLITE_TRANSIENT).
            let rc = unsafe {
                match p {
                    Bound::Text(s) => {
                        let n = c_int::try_from(s.len())
                            .map_err(|_| QueryError::invalid("A parameter is too long."))?;
                        ffi::sqlite3_bind_text(
                            self.0,
                            idx,
                            s.as_ptr().cast(),
                            n,
                            ffi::SQLITE_TRANSIENT(),
                        )
                    }
                    Bound::Int(v) => ffi::sqlite3_bind_int64(self.0, idx, *v),
                    Bound::Float(v) => ffi::sqlite3_bind_double(self.0, idx, *v),
                    Bound::Bool(v) => ffi::sqlite3_bind_int64(self.0, idx, i64::from(*v)),
                }
            };
            if rc != ffi::SQLITE_OK {
                return Err(error(rc, errmsg(db)));
            }
        }
        Ok(())
    }

    /// `(name, declared type)` of each column.
    fn columns(&self) -> Vec<(String, Option<String>)> {
        // SAFETY: live statement; returned strings are copied before the next call.
        unsafe {
            let n = ffi::sqlite3_column_count(self.0);
            (0..n)
                .map(|i| {
                    let name = ffi::sqlite3_column_name(self.0, i);
                    let name = if name.is_null() {
                        String::new()
                    } else {
                        CStr::from_ptr(name).to_string_lossy().into_owned()
                    };
                    let decl = ffi::sqlite3_column_decltype(self.0, i);
                    let decl = (!decl.is_null())
                        .then(|| CStr::from_ptr(decl).to_string_lossy().into_owned());
                    (name, decl)
                })
                .collect()
        }
    }

    fn column_type(&self, i: usize) -> c_int {
        let i = c_int::try_from(i).unwrap_or(c_int::MAX);
        // SAFETY: live statement positioned on a row.
        unsafe { ffi::sqlite3_column_type(self.0, i) }
    }

    /// The current row's values as stored (§4.5).
    fn row(&self, n: usize) -> Vec<Cell> {
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let ci = c_int::try_from(i).unwrap_or(c_int::MAX);
            // SAFETY: live statement positioned on a row; pointers are read before the next
            // call on this statement, with the byte counts SQLite reports.
            let cell = unsafe {
                match ffi::sqlite3_column_type(self.0, ci) {
                    ffi::SQLITE_INTEGER => Cell::Int(ffi::sqlite3_column_int64(self.0, ci)),
                    ffi::SQLITE_FLOAT => Cell::Float(ffi::sqlite3_column_double(self.0, ci)),
                    ffi::SQLITE_TEXT => {
                        let p = ffi::sqlite3_column_text(self.0, ci);
                        let len =
                            usize::try_from(ffi::sqlite3_column_bytes(self.0, ci)).unwrap_or(0);
                        if p.is_null() {
                            Cell::Text(String::new())
                        } else {
                            let bytes = std::slice::from_raw_parts(p, len);
                            Cell::Text(String::from_utf8_lossy(bytes).into_owned())
                        }
                    }
                    ffi::SQLITE_BLOB => {
                        let p = ffi::sqlite3_column_blob(self.0, ci);
                        let len =
                            usize::try_from(ffi::sqlite3_column_bytes(self.0, ci)).unwrap_or(0);
                        if p.is_null() {
                            Cell::Text(String::new())
                        } else {
                            let bytes = std::slice::from_raw_parts(p.cast::<u8>(), len);
                            Cell::Text(base64(bytes))
                        }
                    }
                    _ => Cell::Null,
                }
            };
            out.push(cell);
        }
        out
    }
}
