//! Sync and field-value requests on a database (data-model.md §5.5): `sync_schema` (optionally
//! waiting), `rescan_values` in the background, `discard_values` at once. Each needs the right to
//! manage the database's metadata.
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::perms::Perms;
use super::sync::{self, schedule, values, Scope};
use crate::auth::Principal;
use crate::databases::store::DatabaseRow;
use crate::error::{ApiError, ApiResult, Kind};
use crate::state::App;

async fn managed_database(app: &App, caller: &Principal, db_id: i64) -> ApiResult<DatabaseRow> {
    let mut tx = app.store.read().await?;
    let d = tx.database_get(db_id).await?.ok_or(ApiError::NotFound)?;
    Perms::load(tx.as_mut(), caller, &[db_id])
        .await?
        .require_manage(db_id)?;
    Ok(d)
}

fn unprocessable(message: String) -> ApiError {
    ApiError::Text(Kind::Unprocessable, message)
}

/// `POST /api/database/:id/sync_schema[?wait=true]`.
pub async fn sync_schema(
    app: &Arc<App>,
    caller: &Principal,
    db_id: i64,
    wait: bool,
) -> ApiResult<()> {
    let d = managed_database(app, caller, db_id).await?;
    sync_checked(app, &d, Scope::Database, wait).await
}

/// A sync of `d` (or one of its tables) for a caller already allowed to manage it: the
/// connection is tested first (`422`), then the sync is queued and, with `wait`, awaited.
pub async fn sync_checked(
    app: &Arc<App>,
    d: &DatabaseRow,
    scope: Scope,
    wait: bool,
) -> ApiResult<()> {
    sync::connect(app, d, CancellationToken::new())
        .await
        .map_err(|e| unprocessable(e.0))?;
    let outcome = schedule::request(app, d.id, scope);
    if !wait {
        return Ok(());
    }
    let limit = Duration::from_secs(app.config.query_timeout_secs);
    match tokio::time::timeout(limit, outcome).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(message))) => Err(unprocessable(message)),
        Ok(Err(_)) => Err(unprocessable("The sync was interrupted.".into())),
        Err(_) => Err(unprocessable("The sync did not finish in time.".into())),
    }
}

/// `POST /api/database/:id/rescan_values`: refreshed in the background.
pub async fn rescan_database(app: &Arc<App>, caller: &Principal, db_id: i64) -> ApiResult<()> {
    let d = managed_database(app, caller, db_id).await?;
    let tables: Vec<i64> = app
        .store
        .read()
        .await?
        .dm_tables(db_id)
        .await?
        .into_iter()
        .filter(|t| t.active)
        .map(|t| t.id)
        .collect();
    values::spawn_refresh(app, d, tables);
    Ok(())
}

/// `POST /api/database/:id/discard_values`: every cached value of the database, at once.
pub async fn discard_database(app: &App, caller: &Principal, db_id: i64) -> ApiResult<()> {
    managed_database(app, caller, db_id).await?;
    let mut tx = app.store.begin().await?;
    let fields = tx.dm_db_fields(db_id).await?;
    values::discard(tx.as_mut(), &fields).await?;
    tx.commit().await?;
    Ok(())
}
