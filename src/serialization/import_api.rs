//! `POST /api/ee/serialization/import` (serialization.md §3): a multipart `file` part, read with
//! the upload limit into a private directory under `tmp/`, unpacked there safely, and imported
//! from there, file by file, under the one-import-at-a-time lock.
use axum::extract::{DefaultBodyLimit, Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use axum::Router;

use super::api::params;
use super::import::{self, ImportOptions, Status};
use super::source::Source;
use super::unpack::UnpackError;
use crate::error::validation::ValidationErrors;
use crate::error::{ApiError, ApiResult};
use crate::http::auth::Caller;
use crate::http::error::text_response;
use crate::state::AppState;

pub const BUSY: &str = "Another import is already running.";
const NOT_A_FILE: &str = "value must be a file.";
const TOO_LARGE: &str = "Request body too large.";

pub fn routes() -> Router<AppState> {
    Router::new().route(
        "/api/ee/serialization/import",
        post(import_handler).layer(DefaultBodyLimit::disable()),
    )
}

/// Streams the multipart part `file` into `dest`, refusing more than `limit` bytes.
async fn read_file(
    mp: Result<Multipart, axum::extract::multipart::MultipartRejection>,
    limit: u64,
    dest: &std::path::Path,
) -> ApiResult<()> {
    use tokio::io::AsyncWriteExt;
    let too_large = || ApiError::Text(crate::error::Kind::TooLarge, TOO_LARGE.into());
    let mut mp = mp.map_err(|_| ApiError::field("file", NOT_A_FILE))?;
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Err(ApiError::field("file", NOT_A_FILE)),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(_) => return Err(ApiError::field("file", NOT_A_FILE)),
        };
        if field.name() != Some("file") {
            continue;
        }
        let mut field = field;
        let mut out = tokio::fs::File::create(dest)
            .await
            .map_err(ApiError::internal)?;
        let mut written: u64 = 0;
        loop {
            match field.chunk().await {
                Ok(Some(c)) => {
                    written += c.len() as u64;
                    if written > limit {
                        return Err(too_large());
                    }
                    out.write_all(&c).await.map_err(ApiError::internal)?;
                }
                Ok(None) => {
                    out.flush().await.map_err(ApiError::internal)?;
                    return Ok(());
                }
                Err(_) => return Err(ApiError::field("file", NOT_A_FILE)),
            }
        }
    }
}

/// A private directory under the data directory's `tmp/` (README.md §3.1), created for one
/// upload and removed, with everything in it, when dropped.
fn work_dir(data_dir: &std::path::Path) -> ApiResult<tempfile::TempDir> {
    let tmp = data_dir.join("tmp");
    std::fs::create_dir_all(&tmp).map_err(ApiError::internal)?;
    // tempfile creates it with mode 0700 under a random name.
    tempfile::Builder::new()
        .prefix("import-")
        .tempdir_in(&tmp)
        .map_err(ApiError::internal)
}

/// Removes upload directories left under `tmp/` by a server that stopped mid-import (a crash
/// or a kill: a clean stop removes them) and last touched more than `older_than` ago. Run at
/// start; the age guard keeps it away from another instance's running import when several
/// servers share one data directory.
pub fn sweep_stale_work_dirs(data_dir: &std::path::Path, older_than: std::time::Duration) -> usize {
    let Ok(entries) = std::fs::read_dir(data_dir.join("tmp")) else {
        return 0;
    };
    let now = std::time::SystemTime::now();
    let mut removed = 0;
    for e in entries.flatten() {
        let stale = e.file_name().to_string_lossy().starts_with("import-")
            && e.file_type().is_ok_and(|t| t.is_dir())
            && e.metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|m| now.duration_since(m).unwrap_or_default() >= older_than);
        if stale && std::fs::remove_dir_all(e.path()).is_ok() {
            removed += 1;
        }
    }
    removed
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
    let work = work_dir(&app.config.data_dir)?;
    let upload = work.path().join("upload");
    read_file(mp, limit, &upload).await?;
    // Held across processes until the import ends (serialization.md §5.6).
    let Some(lock) = app.store.try_import_lock().await? else {
        return Ok(text_response(StatusCode::CONFLICT, BUSY));
    };
    let max_unpacked = limit.saturating_mul(10);
    // The directory travels with the blocking task, so a dropped request cannot remove it while
    // the task still writes into it; it comes back with the result and lives until the import
    // has read the last file from it.
    let unpacked = tokio::task::spawn_blocking(move || {
        let mut log = Vec::new();
        let tree = work.path().join("tree");
        let result = std::fs::create_dir(&tree)
            .map_err(|e| UnpackError::Unreadable(e.to_string()))
            .and_then(|()| super::unpack::unpack_to_dir(&upload, &tree, max_unpacked, &mut log))
            .and_then(|()| {
                // The upload is no longer needed: the unpacked tree is what the import reads.
                let _ = std::fs::remove_file(&upload);
                Source::find(&tree, max_unpacked)
                    .map_err(|e| UnpackError::Unreadable(e.to_string()))
            });
        (work, result.map(|source| (source, log)))
    })
    .await
    .map_err(ApiError::internal)?;
    let (work, unpacked) = unpacked;
    let (source, log) = match unpacked {
        Ok(x) => x,
        Err(e) => {
            drop(work);
            lock.release().await;
            return Ok(text_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{e}\n"),
            ));
        }
    };
    let result = match source {
        None => import::ImportResult::no_source(),
        Some(source) => {
            import::run(
                &app.store,
                &app.config,
                source,
                &opts,
                log,
                app.clock.now().0,
                &super::progress::Silent,
            )
            .await
        }
    };
    drop(work);
    lock.release().await;
    // Queries must not keep using pools opened with the replaced details.
    for id in &result.changed_databases {
        app.warehouses.forget(*id);
    }
    let status = match result.status {
        Status::Ok | Status::Partial => StatusCode::OK,
        Status::Failed | Status::NoSource => StatusCode::BAD_REQUEST,
    };
    Ok(text_response(status, result.log))
}

#[cfg(test)]
mod sweep_tests {
    use std::time::Duration;

    use super::{sweep_stale_work_dirs, work_dir};

    #[test]
    fn sweeps_only_old_upload_directories() {
        let data = tempfile::tempdir().unwrap();
        let upload = work_dir(data.path()).unwrap().keep();
        std::fs::write(upload.join("x.yaml"), "a: 1").unwrap();
        let other = data.path().join("tmp").join("export-1");
        std::fs::create_dir_all(&other).unwrap();
        // A fresh directory may belong to an import running right now.
        assert_eq!(
            sweep_stale_work_dirs(data.path(), Duration::from_secs(86_400)),
            0
        );
        assert!(upload.exists());
        assert_eq!(sweep_stale_work_dirs(data.path(), Duration::ZERO), 1);
        assert!(!upload.exists());
        assert!(other.exists(), "only import-* directories are swept");
        // No tmp/ at all is fine.
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(sweep_stale_work_dirs(empty.path(), Duration::ZERO), 0);
    }
}
