//! `POST /api/ee/serialization/export` and `POST /api/ee/serialization/import`
//! (serialization.md §1–§3): superusers only; query parameters validated here.
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use super::export::{self, ExportError, ExportOptions};
use super::select::CollectionRef;
use crate::error::validation::ValidationErrors;
use crate::error::{ApiError, ApiResult};
use crate::http::auth::Caller;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/ee/serialization/export", post(export_handler))
        .merge(super::import_api::routes())
}

/// Query parameters in order; repeated names keep every value.
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn last(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn boolean(&self, errs: &mut ValidationErrors, name: &'static str, default: bool) -> bool {
        crate::http::query::read_boolean(errs, name, self.last(name)).unwrap_or(default)
    }
}

pub fn params(q: Result<Query<Vec<(String, String)>>, impl std::fmt::Debug>) -> ApiResult<Params> {
    match q {
        Ok(Query(v)) => Ok(Params(v)),
        Err(_) => Err(ApiError::bad_request_text("Malformed query string.")),
    }
}

pub const DIRNAME: &str =
    "value must be 1 to 200 bytes of letters, digits, '_', '-', '.' and spaces, and not '.' or '..'.";

/// Is `d` an acceptable `dirname` (§2)?
pub fn valid_dirname(d: &str) -> bool {
    !d.is_empty()
        && d.len() <= 200
        && d != "."
        && d != ".."
        && d.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '))
}

async fn export_handler(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    c.require_superuser()?;
    let p = params(q)?;
    let mut errs = ValidationErrors::new();
    let mut opts = ExportOptions {
        collections: Vec::new(),
        all_collections: p.boolean(&mut errs, "all_collections", true),
        settings: p.boolean(&mut errs, "settings", true),
        data_model: p.boolean(&mut errs, "data_model", true),
        database_secrets: p.boolean(&mut errs, "database_secrets", false),
        continue_on_error: p.boolean(&mut errs, "continue_on_error", false),
        full_stacktrace: p.boolean(&mut errs, "full_stacktrace", false),
        scope: c.restrictions.clone(),
    };
    p.boolean(&mut errs, "field_values", false);
    let dirname = match p.last("dirname") {
        Some(d) => {
            if !valid_dirname(d) {
                errs.add_received(&["dirname"], DIRNAME, Some(&Value::String(d.into())));
            }
            d.to_string()
        }
        None => default_dirname(&app).await?,
    };
    errs.into_result()?;
    for raw in p.all("collection") {
        match CollectionRef::parse(raw) {
            Some(r) => opts.collections.push(r),
            None => {
                return Err(ApiError::JsonBody(
                    crate::error::Kind::BadRequest,
                    json!({"message": format!("Could not find Collection with entity ID {raw}")}),
                ))
            }
        }
    }
    let tree = match export::run(&app.store, &opts).await {
        Ok(t) => t,
        Err(ExportError::NotFound(m)) => {
            return Err(ApiError::JsonBody(
                crate::error::Kind::BadRequest,
                json!({ "message": m }),
            ))
        }
        Err(ExportError::Personal(m)) => return Err(ApiError::bad_request_text(m)),
        Err(ExportError::Store(e)) => return Err(e.into()),
        // A fault inside ferrobase (unreadable stored data): the log says which entity (§2.1).
        Err(ExportError::Failed(log)) => {
            return Ok(crate::http::error::text_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                log,
            ))
        }
    };
    let body = super::archive::pack(&dirname, &tree.files).map_err(ApiError::internal)?;
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{dirname}.tar.gz\""))
        .map_err(ApiError::internal)?;
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/gzip"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// `<site slug>-<YYYY-MM-DD_HH-mm>` (§2).
async fn default_dirname(app: &AppState) -> ApiResult<String> {
    let mut tx = app.store.read().await?;
    let site = tx
        .setting_get("site-name")
        .await?
        .unwrap_or_else(|| "ferrobase".into());
    tx.commit().await?;
    Ok(format!(
        "{}-{}",
        crate::collections::view::slugify(&site),
        stamp(app.clock.now().0)
    ))
}

/// `YYYY-MM-DD_HH-mm` in UTC.
pub fn stamp(micros: i64) -> String {
    use chrono::{TimeZone, Utc};
    Utc.timestamp_micros(micros)
        .single()
        .map(|d| d.format("%Y-%m-%d_%H-%M").to_string())
        .unwrap_or_else(|| "1970-01-01_00-00".into())
}
