//! Where a card or a dashboard goes on `PUT` (content.md §2.7, §3.4, §4.2): the collection the
//! body asks for, and the archived state and collection after archiving, restoring or moving.
//! Cards and dashboards follow the same rules.
use serde_json::{Map, Value};

use super::store::CollectionBrief;
use crate::collections::service::{invalid_request, ARCHIVED_PARENT};
use crate::error::{ApiError, ApiResult};
use crate::json_fields::opt_i64;
use crate::store::Tx;

/// The collection a `PUT` body moves an item to: `None` when it asks for no move, `Some(None)`
/// for the root. With `archived: true` the body's `collection_id` is ignored, and the Trash id on
/// an archived item is what a GET showed, so it means "unchanged". A named collection must
/// exist (404 before any permission check, §0.4).
pub async fn requested_collection(
    tx: &mut dyn Tx,
    body: &Map<String, Value>,
    archived: bool,
) -> ApiResult<Option<Option<CollectionBrief>>> {
    let archive = body.get("archived").and_then(Value::as_bool);
    if archive == Some(true) || !body.contains_key("collection_id") {
        return Ok(None);
    }
    let wanted = opt_i64(body, "collection_id");
    if archived && wanted.is_some() && wanted == tx.content_trash_id().await? {
        return Ok(None);
    }
    match wanted {
        Some(id) => Ok(Some(Some(
            tx.content_collection(id).await?.ok_or(ApiError::NotFound)?,
        ))),
        None => Ok(Some(None)),
    }
}

/// An item's archived state and collection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub archived: bool,
    pub archived_directly: bool,
    pub collection_id: Option<i64>,
}

/// The placement after a `PUT` with `archived` = `archive` and the requested `target`
/// ([`requested_collection`]): archiving keeps the collection; restoring goes back to the target
/// or the old collection, which must be live (else `400 Invalid Request.`); a move of a live item
/// may not enter an archived collection.
pub async fn place(
    tx: &mut dyn Tx,
    old: Placement,
    archive: Option<bool>,
    target: &Option<Option<CollectionBrief>>,
) -> ApiResult<Placement> {
    let target_id = target.as_ref().map(|t| t.as_ref().map(|c| c.id));
    let moving = target_id.is_some_and(|t| t != old.collection_id);
    match archive {
        Some(true) if !old.archived => Ok(Placement {
            archived: true,
            archived_directly: true,
            ..old
        }),
        Some(false) if old.archived => {
            let dest = match target {
                Some(t) => t.clone(),
                None => match old.collection_id {
                    Some(id) => tx.content_collection(id).await?,
                    None => None,
                },
            };
            if dest.as_ref().is_some_and(|c| c.archived || c.is_trash()) {
                return Err(invalid_request());
            }
            Ok(Placement {
                archived: false,
                archived_directly: false,
                collection_id: dest.map(|c| c.id),
            })
        }
        _ if moving => {
            if target
                .as_ref()
                .and_then(|t| t.as_ref())
                .is_some_and(|c| c.archived)
            {
                return Err(ApiError::field("collection_id", ARCHIVED_PARENT));
            }
            Ok(Placement {
                collection_id: target_id.flatten(),
                ..old
            })
        }
        _ => Ok(old),
    }
}
