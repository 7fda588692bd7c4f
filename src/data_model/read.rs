//! Reading tables and fields (data-model.md §5.6, §5.7, §5.10, §5.11, §5.15): existence first
//! (`404`), then the caller's right to read the table (`403`), then the view with its hydrated
//! keys.
use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::perms::Perms;
use super::store::{FieldRow, TableRow};
use super::view;
use crate::auth::Principal;
use crate::databases::store::DatabaseRow;
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use crate::store::Tx;

/// Which fields `query_metadata` shows (§5.10).
#[derive(Debug, Clone, Copy, Default)]
pub struct FieldFilter {
    pub hidden: bool,
    pub sensitive: bool,
}

impl FieldFilter {
    pub fn admits(self, f: &FieldRow) -> bool {
        f.active
            && match f.visibility_type.as_str() {
                "retired" => false,
                "hidden" => self.hidden,
                "sensitive" => self.sensitive,
                _ => true,
            }
    }
}

/// The database object a table carries as `db` (`details` for superusers only, or never).
pub async fn db_object(
    app: &App,
    tx: &mut dyn Tx,
    d: &DatabaseRow,
    caller: &Principal,
    perms: &Perms,
    details: bool,
) -> ApiResult<Value> {
    let sync = crate::databases::sync_view(app, tx, d.id).await?;
    let mut v = crate::databases::view(d, caller, perms.access(d.id), &app.config, &sync);
    if !details {
        if let Value::Object(m) = &mut v {
            m.remove("details");
        }
    }
    Ok(v)
}

pub async fn table_row(tx: &mut dyn Tx, id: i64) -> ApiResult<TableRow> {
    tx.dm_table(id).await?.ok_or(ApiError::NotFound)
}

async fn database_row(tx: &mut dyn Tx, id: i64) -> ApiResult<DatabaseRow> {
    tx.database_get(id).await?.ok_or(ApiError::NotFound)
}

/// `GET /api/table`: every active table the caller may read, with `db`.
pub async fn list_tables(app: &App, caller: &Principal) -> ApiResult<Vec<Value>> {
    let mut tx = app.store.read().await?;
    let dbs: HashMap<i64, DatabaseRow> = tx
        .database_list()
        .await?
        .into_iter()
        .map(|d| (d.id, d))
        .collect();
    let ids: Vec<i64> = dbs.keys().copied().collect();
    let perms = Perms::load(tx.as_mut(), caller, &ids).await?;
    let mut tables: Vec<TableRow> = tx
        .dm_all_tables()
        .await?
        .into_iter()
        .filter(|t| t.active && perms.can_read(t))
        .collect();
    tables.sort_by(|a, b| (&a.name, &a.schema, a.id).cmp(&(&b.name, &b.schema, b.id)));
    let mut objects: HashMap<i64, Value> = HashMap::new();
    for d in dbs
        .values()
        .filter(|d| tables.iter().any(|t| t.db_id == d.id))
    {
        objects.insert(
            d.id,
            db_object(app, tx.as_mut(), d, caller, &perms, true).await?,
        );
    }
    Ok(tables
        .iter()
        .filter_map(|t| {
            let mut m = view::table(t);
            m.insert("db".into(), objects.get(&t.db_id)?.clone());
            Some(Value::Object(m))
        })
        .collect())
}

/// `GET /api/table/:id`: the table with `db` and `pk_field`.
pub async fn get_table(app: &App, caller: &Principal, id: i64, editable: bool) -> ApiResult<Value> {
    let mut tx = app.store.read().await?;
    let t = table_row(tx.as_mut(), id).await?;
    let perms = Perms::load(tx.as_mut(), caller, &[t.db_id]).await?;
    perms.require_read_or_manage(&t, editable)?;
    let d = database_row(tx.as_mut(), t.db_id).await?;
    let fields = tx.dm_fields(t.id).await?;
    let mut m = view::table(&t);
    m.insert(
        "db".into(),
        db_object(app, tx.as_mut(), &d, caller, &perms, true).await?,
    );
    m.insert("pk_field".into(), json!(view::pk_field(&fields)));
    Ok(Value::Object(m))
}

/// A table's fields (`all` of them, as stored) as `query_metadata` and `metadata` list them: in
/// display order, filtered.
pub async fn listed_fields(
    tx: &mut dyn Tx,
    perms: &Perms,
    mut all: Vec<FieldRow>,
    filter: FieldFilter,
) -> ApiResult<Value> {
    view::sort_fields(&mut all);
    let mut fields = Vec::new();
    for f in all.iter().filter(|f| filter.admits(f)) {
        fields.push(Value::Object(field_entry(tx, perms, f, &all).await?));
    }
    Ok(Value::Array(fields))
}

/// A field as `query_metadata` and `metadata` list it: `target`, `dimensions`, `name_field`.
pub async fn field_entry(
    tx: &mut dyn Tx,
    perms: &Perms,
    f: &FieldRow,
    siblings: &[FieldRow],
) -> ApiResult<Map<String, Value>> {
    let mut m = view::field(f);
    m.insert("target".into(), target(tx, perms, f).await?);
    m.insert("dimensions".into(), json!([]));
    m.insert("name_field".into(), view::name_field(f, siblings));
    Ok(m)
}

/// `target`: the FK's target field when the caller can read its table (§1.3).
pub async fn target(tx: &mut dyn Tx, perms: &Perms, f: &FieldRow) -> ApiResult<Value> {
    if f.semantic_type.as_deref() != Some("type/FK") {
        return Ok(Value::Null);
    }
    let Some(id) = f.fk_target_field_id else {
        return Ok(Value::Null);
    };
    let Some(t) = tx.dm_field(id).await? else {
        return Ok(Value::Null);
    };
    let Some(table) = tx.dm_table(t.table_id).await? else {
        return Ok(Value::Null);
    };
    Ok(if perms.can_read(&table) {
        Value::Object(view::field(&t))
    } else {
        Value::Null
    })
}

/// `GET /api/table/:id/query_metadata` (§5.10).
pub async fn query_metadata(
    app: &App,
    caller: &Principal,
    id: i64,
    filter: FieldFilter,
    editable: bool,
) -> ApiResult<Value> {
    let mut tx = app.store.read().await?;
    let t = table_row(tx.as_mut(), id).await?;
    let perms = Perms::load(tx.as_mut(), caller, &[t.db_id]).await?;
    perms.require_read_or_manage(&t, editable)?;
    let d = database_row(tx.as_mut(), t.db_id).await?;
    let all = tx.dm_fields(t.id).await?;
    let fields = listed_fields(tx.as_mut(), &perms, all, filter).await?;
    let mut m = view::table(&t);
    m.insert(
        "db".into(),
        db_object(app, tx.as_mut(), &d, caller, &perms, false).await?,
    );
    m.insert("fields".into(), fields);
    m.insert("segments".into(), json!([]));
    m.insert("metrics".into(), json!([]));
    Ok(Value::Object(m))
}

/// `GET /api/field/:id` (§5.15).
pub async fn get_field(app: &App, caller: &Principal, id: i64, editable: bool) -> ApiResult<Value> {
    let mut tx = app.store.read().await?;
    let f = tx.dm_field(id).await?.ok_or(ApiError::NotFound)?;
    let t = table_row(tx.as_mut(), f.table_id).await?;
    let perms = Perms::load(tx.as_mut(), caller, &[t.db_id]).await?;
    perms.require_read_or_manage(&t, editable)?;
    let d = database_row(tx.as_mut(), t.db_id).await?;
    let siblings = tx.dm_fields(t.id).await?;
    let mut m = field_entry(tx.as_mut(), &perms, &f, &siblings).await?;
    let mut table = view::table(&t);
    table.insert(
        "db".into(),
        db_object(app, tx.as_mut(), &d, caller, &perms, true).await?,
    );
    m.insert("table".into(), Value::Object(table));
    Ok(Value::Object(m))
}

/// `GET /api/table/:id/fks` (§5.11): readable active fields pointing at this table's fields.
pub async fn fks(app: &App, caller: &Principal, id: i64) -> ApiResult<Value> {
    let mut tx = app.store.read().await?;
    let t = table_row(tx.as_mut(), id).await?;
    let perms = Perms::load(tx.as_mut(), caller, &[t.db_id]).await?;
    perms.require_read(&t)?;
    let d = database_row(tx.as_mut(), t.db_id).await?;
    let tables: HashMap<i64, TableRow> = tx
        .dm_tables(t.db_id)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let fields = tx.dm_db_fields(t.db_id).await?;
    // Every origin is in the same database: its object is built once.
    let db = db_object(app, tx.as_mut(), &d, caller, &perms, true).await?;
    let targets: HashMap<i64, &FieldRow> = fields
        .iter()
        .filter(|f| f.table_id == t.id && f.active && f.visibility_type != "retired")
        .map(|f| (f.id, f))
        .collect();
    let mut out = Vec::new();
    for origin in fields.iter().filter(|f| f.active) {
        let Some(dest) = origin.fk_target_field_id.and_then(|id| targets.get(&id)) else {
            continue;
        };
        let Some(origin_table) = tables.get(&origin.table_id).filter(|ot| perms.can_read(ot))
        else {
            continue;
        };
        let mut o = view::field(origin);
        let mut ot = view::table(origin_table);
        ot.insert("db".into(), db.clone());
        o.insert("table".into(), Value::Object(ot));
        let mut dst = view::field(dest);
        dst.insert("table".into(), Value::Object(view::table(&t)));
        out.push(json!({
            "relationship": "Mt1",
            "origin_id": origin.id,
            "destination_id": dest.id,
            "origin": o,
            "destination": dst,
        }));
    }
    Ok(Value::Array(out))
}
