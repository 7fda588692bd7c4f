//! The database registry (queries.md §1): the warehouse databases cards query, their
//! connection details, the bundled Sample Database, and start-up initialisation.
pub mod api;
pub mod details;
pub mod input;
pub mod sample;
mod sample_words;
pub mod service;
pub mod store;
pub mod view;

use serde_json::value::RawValue;

use crate::auth::Principal;
use crate::state::App;
use store::{DatabaseRow, SyncStatusRow};

/// The tables `include=tables` adds to database objects (queries.md §1.3–§1.4). The data model
/// provides them; `src/state.rs` wires the implementation in, so this feature does not depend on
/// the data model, which depends on it.
#[async_trait::async_trait]
pub trait TableLister: Send + Sync {
    /// Per database of `db_ids`: the active, visible tables the caller may read, ordered by
    /// lower-cased schema then display name, each with its non-sensitive `fields` when `fields`;
    /// each table already written as JSON (its typed view belongs to the data model).
    async fn tables(
        &self,
        app: &App,
        caller: &Principal,
        db_ids: &[i64],
        fields: bool,
    ) -> crate::error::ApiResult<std::collections::HashMap<i64, Vec<Box<RawValue>>>>;
}

/// Marks an application database whose Sample Database decision was taken (§1.8).
const SAMPLE_DECIDED: &str = "sample-database-initialized";

/// A database's sync progress as its object shows it (data-model.md §2.10): the stored status
/// and the state (`idle`, `queued`, `running`).
pub struct SyncView {
    pub status: SyncStatusRow,
    pub state: &'static str,
}

impl SyncView {
    /// `state` is this instance's view; a sync another instance started less than an hour ago
    /// and has not finished shows as `running`.
    pub fn new(status: SyncStatusRow, local_state: &'static str, now: i64) -> SyncView {
        let elsewhere = status.sync_state == "running"
            && status
                .sync_last_started_at
                .is_some_and(|at| now - at < 3_600_000_000);
        let state = if local_state == "idle" && elsewhere {
            "running"
        } else {
            local_state
        };
        SyncView { status, state }
    }
}

/// The sync view of one database, read now.
pub async fn sync_view(
    app: &App,
    tx: &mut dyn crate::store::Tx,
    id: i64,
) -> crate::store::StoreResult<SyncView> {
    let status = tx.database_sync_status(id).await?.unwrap_or_default();
    Ok(SyncView::new(
        status,
        app.syncs.state_name(id),
        app.clock.now().micros(),
    ))
}

/// The pooled warehouse of a registered database (queries and sync share its pool), or `None`
/// when its stored details are unusable.
pub fn pooled_warehouse(
    app: &App,
    db: &DatabaseRow,
) -> Option<std::sync::Arc<crate::warehouse::engine::Warehouse>> {
    let target = details::stored_target(&app.config, &db.engine, &db.details, db.is_sample)?;
    Some(app.warehouses.get(
        db.id,
        &format!("{}\u{0}{}", db.engine, db.details),
        &target,
        crate::warehouse::engine::WarehouseOptions::from_config(&app.config),
    ))
}

/// Start-up: decide about the Sample Database on a new application database, give every
/// (group, database) pair a data-permission entry, and regenerate a missing sample file.
pub async fn startup(app: &App) -> anyhow::Result<()> {
    let mut tx = app.store.begin().await?;
    if tx.setting_get(SAMPLE_DECIDED).await?.is_none() {
        let fresh = !crate::setup::api::is_set_up(tx.as_mut())
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if !app.config.sample_database && fresh {
            for d in tx.database_list().await? {
                if d.is_sample && tx.database_card_ids(d.id).await?.is_empty() {
                    tx.data_perm_delete_database(d.id).await?;
                    tx.database_delete(d.id).await?;
                }
            }
        }
        tx.setting_set(SAMPLE_DECIDED, Some("true")).await?;
    }
    crate::permissions::fill_missing(tx.as_mut()).await?;
    let has_sample = tx.database_list().await?.iter().any(|d| d.is_sample);
    tx.commit().await?;
    if has_sample {
        let path = details::sample_path(&app.config);
        if !path.is_file() {
            sample::create_file(&path)
                .await
                .map_err(|e| anyhow::anyhow!("cannot create the Sample Database: {e}"))?;
        }
    }
    Ok(())
}
