//! From a request to a statement ready to run (queries.md §2, §3.2, §4.3, §4.6, §5): the
//! database, the permission checks in the spec's order, template tags with referenced cards,
//! row caps from the settings, and the warehouse to run on.
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::mbql::{self, Purpose};
use super::request::{Constraints, Query};
use crate::auth::Principal;
use crate::cards::native::{native_part, Native};
use crate::cards::service::CardRef;
use crate::cards::store::CardRow;
use crate::cards::template::{self, CardSource, Resolver};
use crate::collections::perms::{self, Level};
use crate::databases::store::DatabaseRow;
use crate::error::{ApiError, ApiResult};
use crate::permissions;
use crate::state::App;
use crate::store::Tx;
use crate::warehouse::engine::{Exec, Warehouse};
use crate::warehouse::error::{QueryError, RunContext, NATIVE_ONLY, ONE_STATEMENT};
use crate::warehouse::sqltext::single_statement;

/// The spreadsheet row limit minus a header row (§4.6).
pub const DOWNLOAD_MAX: u64 = 1_048_575;
const DEFAULT_ROW_LIMIT: u64 = 2000;
const DEFAULT_AGGREGATED_LIMIT: u64 = 10_000;
/// At most this many distinct cards are loaded for one query's `card` tags.
const MAX_REFERENCED_CARDS: usize = 64;

/// Interactive results or a download (§4.6).
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    Interactive(Constraints),
    Download,
}

/// A statement ready to run, with what its response echoes.
pub struct Plan {
    pub warehouse: Arc<Warehouse>,
    pub exec: Exec,
    pub ctx: RunContext,
    pub native_form: Value,
    pub results_timezone: String,
    /// The card's (or request's) `visualization_settings`, for export titles.
    pub visualization_settings: Value,
    /// MBQL: the `cols` entries the compiler computed (mbql.md §4.2), in result order; the
    /// engine fills in what they leave `null` (`database_type`).
    pub cols: Option<Vec<Map<String, Value>>>,
}

pub(super) fn context(
    app: &App,
    json_query: Value,
    database_id: Option<i64>,
    context: &'static str,
) -> RunContext {
    RunContext {
        json_query,
        database_id,
        context,
        started_at: app.clock.now(),
        started: Instant::now(),
    }
}

/// `POST /api/dataset` and `/api/dataset/:format` (§3): `q` parsed from the query object
/// `json_query`, which failures echo.
pub async fn plan_adhoc(
    app: &App,
    caller: &Principal,
    q: Query,
    json_query: Value,
    download: bool,
) -> ApiResult<Plan> {
    let ctx = context(app, json_query, Some(q.database), "ad-hoc");
    let mode = if download {
        Mode::Download
    } else {
        Mode::Interactive(q.constraints)
    };
    let mut tx = app.store.read().await?;
    let Some(db) = tx.database_get(q.database).await? else {
        return Err(ctx.failure(&QueryError::invalid(format!(
            "Database {} does not exist.",
            q.database
        ))));
    };
    let Some(native) = q.native else {
        let object = ctx.json_query.as_object().cloned().unwrap_or_default();
        let plan = plan_mbql(
            app,
            caller,
            tx.as_mut(),
            &db,
            &object,
            mode,
            ctx,
            Purpose::AdHoc,
        )
        .await;
        tx.commit().await?;
        return plan;
    };
    let access = permissions::access(tx.as_mut(), caller, db.id).await?;
    if !access.native {
        return Err(ctx.failure(&QueryError::permission()));
    }
    let plan = plan_native(
        app,
        caller,
        tx.as_mut(),
        &db,
        &native,
        &q.parameters,
        mode,
        ctx,
    )
    .await;
    tx.commit().await?;
    plan.map(|mut p| {
        p.visualization_settings = Value::Null;
        p
    })
}

/// `POST /api/card/:id/query` and its exports (§5, §6.1).
pub async fn plan_card(
    app: &App,
    caller: &Principal,
    r: &CardRef,
    parameters: Vec<Value>,
    mode: Mode,
) -> ApiResult<Plan> {
    let mut tx = app.store.read().await?;
    let card = crate::cards::service::resolve(tx.as_mut(), r).await?;
    if crate::cards::service::card_level(tx.as_mut(), caller, &card).await? == Level::None {
        return Err(ApiError::Forbidden);
    }
    let mut plan = plan_stored(app, caller, tx.as_mut(), &card, parameters, mode).await?;
    tx.commit().await?;
    plan.visualization_settings =
        serde_json::from_str(&card.visualization_settings).unwrap_or(Value::Null);
    let mut tx = app.store.begin().await?;
    tx.card_touch_last_used(card.id, app.clock.now().micros())
        .await?;
    tx.commit().await?;
    Ok(plan)
}

/// The plan of a readable card's stored query, run with `parameters` (which failures echo in
/// `json_query`).
async fn plan_stored(
    app: &App,
    caller: &Principal,
    tx: &mut dyn Tx,
    card: &CardRow,
    parameters: Vec<Value>,
    mode: Mode,
) -> ApiResult<Plan> {
    let stored: Value = serde_json::from_str(&card.dataset_query).unwrap_or(Value::Null);
    let mut json_query = stored.clone();
    if let Value::Object(m) = &mut json_query {
        m.insert("parameters".into(), Value::Array(parameters.clone()));
    }
    let ctx = context(app, json_query, card.database_id, "question");
    let db = match card.database_id {
        Some(id) => tx.database_get(id).await?,
        None => None,
    };
    let Some(db) = db else {
        return Err(ctx.failure(&QueryError::invalid(format!(
            "Database {} does not exist.",
            card.database_id.unwrap_or(0)
        ))));
    };
    let object = stored.as_object().cloned().unwrap_or_default();
    if !crate::mbql::is_mbql_query(&object) {
        return plan_saved_native(app, caller, tx, &db, &object, &parameters, mode, ctx).await;
    }
    if let Some(e) = mbql_parameters(&parameters) {
        return Err(ctx.failure(&e));
    }
    plan_mbql(app, caller, tx, &db, &object, mode, ctx, Purpose::SavedCard).await
}

/// §7.2: parameters aimed at query-builder dimensions are not applied (ferrobase rule).
fn mbql_parameters(parameters: &[Value]) -> Option<QueryError> {
    let dimension = parameters.iter().any(|p| {
        p.get("target")
            .and_then(|t| t.get(0))
            .and_then(Value::as_str)
            == Some("dimension")
    });
    dimension.then(|| {
        QueryError::unsupported(
            "Parameters on query-builder questions are not supported by ferrobase.",
        )
    })
}

/// A saved native card: plain view rights on its database (queries.md §5).
#[allow(clippy::too_many_arguments)]
async fn plan_saved_native(
    app: &App,
    caller: &Principal,
    tx: &mut dyn Tx,
    db: &DatabaseRow,
    object: &Map<String, Value>,
    parameters: &[Value],
    mode: Mode,
    ctx: RunContext,
) -> ApiResult<Plan> {
    if !permissions::access(tx, caller, db.id).await?.view_plain {
        return Err(ctx.failure(&QueryError::permission()));
    }
    let Some(native) = native_part(object) else {
        return Err(ctx.failure(&QueryError::unsupported(NATIVE_ONLY)));
    };
    plan_native(app, caller, tx, db, &native, parameters, mode, ctx).await
}

/// An MBQL query (mbql.md): prepared, then planned like native SQL with the compiler's
/// columns and the aggregated row cap of §4.5.
#[allow(clippy::too_many_arguments)]
async fn plan_mbql(
    app: &App,
    caller: &Principal,
    tx: &mut dyn Tx,
    db: &DatabaseRow,
    object: &Map<String, Value>,
    mode: Mode,
    ctx: RunContext,
    purpose: Purpose,
) -> ApiResult<Plan> {
    let Some(warehouse) = crate::databases::pooled_warehouse(app, db) else {
        return Err(ctx.failure(&QueryError::db(
            crate::warehouse::error::Class::Ferrobase,
            "The database's connection details are invalid.",
        )));
    };
    let prepared = mbql::prepare(app, caller, tx, db, object, purpose, warehouse)
        .await
        .map_err(|r| r.into_api(&ctx))?;
    let (sql, params) = prepared.compiled.render();
    let aggregated = prepared.compiled.aggregated;
    let cols = prepared.compiled.cols_json();
    let mut plan = finish_plan(
        app,
        tx,
        prepared.warehouse,
        sql,
        params,
        mode,
        aggregated,
        ctx,
    )
    .await?;
    plan.cols = Some(cols);
    Ok(plan)
}

/// Loads the cards `native` references, transitively (§4.3), checking that each is readable.
pub(super) async fn load_cards(
    tx: &mut dyn Tx,
    caller: &Principal,
    native: &Native,
) -> ApiResult<HashMap<i64, CardSource>> {
    let mut out = HashMap::new();
    let mut queue: Vec<i64> = template::referenced_cards(&native.sql, &native.tags);
    let mut seen: HashSet<i64> = HashSet::new();
    while let Some(id) = queue.pop() {
        if !seen.insert(id) || seen.len() > MAX_REFERENCED_CARDS {
            continue;
        }
        let source = match tx.card_get(id).await? {
            None => CardSource::Missing,
            Some(c) => {
                if crate::cards::service::card_level(tx, caller, &c).await? == Level::None {
                    CardSource::Unreadable
                } else {
                    let q: Value = serde_json::from_str(&c.dataset_query).unwrap_or(Value::Null);
                    match q.as_object().and_then(native_part) {
                        None => CardSource::NotNative,
                        Some(n) => {
                            queue.extend(template::referenced_cards(&n.sql, &n.tags));
                            CardSource::Native {
                                database_id: c.database_id.unwrap_or(0),
                                sql: n.sql,
                                tags: n.tags,
                            }
                        }
                    }
                }
            }
        };
        out.insert(id, source);
    }
    Ok(out)
}

/// A setting stored as JSON text, read as a positive integer.
async fn int_setting(tx: &mut dyn Tx, key: &str) -> ApiResult<Option<u64>> {
    let raw = tx.setting_get(key).await?;
    Ok(raw.and_then(|s| {
        let t = s.trim().trim_matches('"');
        t.parse::<u64>().ok().filter(|n| *n > 0)
    }))
}

/// The row cap of a run (§4.6; mbql.md §4.5 for aggregated MBQL queries).
async fn cap(tx: &mut dyn Tx, mode: Mode, aggregated: bool) -> ApiResult<u64> {
    let download = int_setting(tx, "download-row-limit")
        .await?
        .unwrap_or(DOWNLOAD_MAX)
        .min(DOWNLOAD_MAX);
    Ok(match mode {
        Mode::Download => download,
        Mode::Interactive(c) if aggregated => {
            let setting = int_setting(tx, "aggregated-query-row-limit")
                .await?
                .unwrap_or(DEFAULT_AGGREGATED_LIMIT);
            c.max_results.unwrap_or(setting).min(download)
        }
        Mode::Interactive(c) => {
            let explicit = match (c.max_results_bare_rows, c.max_results) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let setting = int_setting(tx, "unaggregated-query-row-limit")
                .await?
                .unwrap_or(DEFAULT_ROW_LIMIT);
            explicit.unwrap_or(setting).min(download)
        }
    })
}

/// The session time zone: the `report-timezone` setting, else UTC (§4.1).
pub(super) async fn timezone(tx: &mut dyn Tx) -> ApiResult<String> {
    let raw = tx.setting_get("report-timezone").await?;
    Ok(raw
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty() && s != "null")
        .unwrap_or_else(|| "UTC".into()))
}

#[allow(clippy::too_many_arguments)]
async fn plan_native(
    app: &App,
    caller: &Principal,
    tx: &mut dyn Tx,
    db: &DatabaseRow,
    native: &Native,
    parameters: &[Value],
    mode: Mode,
    ctx: RunContext,
) -> ApiResult<Plan> {
    let cards = load_cards(tx, caller, native).await?;
    let resolver = Resolver {
        database_id: db.id,
        cards: &cards,
    };
    let values = template::parameter_values(parameters);
    let statement = match resolver.resolve(&native.sql, &native.tags, &values) {
        Ok(s) => s,
        Err(e) => return Err(ctx.failure(&e)),
    };
    let Some(warehouse) = crate::databases::pooled_warehouse(app, db) else {
        return Err(ctx.failure(&QueryError::db(
            crate::warehouse::error::Class::Ferrobase,
            "The database's connection details are invalid.",
        )));
    };
    let dialect = warehouse.dialect();
    let (sql, params) = statement.render(dialect);
    let Some(sql) = single_statement(&sql, dialect) else {
        return Err(ctx.failure(&QueryError::invalid(ONE_STATEMENT)));
    };
    finish_plan(app, tx, warehouse, sql, params, mode, false, ctx).await
}

/// A plan for SQL ready to run on `warehouse`: the row cap of `mode`, the report time zone, the
/// deadline and the `native_form` results show.
#[allow(clippy::too_many_arguments)]
async fn finish_plan(
    app: &App,
    tx: &mut dyn Tx,
    warehouse: Arc<Warehouse>,
    sql: String,
    params: Vec<template::Bound>,
    mode: Mode,
    aggregated: bool,
    ctx: RunContext,
) -> ApiResult<Plan> {
    let cap = usize::try_from(cap(tx, mode, aggregated).await?).unwrap_or(usize::MAX);
    let tz = match warehouse.dialect() {
        crate::warehouse::sqltext::Dialect::Postgres => timezone(tx).await?,
        crate::warehouse::sqltext::Dialect::Sqlite => "UTC".into(),
    };
    let native_form = serde_json::json!({
        "query": sql,
        "params": params.iter().map(template::Bound::to_value).collect::<Vec<_>>(),
    });
    let secs = app.config.query_timeout_secs;
    let deadline = tokio::time::Instant::from_std(ctx.started) + Duration::from_secs(secs);
    let caps = match mode {
        Mode::Download => crate::warehouse::limits::ResultCaps::download(&app.config.query_limits),
        Mode::Interactive(_) => {
            crate::warehouse::limits::ResultCaps::interactive(&app.config.query_limits)
        }
    };
    Ok(Plan {
        warehouse,
        exec: Exec {
            sql,
            params,
            cap,
            caps,
            deadline,
            timeout_secs: secs,
            timezone: tz.clone(),
        },
        ctx,
        native_form,
        results_timezone: tz,
        visualization_settings: Value::Null,
        cols: None,
    })
}

/// `POST /api/card/pivot/:id/query` (mbql.md §7.4): the card must exist and be readable; pivot
/// queries are not run.
pub async fn refuse_pivot_card(app: &App, caller: &Principal, r: &CardRef) -> ApiResult<()> {
    let mut tx = app.store.read().await?;
    let card = crate::cards::service::resolve(tx.as_mut(), r).await?;
    if perms::level(tx.as_mut(), caller, card.collection_id).await? == Level::None {
        return Err(ApiError::Forbidden);
    }
    let stored: Value = serde_json::from_str(&card.dataset_query).unwrap_or(Value::Null);
    let ctx = context(app, stored, card.database_id, "question");
    tx.commit().await?;
    Err(ctx.failure(&QueryError::unsupported(PIVOT)))
}

/// `POST /api/dataset/pivot` (mbql.md §7.4): a valid query, refused.
pub fn refuse_pivot(app: &App, json_query: Value) -> ApiError {
    let database = json_query.get("database").and_then(Value::as_i64);
    context(app, json_query, database, "ad-hoc").failure(&QueryError::unsupported(PIVOT))
}

pub const PIVOT: &str = "Pivot queries are not supported by ferrobase.";
