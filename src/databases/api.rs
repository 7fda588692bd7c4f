//! `GET /api/database` and `GET /api/database/{id}` (queries.md §1.3, §1.4).
use axum::extract::State;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::validate::ValidationErrors;
use crate::http::{ApiJson, Id};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/database", get(list))
        .route("/api/database/{id}", get(get_one))
        .route_layer(axum::middleware::from_fn(crate::http::numeric_path_params))
}

async fn list(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
) -> ApiResult<impl IntoResponse> {
    let tables = match q.get("include") {
        None => false,
        Some("tables") => true,
        Some(other) => {
            let mut errs = ValidationErrors::new();
            errs.add_received(
                &["include"],
                "nullable enum of tables",
                Some(&Value::String(other.into())),
            );
            return Err(ApiError::Validation(errs));
        }
    };
    let mut tx = app.store.read().await?;
    let mut rows = tx.database_list().await?;
    tx.commit().await?;
    rows.sort_by_key(|c| (c.name.to_lowercase(), c.id));
    let data: Vec<Value> = rows
        .iter()
        .map(|d| {
            let mut v = super::view(d, &c);
            if tables {
                v["tables"] = json!([]);
            }
            v
        })
        .collect();
    Ok(ApiJson(json!({"total": data.len(), "data": data})))
}

async fn get_one(
    State(app): State<AppState>,
    Caller(c): Caller,
    Id(id): Id,
) -> ApiResult<impl IntoResponse> {
    let mut tx = app.store.read().await?;
    let row = tx.database_get(id).await?.ok_or(ApiError::NotFound)?;
    tx.commit().await?;
    let mut v = super::view(&row, &c);
    v["can-manage"] = json!(c.is_superuser);
    v["schedules"] = json!({});
    Ok(ApiJson(v))
}
