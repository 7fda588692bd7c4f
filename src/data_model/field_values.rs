//! Field values over HTTP (data-model.md §3.2–§3.4, §5.13, §5.17): reading (computing them on
//! first use), setting labels, discarding and rescanning at field and table level, and a
//! field's summary.
use std::sync::Arc;

use serde::Serialize;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use super::input::ValuesBody;
use super::perms::Perms;
use super::read::table_row;
use super::store::{FieldRow, FieldValuesRow, TableRow};
use super::sync::discover::{quote, relation_sql};
use super::sync::values::{cell_json, discard, has_cached_values, refresh_field, spawn_refresh};
use super::sync::{self, Scope};
use crate::auth::Principal;
use crate::databases::store::DatabaseRow;
use crate::error::{ApiError, ApiResult, Kind};
use crate::state::App;
use crate::warehouse::error::{Class, QueryError, RunContext};

const NOT_A_LIST: &str = "You can only update the human readable values of a mapped values of a \
    Field whose value of `has_field_values` is `list` or whose 'base_type' is 'type/Boolean'.";
const PARTIAL_LABELS: &str =
    "If remapped values are specified, they must be specified for all field values";

struct Target {
    field: FieldRow,
    table: TableRow,
    db: DatabaseRow,
}

/// The field, its table and database; `404`, then the caller's right (`manage` or read).
async fn target(app: &App, caller: &Principal, id: i64, manage: bool) -> ApiResult<Target> {
    let mut tx = app.store.read().await?;
    let field = tx.dm_field(id).await?.ok_or(ApiError::NotFound)?;
    let table = table_row(tx.as_mut(), field.table_id).await?;
    let db = tx
        .database_get(table.db_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let perms = Perms::load(tx.as_mut(), caller, &[table.db_id]).await?;
    if manage {
        perms.require_manage(table.db_id)?;
    } else {
        perms.require_read(&table)?;
    }
    Ok(Target { field, table, db })
}

/// `GET /api/field/:id/values` (§3.2): `[value]` or `[value, label]` entries.
#[derive(Debug, Serialize)]
pub struct FieldValues {
    pub values: Vec<Vec<Value>>,
    pub field_id: i64,
    pub has_more_values: bool,
}

fn empty(id: i64) -> FieldValues {
    FieldValues {
        values: Vec::new(),
        field_id: id,
        has_more_values: false,
    }
}

fn answer(id: i64, row: &FieldValuesRow) -> FieldValues {
    let values: Vec<Value> = serde_json::from_str(&row.values).unwrap_or_default();
    let labels: Option<Vec<Value>> = row
        .human_readable_values
        .as_deref()
        .and_then(|l| serde_json::from_str(l).ok());
    let entries = values
        .into_iter()
        .enumerate()
        .map(|(i, v)| match labels.as_ref().and_then(|l| l.get(i)) {
            Some(label) => vec![v, label.clone()],
            None => vec![v],
        })
        .collect();
    FieldValues {
        values: entries,
        field_id: id,
        has_more_values: row.has_more_values,
    }
}

async fn refresh(app: &Arc<App>, t: &Target) -> Result<(), sync::SyncError> {
    let runner = sync::connect(app, &t.db, CancellationToken::new()).await?;
    refresh_field(app, &runner, &t.table, &t.field).await
}

/// `GET /api/field/:id/values`.
pub async fn get(app: &Arc<App>, caller: &Principal, id: i64) -> ApiResult<FieldValues> {
    let t = target(app, caller, id, false).await?;
    if !has_cached_values(&t.field) {
        return Ok(empty(id));
    }
    if let Some(row) = app.store.read().await?.dm_values(id).await? {
        return Ok(answer(id, &row));
    }
    if refresh(app, &t).await.is_err() {
        return Ok(empty(id));
    }
    Ok(match app.store.read().await?.dm_values(id).await? {
        Some(row) => answer(id, &row),
        None => empty(id),
    })
}

/// `POST /api/field/:id/values`: the stored values become exactly the given ones.
pub async fn set(app: &App, caller: &Principal, id: i64, body: ValuesBody) -> ApiResult<()> {
    let t = target(app, caller, id, true).await?;
    if !has_cached_values(&t.field) && t.field.base_type != "type/Boolean" {
        return Err(ApiError::bad_request_text(NOT_A_LIST));
    }
    let labelled = body.labels.iter().filter(|l| l.is_some()).count();
    if labelled != 0 && labelled != body.labels.len() {
        return Err(ApiError::bad_request_text(PARTIAL_LABELS));
    }
    let labels = (labelled > 0)
        .then(|| Value::Array(body.labels.into_iter().map(|l| json!(l)).collect()).to_string());
    let now = app.clock.now().micros();
    let mut tx = app.store.begin().await?;
    let created = tx.dm_values(id).await?.map_or(now, |o| o.created_at);
    tx.dm_values_put(&FieldValuesRow {
        field_id: id,
        values: Value::Array(body.values).to_string(),
        human_readable_values: labels,
        has_more_values: false,
        created_at: created,
        updated_at: now,
    })
    .await?;
    tx.commit().await?;
    Ok(())
}

/// `POST /api/field/:id/discard_values`.
pub async fn discard_field(app: &App, caller: &Principal, id: i64) -> ApiResult<()> {
    target(app, caller, id, true).await?;
    let mut tx = app.store.begin().await?;
    tx.dm_values_delete(id).await?;
    tx.commit().await?;
    Ok(())
}

/// `POST /api/field/:id/rescan_values`: recomputed now, labels kept.
pub async fn rescan_field(app: &Arc<App>, caller: &Principal, id: i64) -> ApiResult<()> {
    let t = target(app, caller, id, true).await?;
    if has_cached_values(&t.field) {
        refresh(app, &t)
            .await
            .map_err(|e| ApiError::Text(Kind::Unprocessable, e.0))?;
    }
    Ok(())
}

async fn managed_table(
    app: &App,
    caller: &Principal,
    id: i64,
) -> ApiResult<(TableRow, DatabaseRow)> {
    let mut tx = app.store.read().await?;
    let table = table_row(tx.as_mut(), id).await?;
    let db = tx
        .database_get(table.db_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Perms::load(tx.as_mut(), caller, &[table.db_id])
        .await?
        .require_manage(table.db_id)?;
    Ok((table, db))
}

/// `POST /api/table/:id/discard_values`.
pub async fn discard_table(app: &App, caller: &Principal, id: i64) -> ApiResult<()> {
    managed_table(app, caller, id).await?;
    let mut tx = app.store.begin().await?;
    let fields = tx.dm_fields(id).await?;
    discard(tx.as_mut(), &fields).await?;
    tx.commit().await?;
    Ok(())
}

/// `POST /api/table/:id/rescan_values`: in the background.
pub async fn rescan_table(app: &Arc<App>, caller: &Principal, id: i64) -> ApiResult<()> {
    let (table, db) = managed_table(app, caller, id).await?;
    spawn_refresh(app, db, vec![table.id]);
    Ok(())
}

/// `POST /api/table/:id/sync_schema[?wait=true]`: a sync of that table.
pub async fn sync_table(app: &Arc<App>, caller: &Principal, id: i64, wait: bool) -> ApiResult<()> {
    let (_, db) = managed_table(app, caller, id).await?;
    super::actions::sync_checked(app, &db, Scope::Table(id), wait).await
}

/// `GET /api/field/:id/summary` (§5.17): `[["count", n], ["distincts", n]]`.
#[derive(Debug, Serialize)]
pub struct FieldSummary(pub [(&'static str, Value); 2]);

/// `GET /api/field/:id/summary` (§5.17): count and distinct count on the warehouse; a failure
/// answers the query-failure body of queries.md §4.8.
pub async fn summary(app: &Arc<App>, caller: &Principal, id: i64) -> ApiResult<FieldSummary> {
    let t = target(app, caller, id, false).await?;
    let sql = format!(
        "SELECT count(*), count(DISTINCT {}) FROM {}",
        quote(&t.field.name),
        relation_sql(&t.table.schema, &t.table.name)
    );
    let ctx = RunContext {
        json_query: json!({"database": t.db.id, "type": "native", "native": {"query": sql}}),
        database_id: Some(t.db.id),
        context: "ad-hoc",
        started_at: app.clock.now(),
        started: std::time::Instant::now(),
    };
    let runner = sync::connect(app, &t.db, CancellationToken::new())
        .await
        .map_err(|e| ctx.failure(&QueryError::db(Class::Ferrobase, e.0)))?;
    let rows = runner
        .rows_capped(&sql, 1)
        .await
        .map_err(|e| ctx.failure(&e))?;
    let cell = |i: usize| {
        rows.first()
            .and_then(|r| r.get(i))
            .map_or(Value::Null, cell_json)
    };
    Ok(FieldSummary([("count", cell(0)), ("distincts", cell(1))]))
}
