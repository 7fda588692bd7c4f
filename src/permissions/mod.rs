//! Data permissions (people-and-groups.md §9, queries.md §2): per group and database, the five
//! values of Metabase's graph; the defaults for new databases and groups; and what a caller may
//! do with a database (the most permissive of their groups wins).
pub mod api;
pub mod grant;
pub mod graph;
pub mod graph_put;
pub mod input;
pub mod store;

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::auth::Principal;
use crate::auth::{ADMINISTRATORS, ALL_USERS};
use crate::error::{ApiError, ApiResult};
use crate::store::{StoreResult, Tx};
use grant::{CreateQueries, Grant, ViewData};
use store::DataPermRow;

/// The entry a group gets on a new database (§9.3), or on a database it has no row for.
pub fn default_entry(group_id: i64, database_id: i64) -> DataPermRow {
    let all_users = group_id == ALL_USERS;
    DataPermRow {
        group_id,
        database_id,
        view_data: Grant::Plain(ViewData::Unrestricted),
        create_queries: Grant::Plain(if all_users {
            CreateQueries::QueryBuilderAndNative
        } else {
            CreateQueries::No
        }),
        download: if all_users { "full" } else { "none" }.into(),
        data_model: "none".into(),
        details: "no".into(),
    }
}

/// Administrators' entry: everything, always.
pub fn admin_entry(database_id: i64) -> DataPermRow {
    DataPermRow {
        group_id: ADMINISTRATORS,
        database_id,
        view_data: Grant::Plain(ViewData::Unrestricted),
        create_queries: Grant::Plain(CreateQueries::QueryBuilderAndNative),
        download: "full".into(),
        data_model: "all".into(),
        details: "yes".into(),
    }
}

/// The graph form of an entry: all five keys.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct GraphEntry {
    pub view_data: Value,
    pub create_queries: Value,
    pub download: Schemas,
    pub data_model: Schemas,
    pub details: String,
}

/// `{"schemas": <level>}`.
#[derive(Debug, serde::Serialize)]
pub struct Schemas {
    pub schemas: String,
}

impl From<DataPermRow> for GraphEntry {
    fn from(r: DataPermRow) -> Self {
        GraphEntry {
            view_data: r.view_data.to_json(),
            create_queries: r.create_queries.to_json(),
            download: Schemas {
                schemas: r.download,
            },
            data_model: Schemas {
                schemas: r.data_model,
            },
            details: r.details,
        }
    }
}

/// What a caller may do with one database (queries.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Access {
    /// can_view(D): plain `view-data` `unrestricted` in some group, or a granular one that
    /// leaves some schema or table `unrestricted` (data-model.md §4.2).
    pub view: bool,
    /// Plain `view-data` `unrestricted` in some group: what running a saved native card needs.
    pub view_plain: bool,
    pub native: bool,
    /// Plain `view-data` `unrestricted` and plain `create-queries` of at least `query-builder`
    /// in one group.
    pub query_builder: bool,
    /// `data-model` `all`: may edit the database's metadata (data-model.md §4.2).
    pub manage_metadata: bool,
}

impl Access {
    pub const ALL: Access = Access {
        view: true,
        view_plain: true,
        native: true,
        query_builder: true,
        manage_metadata: true,
    };

    fn from_rows<'a>(rows: impl Iterator<Item = &'a DataPermRow>) -> Access {
        let mut a = Access::default();
        for r in rows {
            a.manage_metadata |= r.data_model == "all";
            a.view |= r.view_data.reaches(ViewData::Unrestricted);
            if r.view_data.plain() != Some(ViewData::Unrestricted) {
                continue;
            }
            a.view_plain = true;
            let create = r.create_queries.plain().unwrap_or(CreateQueries::No);
            a.native |= create == CreateQueries::QueryBuilderAndNative;
            a.query_builder |= create >= CreateQueries::QueryBuilder;
        }
        a
    }
}

/// A caller's rights on the tables of one database: the `view-data` and `create-queries`
/// values of their groups (data-model.md §4.2).
#[derive(Debug, Clone, Default)]
pub struct TableRights {
    view: Vec<Grant<ViewData>>,
    create: Vec<Grant<CreateQueries>>,
}

impl TableRights {
    fn from_rows<'a>(rows: impl Iterator<Item = &'a DataPermRow>) -> TableRights {
        let mut t = TableRights::default();
        for r in rows {
            t.view.push(r.view_data.clone());
            t.create.push(r.create_queries.clone());
        }
        t
    }

    /// The most permissive `view-data` of the caller's groups for a table.
    pub fn view(&self, schema: &str, table_id: i64) -> ViewData {
        (self.view.iter().map(|g| g.of_table(schema, table_id)))
            .max()
            .unwrap_or(ViewData::Blocked)
    }

    /// The most permissive `create-queries` of the caller's groups for a table.
    pub fn create_queries(&self, schema: &str, table_id: i64) -> CreateQueries {
        (self.create.iter().map(|g| g.of_table(schema, table_id)))
            .max()
            .unwrap_or(CreateQueries::No)
    }

    /// can_query_builder(T): view access and at least query-builder rights on the table.
    pub fn query_builder(&self, schema: &str, table_id: i64) -> bool {
        self.view(schema, table_id) == ViewData::Unrestricted
            && self.create_queries(schema, table_id) >= CreateQueries::QueryBuilder
    }
}

/// A caller's rights on one database, whole and per table.
#[derive(Debug, Clone)]
pub struct Rights {
    pub access: Access,
    /// `None` for superusers: every table.
    pub tables: Option<TableRights>,
}

impl Rights {
    const ALL: Rights = Rights {
        access: Access::ALL,
        tables: None,
    };
    /// Nothing (a database a key's restriction leaves out).
    const NONE: Rights = Rights {
        access: Access {
            view: false,
            view_plain: false,
            native: false,
            query_builder: false,
            manage_metadata: false,
        },
        tables: Some(TableRights {
            view: Vec::new(),
            create: Vec::new(),
        }),
    };

    fn from_rows(caller: &Principal, rows: &[DataPermRow]) -> Rights {
        let mine = || {
            rows.iter()
                .filter(|r| caller.group_ids.contains(&r.group_id))
        };
        Rights {
            access: Access::from_rows(mine()),
            tables: Some(TableRights::from_rows(mine())),
        }
    }

    /// can_query_builder(T) for table `table_id` of `schema`.
    pub fn query_builder(&self, schema: &str, table_id: i64) -> bool {
        self.tables
            .as_ref()
            .is_none_or(|t| t.query_builder(schema, table_id))
    }
}

/// The caller's groups' entries on `database_id`, defaults filled in for missing rows.
fn with_defaults(
    caller: &Principal,
    database_id: i64,
    mut rows: Vec<DataPermRow>,
) -> Vec<DataPermRow> {
    for g in caller.group_ids.iter() {
        if *g != ADMINISTRATORS && !rows.iter().any(|r| r.group_id == *g) {
            rows.push(default_entry(*g, database_id));
        }
    }
    rows
}

/// The caller's access to one database (none when a key's database restriction leaves it out,
/// key-restrictions.md §2.3).
pub async fn access(tx: &mut dyn Tx, caller: &Principal, database_id: i64) -> StoreResult<Access> {
    if !caller.allows_database(database_id) {
        return Ok(Access::default());
    }
    if caller.is_superuser {
        return Ok(Access::ALL);
    }
    let rows = with_defaults(
        caller,
        database_id,
        tx.data_perm_of_database(database_id).await?,
    );
    Ok(Rights::from_rows(caller, &rows).access)
}

/// The caller's rights on every database in `ids`.
pub async fn rights_all(
    tx: &mut dyn Tx,
    caller: &Principal,
    ids: &[i64],
) -> StoreResult<HashMap<i64, Rights>> {
    let mut by_db: HashMap<i64, Vec<DataPermRow>> = HashMap::new();
    if !caller.is_superuser {
        for r in tx.data_perm_all().await? {
            by_db.entry(r.database_id).or_default().push(r);
        }
    }
    Ok(ids
        .iter()
        .map(|id| {
            let rights = if !caller.allows_database(*id) {
                Rights::NONE
            } else if caller.is_superuser {
                Rights::ALL
            } else {
                let rows = with_defaults(caller, *id, by_db.remove(id).unwrap_or_default());
                Rights::from_rows(caller, &rows)
            };
            (*id, rights)
        })
        .collect())
}

/// The caller's access to every database in `ids`.
pub async fn access_all(
    tx: &mut dyn Tx,
    caller: &Principal,
    ids: &[i64],
) -> StoreResult<HashMap<i64, Access>> {
    Ok(rights_all(tx, caller, ids)
        .await?
        .into_iter()
        .map(|(id, r)| (id, r.access))
        .collect())
}

pub const CANNOT_SAVE: &str =
    "You cannot save this Question because you do not have permissions to run its query.";

/// Saving a card needs the right to run its query (content.md §2.4 step 3): native permission
/// for a native query, query-builder permission otherwise.
pub async fn require_can_save(
    tx: &mut dyn Tx,
    caller: &Principal,
    database_id: i64,
    native: bool,
) -> ApiResult<()> {
    let a = access(tx, caller, database_id).await?;
    let ok = if native { a.native } else { a.query_builder };
    if ok {
        Ok(())
    } else {
        Err(cannot_save())
    }
}

/// `403 {"message": CANNOT_SAVE}`.
pub fn cannot_save() -> ApiError {
    ApiError::JsonBody(
        crate::error::Kind::Forbidden,
        json!({ "message": CANNOT_SAVE }),
    )
}

/// Entries for a new database: defaults for every non-admin group (§9.3).
pub async fn on_database_created(tx: &mut dyn Tx, database_id: i64) -> StoreResult<()> {
    for g in tx.group_list().await? {
        if g.id != ADMINISTRATORS {
            tx.data_perm_set(&default_entry(g.id, database_id)).await?;
        }
    }
    Ok(())
}

/// Entries for a new group (§9.3): `unrestricted`, `create-queries` and `download` copied from
/// All Users, no data model, no details.
pub async fn on_group_created(tx: &mut dyn Tx, group_id: i64) -> StoreResult<()> {
    let all_users: HashMap<i64, DataPermRow> = tx
        .data_perm_all()
        .await?
        .into_iter()
        .filter(|r| r.group_id == ALL_USERS)
        .map(|r| (r.database_id, r))
        .collect();
    for d in tx.database_list().await? {
        let base = all_users
            .get(&d.id)
            .cloned()
            .unwrap_or_else(|| default_entry(ALL_USERS, d.id));
        tx.data_perm_set(&DataPermRow {
            group_id,
            database_id: d.id,
            view_data: Grant::Plain(ViewData::Unrestricted),
            create_queries: base.create_queries,
            download: base.download,
            data_model: "none".into(),
            details: "no".into(),
        })
        .await?;
    }
    Ok(())
}

/// At start-up: an entry for every (non-admin group, database) pair that has none.
pub async fn fill_missing(tx: &mut dyn Tx) -> StoreResult<()> {
    let have: std::collections::HashSet<(i64, i64)> = tx
        .data_perm_all()
        .await?
        .into_iter()
        .map(|r| (r.group_id, r.database_id))
        .collect();
    let groups = tx.group_list().await?;
    for d in tx.database_list().await? {
        for g in groups.iter().filter(|g| g.id != ADMINISTRATORS) {
            if !have.contains(&(g.id, d.id)) {
                tx.data_perm_set(&default_entry(g.id, d.id)).await?;
            }
        }
    }
    Ok(())
}
