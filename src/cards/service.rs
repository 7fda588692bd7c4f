//! Card rules, permission checks and their order (content.md §0.4, §2, §4.2, §5).
use serde_json::{json, Value};

use super::dashboard_link::{check_card_tab, remove_from_series};
use super::input::{CardInput, Derived, Query};
use super::patch::json_text;
use super::store::CardRow;
use super::view::{self, Card, CardContext};
use crate::auth::Principal;
use crate::collections::perms::{self, Level};
use crate::collections::service::ARCHIVED_PARENT;
use crate::entity_id::new_entity_id;
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

/// The caller's level on card `c`: its collection's, none on a database the caller's key may
/// not reach (key-restrictions.md §2.3).
pub async fn card_level(tx: &mut dyn Tx, caller: &Principal, c: &CardRow) -> ApiResult<Level> {
    Ok(perms::card_level(tx, caller, c.collection_id, c.database_id).await?)
}

/// The §2.1 representation of `c` for `caller`.
pub async fn render(tx: &mut dyn Tx, caller: &Principal, c: &CardRow) -> ApiResult<Card> {
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
        v.can_run_adhoc_query = if native { a.native } else { a.query_builder };
    }
    v.dashboard_count = tx.card_dashboard_count(c.id).await?;
    Ok(v)
}

/// content.md §2.4 step 3: the caller may run the query being saved. An MBQL query is checked
/// per table it reads (mbql.md §6, by the query engine); a native one, or an MBQL query that
/// cannot be analysed, by the database's rights.
pub(super) async fn require_can_save(
    app: &App,
    tx: &mut dyn Tx,
    caller: &Principal,
    query: &super::input::Query,
) -> ApiResult<()> {
    let native = query.derived.query_type == "native";
    if !native {
        match app
            .describer
            .may_save(app, tx, caller, &query.value)
            .await?
        {
            Some(true) => return Ok(()),
            Some(false) => return Err(crate::permissions::cannot_save()),
            None => {}
        }
    }
    crate::permissions::require_can_save(tx, caller, query.derived.database_id, native).await
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

fn map_conflict(e: StoreError) -> ApiError {
    match e {
        StoreError::Conflict(_) => ApiError::field("entity_id", ENTITY_ID_USED),
        other => other.into(),
    }
}

/// `POST /api/card` (§2.4).
pub async fn create(app: &App, caller: &Principal, input: &CardInput) -> ApiResult<Card> {
    // `parse` requires the query on POST.
    let query = input
        .dataset_query
        .clone()
        .ok_or_else(|| ApiError::internal("unchecked dataset_query"))?;
    let card_type = new_card_type(input, &query.derived)?;
    let mut tx = app.store.begin().await?;
    let target = create_target(app, tx.as_mut(), caller, input, &query).await?;
    let entity_id = match &input.entity_id {
        Some(e) if tx.card_get_by_entity_id(e).await?.is_some() => {
            return Err(ApiError::field("entity_id", ENTITY_ID_USED))
        }
        Some(e) => e.clone(),
        None => new_entity_id(),
    };
    let now = app.clock.now().0;
    let source_table = source_card_table(tx.as_mut(), &query.derived).await?;
    let mut row = new_row(
        input,
        query,
        card_type,
        target,
        entity_id,
        caller.user_id,
        now,
    );
    check_card_tab(tx.as_mut(), row.dashboard_id, row.dashboard_tab_id).await?;
    if let Some(t) = source_table {
        row.table_id = Some(t);
    }
    if row.query_type.as_deref() == Some("query") && !input.keeps_result_metadata(Some("query")) {
        row.result_metadata = None;
    }
    if let Some(p) = row.collection_position {
        tx.content_shift_positions(target, p, 0).await?;
    }
    row.id = tx.card_insert(&row).await.map_err(map_conflict)?;
    let v = render(tx.as_mut(), caller, &row).await?;
    tx.commit().await?;
    // §2.3: computed by the query engine, outside the transaction.
    if row.result_metadata.is_none() {
        if let Some(filled) = super::metadata::fill(app, caller, row.id).await? {
            return Ok(filled);
        }
    }
    Ok(v)
}

/// The `table_id` of an MBQL query reading a card: that card's (mbql.md §7.1).
pub async fn source_card_table(
    tx: &mut dyn Tx,
    derived: &super::input::Derived,
) -> ApiResult<Option<i64>> {
    match derived.source_card {
        Some(c) => Ok(tx.card_get(c).await?.and_then(|c| c.table_id)),
        None => Ok(None),
    }
}

/// The `type` of a new card: as given, else `model` for the legacy `dataset: true`. A metric
/// must be built with the query builder.
fn new_card_type(input: &CardInput, d: &Derived) -> ApiResult<String> {
    let card_type = match &input.card_type {
        Some(t) => t.clone(),
        None if input.dataset == Some(true) => "model".into(),
        None => "question".into(),
    };
    if card_type == "metric" && d.query_type == "native" {
        return Err(ApiError::field(
            "type",
            "A metric must be built with the query builder, not native SQL.",
        ));
    }
    Ok(card_type)
}

/// The collection a new card goes to, after every check of §2.4 in its order: referenced
/// collection and dashboard exist, the database exists and the caller may save the query,
/// collection and dashboard agree, and the caller may write to a live, non-Trash collection.
async fn create_target(
    app: &App,
    tx: &mut dyn Tx,
    caller: &Principal,
    input: &CardInput,
    query: &super::input::Query,
) -> ApiResult<Option<i64>> {
    let collection_id = input.collection_id.flatten();
    let collection = match collection_id {
        Some(id) => Some(tx.content_collection(id).await?.ok_or(ApiError::NotFound)?),
        None => None,
    };
    let dashboard = match input.dashboard_id.flatten() {
        Some(id) => Some(tx.content_dashboard(id).await?.ok_or(ApiError::NotFound)?),
        None => None,
    };
    check_database(tx, &query.derived).await?;
    require_can_save(app, tx, caller, query).await?;
    let target = dashboard_target(collection_id, dashboard)?;
    let target_row = match (target, collection) {
        (Some(t), Some(c)) if c.id == t => Some(c),
        (Some(t), _) => tx.content_collection(t).await?,
        (None, _) => None,
    };
    if target_row.as_ref().is_some_and(|c| c.is_trash()) {
        return Err(ApiError::bad_request_text(TRASH));
    }
    if level(tx, caller, target).await? != Level::Write {
        return Err(curate());
    }
    if target_row.as_ref().is_some_and(|c| c.archived) {
        return Err(ApiError::field("collection_id", ARCHIVED_PARENT));
    }
    if dashboard.is_some_and(|(_, archived)| archived) {
        return Err(archived_object());
    }
    Ok(target)
}

/// A dashboard question lives in its dashboard's collection; a different `collection_id` is
/// refused.
fn dashboard_target(
    collection_id: Option<i64>,
    dashboard: Option<(Option<i64>, bool)>,
) -> ApiResult<Option<i64>> {
    match (collection_id, dashboard) {
        (Some(c), Some((d, _))) if d != Some(c) => {
            Err(ApiError::bad_request_json(json!({"message": format!(
                "Mismatch detected between Dashboard's collection_id ({}) and the Card's collection_id ({c}).",
                d.map(|x| x.to_string()).unwrap_or_else(|| "null".into())
            )})))
        }
        (None, Some((d, _))) => Ok(d),
        (c, _) => Ok(c),
    }
}

/// The row of a new card (its `id` is assigned on insert).
fn new_row(
    input: &CardInput,
    query: Query,
    card_type: String,
    collection_id: Option<i64>,
    entity_id: String,
    user_id: i64,
    now: i64,
) -> CardRow {
    CardRow {
        id: 0,
        entity_id,
        name: input.name.clone().unwrap_or_default(),
        description: input.description.clone().flatten(),
        card_type,
        display: input.display.clone().unwrap_or_default(),
        dataset_query: query.value.to_string(),
        query_type: Some(query.derived.query_type.to_owned()),
        database_id: Some(query.derived.database_id),
        table_id: query.derived.table_id,
        visualization_settings: json_text(&input.visualization_settings, "{}"),
        parameters: json_text(&input.parameters, "[]"),
        parameter_mappings: json_text(&input.parameter_mappings, "[]"),
        result_metadata: input.result_metadata_text(),
        collection_id,
        collection_position: input.collection_position.flatten(),
        collection_preview: input.collection_preview.unwrap_or(true),
        dashboard_id: input.dashboard_id.flatten(),
        dashboard_tab_id: input.dashboard_tab_id.flatten(),
        cache_ttl: input.cache_ttl.flatten(),
        archived: false,
        archived_directly: false,
        creator_id: user_id,
        last_editor_id: user_id,
        last_used_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// `GET /api/card/:id` (§2.5).
pub async fn get(app: &App, caller: &Principal, r: &CardRef, legacy: bool) -> ApiResult<Card> {
    let mut tx = app.store.read().await?;
    let row = resolve(tx.as_mut(), r).await?;
    if card_level(tx.as_mut(), caller, &row).await? == Level::None {
        return Err(ApiError::Forbidden);
    }
    let mut v = render(tx.as_mut(), caller, &row).await?;
    tx.commit().await?;
    if legacy {
        if let Some(q) = legacy_native(&v.dataset_query) {
            v.dataset_query = q;
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
pub async fn list(app: &App, caller: &Principal, f: Filter) -> ApiResult<Vec<Card>> {
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
        if card_level(tx.as_mut(), caller, c).await? == Level::None {
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
    remove_from_series(tx.as_mut(), row.id, now).await?;
    tx.card_delete(row.id).await?;
    tx.commit().await?;
    Ok(())
}
