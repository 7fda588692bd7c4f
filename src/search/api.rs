//! `GET /api/search`.
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::service::{self, SearchQuery};
use crate::error::validation::ValidationErrors;
use crate::error::ApiResult;
use crate::http::auth::Caller;
use crate::http::query::QueryParams;
use crate::http::ApiJson;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/search", get(search))
}

async fn search(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: QueryParams,
    Query(pairs): Query<Vec<(String, String)>>,
) -> ApiResult<impl IntoResponse> {
    let mut errs = ValidationErrors::new();
    let archived = q.boolean(&mut errs, "archived").unwrap_or(false);
    let paging = q.paging(&mut errs);
    errs.into_result()?;
    let models: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "models")
        .map(|(_, v)| v.clone())
        .collect();
    let query = SearchQuery {
        q: q.get("q")
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string),
        models: (!models.is_empty()).then_some(models),
        archived,
        paging,
    };
    Ok(ApiJson(service::search(&app, &c, query).await?))
}
