//! A database's data model (data-model.md §5.1–§5.4): its metadata, schemas, the tables of a
//! schema and its fields, limited to what the caller may read.
use std::collections::HashMap;

use serde::ser::SerializeSeq;
use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use super::perms::Perms;
use super::read::{self, db_object, FieldFilter};
use super::store::{FieldRow, TableRow};
use super::view::{self, DbField, FieldEntry, ListedTable, Table};
use crate::auth::Principal;
use crate::databases::store::DatabaseRow;
use crate::databases::view::Database;
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use crate::store::Tx;

/// `include_hidden` and `include_editable_data_model`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Listing {
    pub hidden: bool,
    pub editable: bool,
}

/// The database, the caller's rights on it, and all its tables (active or not).
async fn database_and_tables(
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
    let tables = tx.dm_tables(db_id).await?;
    Ok((d, perms, tables))
}

/// Whether the caller may list `t` (active, not hidden unless asked, readable unless editing).
fn listed(t: &TableRow, perms: &Perms, listing: Listing) -> bool {
    t.active
        && (listing.hidden || t.visibility_type.is_none())
        && (listing.editable || perms.can_read(t))
}

/// The database, the caller's rights on it, and the active tables they may list.
async fn visible_tables(
    tx: &mut dyn Tx,
    caller: &Principal,
    db_id: i64,
    listing: Listing,
) -> ApiResult<(DatabaseRow, Perms, Vec<TableRow>)> {
    let (d, perms, tables) = database_and_tables(tx, caller, db_id, listing).await?;
    let tables = tables
        .into_iter()
        .filter(|t| listed(t, &perms, listing))
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

/// `GET /api/database/:id/metadata` (§5.1), as a body serialised table by table
/// ([`Metadata`]).
pub async fn metadata(
    app: &App,
    caller: &Principal,
    db_id: i64,
    listing: Listing,
    skip_fields: bool,
) -> ApiResult<Metadata> {
    let mut tx = app.store.read().await?;
    let (d, perms, all_tables) = database_and_tables(tx.as_mut(), caller, db_id, listing).await?;
    let filter = FieldFilter {
        hidden: true,
        sensitive: listing.hidden,
    };
    // One statement for every field of the database, not one per table.
    let all_fields = if skip_fields {
        Vec::new()
    } else {
        tx.dm_db_fields(db_id).await?
    };
    let mut tables: Vec<TableRow> = Vec::new();
    let mut by_id: HashMap<i64, &TableRow> = HashMap::new();
    for t in &all_tables {
        by_id.insert(t.id, t);
        if listed(t, &perms, listing) {
            tables.push(t.clone());
        }
    }
    by_display_name(&mut tables);
    // `target` of the listed foreign keys (read::target), from the rows already read when the
    // target is in this database, where sync puts it.
    let fields_by_id: HashMap<i64, &FieldRow> = all_fields.iter().map(|f| (f.id, f)).collect();
    let mut targets: HashMap<i64, FieldRow> = HashMap::new();
    for f in &all_fields {
        let Some(id) = f.fk_target_field_id else {
            continue;
        };
        if !filter.admits(f)
            || !by_id
                .get(&f.table_id)
                .is_some_and(|t| listed(t, &perms, listing))
        {
            continue;
        }
        let target = match fields_by_id.get(&id) {
            Some(target) if f.semantic_type.as_deref() == Some("type/FK") => {
                match by_id.get(&target.table_id) {
                    Some(table) if perms.can_read(table) => Some((*target).clone()),
                    _ => None,
                }
            }
            Some(_) => None,
            None => read::target(tx.as_mut(), &perms, f).await?,
        };
        if let Some(target) = target {
            targets.insert(f.id, target);
        }
    }
    drop(fields_by_id);
    let mut by_table: HashMap<i64, Vec<FieldRow>> = HashMap::new();
    for f in all_fields {
        by_table.entry(f.table_id).or_default().push(f);
    }
    let out = tables
        .into_iter()
        .map(|t| {
            let fields = (!skip_fields).then(|| {
                let mut all = by_table.remove(&t.id).unwrap_or_default();
                view::sort_fields(&mut all);
                all
            });
            MetadataTable {
                table: t,
                fields,
                filter,
            }
        })
        .collect();
    let db = db_object(app, tx.as_mut(), &d, caller, &perms, true).await?;
    Ok(Metadata {
        db,
        tables: out,
        targets,
    })
}

/// The body of `GET /api/database/:id/metadata`: the database object plus `tables`, written
/// straight from the rows while the body is serialised (with 20,000 fields, building it as one
/// JSON value took most of the request's time and a few hundred megabytes).
pub struct Metadata {
    db: Database,
    tables: Vec<MetadataTable>,
    /// The `target` of the listed foreign keys the caller may read, by field id.
    targets: HashMap<i64, FieldRow>,
}

impl Metadata {
    /// About the body's size in bytes, a little more rather than less (a field object is
    /// ~1.2 kB; capacity not written to costs no memory).
    pub fn size_hint(&self) -> usize {
        let fields: usize = self
            .tables
            .iter()
            .map(|t| t.fields.as_ref().map_or(0, Vec::len))
            .sum();
        4096 + self.tables.len() * 1024 + fields * 1536 + self.targets.len() * 1280
    }
}

struct MetadataTable {
    table: TableRow,
    /// Its fields (active or not) in display order; `None` with `skip_fields`.
    fields: Option<Vec<FieldRow>>,
    filter: FieldFilter,
}

/// A table of the metadata body: the table object, `fields`, `segments`, `metrics`.
#[derive(Serialize)]
struct TableEntry<'a> {
    #[serde(flatten)]
    table: view::TableJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<Vec<FieldEntry<view::FieldJson<'a>>>>,
    segments: [(); 0],
    metrics: [(); 0],
}

/// A table with the body's `targets`.
struct WithTargets<'a>(&'a MetadataTable, &'a HashMap<i64, FieldRow>);

impl Serialize for WithTargets<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let WithTargets(table, targets) = self;
        let fields = table.fields.as_ref().map(|all| {
            all.iter()
                .filter(|f| table.filter.admits(f))
                .map(|f| FieldEntry {
                    field: view::FieldJson::of(f),
                    target: targets.get(&f.id).map(view::FieldJson::of),
                    dimensions: [],
                    name_field: view::name_field_row(f, all).map(view::FieldJson::of),
                })
                .collect()
        });
        TableEntry {
            table: view::TableJson::of(&table.table),
            fields,
            segments: [],
            metrics: [],
        }
        .serialize(s)
    }
}

struct Tables<'a>(&'a Metadata);

impl Serialize for Tables<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.tables.len()))?;
        for t in &self.0.tables {
            seq.serialize_element(&WithTargets(t, &self.0.targets))?;
        }
        seq.end()
    }
}

/// The metadata body as written: the database object, then `tables`.
#[derive(Serialize)]
struct MetadataJson<'a> {
    #[serde(flatten)]
    db: &'a Database,
    tables: Tables<'a>,
}

impl Serialize for Metadata {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        MetadataJson {
            db: &self.db,
            tables: Tables(self),
        }
        .serialize(s)
    }
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
) -> ApiResult<Vec<Table>> {
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
    Ok(tables.into_iter().map(Table).collect())
}

/// `GET /api/database/:id/fields` (§5.4).
pub async fn fields(app: &App, caller: &Principal, db_id: i64) -> ApiResult<Vec<DbField>> {
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
        .map(|(table_name, _, _, schema, f)| DbField {
            id: f.id,
            name: f.name,
            display_name: f.display_name,
            base_type: f.base_type,
            semantic_type: f.semantic_type,
            table_name,
            table_id: f.table_id,
            schema,
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
    ) -> ApiResult<HashMap<i64, Vec<Box<RawValue>>>> {
        let mut tx = app.store.read().await?;
        let perms = Perms::load(tx.as_mut(), caller, db_ids).await?;
        let mut out: HashMap<i64, Vec<Box<RawValue>>> = HashMap::new();
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
        for t in tables {
            let listed = if fields {
                let all = by_table.remove(&t.id).unwrap_or_default();
                Some(read::listed_fields(tx.as_mut(), &perms, all, filter).await?)
            } else {
                None
            };
            let db_id = t.db_id;
            let table = ListedTable {
                table: Table(t),
                fields: listed,
            };
            let json = serde_json::value::to_raw_value(&table).map_err(ApiError::internal)?;
            out.entry(db_id).or_default().push(json);
        }
        tx.commit().await?;
        Ok(out)
    }
}
