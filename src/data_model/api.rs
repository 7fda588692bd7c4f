//! Data-model routes (data-model.md §5): tables, fields and a database's metadata. Handlers read
//! the path and query parameters and call one service function.
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::IntoResponse;
use axum::routing::{get, post, put};
use axum::Router;
use serde_json::json;

use super::actions;
use super::db_read::{self, Listing};
use super::edit;
use super::field_values;
use super::input::{self, FieldPatch, TablePatch};
use super::read::{self, FieldFilter};
use super::virtual_table;
use crate::error::validation::ValidationErrors;
use crate::error::{ApiError, ApiResult};
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::{parse_path_id, ApiJson, Id, JsonAny, JsonBody};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/table", get(list_tables).put(put_tables))
        .route("/api/table/{id}", get(get_table).put(put_table))
        .route("/api/table/{id}/query_metadata", get(query_metadata))
        .route("/api/table/{id}/fks", get(fks))
        .route(
            "/api/table/card__{id}/query_metadata",
            get(card_query_metadata),
        )
        .route("/api/table/card__{id}/fks", get(card_fks))
        .route("/api/table/{id}/fields/order", put(put_field_order))
        .route("/api/table/{id}/sync_schema", post(sync_table))
        .route("/api/table/{id}/rescan_values", post(rescan_table))
        .route("/api/table/{id}/discard_values", post(discard_table))
        .route("/api/field/{id}", get(get_field).put(put_field))
        .route(
            "/api/field/{id}/values",
            get(field_values).post(set_field_values),
        )
        .route("/api/field/{id}/rescan_values", post(rescan_field))
        .route("/api/field/{id}/discard_values", post(discard_field))
        .route("/api/field/{id}/summary", get(field_summary))
        .route("/api/database/{id}/metadata", get(metadata))
        .route("/api/database/{id}/schemas", get(schemas))
        .route("/api/database/{id}/schema", get(schema_none))
        .route("/api/database/{id}/schema/{schema}", get(schema_named))
        .route("/api/database/{id}/fields", get(db_fields))
        .route("/api/database/{id}/sync_schema", post(sync_schema))
        .route("/api/database/{id}/rescan_values", post(rescan_values))
        .route("/api/database/{id}/discard_values", post(discard_values))
        .route_layer(axum::middleware::from_fn(crate::http::numeric_path_params))
}

/// Boolean query parameters, all read before any is used so every bad one is reported.
fn flags<const N: usize>(q: &QueryParams, names: [&'static str; N]) -> ApiResult<[bool; N]> {
    let mut errs = ValidationErrors::new();
    let values = names.map(|n| q.boolean(&mut errs, n).unwrap_or(false));
    errs.into_result()?;
    Ok(values)
}

fn listing(q: &QueryParams) -> ApiResult<Listing> {
    let [hidden, editable] = flags(q, ["include_hidden", "include_editable_data_model"])?;
    Ok(Listing { hidden, editable })
}

async fn list_tables(
    State(app): State<AppState>,
    Caller(c): Caller,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(read::list_tables(&app, &c).await?))
}

async fn get_table(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let [editable] = flags(&q, ["include_editable_data_model"])?;
    Ok(ApiJson(read::get_table(&app, &c, id, editable).await?))
}

async fn query_metadata(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let [hidden, sensitive, editable] = flags(
        &q,
        [
            "include_hidden_fields",
            "include_sensitive_fields",
            "include_editable_data_model",
        ],
    )?;
    let filter = FieldFilter { hidden, sensitive };
    Ok(ApiJson(
        read::query_metadata(&app, &c, id, filter, editable).await?,
    ))
}

async fn fks(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(read::fks(&app, &c, id).await?))
}

async fn get_field(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let [editable] = flags(&q, ["include_editable_data_model"])?;
    Ok(ApiJson(read::get_field(&app, &c, id, editable).await?))
}

async fn metadata(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let l = listing(&q)?;
    let [_remove_inactive, skip_fields] = flags(&q, ["remove_inactive", "skip_fields"])?;
    let body = db_read::metadata(&app, &c, id, l, skip_fields).await?;
    // 20,000 fields make ~24 MB: written into one buffer of about that size rather than one
    // that doubles (copying itself each time) on the way.
    let mut bytes = Vec::with_capacity(body.size_hint());
    serde_json::to_writer(&mut bytes, &body).map_err(ApiError::internal)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        )],
        bytes,
    ))
}

async fn schemas(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(db_read::schemas(&app, &c, id, listing(&q)?).await?))
}

async fn schema_none(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(
        db_read::schema_tables(&app, &c, id, "", listing(&q)?).await?,
    ))
}

async fn schema_named(
    State(app): State<AppState>,
    Caller(c): Caller,
    Path((id, schema)): Path<(String, String)>,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let id = parse_path_id("id", &id)?;
    Ok(ApiJson(
        db_read::schema_tables(&app, &c, id, &schema, listing(&q)?).await?,
    ))
}

async fn db_fields(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(db_read::fields(&app, &c, id).await?))
}

async fn sync_schema(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let [wait] = flags(&q, ["wait"])?;
    actions::sync_schema(&app, &c, id, wait).await?;
    Ok(ApiJson(json!({"status": "ok"})))
}

async fn rescan_values(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    actions::rescan_database(&app, &c, id).await?;
    Ok(ApiJson(json!({"status": "ok"})))
}

async fn discard_values(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    actions::discard_database(&app, &c, id).await?;
    Ok(ApiJson(json!({"status": "ok"})))
}

fn success() -> ApiJson<serde_json::Value> {
    ApiJson(json!({"status": "success"}))
}

async fn put_table(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    JsonBody(b): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let patch = TablePatch::parse(&b, true)?;
    Ok(ApiJson(edit::put_table(&app, &c, id, patch).await?))
}

async fn put_tables(
    State(app): State<AppState>,
    Caller(c): Caller,
    JsonBody(b): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let (ids, patch) = input::bulk(&b)?;
    Ok(ApiJson(edit::put_tables(&app, &c, ids, patch).await?))
}

async fn put_field_order(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    JsonAny(b): JsonAny,
) -> ApiResult<impl IntoResponse> {
    let order = input::field_order(&b)?;
    edit::put_field_order(&app, &c, id, order).await?;
    Ok(ApiJson(json!({"success": true})))
}

async fn sync_table(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let [wait] = flags(&q, ["wait"])?;
    field_values::sync_table(&app, &c, id, wait).await?;
    Ok(ApiJson(json!({"status": "ok"})))
}

async fn rescan_table(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    field_values::rescan_table(&app, &c, id).await?;
    Ok(success())
}

async fn discard_table(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    field_values::discard_table(&app, &c, id).await?;
    Ok(success())
}

async fn put_field(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    JsonBody(b): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let patch = FieldPatch::parse(&b)?;
    Ok(ApiJson(edit::put_field(&app, &c, id, patch).await?))
}

async fn field_values(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(field_values::get(&app, &c, id).await?))
}

async fn set_field_values(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
    JsonBody(b): JsonBody,
) -> ApiResult<impl IntoResponse> {
    let body = input::values(&b)?;
    field_values::set(&app, &c, id, body).await?;
    Ok(success())
}

async fn rescan_field(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    field_values::rescan_field(&app, &c, id).await?;
    Ok(success())
}

async fn discard_field(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    field_values::discard_field(&app, &c, id).await?;
    Ok(success())
}

async fn field_summary(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(field_values::summary(&app, &c, id).await?))
}

async fn card_query_metadata(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(virtual_table::query_metadata(&app, &c, id).await?))
}

/// `[]` for any card (§5.14).
async fn card_fks(Caller(_): Caller, Id(_): Id) -> ApiResult<impl IntoResponse> {
    Ok(ApiJson(json!([])))
}
