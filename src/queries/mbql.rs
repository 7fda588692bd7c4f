//! Running MBQL (mbql.md): what the compiler reads is loaded ([`super::mbql_load`]: tables,
//! fields and cards the query names, native sources resolved; settings here), then the checks
//! run in the order of §5 (existence, permissions of §6, semantic checks while compiling), and
//! the compiler's probes (native sources' columns, binning bounds) run on the warehouse.
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::auth::Principal;
use crate::collections::perms::{self, Level};
use crate::databases::store::DatabaseRow;
use crate::mbql::compile::{
    self, CompileError, Compiled, Metadata, NativeColumn, Probe, Reads, Settings,
};
use crate::mbql::model::Query;
use crate::mbql::sql::{calendar, Fragment};
use crate::mbql::MbqlError;
use crate::permissions::{self, grant::ViewData};
use crate::state::App;
use crate::store::Tx;
use crate::warehouse::cell::Cell;
use crate::warehouse::engine::{Exec, Warehouse};
use crate::warehouse::error::QueryError;
use crate::warehouse::limits::ResultCaps;
use crate::warehouse::sqltext::Dialect;

/// At most this many probes run for one query.
const MAX_PROBES: usize = 32;

/// Why a query does not compile: a query failure (answered with the failure body) or a store
/// error.
pub enum Refusal {
    Query(QueryError),
    Api(crate::error::ApiError),
}

impl From<crate::error::ApiError> for Refusal {
    fn from(e: crate::error::ApiError) -> Self {
        Refusal::Api(e)
    }
}

impl From<crate::store::StoreError> for Refusal {
    fn from(e: crate::store::StoreError) -> Self {
        Refusal::Api(e.into())
    }
}

impl Refusal {
    /// The answer: the query-failure body of `ctx` for a query error.
    pub fn into_api(self, ctx: &crate::warehouse::error::RunContext) -> crate::error::ApiError {
        match self {
            Refusal::Query(e) => ctx.failure(&e),
            Refusal::Api(e) => e,
        }
    }
}

impl From<MbqlError> for Refusal {
    fn from(e: MbqlError) -> Self {
        Refusal::Query(e.into())
    }
}

/// Which permission rule of §6 applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An ad-hoc query or a card save: query-builder rights on every table read directly.
    AdHoc,
    /// Running a saved card: view rights on every table read.
    SavedCard,
}

/// A compiled query and where it runs.
pub struct Prepared {
    pub compiled: Compiled,
    pub warehouse: Arc<Warehouse>,
}

/// Parses, loads, checks and compiles an MBQL query object on database `db`.
pub async fn prepare(
    app: &App,
    caller: &Principal,
    tx: &mut dyn Tx,
    db: &DatabaseRow,
    object: &Map<String, Value>,
    purpose: Purpose,
    warehouse: Arc<Warehouse>,
) -> Result<Prepared, Refusal> {
    let engine = warehouse.dialect();
    let (query, mut meta, reads) = analyse(tx, db, engine, object).await?;
    authorize(tx, caller, db, &meta, &reads, purpose).await?;
    settings(tx, engine, &mut meta.settings, app).await?;
    let compiled = compile_probing(app, &query, &mut meta, &warehouse).await?;
    Ok(Prepared {
        compiled,
        warehouse,
    })
}

/// The checks of §5 before permissions: the query parsed, what it names loaded and found; with
/// what it reads.
async fn analyse(
    tx: &mut dyn Tx,
    db: &DatabaseRow,
    engine: Dialect,
    object: &Map<String, Value>,
) -> Result<(Query, Metadata, Reads), Refusal> {
    let query = crate::mbql::parse(object)?;
    let meta = super::mbql_load::load(tx, db, engine, &query).await?;
    compile::check_exists(&query, &meta)?;
    let reads = compile::reads(&query, &meta);
    Ok((query, meta, reads))
}

/// The permission checks of §6, before any SQL runs.
async fn authorize(
    tx: &mut dyn Tx,
    caller: &Principal,
    db: &DatabaseRow,
    meta: &Metadata,
    reads: &Reads,
    purpose: Purpose,
) -> Result<(), Refusal> {
    if caller.is_superuser && caller.allows_database(db.id) {
        return Ok(());
    }
    let denied = || Refusal::Query(QueryError::permission());
    let rights = permissions::rights_all(tx, caller, &[db.id])
        .await?
        .remove(&db.id)
        .ok_or_else(denied)?;
    let schema = |t: i64| {
        meta.tables
            .get(&t)
            .and_then(|t| t.schema.clone())
            .unwrap_or_default()
    };
    let view = |t: i64| {
        rights
            .tables
            .as_ref()
            .is_none_or(|r| r.view(&schema(t), t) == ViewData::Unrestricted)
    };
    let direct_ok = match purpose {
        Purpose::AdHoc => reads
            .tables
            .iter()
            .all(|t| rights.query_builder(&schema(*t), *t)),
        Purpose::SavedCard => reads.tables.iter().all(|t| view(*t)),
    };
    if !direct_ok || !reads.card_tables.iter().all(|t| view(*t)) {
        return Err(denied());
    }
    if reads.native_card && !rights.access.view_plain {
        return Err(denied());
    }
    // Native SQL written in the query itself is native querying (ferrobase rule).
    if reads.native_source && purpose == Purpose::AdHoc && !rights.access.native {
        return Err(denied());
    }
    if reads.native_source && purpose == Purpose::SavedCard && !rights.access.view_plain {
        return Err(denied());
    }
    if purpose == Purpose::AdHoc {
        for c in &reads.cards {
            let card = meta.cards.get(c);
            let collection = card.and_then(|c| c.collection_id);
            let database = card.and_then(|c| c.database_id);
            if perms::card_level(tx, caller, collection, database).await? == Level::None {
                return Err(denied());
            }
        }
    }
    Ok(())
}

/// The settings of §0 into `s`.
async fn settings(
    tx: &mut dyn Tx,
    engine: Dialect,
    s: &mut Settings,
    app: &App,
) -> Result<(), Refusal> {
    let text = |raw: Option<String>| {
        raw.map(|r| r.trim().trim_matches('"').to_string())
            .filter(|r| !r.is_empty() && r != "null")
    };
    if let Some(w) = text(tx.setting_get("start-of-week").await?) {
        s.start_of_week = calendar::start_of_week(&w).unwrap_or(s.start_of_week);
    }
    if let Some(n) = text(tx.setting_get("breakout-bins-num").await?) {
        s.breakout_bins_num = n
            .parse()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .unwrap_or(8);
    }
    if let Some(w) = text(tx.setting_get("breakout-bin-width").await?) {
        s.breakout_bin_width = w
            .parse()
            .ok()
            .filter(|w: &f64| *w > 0.0 && w.is_finite())
            .unwrap_or(10.0);
    }
    s.now = jiff::Timestamp::from_microsecond(app.clock.now().micros())
        .unwrap_or_else(|_| jiff::Timestamp::now());
    if engine == Dialect::Postgres {
        let zone = super::service::timezone(tx).await?;
        s.timezone = jiff::tz::TimeZone::get(&zone).unwrap_or(jiff::tz::TimeZone::UTC);
    }
    Ok(())
}

/// Compiles, running the probes the compiler asks for.
async fn compile_probing(
    app: &App,
    query: &Query,
    meta: &mut Metadata,
    warehouse: &Arc<Warehouse>,
) -> Result<Compiled, Refusal> {
    for _ in 0..MAX_PROBES {
        match compile::compile(query, meta) {
            Ok(c) => return Ok(c),
            Err(CompileError::Query(e)) => return Err(e.into()),
            Err(CompileError::Probe(p)) => {
                let key = p.key(meta.engine);
                match p {
                    Probe::Columns(sql) => {
                        let cols = describe(warehouse, &sql).await?;
                        meta.probes.columns.insert(key, cols);
                    }
                    Probe::Bounds(sql) => {
                        let b = bounds(app, warehouse, &sql).await?;
                        meta.probes.bounds.insert(key, b);
                    }
                }
            }
        }
    }
    Err(MbqlError::Invalid("The query needs too many preliminary queries.".into()).into())
}

async fn describe(
    warehouse: &Arc<Warehouse>,
    sql: &Fragment,
) -> Result<Vec<NativeColumn>, Refusal> {
    let (text, params) = sql.render_shared(warehouse.dialect());
    let cols = warehouse
        .describe(text, params)
        .await
        .map_err(Refusal::Query)?;
    Ok(cols
        .into_iter()
        .map(|c| NativeColumn {
            name: c.name,
            base_type: c.base_type.to_string(),
            database_type: c.database_type,
        })
        .collect())
}

fn number(c: Option<&Cell>) -> Option<f64> {
    match c? {
        Cell::Int(i) => Some(*i as f64),
        Cell::Float(f) => Some(*f),
        Cell::Decimal(d) | Cell::Text(d) => d.parse().ok(),
        _ => None,
    }
}

/// The binning bounds (§2.6.3): one row, `MIN` and `MAX`.
async fn bounds(
    app: &App,
    warehouse: &Arc<Warehouse>,
    sql: &Fragment,
) -> Result<(Option<f64>, Option<f64>), Refusal> {
    let (text, params) = sql.render_shared(warehouse.dialect());
    let secs = app.config.query_timeout_secs;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let exec = Exec {
        sql: text,
        params,
        cap: 1,
        caps: ResultCaps::interactive(&app.config.query_limits),
        deadline,
        timeout_secs: secs,
        timezone: "UTC".into(),
    };
    let slot = match app.queries.enter(deadline).await {
        Ok(Some(slot)) => slot,
        Ok(None) => return Err(Refusal::Query(QueryError::timed_out(secs))),
        Err(_) => return Err(Refusal::Api(crate::error::ApiError::Busy)),
    };
    let rows = warehouse
        .fetch_all(exec, app.shutdown.child_token(), slot)
        .await
        .map_err(Refusal::Query)?;
    let row = rows.first();
    Ok((
        number(row.and_then(|r| r.first())),
        number(row.and_then(|r| r.get(1))),
    ))
}

/// The `result_metadata` of MBQL cards (mbql.md §7.1), for `crate::cards::metadata`.
pub struct Describer;

#[async_trait::async_trait]
impl crate::cards::metadata::QueryDescriber for Describer {
    async fn describe(&self, app: &App, caller: &Principal, query: &Value) -> Option<Value> {
        let object = query.as_object()?;
        let db_id = object.get("database").and_then(Value::as_i64)?;
        let mut tx = app.store.read().await.ok()?;
        let db = tx.database_get(db_id).await.ok()??;
        let warehouse = crate::databases::pooled_warehouse(app, &db)?;
        let prepared = prepare(
            app,
            caller,
            tx.as_mut(),
            &db,
            object,
            Purpose::AdHoc,
            warehouse,
        )
        .await
        .ok()?;
        let _ = tx.commit().await;
        let cols = prepared.compiled.cols_json();
        Some(Value::Array(cols.into_iter().map(Value::Object).collect()))
    }

    async fn may_save(
        &self,
        app: &App,
        tx: &mut dyn Tx,
        caller: &Principal,
        query: &Value,
    ) -> crate::error::ApiResult<Option<bool>> {
        let Some(object) = query.as_object() else {
            return Ok(None);
        };
        let Some(db_id) = object.get("database").and_then(Value::as_i64) else {
            return Ok(None);
        };
        let Some(db) = tx.database_get(db_id).await? else {
            return Ok(None);
        };
        let Some(warehouse) = crate::databases::pooled_warehouse(app, &db) else {
            return Ok(None);
        };
        let (_, meta, reads) = match analyse(tx, &db, warehouse.dialect(), object).await {
            Ok(analysed) => analysed,
            Err(Refusal::Query(_)) => return Ok(None),
            Err(Refusal::Api(e)) => return Err(e),
        };
        match authorize(tx, caller, &db, &meta, &reads, Purpose::AdHoc).await {
            Ok(()) => Ok(Some(true)),
            Err(Refusal::Query(_)) => Ok(Some(false)),
            Err(Refusal::Api(e)) => Err(e),
        }
    }
}
