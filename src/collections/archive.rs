//! Archiving and restoring a collection with its subtree (content.md §4.3–4.4).
use super::perms::{Graph, Level};
use super::service::{invalid_request, relocate};
use super::store::CollectionRow;
use super::view::parent_id;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::store::Tx;

/// Archives `row` directly and every live descendant with it, under one operation id.
pub async fn archive(
    tx: &mut dyn Tx,
    g: &Graph,
    caller: &Principal,
    row: &CollectionRow,
    now: i64,
) -> ApiResult<()> {
    let live: Vec<&CollectionRow> = g
        .descendants(row)
        .into_iter()
        .filter(|d| !d.archived)
        .collect();
    if live
        .iter()
        .any(|d| g.level(caller, Some(d.id)) < Level::Write)
    {
        return Err(ApiError::Forbidden);
    }
    let op = uuid::Uuid::new_v4().to_string();
    tx.collection_set_archived(row.id, true, Some(true), Some(&op))
        .await?;
    tx.collection_content_archive(row.id, true, now).await?;
    for d in live {
        tx.collection_set_archived(d.id, true, Some(false), Some(&op))
            .await?;
        tx.collection_content_archive(d.id, true, now).await?;
    }
    Ok(())
}

/// Restores `row` and the descendants archived together with it, to its stored parent or to
/// `target` (`Some(None)` = the root).
pub async fn restore(
    tx: &mut dyn Tx,
    g: &Graph,
    caller: &Principal,
    row: &CollectionRow,
    target: Option<Option<i64>>,
    now: i64,
) -> ApiResult<()> {
    let together: Vec<&CollectionRow> = g
        .descendants(row)
        .into_iter()
        .filter(|d| {
            d.archived
                && d.archived_directly == Some(false)
                && d.archive_operation_id == row.archive_operation_id
        })
        .collect();
    let stored_parent = parent_id(&row.location);
    match target {
        Some(t) if t != stored_parent => {
            if let Some(p) = t.and_then(|t| g.get(t)) {
                if p.archived || p.is_trash() {
                    return Err(invalid_request());
                }
                if p.id == row.id || g.descendants(row).iter().any(|d| d.id == p.id) {
                    return Err(invalid_request());
                }
            }
            if g.level(caller, t) < Level::Write {
                return Err(ApiError::Forbidden);
            }
        }
        _ => {
            if stored_parent
                .and_then(|p| g.get(p))
                .is_some_and(|p| p.archived)
            {
                return Err(invalid_request());
            }
        }
    }
    if together
        .iter()
        .any(|d| g.level(caller, Some(d.id)) < Level::Write)
    {
        return Err(ApiError::Forbidden);
    }
    tx.collection_set_archived(row.id, false, None, None)
        .await?;
    tx.collection_content_archive(row.id, false, now).await?;
    for d in together {
        tx.collection_set_archived(d.id, false, None, None).await?;
        tx.collection_content_archive(d.id, false, now).await?;
    }
    if let Some(t) = target.filter(|t| *t != stored_parent) {
        relocate(tx, g, row, t).await?;
    }
    Ok(())
}
