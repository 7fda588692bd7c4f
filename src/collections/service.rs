//! Collection rules (content.md §1, §4.3–4.4): reading, listing, creating, updating, moving,
//! archiving and restoring. Checks run in the order of content.md §0.4.
use serde_json::json;

use super::perms::{Graph, Level};
use super::store::{CollectionRow, NewCollection};
use super::view::{parent_id, CollectionDetail, CollectionEntry, ListedCollection, RootCollection};
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::App;
use crate::store::Tx;

pub const TRASH_MODIFY: &str = "You cannot modify the Trash Collection.";
pub const ARCHIVED_PARENT: &str = "You cannot add items to an archived collection.";
pub const INTO_ITSELF: &str =
    "You cannot move a Collection into itself or into one of its descendants.";
pub const OFFICIAL_402: &str = "Official Collections is a paid feature not currently available to your instance. Please upgrade to use it. Learn more at metabase.com/upgrade/";
pub const DUPLICATE_ENTITY_ID: &str = "An item with this entity_id already exists.";
const INVALID_REQUEST: &str = "Invalid Request.";

/// A path segment naming a collection: an integer id or an entity id (content.md §0.2).
pub enum CollectionKey {
    Id(i64),
    EntityId(String),
}

pub fn is_nanoid(s: &str) -> bool {
    s.len() == 21
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

pub fn parse_key(raw: &str) -> ApiResult<CollectionKey> {
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        return crate::http::parse_path_id("id", raw).map(CollectionKey::Id);
    }
    if is_nanoid(raw) {
        return Ok(CollectionKey::EntityId(raw.to_string()));
    }
    Err(ApiError::NotFound)
}

pub async fn resolve(tx: &mut dyn Tx, key: &CollectionKey) -> ApiResult<CollectionRow> {
    let row = match key {
        CollectionKey::Id(id) => tx.collection_get(*id).await?,
        CollectionKey::EntityId(e) => tx.collection_by_entity_id(e).await?,
    };
    row.ok_or(ApiError::NotFound)
}

fn require(g: &Graph, caller: &Principal, id: Option<i64>, need: Level) -> ApiResult<()> {
    if g.level(caller, id) >= need {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

fn personal_error(field: &'static str, message: &str) -> ApiError {
    ApiError::bad_request_json(json!({"message": message, "errors": {field: message}}))
}

pub async fn get_one(
    app: &App,
    caller: &Principal,
    key: CollectionKey,
) -> ApiResult<CollectionDetail> {
    let mut tx = app.store.read().await?;
    let row = resolve(tx.as_mut(), &key).await?;
    let g = Graph::load(tx.as_mut()).await?;
    require(&g, caller, Some(row.id), Level::Read)?;
    Ok(CollectionDetail::new(&g, caller, &row))
}

pub async fn root(app: &App, caller: &Principal) -> ApiResult<RootCollection> {
    let mut tx = app.store.read().await?;
    let g = Graph::load(tx.as_mut()).await?;
    require(&g, caller, None, Level::Read)?;
    Ok(RootCollection::new(g.level(caller, None) == Level::Write))
}

pub async fn trash(app: &App, caller: &Principal) -> ApiResult<CollectionDetail> {
    let mut tx = app.store.read().await?;
    let row = tx.collection_trash().await?.ok_or(ApiError::NotFound)?;
    let g = Graph::load(tx.as_mut()).await?;
    Ok(CollectionDetail::new(&g, caller, &row))
}

pub struct ListQuery {
    pub archived: bool,
    pub exclude_other_user_collections: bool,
    pub personal_only: bool,
    pub default_namespace: bool,
}

/// The order of `GET /api/collection`: type null first, then the Trash, then name, then id.
pub fn sort_rows(rows: &mut [&CollectionRow]) {
    rows.sort_by_key(|r| (r.kind.is_some(), r.name.to_lowercase(), r.id));
}

/// Readable collections as `GET /api/collection` selects them (without the root object).
pub fn visible<'a>(g: &'a Graph, caller: &Principal, q: &ListQuery) -> Vec<&'a CollectionRow> {
    if !q.default_namespace {
        return Vec::new();
    }
    let mut rows: Vec<&CollectionRow> = g
        .rows
        .iter()
        .filter(|r| g.level(caller, Some(r.id)) >= Level::Read)
        .filter(|r| {
            if q.archived {
                r.archived || r.is_trash()
            } else {
                !r.archived && !r.is_trash()
            }
        })
        .filter(|r| !q.personal_only || r.personal_owner_id.is_some())
        .filter(|r| {
            !q.exclude_other_user_collections
                || g.personal_owner(r).is_none_or(|o| o == caller.user_id)
        })
        .collect();
    sort_rows(&mut rows);
    rows
}

pub async fn list(app: &App, caller: &Principal, q: ListQuery) -> ApiResult<Vec<ListedCollection>> {
    let mut tx = app.store.read().await?;
    let g = Graph::load(tx.as_mut()).await?;
    let mut out = Vec::new();
    if q.default_namespace
        && !q.archived
        && !q.personal_only
        && g.level(caller, None) >= Level::Read
    {
        let can_write = g.level(caller, None) == Level::Write;
        out.push(ListedCollection::Root(RootCollection::new(can_write)));
    }
    for r in visible(&g, caller, &q) {
        out.push(ListedCollection::Collection(CollectionEntry::new(
            &g, caller, r,
        )));
    }
    Ok(out)
}

pub struct NewInput {
    pub name: String,
    pub description: Option<String>,
    pub parent_id: Option<i64>,
    pub entity_id: Option<String>,
}

pub async fn create(app: &App, caller: &Principal, input: NewInput) -> ApiResult<CollectionDetail> {
    let now = app.clock.now().micros();
    let mut tx = app.store.begin().await?;
    if let Some(e) = &input.entity_id {
        if tx.collection_by_entity_id(e).await?.is_some() {
            return Err(ApiError::field("entity_id", DUPLICATE_ENTITY_ID));
        }
    }
    let g = Graph::load(tx.as_mut()).await?;
    let location = match input.parent_id {
        None => "/".to_string(),
        Some(pid) => {
            let p = g.get(pid).ok_or(ApiError::NotFound)?;
            if p.is_trash() {
                return Err(ApiError::bad_request_text(TRASH_MODIFY));
            }
            format!("{}{}/", p.location, p.id)
        }
    };
    require(&g, caller, input.parent_id, Level::Write)?;
    if input
        .parent_id
        .and_then(|p| g.get(p))
        .is_some_and(|p| p.archived)
    {
        return Err(ApiError::field("parent_id", ARCHIVED_PARENT));
    }
    let entity_id = input
        .entity_id
        .clone()
        .unwrap_or_else(crate::entity_id::new_entity_id);
    let row = tx
        .collection_insert(&NewCollection {
            entity_id: &entity_id,
            name: &input.name,
            description: input.description.as_deref(),
            location: &location,
            now,
        })
        .await?;
    tx.collection_perm_copy(input.parent_id.unwrap_or(0), row.id)
        .await?;
    let g = Graph::load(tx.as_mut()).await?;
    let out = CollectionDetail::new(&g, caller, &row);
    tx.commit().await?;
    Ok(out)
}

/// The keys of a `PUT` body; outer `None` = absent.
pub struct UpdateInput {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub archived: Option<bool>,
    pub parent_id: Option<Option<i64>>,
}

/// What a `PUT` changes on a collection.
struct Changes {
    name: bool,
    description: bool,
    archived: bool,
    parent: bool,
}

impl Changes {
    fn of(row: &CollectionRow, input: &UpdateInput) -> Changes {
        Changes {
            name: input.name.as_ref().is_some_and(|n| *n != row.name),
            description: input
                .description
                .as_ref()
                .is_some_and(|d| *d != row.description),
            archived: input.archived.is_some_and(|a| a != row.archived),
            parent: input
                .parent_id
                .is_some_and(|p| p != parent_id(&row.location)),
        }
    }

    /// The Trash never changes; a personal collection is never archived, moved or renamed.
    fn check(&self, row: &CollectionRow) -> ApiResult<()> {
        if row.is_trash() && (self.name || self.description || self.archived || self.parent) {
            return Err(ApiError::bad_request_text(TRASH_MODIFY));
        }
        if row.personal_owner_id.is_none() {
            return Ok(());
        }
        if self.archived {
            return Err(personal_error(
                "archived",
                "You cannot archive a Personal Collection.",
            ));
        }
        if self.parent {
            return Err(personal_error(
                "location",
                "You are not allowed to move a Personal Collection.",
            ));
        }
        if self.name {
            return Err(personal_error(
                "name",
                "You are not allowed to rename a Personal Collection.",
            ));
        }
        Ok(())
    }
}

pub async fn update(
    app: &App,
    caller: &Principal,
    key: CollectionKey,
    input: UpdateInput,
) -> ApiResult<CollectionDetail> {
    let now = app.clock.now().micros();
    let mut tx = app.store.begin().await?;
    let row = resolve(tx.as_mut(), &key).await?;
    let g = Graph::load(tx.as_mut()).await?;
    let new_parent = input.parent_id;
    if let Some(Some(p)) = new_parent {
        g.get(p).ok_or(ApiError::NotFound)?;
    }
    require(&g, caller, Some(row.id), Level::Write)?;
    let changes = Changes::of(&row, &input);
    changes.check(&row)?;
    if changes.archived && input.archived == Some(true) {
        super::archive::archive(tx.as_mut(), &g, caller, &row, now).await?;
    } else if changes.archived {
        super::archive::restore(tx.as_mut(), &g, caller, &row, new_parent, now).await?;
    } else if let Some(target) = new_parent.filter(|_| changes.parent) {
        move_to(tx.as_mut(), &g, caller, &row, target).await?;
    }
    if changes.name || changes.description {
        let name = input.name.as_deref().unwrap_or(&row.name);
        let description = match &input.description {
            Some(d) => d.as_deref(),
            None => row.description.as_deref(),
        };
        tx.collection_update_text(row.id, name, description).await?;
    }
    let row = tx.collection_get(row.id).await?.ok_or(ApiError::NotFound)?;
    let g = Graph::load(tx.as_mut()).await?;
    let out = CollectionDetail::new(&g, caller, &row);
    tx.commit().await?;
    Ok(out)
}

/// Moves `row` (and its subtree) under `target` (`None` = the root), content.md §1.8.
async fn move_to(
    tx: &mut dyn Tx,
    g: &Graph,
    caller: &Principal,
    row: &CollectionRow,
    target: Option<i64>,
) -> ApiResult<()> {
    let subtree = g.descendants(row);
    if let Some(t) = target.and_then(|t| g.get(t)) {
        if t.is_trash() {
            return Err(ApiError::bad_request_text(TRASH_MODIFY));
        }
    }
    for d in &subtree {
        require(g, caller, Some(d.id), Level::Write)?;
    }
    require(g, caller, target, Level::Write)?;
    if let Some(t) = target.and_then(|t| g.get(t)) {
        if t.archived {
            return Err(ApiError::field("parent_id", ARCHIVED_PARENT));
        }
        if t.id == row.id || subtree.iter().any(|d| d.id == t.id) {
            return Err(ApiError::field("parent_id", INTO_ITSELF));
        }
    }
    relocate(tx, g, row, target).await
}

/// Rewrites the locations of `row` and its subtree for the new parent `target`, and adjusts
/// permission entries when the subtree crosses the personal boundary.
pub async fn relocate(
    tx: &mut dyn Tx,
    g: &Graph,
    row: &CollectionRow,
    target: Option<i64>,
) -> ApiResult<()> {
    let new_location = match target.and_then(|t| g.get(t)) {
        Some(t) => format!("{}{}/", t.location, t.id),
        None => "/".to_string(),
    };
    let was_personal = g.personal_owner(row).is_some();
    let now_personal = target
        .and_then(|t| g.get(t))
        .is_some_and(|t| g.personal_owner(t).is_some());
    let old_prefix = format!("{}{}/", row.location, row.id);
    let new_prefix = format!("{new_location}{}/", row.id);
    let subtree = g.descendants(row);
    tx.collection_set_location(row.id, &new_location).await?;
    for d in &subtree {
        let rest = &d.location[old_prefix.len()..];
        tx.collection_set_location(d.id, &format!("{new_prefix}{rest}"))
            .await?;
    }
    if was_personal != now_personal {
        for id in std::iter::once(row.id).chain(subtree.iter().map(|d| d.id)) {
            tx.collection_perm_clear(id).await?;
            if !now_personal {
                tx.collection_perm_copy(target.unwrap_or(0), id).await?;
            }
        }
    }
    Ok(())
}

/// `Invalid Request.` (content.md §4.4).
pub fn invalid_request() -> ApiError {
    ApiError::bad_request_text(INVALID_REQUEST)
}
