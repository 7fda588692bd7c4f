//! One run of a statement on a ready Postgres connection (queries.md §4.1, §4.4): the preamble
//! that sets the session time zone and vets the role and database again, the statement prepared
//! with typed parameters, and its rows decoded into cells, metered and sent in batches. Cancelling
//! and returning the connection are [`super::postgres`]'s.
use futures::TryStreamExt;
use sqlx::postgres::{PgConnection, PgTypeInfo};
use sqlx::{Column as _, Executor, Row, Statement, ValueRef};
use tokio::sync::mpsc;

use super::bound::Bound;
use super::cell::{Cell, Column};
use super::engine::{Batcher, Event, Exec};
use super::error::{Class, QueryError};
use super::limits::Meter;
use super::pgdecode::{self, Kind};

pub(super) enum Stop {
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

pub(super) fn columns_of(cols: &[sqlx::postgres::PgColumn]) -> (Vec<Column>, Vec<Kind>) {
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
pub(super) async fn run(
    conn: &mut PgConnection,
    exec: &Exec,
    allow_privileged: bool,
    tx: &mpsc::Sender<Event>,
) -> Result<bool, Stop> {
    vet_run(conn, exec, allow_privileged).await?;
    let types: Vec<PgTypeInfo> = exec
        .params
        .iter()
        .map(super::postgres::param_type)
        .collect();
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
        let cells = row_cells(&row, &kinds, &mut meter, zone.as_ref())?;
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

/// The first round trip of a run: sets the session time zone and vets the role and database
/// again, so a role granted superuser while its connection sat in the pool is caught too.
async fn vet_run(conn: &mut PgConnection, exec: &Exec, allow_privileged: bool) -> Result<(), Stop> {
    let (_, privileged, own): (String, bool, bool) = sqlx::query_as(super::postgres::RUN_PREAMBLE)
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
        return Err(Stop::Refused(QueryError::db(
            Class::Ferrobase,
            super::postgres::PRIVILEGED,
        )));
    }
    Ok(())
}

/// One row's cells, each counted against the caps (its raw size before it is decoded).
fn row_cells(
    row: &sqlx::postgres::PgRow,
    kinds: &[Kind],
    meter: &mut Meter,
    zone: Option<&super::tz::Zone>,
) -> Result<Vec<Cell>, Stop> {
    let mut cells = Vec::with_capacity(kinds.len());
    for (i, kind) in kinds.iter().enumerate() {
        let cell = match row.try_get_raw(i) {
            Ok(v) if v.is_null() => Cell::Null,
            Ok(v) => {
                let format = v.format();
                match v.as_bytes() {
                    Ok(bytes) => {
                        meter.precheck(bytes.len()).map_err(Stop::Limit)?;
                        pgdecode::decode(kind, format, bytes, zone)
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
    Ok(cells)
}
