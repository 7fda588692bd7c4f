//! `/api/collection` routes (content.md §1, people-and-groups.md §8.2–8.3). The literal
//! segments `root`, `trash`, `tree` and `graph` are routes of their own and win over `{key}`.
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::{Map, Value};

use super::graph;
use super::items::{self, ItemsQuery, KNOWN_MODELS};
use super::service::{self, is_nanoid, parse_key, ListQuery, NewInput, UpdateInput, OFFICIAL_402};
use super::tree::{self as collection_tree, TreeQuery};
use crate::error::validation::{Fields, ValidationErrors};
use crate::error::{ApiError, ApiResult};
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::{ApiJson, JsonBody};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/collection", get(list).post(create))
        .route("/api/collection/tree", get(tree))
        .route("/api/collection/root", get(root))
        .route("/api/collection/root/items", get(root_items))
        .route("/api/collection/trash", get(trash))
        .route("/api/collection/graph", get(graph_get).put(graph_put))
        .route("/api/collection/{key}", get(get_one).put(update))
        .route("/api/collection/{key}/items", get(key_items))
}

fn default_namespace(q: &QueryParams) -> bool {
    q.get("namespace").is_none_or(str::is_empty)
}

async fn list(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let mut errs = ValidationErrors::new();
    let lq = ListQuery {
        archived: q.boolean(&mut errs, "archived").unwrap_or(false),
        exclude_other_user_collections: q.flag(
            &mut errs,
            "exclude-other-user-collections",
            "exclude_other_user_collections",
        ),
        personal_only: q.flag(&mut errs, "personal-only", "personal_only"),
        default_namespace: default_namespace(&q),
    };
    errs.into_result()?;
    Ok(ApiJson(service::list(&app, &c, lq).await?))
}

async fn tree(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let mut errs = ValidationErrors::new();
    let cid_name = if q.get("collection-id").is_some() {
        "collection-id"
    } else {
        "collection_id"
    };
    let tq = TreeQuery {
        exclude_archived: q.flag(&mut errs, "exclude-archived", "exclude_archived"),
        exclude_other_user_collections: q.flag(
            &mut errs,
            "exclude-other-user-collections",
            "exclude_other_user_collections",
        ),
        shallow: q.boolean(&mut errs, "shallow").unwrap_or(false),
        collection_id: q.positive_int(&mut errs, cid_name),
        default_namespace: default_namespace(&q),
    };
    errs.into_result()?;
    Ok(ApiJson(collection_tree::tree(&app, &c, tq).await?))
}

async fn root(State(app): State<AppState>, Caller(c): Caller) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(service::root(&app, &c).await?))
}

async fn trash(State(app): State<AppState>, Caller(c): Caller) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(service::trash(&app, &c).await?))
}

async fn get_one(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path(key): Path<String>,
) -> ApiResult<impl IntoResponse> {
    let key = parse_key(&key)?;
    Ok(ApiJson(service::get_one(&app, &c, key).await?))
}

/// `authority_level`: null or absent; `"official"` is a paid feature (402).
fn authority_level(body: &Map<String, Value>, errs: &mut ValidationErrors) -> bool {
    match body.get("authority_level") {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) if s == "official" => true,
        other => {
            errs.add_received(&["authority_level"], "value must be null.", other);
            false
        }
    }
}

/// `description`: absent, null, or a non-blank string.
fn description(
    f: &Fields,
    body: &Map<String, Value>,
    errs: &mut ValidationErrors,
) -> Option<Option<String>> {
    match body.get("description") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(_) => Some(f.non_blank(errs, "description", 65_535, false)),
    }
}

fn official() -> ApiError {
    ApiError::Text(crate::error::Kind::PaymentRequired, OFFICIAL_402.into())
}

async fn create(
    State(app): State<AppState>,
    Caller(c): Caller,
    JsonBody(b): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let f = Fields::new(&b);
    let mut errs = ValidationErrors::new();
    let name = f.non_blank(&mut errs, "name", 254, true);
    let desc = description(&f, &b, &mut errs).flatten();
    let parent_id = f.positive_int(&mut errs, "parent_id", false);
    if !matches!(b.get("namespace"), None | Some(Value::Null)) {
        errs.add_received(&["namespace"], "value must be null.", b.get("namespace"));
    }
    let entity_id = match b.get("entity_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if is_nanoid(s) => Some(s.clone()),
        other => {
            errs.add_received(
                &["entity_id"],
                "value must be a 21-character NanoID.",
                other,
            );
            None
        }
    };
    let is_official = authority_level(&b, &mut errs);
    errs.into_result()?;
    if is_official {
        return Err(official());
    }
    let input = NewInput {
        name: name.unwrap_or_default(),
        description: desc,
        parent_id,
        entity_id,
    };
    Ok(ApiJson(service::create(&app, &c, input).await?))
}

async fn update(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path(key): Path<String>,
    JsonBody(b): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let key = parse_key(&key)?;
    let f = Fields::new(&b);
    let mut errs = ValidationErrors::new();
    let name = match b.get("name") {
        None => None,
        Some(_) => f.non_blank(&mut errs, "name", 254, true),
    };
    let desc = description(&f, &b, &mut errs);
    let archived = f.boolean(&mut errs, "archived");
    let parent_id = match b.get("parent_id") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(_) => f.positive_int(&mut errs, "parent_id", true).map(Some),
    };
    let is_official = authority_level(&b, &mut errs);
    errs.into_result()?;
    if is_official {
        return Err(official());
    }
    let input = UpdateInput {
        name,
        description: desc,
        archived,
        parent_id,
    };
    Ok(ApiJson(service::update(&app, &c, key, input).await?))
}

/// Items query parameters; `models` may repeat, so the raw pairs are read.
fn items_query(q: &QueryParams, pairs: &[(String, String)]) -> ApiResult<ItemsQuery> {
    let mut errs = ValidationErrors::new();
    let models: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "models")
        .map(|(_, v)| v.clone())
        .collect();
    if let Some(bad) = models.iter().find(|m| !KNOWN_MODELS.contains(&m.as_str())) {
        errs.add_received(
            &["models"],
            "value must be a valid model.",
            Some(&Value::String(bad.clone())),
        );
    }
    let mut one_of = |name: &'static str, allowed: &[&str], default: &str| -> String {
        let v = q.get(name).unwrap_or(default).to_string();
        if !allowed.contains(&v.as_str()) {
            errs.add_received(
                &[name],
                &format!("value must be one of: {}.", allowed.join(", ")),
                Some(&Value::String(v.clone())),
            );
        }
        v
    };
    let pinned_state = one_of(
        "pinned_state",
        &["all", "is_pinned", "is_not_pinned"],
        "all",
    );
    let sort_column = one_of(
        "sort_column",
        &["name", "last_edited_at", "last_edited_by", "model"],
        "name",
    );
    let direction = one_of("sort_direction", &["asc", "desc"], "asc");
    let archived = q.boolean(&mut errs, "archived").unwrap_or(false);
    let official_first = q.boolean(&mut errs, "official_collections_first");
    let show_dashboard_questions = q
        .boolean(&mut errs, "show_dashboard_questions")
        .unwrap_or(false);
    let paging = q.paging(&mut errs);
    errs.into_result()?;
    Ok(ItemsQuery {
        models: (!models.is_empty()).then_some(models),
        archived,
        pinned_state,
        sort_column,
        descending: direction == "desc",
        official_first,
        show_dashboard_questions,
        paging,
    })
}

async fn root_items(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<impl IntoResponse> {
    let iq = items_query(&q, &pairs)?;
    Ok(ApiJson(items::items(&app, &c, None, iq).await?))
}

async fn key_items(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path(key): Path<String>,
    q: QueryParams,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<impl IntoResponse> {
    let key = parse_key(&key)?;
    let iq = items_query(&q, &pairs)?;
    Ok(ApiJson(items::items(&app, &c, Some(key), iq).await?))
}

async fn graph_get(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(graph::get(&app, &c, q.get("namespace")).await?))
}

async fn graph_put(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
    JsonBody(b): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let put = graph::parse_put(&q, &b)?;
    Ok(ApiJson(graph::put(&app, &c, put).await?))
}
