//! Where a card or a dashboard goes on `PUT` (content.md §2.7, §3.4, §4.2): the collection the
//! body asks for, and the archived state and collection after archiving, restoring or moving.
//! Cards and dashboards follow the same rules.
use super::store::CollectionBrief;
use crate::collections::service::{invalid_request, ARCHIVED_PARENT};
use crate::error::{ApiError, ApiResult};
use crate::store::Tx;

/// The collection a `PUT` body moves an item to (`collection_id`: `None` when absent,
/// `Some(None)` for `null`): `None` when it asks for no move, `Some(None)` for the root. With
/// `archived: true` the body's `collection_id` is ignored, and the Trash id on
/// an archived item is what a GET showed, so it means "unchanged". A named collection must
/// exist (404 before any permission check, §0.4).
async fn requested_collection(
    tx: &mut dyn Tx,
    collection_id: Option<Option<i64>>,
    archive: Option<bool>,
    archived: bool,
) -> ApiResult<Option<Option<CollectionBrief>>> {
    let Some(wanted) = collection_id.filter(|_| archive != Some(true)) else {
        return Ok(None);
    };
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

/// What a `PUT` body asks of an item's place.
pub struct PlaceRequest {
    /// `archived`, when given as a boolean.
    pub archive: Option<bool>,
    /// The collection the body moves the item to: `None` when it asks for no move, `Some(None)`
    /// for the root.
    pub target: Option<Option<CollectionBrief>>,
}

impl PlaceRequest {
    /// Reads the `archived` and `collection_id` of a `PUT` on an item that is `archived` now.
    pub async fn read(
        tx: &mut dyn Tx,
        archive: Option<bool>,
        collection_id: Option<Option<i64>>,
        archived: bool,
    ) -> ApiResult<PlaceRequest> {
        let target = requested_collection(tx, collection_id, archive, archived).await?;
        Ok(PlaceRequest { archive, target })
    }

    /// Whether the body restores an item that is `archived` now.
    pub fn restores(&self, archived: bool) -> bool {
        self.archive == Some(false) && archived
    }

    /// The collection the body moves an item in `current` to, when that is a move (`Some(None)`:
    /// to the root).
    pub fn destination(&self, current: Option<i64>) -> Option<Option<i64>> {
        let target_id = self.target.as_ref().map(|t| t.as_ref().map(|c| c.id));
        target_id.filter(|t| *t != current)
    }

    /// Whether the body names the Trash, which nothing is moved into by name: archiving is how
    /// items get there.
    pub fn targets_trash(&self) -> bool {
        self.target
            .as_ref()
            .and_then(|t| t.as_ref())
            .is_some_and(|c| c.is_trash())
    }
}

/// Embedding is not offered: a `PUT` turning it on is refused rather than silently ignored.
pub fn refuse_embedding(enable_embedding: Option<bool>) -> ApiResult<()> {
    if enable_embedding == Some(true) {
        return Err(ApiError::field(
            "enable_embedding",
            "Embedding is not supported by ferrobase.",
        ));
    }
    Ok(())
}

/// An item's archived state and collection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub archived: bool,
    pub archived_directly: bool,
    pub collection_id: Option<i64>,
}

/// The placement after a `PUT` asking `req`: archiving keeps the collection; restoring goes back
/// to the target or the old collection, which must be live (else `400 Invalid Request.`); a move
/// of a live item may not enter an archived collection.
pub async fn place(tx: &mut dyn Tx, old: Placement, req: &PlaceRequest) -> ApiResult<Placement> {
    let dest = req.destination(old.collection_id);
    match req.archive {
        Some(true) if !old.archived => Ok(Placement {
            archived: true,
            archived_directly: true,
            ..old
        }),
        Some(false) if old.archived => {
            let back = match &req.target {
                Some(t) => t.clone(),
                None => match old.collection_id {
                    Some(id) => tx.content_collection(id).await?,
                    None => None,
                },
            };
            if back.as_ref().is_some_and(|c| c.archived || c.is_trash()) {
                return Err(invalid_request());
            }
            Ok(Placement {
                archived: false,
                archived_directly: false,
                collection_id: back.map(|c| c.id),
            })
        }
        _ if dest.is_some() => {
            if req
                .target
                .as_ref()
                .and_then(|t| t.as_ref())
                .is_some_and(|c| c.archived)
            {
                return Err(ApiError::field("collection_id", ARCHIVED_PARENT));
            }
            Ok(Placement {
                collection_id: dest.flatten(),
                ..old
            })
        }
        _ => Ok(old),
    }
}
