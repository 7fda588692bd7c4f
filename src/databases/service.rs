//! Database rules (queries.md §1.3–§1.7): who may see and change databases, validation, the
//! connection test that guards every change of connection details, and deletion with cards.
use std::collections::HashMap;

use serde_json::{json, Map, Value};

use super::details::{self, FieldErrors};
use super::store::DatabaseRow;
use crate::audit::AuditEvent;
use crate::auth::Principal;
use crate::clock::Timestamp;
use crate::error::validation::{Fields, ValidationErrors};
use crate::error::{ApiError, ApiResult};
use crate::permissions::{self, Access};
use crate::state::App;
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

pub async fn list(app: &App, caller: &Principal, tables: bool) -> ApiResult<Value> {
    let mut tx = app.store.read().await?;
    let mut rows = tx.database_list().await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let access = permissions::access_all(tx.as_mut(), caller, &ids).await?;
    tx.commit().await?;
    rows.retain(|r| access.get(&r.id).is_some_and(|a| a.view));
    rows.sort_by_key(|c| (c.name.to_lowercase(), c.id));
    let data: Vec<Value> = rows
        .iter()
        .map(|d| {
            let a = access.get(&d.id).copied().unwrap_or_default();
            let mut v = super::view(d, caller, a, &app.config);
            if tables {
                v["tables"] = json!([]);
            }
            v
        })
        .collect();
    Ok(json!({"data": data, "total": data.len()}))
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

pub async fn get(app: &App, caller: &Principal, id: i64, tables: bool) -> ApiResult<Value> {
    let (row, a) = viewable(app, caller, id).await?;
    let mut v = super::view(&row, caller, a, &app.config);
    v["can-manage"] = json!(caller.is_superuser);
    v["schedules"] = json!({});
    if tables {
        v["tables"] = json!([]);
    }
    Ok(v)
}

/// Shape validation of POST and PUT bodies (before permissions, README 4.7).
pub fn check_body(body: &Map<String, Value>, create: bool) -> ApiResult<()> {
    let mut errs = ValidationErrors::new();
    let f = Fields::new(body);
    f.non_blank(&mut errs, "name", 254, create);
    f.non_blank(&mut errs, "engine", 254, create);
    match body.get("details") {
        None | Some(Value::Null) if !create => {}
        Some(Value::Object(_)) => {}
        other => errs.add_received(&["details"], "value must be a map.", other),
    }
    match body.get("description") {
        None | Some(Value::Null) | Some(Value::String(_)) => {}
        other => errs.add_received(&["description"], "value must be a string.", other),
    }
    f.boolean(&mut errs, "auto_run_queries");
    f.positive_int(&mut errs, "cache_ttl", false);
    errs.into_result()
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

fn text(body: &Map<String, Value>, key: &str) -> Option<String> {
    body.get(key).and_then(Value::as_str).map(str::to_owned)
}

pub async fn create(app: &App, caller: &Principal, body: &Map<String, Value>) -> ApiResult<Value> {
    check_body(body, true)?;
    let admin = caller.require_superuser()?;
    let name = text(body, "name").unwrap_or_default();
    let engine = text(body, "engine").unwrap_or_default();
    let d = body.get("details").cloned().unwrap_or_else(|| json!({}));
    if !details::ENGINES.contains(&engine.as_str()) {
        return Err(ApiError::field("engine", BAD_ENGINE));
    }
    details::target(&app.config, &engine, &d, false).map_err(field_errors)?;
    {
        let mut tx = app.store.read().await?;
        if tx.database_get_by_name(&name).await?.is_some() {
            return Err(ApiError::field("name", NAME_TAKEN));
        }
        tx.commit().await?;
    }
    checked_target(app, &engine, &d).await?;
    let now = app.clock.now().micros();
    let mut row = DatabaseRow {
        id: 0,
        name,
        description: text(body, "description"),
        engine,
        details: d.to_string(),
        is_sample: false,
        auto_run_queries: body
            .get("auto_run_queries")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        cache_ttl: body.get("cache_ttl").and_then(Value::as_i64),
        creator_id: Some(admin.actor_id),
        created_at: now,
        updated_at: now,
    };
    let mut tx = app.store.begin().await?;
    row.id = match tx.database_insert(&row, None).await {
        Ok(id) => id,
        Err(StoreError::Conflict(_)) => return Err(ApiError::field("name", NAME_TAKEN)),
        Err(e) => return Err(e.into()),
    };
    permissions::on_database_created(tx.as_mut(), row.id).await?;
    tx.audit_insert(&database_event(
        "database-create",
        Some(admin.actor_id),
        &row,
        now,
    ))
    .await?;
    tx.commit().await?;
    Ok(super::view(&row, caller, Access::ALL, &app.config))
}

pub async fn update(
    app: &App,
    caller: &Principal,
    id: i64,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    check_body(body, false)?;
    let admin = caller.require_superuser()?;
    let old = {
        let mut tx = app.store.read().await?;
        let r = tx.database_get(id).await?.ok_or(ApiError::NotFound)?;
        tx.commit().await?;
        r
    };
    let mut new = old.clone();
    if let Some(n) = text(body, "name") {
        new.name = n;
    }
    if body.contains_key("description") {
        new.description = text(body, "description");
    }
    if let Some(b) = body.get("auto_run_queries").and_then(Value::as_bool) {
        new.auto_run_queries = b;
    }
    if body.contains_key("cache_ttl") {
        new.cache_ttl = body.get("cache_ttl").and_then(Value::as_i64);
    }
    let mut stored: Value = serde_json::from_str(&old.details).unwrap_or_else(|_| json!({}));
    if old.is_sample {
        // What GET shows, so a client can send back the object it read.
        stored["db"] = json!(details::sample_path(&app.config).to_string_lossy());
    }
    if let Some(e) = text(body, "engine") {
        new.engine = e;
    }
    let new_details = match body.get("details").and_then(Value::as_object) {
        Some(sent) => Value::Object(details::unmask(sent, &stored)),
        None => stored.clone(),
    };
    let connection_changed = new.engine != old.engine || new_details != stored;
    if connection_changed {
        if old.is_sample {
            return Err(ApiError::field(
                "details",
                "The Sample Database's engine and connection details cannot be changed.",
            ));
        }
        if !details::ENGINES.contains(&new.engine.as_str()) {
            return Err(ApiError::field("engine", BAD_ENGINE));
        }
        details::target(&app.config, &new.engine, &new_details, false).map_err(field_errors)?;
    }
    let mut tx = app.store.begin().await?;
    if let Some(other) = tx.database_get_by_name(&new.name).await? {
        if other.id != id {
            return Err(ApiError::field("name", NAME_TAKEN));
        }
    }
    tx.commit().await?;
    if connection_changed {
        checked_target(app, &new.engine, &new_details).await?;
        new.details = new_details.to_string();
    }
    if new != old {
        new.updated_at = app.clock.now().micros();
        let mut tx = app.store.begin().await?;
        match tx.database_update(&new).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(ApiError::field("name", NAME_TAKEN)),
            Err(e) => return Err(e.into()),
        }
        let event = database_event(
            "database-update",
            Some(admin.actor_id),
            &new,
            new.updated_at,
        );
        tx.audit_insert(&event).await?;
        tx.commit().await?;
        app.warehouses.forget(id);
    }
    get(app, caller, id, false).await
}

pub async fn delete(app: &App, caller: &Principal, id: i64) -> ApiResult<()> {
    caller.require_superuser()?;
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
pub async fn validate(
    app: &App,
    caller: &Principal,
    body: &Map<String, Value>,
) -> ApiResult<Value> {
    let outer = body.get("details").and_then(Value::as_object);
    let mut errs = ValidationErrors::new();
    if outer.is_none() {
        errs.add_received(&["details"], "value must be a map.", body.get("details"));
    }
    errs.into_result()?;
    caller.require_superuser()?;
    let empty = Map::new();
    let outer = outer.unwrap_or(&empty);
    let engine = outer.get("engine").and_then(Value::as_str).unwrap_or("");
    let d = outer.get("details").cloned().unwrap_or_else(|| json!({}));
    checked_target(app, engine, &d).await?;
    Ok(json!({"valid": true}))
}

/// `POST /api/database/sample_database`.
pub async fn sample_database(app: &App, caller: &Principal) -> ApiResult<Value> {
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
                Err(StoreError::Conflict(_)) => return Err(ApiError::field("name", NAME_TAKEN)),
                Err(e) => return Err(e.into()),
            };
            permissions::on_database_created(tx.as_mut(), row.id).await?;
            row
        }
    };
    tx.commit().await?;
    app.warehouses.forget(row.id);
    Ok(super::view(&row, caller, Access::ALL, &app.config))
}

/// `GET /api/database/:id/healthcheck`.
pub async fn healthcheck(app: &App, caller: &Principal, id: i64) -> ApiResult<Value> {
    let (row, _) = viewable(app, caller, id).await?;
    let Some(target) =
        details::stored_target(&app.config, &row.engine, &row.details, row.is_sample)
    else {
        return Ok(json!({"status": "error", "message": "The connection details are invalid."}));
    };
    Ok(
        match target
            .build(WarehouseOptions::single(&app.config))
            .test()
            .await
        {
            Ok(()) => json!({"status": "ok"}),
            Err(f) => json!({"status": "error", "message": f.message}),
        },
    )
}

/// Superuser endpoints that have no effect but need the database to exist.
pub async fn no_op(app: &App, caller: &Principal, id: i64) -> ApiResult<Value> {
    caller.require_superuser()?;
    let mut tx = app.store.read().await?;
    tx.database_get(id).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    Ok(json!({"status": "ok"}))
}

/// Access to many databases at once (for listings elsewhere).
pub async fn access_map(app: &App, caller: &Principal) -> ApiResult<HashMap<i64, Access>> {
    let mut tx = app.store.read().await?;
    let ids: Vec<i64> = tx.database_list().await?.iter().map(|r| r.id).collect();
    let m = permissions::access_all(tx.as_mut(), caller, &ids).await?;
    tx.commit().await?;
    Ok(m)
}
