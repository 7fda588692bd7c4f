//! Database rules (queries.md §1.3–§1.7): who may see and change databases, validation, the
//! connection test that guards every change of connection details, and deletion with cards.
use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::details::{self, FieldErrors};
use super::input::{Connection, DatabasePatch, Include, NewDatabase};
use super::store::{DatabaseRow, SyncStatusRow};
use super::view::{
    Database, DatabaseDetail, DatabaseList, Empty, Health, ListedDatabase, Validity,
};
use super::SyncView;
use crate::audit::AuditEvent;
use crate::auth::{AdminCap, Principal};
use crate::clock::Timestamp;
use crate::error::{ApiError, ApiResult};
use crate::permissions::{self, Access};
use crate::state::{App, AppState};
use crate::store::StoreError;
use crate::warehouse::engine::{ConnectFailure, Target, WarehouseOptions};

const NAME_TAKEN: &str = "A database with this name already exists.";
const BAD_ENGINE: &str = "value must be a valid database engine.";
const SAMPLE_NAME: &str = "Sample Database";

fn field_errors(errs: FieldErrors) -> ApiError {
    let map: Map<String, Value> = errs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    ApiError::bad_request_json(json!({ "errors": map }))
}

fn hint(key: &str) -> &'static str {
    match key {
        "host" | "port" => "Check the host and port, and that the server accepts connections.",
        "user" | "password" => "Check the user name and password.",
        "dbname" => "Check the database name.",
        "ssl" => "Check the SSL settings.",
        _ => "Check the path of the SQLite file.",
    }
}

fn connect_error(f: ConnectFailure) -> ApiError {
    let errors: Map<String, Value> = f
        .keys
        .iter()
        .map(|k| {
            // A refusal by ferrobase's own rules says what to change; a connection error
            // gets a generic hint.
            let h = if f.refused {
                f.message.as_str()
            } else {
                hint(k)
            };
            ((*k).to_string(), Value::String(h.into()))
        })
        .collect();
    ApiError::bad_request_json(json!({"message": f.message, "errors": errors}))
}

/// Resolves and tests connection details (§1.5 steps 1 and 3).
async fn checked_target(app: &App, engine: &str, d: &Value) -> ApiResult<Target> {
    if !details::ENGINES.contains(&engine) {
        return Err(ApiError::field("engine", BAD_ENGINE));
    }
    let target = details::target(&app.config, engine, d, false).map_err(field_errors)?;
    let wh = target.build(WarehouseOptions::single(&app.config));
    wh.test().await.map_err(connect_error)?;
    Ok(target)
}

/// `GET /api/database` (§1.3); `tables`: `include=tables`.
pub async fn list(app: &App, caller: &Principal, tables: bool) -> ApiResult<DatabaseList> {
    let mut tx = app.store.read().await?;
    let mut rows = tx.database_list().await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let access = permissions::access_all(tx.as_mut(), caller, &ids).await?;
    let mut statuses: std::collections::HashMap<i64, SyncStatusRow> =
        tx.database_sync_statuses().await?.into_iter().collect();
    tx.commit().await?;
    rows.retain(|r| access.get(&r.id).is_some_and(|a| a.view));
    let now = app.clock.now().micros();
    rows.sort_by_key(|c| (c.name.to_lowercase(), c.id));
    let mut listed = if tables {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        app.tables.tables(app, caller, &ids, false).await?
    } else {
        Default::default()
    };
    let data: Vec<ListedDatabase> = rows
        .iter()
        .map(|d| {
            let a = access.get(&d.id).copied().unwrap_or_default();
            let status = statuses.remove(&d.id).unwrap_or_default();
            let sync = SyncView::new(status, app.syncs.state_name(d.id), now);
            ListedDatabase {
                database: Database::new(d, caller, a, &app.config, &sync),
                tables: tables.then(|| listed.remove(&d.id).unwrap_or_default()),
            }
        })
        .collect();
    let total = data.len();
    Ok(DatabaseList { data, total })
}

/// A database the caller can view: 404 when missing, 403 when not viewable.
pub async fn viewable(app: &App, caller: &Principal, id: i64) -> ApiResult<(DatabaseRow, Access)> {
    let mut tx = app.store.read().await?;
    let row = tx.database_get(id).await?.ok_or(ApiError::NotFound)?;
    let a = permissions::access(tx.as_mut(), caller, id).await?;
    tx.commit().await?;
    if !a.view {
        return Err(ApiError::Forbidden);
    }
    Ok((row, a))
}

/// `GET /api/database/:id` (§1.4).
pub async fn get(
    app: &App,
    caller: &Principal,
    id: i64,
    include: Include,
) -> ApiResult<DatabaseDetail> {
    let (row, a) = viewable(app, caller, id).await?;
    let sync = super::sync_view(app, app.store.read().await?.as_mut(), id).await?;
    let tables = if include == Include::Nothing {
        None
    } else {
        let fields = include == Include::TablesAndFields;
        let mut listed = app.tables.tables(app, caller, &[id], fields).await?;
        Some(listed.remove(&id).unwrap_or_default())
    };
    Ok(DatabaseDetail {
        database: Database::new(&row, caller, a, &app.config, &sync),
        can_manage: caller.is_superuser,
        schedules: Empty {},
        tables,
    })
}

/// The audit event of a created or changed database: what it is, and whether the admin
/// accepted a privileged PostgreSQL role (queries.md §1.5). Secrets never enter the log.
pub fn database_event(
    topic: &'static str,
    actor: Option<i64>,
    row: &DatabaseRow,
    now: i64,
) -> AuditEvent {
    let details: Value = serde_json::from_str(&row.details).unwrap_or_else(|_| json!({}));
    let allow = details
        .get(details::ALLOW_PRIVILEGED)
        .and_then(Value::as_bool)
        .unwrap_or(false);
    AuditEvent {
        topic,
        timestamp: Timestamp(now),
        user_id: actor,
        model: "Database",
        model_id: Some(row.id),
        details: json!({
            "name": row.name,
            "engine": row.engine,
            details::ALLOW_PRIVILEGED: allow,
        }),
    }
}

fn name_taken() -> ApiError {
    ApiError::field("name", NAME_TAKEN)
}

/// `POST /api/database` (§1.5): the details are checked, the name must be free, and the
/// connection must succeed before anything is written.
pub async fn create(
    app: &AppState,
    caller: &Principal,
    input: &NewDatabase,
) -> ApiResult<Database> {
    let admin = caller.require_superuser()?;
    if !details::ENGINES.contains(&input.engine.as_str()) {
        return Err(ApiError::field("engine", BAD_ENGINE));
    }
    details::target(&app.config, &input.engine, &input.details, false).map_err(field_errors)?;
    {
        let mut tx = app.store.read().await?;
        if tx.database_get_by_name(&input.name).await?.is_some() {
            return Err(name_taken());
        }
        tx.commit().await?;
    }
    checked_target(app, &input.engine, &input.details).await?;
    let now = app.clock.now().micros();
    let mut row = DatabaseRow {
        id: 0,
        name: input.name.clone(),
        description: input.description.clone(),
        engine: input.engine.clone(),
        details: input.details.to_string(),
        is_sample: false,
        auto_run_queries: input.auto_run_queries,
        cache_ttl: input.cache_ttl,
        creator_id: Some(admin.actor_id),
        created_at: now,
        updated_at: now,
    };
    let mut tx = app.store.begin().await?;
    row.id = match tx.database_insert(&row, None).await {
        Ok(id) => id,
        Err(StoreError::Conflict(_)) => return Err(name_taken()),
        Err(e) => return Err(e.into()),
    };
    permissions::on_database_created(tx.as_mut(), row.id).await?;
    let event = database_event("database-create", Some(admin.actor_id), &row, now);
    tx.audit_insert(&event).await?;
    tx.commit().await?;
    // The answer shows the sync it starts (data-model.md §2.1).
    let sync = super::sync_view(app, app.store.read().await?.as_mut(), row.id).await?;
    app.syncs.sync_database(app, row.id);
    Ok(Database::new(&row, caller, Access::ALL, &app.config, &sync))
}

/// `PUT /api/database/:id` (§1.6): changed connection details are checked and tested like a
/// new database's; the Sample Database keeps its connection.
pub async fn update(
    app: &AppState,
    caller: &Principal,
    id: i64,
    input: &DatabasePatch,
) -> ApiResult<DatabaseDetail> {
    let admin = caller.require_superuser()?;
    let old = {
        let mut tx = app.store.read().await?;
        let r = tx.database_get(id).await?.ok_or(ApiError::NotFound)?;
        tx.commit().await?;
        r
    };
    let mut new = old.clone();
    apply_fields(&mut new, input);
    let stored = shown_details(app, &old);
    let new_details = match &input.details {
        Some(sent) => Value::Object(details::unmask(sent, &stored)),
        None => stored.clone(),
    };
    let connection_changed = new.engine != old.engine || new_details != stored;
    if connection_changed {
        check_connection_change(app, &old, &new.engine, &new_details)?;
    }
    let mut tx = app.store.begin().await?;
    if let Some(other) = tx.database_get_by_name(&new.name).await? {
        if other.id != id {
            return Err(name_taken());
        }
    }
    tx.commit().await?;
    if connection_changed {
        checked_target(app, &new.engine, &new_details).await?;
        new.details = new_details.to_string();
    }
    if new != old {
        new.updated_at = app.clock.now().micros();
        write_update(app, &admin, &new).await?;
        app.warehouses.forget(id);
    }
    if connection_changed {
        app.syncs.sync_database(app, id);
    }
    get(app, caller, id, Include::Nothing).await
}

fn apply_fields(new: &mut DatabaseRow, input: &DatabasePatch) {
    if let Some(n) = &input.name {
        new.name = n.clone();
    }
    if let Some(d) = &input.description {
        new.description = d.clone();
    }
    if let Some(b) = input.auto_run_queries {
        new.auto_run_queries = b;
    }
    if let Some(c) = input.cache_ttl {
        new.cache_ttl = c;
    }
    if let Some(e) = &input.engine {
        new.engine = e.clone();
    }
}

/// The stored details as GET shows them, so a client can send back the object it read.
fn shown_details(app: &App, row: &DatabaseRow) -> Value {
    let mut stored: Value = serde_json::from_str(&row.details).unwrap_or_else(|_| json!({}));
    if row.is_sample {
        stored["db"] = json!(details::sample_path(&app.config).to_string_lossy());
    }
    stored
}

/// A new engine or new details (§1.6 step 1): not on the Sample Database, and they must
/// resolve to a target.
fn check_connection_change(
    app: &App,
    old: &DatabaseRow,
    engine: &str,
    new_details: &Value,
) -> ApiResult<()> {
    if old.is_sample {
        return Err(ApiError::field(
            "details",
            "The Sample Database's engine and connection details cannot be changed.",
        ));
    }
    if !details::ENGINES.contains(&engine) {
        return Err(ApiError::field("engine", BAD_ENGINE));
    }
    details::target(&app.config, engine, new_details, false).map_err(field_errors)?;
    Ok(())
}

/// Writes a changed database with its audit event.
async fn write_update(app: &App, admin: &AdminCap, new: &DatabaseRow) -> ApiResult<()> {
    let mut tx = app.store.begin().await?;
    match tx.database_update(new).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return Err(name_taken()),
        Err(e) => return Err(e.into()),
    }
    let event = database_event("database-update", Some(admin.actor_id), new, new.updated_at);
    tx.audit_insert(&event).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete(app: &App, caller: &Principal, id: i64) -> ApiResult<()> {
    caller.require_superuser()?;
    app.syncs.cancel(id);
    let mut tx = app.store.begin().await?;
    let row = tx.database_get(id).await?.ok_or(ApiError::NotFound)?;
    for card in tx.database_card_ids(id).await? {
        tx.card_delete(card).await?;
    }
    tx.data_perm_delete_database(id).await?;
    tx.database_delete(id).await?;
    tx.commit().await?;
    app.warehouses.forget(id);
    if row.is_sample {
        let path = details::sample_path(&app.config);
        if path != super::sample::cache_path() {
            let _ = std::fs::remove_file(path);
        }
    }
    Ok(())
}

/// `POST /api/database/validate`.
pub async fn validate(app: &App, caller: &Principal, input: &Connection) -> ApiResult<Validity> {
    caller.require_superuser()?;
    checked_target(app, &input.engine, &input.details).await?;
    Ok(Validity { valid: true })
}

/// `POST /api/database/sample_database`.
pub async fn sample_database(app: &AppState, caller: &Principal) -> ApiResult<Database> {
    caller.require_superuser()?;
    let mut tx = app.store.begin().await?;
    let existing = tx.database_list().await?.into_iter().find(|d| d.is_sample);
    let row = match existing {
        Some(r) => r,
        None => {
            let path = details::sample_path(&app.config);
            super::sample::create_file(&path)
                .await
                .map_err(ApiError::internal)?;
            let now = app.clock.now().micros();
            let mut row = DatabaseRow {
                id: 0,
                name: SAMPLE_NAME.into(),
                description: None,
                engine: "sqlite".into(),
                details: json!({"db": super::sample::FILE_NAME}).to_string(),
                is_sample: true,
                auto_run_queries: true,
                cache_ttl: None,
                creator_id: None,
                created_at: now,
                updated_at: now,
            };
            row.id = match tx.database_insert(&row, None).await {
                Ok(id) => id,
                Err(StoreError::Conflict(_)) => return Err(name_taken()),
                Err(e) => return Err(e.into()),
            };
            permissions::on_database_created(tx.as_mut(), row.id).await?;
            row
        }
    };
    tx.commit().await?;
    app.warehouses.forget(row.id);
    // Synced before the answer (data-model.md §2.11).
    let status = app.store.read().await?.database_sync_status(row.id).await?;
    if status.is_none_or(|s| s.sync_last_started_at.is_none()) {
        if let Err(e) = app.syncs.sync_database_and_wait(app, row.id).await {
            tracing::warn!(error = %e, "the Sample Database could not be synced");
        }
    }
    let sync = super::sync_view(app, app.store.read().await?.as_mut(), row.id).await?;
    Ok(Database::new(&row, caller, Access::ALL, &app.config, &sync))
}

/// `GET /api/database/:id/healthcheck`.
pub async fn healthcheck(app: &App, caller: &Principal, id: i64) -> ApiResult<Health> {
    let (row, _) = viewable(app, caller, id).await?;
    let Some(target) =
        details::stored_target(&app.config, &row.engine, &row.details, row.is_sample)
    else {
        return Ok(Health::error("The connection details are invalid.".into()));
    };
    let warehouse = target.build(WarehouseOptions::single(&app.config));
    Ok(match warehouse.test().await {
        Ok(()) => Health::ok(),
        Err(f) => Health::error(f.message),
    })
}

/// Superuser endpoints that have no effect but need the database to exist.
pub async fn no_op(app: &App, caller: &Principal, id: i64) -> ApiResult<Health> {
    caller.require_superuser()?;
    let mut tx = app.store.read().await?;
    tx.database_get(id).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(Health::ok())
}

/// Access to many databases at once (for listings elsewhere).
pub async fn access_map(app: &App, caller: &Principal) -> ApiResult<HashMap<i64, Access>> {
    let mut tx = app.store.read().await?;
    let ids: Vec<i64> = tx.database_list().await?.iter().map(|r| r.id).collect();
    let m = permissions::access_all(tx.as_mut(), caller, &ids).await?;
    tx.commit().await?;
    Ok(m)
}
