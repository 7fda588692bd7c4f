//! Reading tables and fields (data-model.md §5.6, §5.7, §5.10, §5.11, §5.15): existence first
//! (`404`), then the caller's right to read the table (`403`), then the view with its hydrated
//! keys.
use std::collections::HashMap;

use super::perms::Perms;
use super::store::{FieldRow, TableRow};
use super::view::{
    self, Field, FieldDetail, FieldEntry, FieldWithTable, FkRelationship, Table, TableDetail,
    TableMetadata, TableWithDb,
};
use crate::auth::Principal;
use crate::databases::store::DatabaseRow;
use crate::databases::view::Database;
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
) -> ApiResult<Database> {
    let sync = crate::databases::sync_view(app, tx, d.id).await?;
    let mut db = Database::new(d, caller, perms.access(d.id), &app.config, &sync);
    if !details {
        db.details = None;
    }
    Ok(db)
}

pub async fn table_row(tx: &mut dyn Tx, id: i64) -> ApiResult<TableRow> {
    tx.dm_table(id).await?.ok_or(ApiError::NotFound)
}

async fn database_row(tx: &mut dyn Tx, id: i64) -> ApiResult<DatabaseRow> {
    tx.database_get(id).await?.ok_or(ApiError::NotFound)
}

/// `GET /api/table`: every active table the caller may read, with `db`.
pub async fn list_tables(app: &App, caller: &Principal) -> ApiResult<Vec<TableWithDb>> {
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
    let mut objects: HashMap<i64, Database> = HashMap::new();
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
        .into_iter()
        .filter_map(|t| {
            let db = objects.get(&t.db_id)?.clone();
            Some(TableWithDb {
                table: Table(t),
                db,
            })
        })
        .collect())
}

/// `GET /api/table/:id`: the table with `db` and `pk_field`.
pub async fn get_table(
    app: &App,
    caller: &Principal,
    id: i64,
    editable: bool,
) -> ApiResult<TableDetail> {
    let mut tx = app.store.read().await?;
    let t = table_row(tx.as_mut(), id).await?;
    let perms = Perms::load(tx.as_mut(), caller, &[t.db_id]).await?;
    perms.require_read_or_manage(&t, editable)?;
    let d = database_row(tx.as_mut(), t.db_id).await?;
    let fields = tx.dm_fields(t.id).await?;
    let db = db_object(app, tx.as_mut(), &d, caller, &perms, true).await?;
    Ok(TableDetail {
        table: TableWithDb {
            table: Table(t),
            db,
        },
        pk_field: view::pk_field(&fields),
    })
}

/// A table's fields (`all` of them, as stored) as `query_metadata` and `include=tables.fields`
/// list them: in display order, filtered.
pub async fn listed_fields(
    tx: &mut dyn Tx,
    perms: &Perms,
    mut all: Vec<FieldRow>,
    filter: FieldFilter,
) -> ApiResult<Vec<FieldEntry<Field>>> {
    view::sort_fields(&mut all);
    let mut fields = Vec::new();
    for f in all.iter().filter(|f| filter.admits(f)) {
        fields.push(field_entry(tx, perms, f, &all).await?);
    }
    Ok(fields)
}

/// A field as `query_metadata` and `GET /api/field/:id` list it: `target`, `dimensions`,
/// `name_field`.
pub async fn field_entry(
    tx: &mut dyn Tx,
    perms: &Perms,
    f: &FieldRow,
    siblings: &[FieldRow],
) -> ApiResult<FieldEntry<Field>> {
    Ok(FieldEntry {
        field: Field(f.clone()),
        target: target(tx, perms, f).await?.map(Field),
        dimensions: [],
        name_field: view::name_field_row(f, siblings).cloned().map(Field),
    })
}

/// `target`: the FK's target field when the caller can read its table (§1.3).
pub async fn target(tx: &mut dyn Tx, perms: &Perms, f: &FieldRow) -> ApiResult<Option<FieldRow>> {
    if f.semantic_type.as_deref() != Some("type/FK") {
        return Ok(None);
    }
    let Some(id) = f.fk_target_field_id else {
        return Ok(None);
    };
    let Some(t) = tx.dm_field(id).await? else {
        return Ok(None);
    };
    let Some(table) = tx.dm_table(t.table_id).await? else {
        return Ok(None);
    };
    Ok(perms.can_read(&table).then_some(t))
}

/// `GET /api/table/:id/query_metadata` (§5.10).
pub async fn query_metadata(
    app: &App,
    caller: &Principal,
    id: i64,
    filter: FieldFilter,
    editable: bool,
) -> ApiResult<TableMetadata> {
    let mut tx = app.store.read().await?;
    let t = table_row(tx.as_mut(), id).await?;
    let perms = Perms::load(tx.as_mut(), caller, &[t.db_id]).await?;
    perms.require_read_or_manage(&t, editable)?;
    let d = database_row(tx.as_mut(), t.db_id).await?;
    let all = tx.dm_fields(t.id).await?;
    let fields = listed_fields(tx.as_mut(), &perms, all, filter).await?;
    let db = db_object(app, tx.as_mut(), &d, caller, &perms, false).await?;
    Ok(TableMetadata {
        table: Table(t),
        db,
        fields,
        segments: [],
        metrics: [],
    })
}

/// `GET /api/field/:id` (§5.15).
pub async fn get_field(
    app: &App,
    caller: &Principal,
    id: i64,
    editable: bool,
) -> ApiResult<FieldDetail> {
    let mut tx = app.store.read().await?;
    let f = tx.dm_field(id).await?.ok_or(ApiError::NotFound)?;
    let t = table_row(tx.as_mut(), f.table_id).await?;
    let perms = Perms::load(tx.as_mut(), caller, &[t.db_id]).await?;
    perms.require_read_or_manage(&t, editable)?;
    let d = database_row(tx.as_mut(), t.db_id).await?;
    let siblings = tx.dm_fields(t.id).await?;
    let entry = field_entry(tx.as_mut(), &perms, &f, &siblings).await?;
    let db = db_object(app, tx.as_mut(), &d, caller, &perms, true).await?;
    Ok(FieldWithTable {
        field: entry,
        table: TableWithDb {
            table: Table(t),
            db,
        },
    })
}

/// `GET /api/table/:id/fks` (§5.11): readable active fields pointing at this table's fields.
pub async fn fks(app: &App, caller: &Principal, id: i64) -> ApiResult<Vec<FkRelationship>> {
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
        out.push(relationship(origin, origin_table, &db, dest, &t));
    }
    Ok(out)
}

/// An entry of `fks`: `origin` (of `origin_table`, in database `db`) points at `dest` (of
/// `table`).
fn relationship(
    origin: &FieldRow,
    origin_table: &TableRow,
    db: &Database,
    dest: &FieldRow,
    table: &TableRow,
) -> FkRelationship {
    FkRelationship {
        relationship: "Mt1",
        origin_id: origin.id,
        destination_id: dest.id,
        origin: FieldWithTable {
            field: Field(origin.clone()),
            table: TableWithDb {
                table: Table(origin_table.clone()),
                db: db.clone(),
            },
        },
        destination: FieldWithTable {
            field: Field(dest.clone()),
            table: Table(table.clone()),
        },
    }
}
