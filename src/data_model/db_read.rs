//! A database's data model (data-model.md §5.1–§5.4): its metadata, schemas, the tables of a
//! schema and its fields, limited to what the caller may read.
use std::collections::HashMap;

use serde_json::{json, Value};

use super::perms::Perms;
use super::read::{db_object, listed_fields, FieldFilter};
use super::store::{FieldRow, TableRow};
use super::view;
use crate::auth::Principal;
use crate::databases::store::DatabaseRow;
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use crate::store::Tx;

/// `include_hidden` and `include_editable_data_model`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Listing {
    pub hidden: bool,
    pub editable: bool,
}

/// The database, the caller's rights on it, and the active tables they may list.
async fn visible_tables(
    tx: &mut dyn Tx,
    caller: &Principal,
    db_id: i64,
    listing: Listing,
) -> ApiResult<(DatabaseRow, Perms, Vec<TableRow>)> {
    let d = tx.database_get(db_id).await?.ok_or(ApiError::NotFound)?;
    let perms = Perms::load(tx, caller, &[db_id]).await?;
    if listing.editable {
        perms.require_manage(db_id)?;
    } else if !perms.can_view_db(db_id) {
        return Err(ApiError::Forbidden);
    }
    let tables = tx
        .dm_tables(db_id)
        .await?
        .into_iter()
        .filter(|t| t.active)
        .filter(|t| listing.hidden || t.visibility_type.is_none())
        .filter(|t| listing.editable || perms.can_read(t))
        .collect();
    Ok((d, perms, tables))
}

/// The database's fields grouped by table (nothing when `skip`).
async fn fields_by_table(
    tx: &mut dyn Tx,
    db_id: i64,
    skip: bool,
) -> ApiResult<HashMap<i64, Vec<FieldRow>>> {
    let mut out: HashMap<i64, Vec<FieldRow>> = HashMap::new();
    if !skip {
        for f in tx.dm_db_fields(db_id).await? {
            out.entry(f.table_id).or_default().push(f);
        }
    }
    Ok(out)
}

fn by_display_name(tables: &mut [TableRow]) {
    tables.sort_by(|a, b| {
        (a.display_name.to_lowercase(), a.id).cmp(&(b.display_name.to_lowercase(), b.id))
    });
}

/// `GET /api/database/:id/metadata` (§5.1).
pub async fn metadata(
    app: &App,
    caller: &Principal,
    db_id: i64,
    listing: Listing,
    skip_fields: bool,
) -> ApiResult<Value> {
    let mut tx = app.store.read().await?;
    let (d, perms, mut tables) = visible_tables(tx.as_mut(), caller, db_id, listing).await?;
    by_display_name(&mut tables);
    let filter = FieldFilter {
        hidden: true,
        sensitive: listing.hidden,
    };
    let mut out = Vec::with_capacity(tables.len());
    // One statement for every field of the database, not one per table.
    let mut by_table = fields_by_table(tx.as_mut(), db_id, skip_fields).await?;
    for t in &tables {
        let mut m = view::table(t);
        if !skip_fields {
            let all = by_table.remove(&t.id).unwrap_or_default();
            let fields = listed_fields(tx.as_mut(), &perms, all, filter).await?;
            m.insert("fields".into(), fields);
        }
        m.insert("segments".into(), json!([]));
        m.insert("metrics".into(), json!([]));
        out.push(Value::Object(m));
    }
    let mut v = db_object(app, tx.as_mut(), &d, caller, &perms, true).await?;
    v["tables"] = Value::Array(out);
    Ok(v)
}

/// `GET /api/database/:id/schemas` (§5.2).
pub async fn schemas(
    app: &App,
    caller: &Principal,
    db_id: i64,
    listing: Listing,
) -> ApiResult<Vec<String>> {
    let mut tx = app.store.read().await?;
    let (_, _, tables) = visible_tables(tx.as_mut(), caller, db_id, listing).await?;
    let mut names: Vec<String> = tables.into_iter().map(|t| t.schema).collect();
    names.sort();
    names.dedup();
    Ok(names)
}

/// `GET /api/database/:id/schema/:schema` (§5.3); `""` for tables without a schema.
pub async fn schema_tables(
    app: &App,
    caller: &Principal,
    db_id: i64,
    schema: &str,
    listing: Listing,
) -> ApiResult<Vec<Value>> {
    let mut tx = app.store.read().await?;
    let (_, _, tables) = visible_tables(tx.as_mut(), caller, db_id, listing).await?;
    let mut tables: Vec<TableRow> = tables.into_iter().filter(|t| t.schema == schema).collect();
    if tables.is_empty() {
        // No readable table in the schema: not found, or not readable (§4.3).
        let exists = tx
            .dm_tables(db_id)
            .await?
            .iter()
            .any(|t| t.active && t.schema == schema);
        return Err(if exists && !listing.editable {
            ApiError::Forbidden
        } else {
            ApiError::NotFound
        });
    }
    tables.sort_by(|a, b| (&a.display_name, a.id).cmp(&(&b.display_name, b.id)));
    Ok(tables
        .iter()
        .map(|t| Value::Object(view::table(t)))
        .collect())
}

/// `GET /api/database/:id/fields` (§5.4).
pub async fn fields(app: &App, caller: &Principal, db_id: i64) -> ApiResult<Vec<Value>> {
    let mut tx = app.store.read().await?;
    let (_, _, tables) = visible_tables(
        tx.as_mut(),
        caller,
        db_id,
        Listing {
            hidden: true,
            editable: false,
        },
    )
    .await?;
    let mut rows = Vec::new();
    let mut by_table = fields_by_table(tx.as_mut(), db_id, false).await?;
    for t in &tables {
        for f in by_table.remove(&t.id).unwrap_or_default() {
            if f.active && !matches!(f.visibility_type.as_str(), "sensitive" | "retired") {
                rows.push((t.name.clone(), f.position, f.id, t.schema.clone(), f));
            }
        }
    }
    rows.sort_by(|a, b| (&a.0, a.1, a.2).cmp(&(&b.0, b.1, b.2)));
    Ok(rows
        .into_iter()
        .map(|(table_name, _, _, schema, f)| {
            json!({
                "id": f.id,
                "name": f.name,
                "display_name": f.display_name,
                "base_type": f.base_type,
                "semantic_type": f.semantic_type,
                "table_name": table_name,
                "table_id": f.table_id,
                "schema": schema,
            })
        })
        .collect())
}

/// `include=tables` (and `tables.fields`) on database objects (queries.md §1.3–§1.4).
pub struct DatabaseTables;

#[async_trait::async_trait]
impl crate::databases::TableLister for DatabaseTables {
    async fn tables(
        &self,
        app: &App,
        caller: &Principal,
        db_ids: &[i64],
        fields: bool,
    ) -> ApiResult<HashMap<i64, Vec<Value>>> {
        let mut tx = app.store.read().await?;
        let perms = Perms::load(tx.as_mut(), caller, db_ids).await?;
        let mut out: HashMap<i64, Vec<Value>> = HashMap::new();
        let all = match db_ids {
            [one] => tx.dm_tables(*one).await?,
            _ => tx.dm_all_tables().await?,
        };
        let mut tables: Vec<TableRow> = all
            .into_iter()
            .filter(|t| db_ids.contains(&t.db_id) && t.active && t.visibility_type.is_none())
            .filter(|t| perms.can_read(t))
            .collect();
        tables
            .sort_by_cached_key(|t| (t.schema.to_lowercase(), t.display_name.to_lowercase(), t.id));
        let filter = FieldFilter {
            hidden: true,
            sensitive: false,
        };
        let mut by_table = HashMap::new();
        if fields {
            for db_id in db_ids {
                by_table.extend(fields_by_table(tx.as_mut(), *db_id, false).await?);
            }
        }
        for t in &tables {
            let mut m = view::table(t);
            if fields {
                let all = by_table.remove(&t.id).unwrap_or_default();
                m.insert(
                    "fields".into(),
                    listed_fields(tx.as_mut(), &perms, all, filter).await?,
                );
            }
            out.entry(t.db_id).or_default().push(Value::Object(m));
        }
        tx.commit().await?;
        Ok(out)
    }
}
