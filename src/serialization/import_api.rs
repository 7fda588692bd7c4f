//! `POST /api/ee/serialization/import` (serialization.md §3): a multipart `file` part, read with
//! the upload limit, unpacked safely, imported under the one-import-at-a-time lock.
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::Router;

use super::api::params;
use super::import::{self, ImportOptions, Status};
use crate::app::AppState;
use crate::error::{text_response, ApiError, ApiResult};
use crate::http::auth::Caller;
use crate::http::validate::ValidationErrors;

pub const BUSY: &str = "Another import is already running.";
const NOT_A_FILE: &str = "value must be a file.";
const TOO_LARGE: &str = "Request body too large.";

/// Application databases (by store instance) with an import in progress (§5.6).
static RUNNING: parking_lot::Mutex<Vec<usize>> = parking_lot::Mutex::new(Vec::new());

/// Held while an import runs; released on drop.
pub struct ImportGuard(usize);

impl ImportGuard {
    /// `None` when an import is already running on this store.
    pub fn try_acquire(store: &crate::store::DynStore) -> Option<ImportGuard> {
        let key = std::sync::Arc::as_ptr(store) as *const () as usize;
        let mut running = RUNNING.lock();
        if running.contains(&key) {
            return None;
        }
        running.push(key);
        Some(ImportGuard(key))
    }
}

impl Drop for ImportGuard {
    fn drop(&mut self) {
        RUNNING.lock().retain(|k| *k != self.0);
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/ee/serialization/import",
        post(import_handler).layer(DefaultBodyLimit::disable()),
    )
}

async fn read_file(
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
    limit: u64,
) -> ApiResult<Vec<u8>> {
    let mut mp = mp.map_err(|_| ApiError::field("file", NOT_A_FILE))?;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Err(ApiError::field("file", NOT_A_FILE)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(ApiError::Text(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    TOO_LARGE.into(),
                ))
            }
            Err(_) => return Err(ApiError::field("file", NOT_A_FILE)),
        };
        if field.name() != Some("file") {
            continue;
        }
        let mut field = field;
        let mut buf = Vec::new();
        loop {
            match field.chunk().await {
                Ok(Some(c)) => {
                    if (buf.len() + c.len()) as u64 > limit {
                        return Err(ApiError::Text(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            TOO_LARGE.into(),
                        ));
                    }
                    buf.extend_from_slice(&c);
                }
                Ok(None) => return Ok(buf),
                Err(_) => return Err(ApiError::field("file", NOT_A_FILE)),
            }
        }
    }
}

async fn import_handler(
    State(app): State<AppState>,
    Caller(c): Caller,
    q: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> ApiResult<Response> {
    let admin = c.require_superuser()?;
    let p = params(q)?;
    let mut errs = ValidationErrors::new();
    let opts = ImportOptions {
        continue_on_error: p.boolean(&mut errs, "continue_on_error", false),
        full_stacktrace: p.boolean(&mut errs, "full_stacktrace", false),
        default_creator: Some(admin.actor_id),
    };
    p.boolean(&mut errs, "reindex", false);
    errs.into_result()?;
    let limit = app.config.max_upload_bytes;
    let data = read_file(mp, limit).await?;
    let Some(_guard) = ImportGuard::try_acquire(&app.store) else {
        return Ok(text_response(StatusCode::CONFLICT, BUSY));
    };
    let max_unpacked = limit.saturating_mul(10);
    let unpacked = tokio::task::spawn_blocking(move || {
        let mut log = Vec::new();
        super::unpack::unpack(&data, max_unpacked, &mut log).map(|f| (f, log))
    })
    .await
    .map_err(ApiError::internal)?;
    let (files, log) = match unpacked {
        Ok(x) => x,
        Err(e) => {
            return Ok(text_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{e}\n"),
            ))
        }
    };
    let result = import::run(&app.store, &files, &opts, log, app.clock.now().0).await;
    let status = match result.status {
        Status::Ok | Status::Partial => StatusCode::OK,
        Status::Failed | Status::NoSource => StatusCode::BAD_REQUEST,
    };
    Ok(text_response(status, result.log))
}
