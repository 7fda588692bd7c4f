//! Card rules, permission checks and their order (content.md §0.4, §2, §4.2, §5).
use serde_json::{json, Map, Value};

use super::input::{self, Derived};
use super::store::CardRow;
use super::view::{self, CardContext};
use crate::auth::Principal;
use crate::collections::perms::{self, Level};
use crate::collections::service::ARCHIVED_PARENT;
use crate::entity_id::new_entity_id;
use crate::error::validation::ValidationErrors;
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use crate::store::{StoreError, Tx};

pub(super) const TRASH: &str = "You cannot modify the Trash Collection.";
pub(super) const CURATE: &str = "You do not have curate permissions for this Collection.";
const ENTITY_ID_USED: &str = "An item with this entity_id already exists.";

/// A card addressed by integer id or entity id (content.md §0.2).
#[derive(Debug, Clone)]
pub enum CardRef {
    Id(i64),
    EntityId(String),
}

impl From<crate::entity_id::ObjectRef> for CardRef {
    fn from(r: crate::entity_id::ObjectRef) -> Self {
        match r {
            crate::entity_id::ObjectRef::Id(id) => CardRef::Id(id),
            crate::entity_id::ObjectRef::EntityId(e) => CardRef::EntityId(e),
        }
    }
}

pub(super) fn curate() -> ApiError {
    ApiError::forbidden_json(json!({ "message": CURATE }))
}

fn archived_object() -> ApiError {
    ApiError::not_found_json(
        json!({"message": "The object has been archived.", "error_code": "archived"}),
    )
}

pub async fn resolve(tx: &mut dyn Tx, r: &CardRef) -> ApiResult<CardRow> {
    let row = match r {
        CardRef::Id(id) => tx.card_get(*id).await?,
        CardRef::EntityId(e) => tx.card_get_by_entity_id(e).await?,
    };
    row.ok_or(ApiError::NotFound)
}

pub(super) async fn level(
    tx: &mut dyn Tx,
    caller: &Principal,
    coll: Option<i64>,
) -> ApiResult<Level> {
    Ok(perms::level(tx, caller, coll).await?)
}

/// The §2.1 representation of `c` for `caller`.
pub async fn render(tx: &mut dyn Tx, caller: &Principal, c: &CardRow) -> ApiResult<Value> {
    let creator = tx.user_get(c.creator_id).await?;
    let editor = if c.last_editor_id == c.creator_id {
        creator.clone()
    } else {
        tx.user_get(c.last_editor_id).await?
    };
    let collection = match c.collection_id {
        Some(id) => tx.content_collection(id).await?,
        None => None,
    };
    let lvl = level(tx, caller, c.collection_id).await?;
    let ctx = CardContext {
        creator: creator.as_ref(),
        editor: editor.as_ref(),
        collection: collection.as_ref(),
        level: lvl,
        collection_archived: collection.as_ref().is_some_and(|c| c.archived),
        trash_id: if c.archived_directly {
            tx.content_trash_id().await?
        } else {
            None
        },
    };
    let mut v = view::card(c, &ctx, caller);
    if let Some(db) = c.database_id {
        let a = crate::permissions::access(tx, caller, db).await?;
        let native = c.query_type.as_deref() == Some("native");
        v["can_run_adhoc_query"] = json!(if native { a.native } else { a.query_builder });
    }
    let count: i64 = tx.card_dashboard_count(c.id).await?;
    v["dashboard_count"] = json!(count);
    Ok(v)
}

/// A referenced database must exist (`400` with `errors.dataset_query`).
pub(super) async fn check_database(tx: &mut dyn Tx, d: &Derived) -> ApiResult<()> {
    if tx.database_get(d.database_id).await?.is_none() {
        return Err(ApiError::field(
            "dataset_query",
            format!("Database {} does not exist.", d.database_id),
        ));
    }
    Ok(())
}

pub(super) use crate::json_fields::{opt_i64, opt_text};

/// `result_metadata`: a non-empty array is stored; nothing, `null` or `[]` store `null`, and
/// the query engine then computes it for native queries (§2.3, `queries::metadata`).
pub(super) fn result_metadata(body: &Map<String, Value>) -> Option<String> {
    match body.get("result_metadata") {
        Some(Value::Array(a)) if !a.is_empty() => Some(Value::Array(a.clone()).to_string()),
        _ => None,
    }
}

fn map_conflict(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::field("entity_id", ENTITY_ID_USED),
        other => other.into(),
    }
}

/// `POST /api/card` (§2.4).
pub async fn create(app: &App, caller: &Principal, body: &Map<String, Value>) -> ApiResult<Value> {
    let mut errs = ValidationErrors::new();
    input::check(body, true, &mut errs);
    errs.into_result()?;
    let query = body.get("dataset_query").cloned().unwrap_or(Value::Null);
    // `check` accepted the query, so it derives.
    let derived =
        input::derive(&query).ok_or_else(|| ApiError::internal("unchecked dataset_query"))?;
    let card_type = match body.get("type").and_then(Value::as_str) {
        Some(t) => t.to_owned(),
        None if body.get("dataset") == Some(&Value::Bool(true)) => "model".into(),
        None => "question".into(),
    };
    if card_type == "metric" && derived.query_type == "native" {
        return Err(ApiError::field(
            "type",
            "A metric must be built with the query builder, not native SQL.",
        ));
    }
    let collection_id = opt_i64(body, "collection_id");
    let dashboard_id = opt_i64(body, "dashboard_id");

    let mut tx = app.store.begin().await?;
    let collection = match collection_id {
        Some(id) => Some(tx.content_collection(id).await?.ok_or(ApiError::NotFound)?),
        None => None,
    };
    let dashboard = match dashboard_id {
        Some(id) => Some(tx.content_dashboard(id).await?.ok_or(ApiError::NotFound)?),
        None => None,
    };
    check_database(tx.as_mut(), &derived).await?;
    crate::permissions::require_can_save(
        tx.as_mut(),
        caller,
        derived.database_id,
        derived.query_type == "native",
    )
    .await?;
    let target = match (collection_id, dashboard) {
        (Some(c), Some((d, _))) if d != Some(c) => {
            return Err(ApiError::bad_request_json(json!({"message": format!(
                "Mismatch detected between Dashboard's collection_id ({}) and the Card's collection_id ({c}).",
                d.map(|x| x.to_string()).unwrap_or_else(|| "null".into())
            )})))
        }
        (None, Some((d, _))) => d,
        (c, _) => c,
    };
    let target_row = match (target, collection) {
        (Some(t), Some(c)) if c.id == t => Some(c),
        (Some(t), _) => tx.content_collection(t).await?,
        (None, _) => None,
    };
    if target_row.as_ref().is_some_and(|c| c.is_trash()) {
        return Err(ApiError::bad_request_text(TRASH));
    }
    if level(tx.as_mut(), caller, target).await? != Level::Write {
        return Err(curate());
    }
    let target_archived = target_row.as_ref().is_some_and(|c| c.archived);
    if target_archived {
        return Err(ApiError::field("collection_id", ARCHIVED_PARENT));
    }
    if dashboard.is_some_and(|(_, archived)| archived) {
        return Err(archived_object());
    }
    let entity_id = match opt_text(body, "entity_id") {
        Some(e) => {
            if tx.card_get_by_entity_id(&e).await?.is_some() {
                return Err(ApiError::field("entity_id", ENTITY_ID_USED));
            }
            e
        }
        None => new_entity_id(),
    };
    let now = app.clock.now().0;
    let position = opt_i64(body, "collection_position");
    let mut row = CardRow {
        id: 0,
        entity_id,
        name: opt_text(body, "name").unwrap_or_default(),
        description: opt_text(body, "description"),
        card_type,
        display: opt_text(body, "display").unwrap_or_default(),
        dataset_query: query.to_string(),
        query_type: Some(derived.query_type.to_owned()),
        database_id: Some(derived.database_id),
        table_id: derived.table_id,
        visualization_settings: input::json_text(body, "visualization_settings", "{}"),
        parameters: input::json_text(body, "parameters", "[]"),
        parameter_mappings: input::json_text(body, "parameter_mappings", "[]"),
        result_metadata: result_metadata(body),
        collection_id: target,
        collection_position: position,
        collection_preview: body
            .get("collection_preview")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        dashboard_id,
        dashboard_tab_id: opt_i64(body, "dashboard_tab_id"),
        cache_ttl: opt_i64(body, "cache_ttl"),
        archived: false,
        archived_directly: false,
        creator_id: caller.user_id,
        last_editor_id: caller.user_id,
        last_used_at: None,
        created_at: now,
        updated_at: now,
    };
    super::dashboard_link::check_card_tab(tx.as_mut(), dashboard_id, row.dashboard_tab_id).await?;
    if let Some(p) = position {
        tx.content_shift_positions(target, p, 0).await?;
    }
    row.id = tx.card_insert(&row).await.map_err(map_conflict)?;
    let v = render(tx.as_mut(), caller, &row).await?;
    tx.commit().await?;
    // §2.3: computed by the query engine, outside the transaction.
    if row.result_metadata.is_none() && derived.query_type == "native" {
        if let Some(filled) = super::metadata::fill(app, caller, row.id).await? {
            return Ok(filled);
        }
    }
    Ok(v)
}

/// `GET /api/card/:id` (§2.5).
pub async fn get(app: &App, caller: &Principal, r: &CardRef, legacy: bool) -> ApiResult<Value> {
    let mut tx = app.store.read().await?;
    let row = resolve(tx.as_mut(), r).await?;
    if level(tx.as_mut(), caller, row.collection_id).await? == Level::None {
        return Err(ApiError::Forbidden);
    }
    let mut v = render(tx.as_mut(), caller, &row).await?;
    tx.commit().await?;
    if legacy {
        if let Some(q) = legacy_native(&v["dataset_query"]) {
            v["dataset_query"] = q;
        }
    }
    Ok(v)
}

/// A single-stage native pMBQL query in the legacy shape (§2.2), or `None` to keep it.
fn legacy_native(q: &Value) -> Option<Value> {
    if q.get("lib/type")?.as_str()? != "mbql/query" {
        return None;
    }
    let stages = q.get("stages")?.as_array()?;
    let [stage] = stages.as_slice() else {
        return None;
    };
    if stage.get("lib/type")?.as_str()? != "mbql.stage/native" {
        return None;
    }
    let mut native = json!({ "query": stage.get("native")? });
    if let Some(tags) = stage.get("template-tags") {
        native["template-tags"] = tags.clone();
    }
    Some(json!({"database": q.get("database")?, "type": "native", "native": native}))
}

/// The `f` filter of `GET /api/card` (§2.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    All,
    Mine,
    Bookmarked,
    Archived,
    Database(i64),
    Table(i64),
    UsingModel(i64),
    UsingSegment,
}

/// `GET /api/card` (§2.6).
pub async fn list(app: &App, caller: &Principal, f: Filter) -> ApiResult<Vec<Value>> {
    if matches!(f, Filter::Bookmarked | Filter::UsingSegment) {
        return Ok(Vec::new());
    }
    let mut tx = app.store.read().await?;
    let mut rows = tx.card_list().await?;
    rows.retain(|c| match f {
        Filter::Archived => c.archived,
        _ if c.archived => false,
        Filter::Mine => c.creator_id == caller.user_id,
        Filter::Database(id) => c.database_id == Some(id),
        Filter::Table(id) => c.table_id == Some(id),
        Filter::UsingModel(id) => uses_card(&c.dataset_query, id),
        _ => true,
    });
    rows.sort_by_key(|c| (c.name.to_lowercase(), c.id));
    let mut out = Vec::with_capacity(rows.len());
    for c in &rows {
        if level(tx.as_mut(), caller, c.collection_id).await? == Level::None {
            continue;
        }
        out.push(render(tx.as_mut(), caller, c).await?);
    }
    tx.commit().await?;
    Ok(out)
}

/// Does a query use card `id` as a source (`card__<id>` or a `card` template tag)?
fn uses_card(query_text: &str, id: i64) -> bool {
    let Ok(q) = serde_json::from_str::<Value>(query_text) else {
        return false;
    };
    let source = format!("card__{id}");
    fn walk(v: &Value, source: &str, id: i64) -> bool {
        match v {
            Value::String(s) => s == source,
            Value::Array(a) => a.iter().any(|x| walk(x, source, id)),
            Value::Object(m) => {
                (m.get("type").and_then(Value::as_str) == Some("card")
                    && m.get("card-id").and_then(Value::as_i64) == Some(id))
                    || m.get("source-card").and_then(Value::as_i64) == Some(id)
                    || m.values().any(|x| walk(x, source, id))
            }
            _ => false,
        }
    }
    walk(&q, &source, id)
}

/// `DELETE /api/card/:id` (§2.8, §4.6).
pub async fn delete(app: &App, caller: &Principal, r: &CardRef) -> ApiResult<()> {
    let mut tx = app.store.begin().await?;
    let row = resolve(tx.as_mut(), r).await?;
    if level(tx.as_mut(), caller, row.collection_id).await? != Level::Write {
        return Err(ApiError::Forbidden);
    }
    let now = app.clock.now().0;
    super::dashboard_link::remove_from_series(tx.as_mut(), row.id, now).await?;
    tx.card_delete(row.id).await?;
    tx.commit().await?;
    Ok(())
}
