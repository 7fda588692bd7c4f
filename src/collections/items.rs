//! `GET /api/collection/:id/items` and `/root/items` (content.md §1.6): child collections,
//! cards and dashboards in one ordered, paged listing; the Trash lists what was trashed directly.
use std::collections::{BTreeSet, HashMap};

use serde::Serialize;

use super::item_store::{ItemRow, ItemScope};
use super::item_view::{compare, model_rank, ContentItem, ItemCaps, ItemHead, SortKey};
use super::perms::{location_ids, Graph, Level};
use super::service::{resolve, CollectionKey};
use super::store::CollectionRow;
use super::view::{can_write, effective_location};
use crate::auth::Principal;
use crate::clock::Timestamp;
use crate::error::{ApiError, ApiResult};
use crate::http::query::Paging;
use crate::state::App;
use crate::store::{StoreResult, Tx};

pub const ALL_MODELS: [&str; 7] = [
    "card",
    "collection",
    "dashboard",
    "dataset",
    "metric",
    "pulse",
    "timeline",
];
pub const KNOWN_MODELS: [&str; 9] = [
    "card",
    "dataset",
    "metric",
    "dashboard",
    "collection",
    "pulse",
    "snippet",
    "timeline",
    "no_models",
];

pub struct ItemsQuery {
    /// `None` = every kind.
    pub models: Option<Vec<String>>,
    pub archived: bool,
    pub pinned_state: String,
    pub sort_column: String,
    pub descending: bool,
    pub official_first: Option<bool>,
    pub show_dashboard_questions: bool,
    pub paging: Paging,
}

/// The nearest readable ancestor of `row` (`None` = the root).
pub fn effective_parent(g: &Graph, caller: &Principal, row: &CollectionRow) -> Option<i64> {
    location_ids(&effective_location(g, caller, &row.location))
        .last()
        .copied()
}

/// The kinds of live items stored in each collection, for `here` and `below`.
pub struct Kinds(HashMap<i64, BTreeSet<&'static str>>);

impl Kinds {
    pub async fn load(tx: &mut dyn Tx) -> StoreResult<Kinds> {
        let mut map: HashMap<i64, BTreeSet<&'static str>> = HashMap::new();
        for (collection, card_type) in tx.content_kinds().await? {
            let kind = match card_type.as_deref() {
                None => "dashboard",
                Some("model") => "dataset",
                Some("metric") => "metric",
                Some(_) => "card",
            };
            map.entry(collection).or_default().insert(kind);
        }
        Ok(Kinds(map))
    }

    /// Kinds of live items directly in `row`.
    pub fn here(&self, g: &Graph, row: &CollectionRow) -> BTreeSet<&'static str> {
        let prefix = format!("{}{}/", row.location, row.id);
        let mut kinds = self.0.get(&row.id).cloned().unwrap_or_default();
        if g.rows.iter().any(|r| r.location == prefix && !r.archived) {
            kinds.insert("collection");
        }
        kinds
    }

    /// Kinds of live items anywhere below `row`.
    pub fn below(&self, g: &Graph, row: &CollectionRow) -> BTreeSet<&'static str> {
        let mut kinds = BTreeSet::new();
        for d in g.descendants(row).into_iter().filter(|d| !d.archived) {
            kinds.extend(self.here(g, d));
        }
        kinds
    }
}

/// A child collection in an items listing (content.md §1.6).
#[derive(Debug, Serialize)]
pub struct CollectionItem {
    #[serde(flatten)]
    pub head: ItemHead,
    pub location: String,
    pub effective_location: String,
    pub authority_level: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub here: BTreeSet<&'static str>,
    pub below: BTreeSet<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal_owner_id: Option<i64>,
}

fn collection_item(
    g: &Graph,
    kinds: &Kinds,
    caller: &Principal,
    row: &CollectionRow,
    listed: Option<i64>,
) -> CollectionItem {
    CollectionItem {
        head: ItemHead {
            id: row.id,
            name: row.name.clone(),
            description: row.description.clone(),
            entity_id: row.entity_id.clone(),
            model: "collection",
            collection_position: None,
            collection_id: listed,
            archived: row.archived,
            can_write: can_write(g, caller, row),
            can_restore: row.archived_directly == Some(true) && can_write(g, caller, row),
            can_delete: false,
            created_at: Timestamp(row.created_at),
            updated_at: None,
        },
        location: row.location.clone(),
        effective_location: effective_location(g, caller, &row.location),
        authority_level: row.authority_level.clone(),
        kind: row.kind.clone(),
        here: kinds.here(g, row),
        below: kinds.below(g, row),
        personal_owner_id: row.personal_owner_id,
    }
}

/// An entry of an items listing.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Item {
    Collection(CollectionItem),
    Content(ContentItem),
}

/// The child collections listed (content.md §1.6 selection rules).
fn child_collections<'g>(
    g: &'g Graph,
    caller: &Principal,
    listed: Option<&CollectionRow>,
    archived: bool,
) -> Vec<&'g CollectionRow> {
    match listed {
        Some(l) if l.is_trash() => g
            .rows
            .iter()
            .filter(|r| r.archived_directly == Some(true))
            .filter(|r| g.level(caller, Some(r.id)) == Level::Write)
            .collect(),
        Some(l) => {
            // An archived collection lists what was archived together with it; a live one
            // never lists directly trashed children.
            let archived = archived || l.archived;
            g.rows
                .iter()
                .filter(|r| !r.is_trash() && r.archived == archived)
                .filter(|r| r.archived_directly != Some(true))
                .filter(|r| g.level(caller, Some(r.id)) >= Level::Read)
                .filter(|r| effective_parent(g, caller, r) == Some(l.id))
                .collect()
        }
        None => g
            .rows
            .iter()
            .filter(|r| r.personal_owner_id.is_none())
            .filter(|r| if r.is_trash() { archived } else { !r.archived })
            .filter(|r| g.level(caller, Some(r.id)) >= Level::Read)
            .filter(|r| r.is_trash() || effective_parent(g, caller, r).is_none())
            .collect(),
    }
}

/// Is the card or dashboard `r` listed (content.md §1.6 selection rules)?
fn item_selected(
    g: &Graph,
    caller: &Principal,
    listed: Option<&CollectionRow>,
    q: &ItemsQuery,
    models: &[String],
    r: &ItemRow,
) -> bool {
    if !models.iter().any(|m| m == r.model()) {
        return false;
    }
    if r.dashboard_id.is_some() && !q.show_dashboard_questions {
        return false;
    }
    let pinned = r.collection_position.is_some();
    match q.pinned_state.as_str() {
        "is_pinned" if !pinned => return false,
        "is_not_pinned" if pinned => return false,
        _ => {}
    }
    match listed {
        Some(l) if l.is_trash() => {
            r.archived_directly && g.level(caller, r.collection_id) == Level::Write
        }
        _ => {
            let archived = q.archived || listed.is_some_and(|l| l.archived);
            r.archived == archived && !r.archived_directly
        }
    }
}

/// The models asked for, sorted and without duplicates (`no_models`: none).
fn selected_models(q: &ItemsQuery) -> Vec<String> {
    match &q.models {
        None => ALL_MODELS.iter().map(|m| m.to_string()).collect(),
        Some(m) if m.iter().any(|m| m == "no_models") => Vec::new(),
        Some(m) => m
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
    }
}

/// The child collections listed, each with its sort key.
fn collection_entries(
    g: &Graph,
    kinds: &Kinds,
    caller: &Principal,
    listed: Option<&CollectionRow>,
    q: &ItemsQuery,
) -> Vec<(SortKey, Item)> {
    let listed_id = listed.map(|l| l.id);
    child_collections(g, caller, listed, q.archived)
        .into_iter()
        .map(|r| {
            let key = SortKey {
                rank: model_rank("collection"),
                name: r.name.to_lowercase(),
                id: r.id,
                is_trash: r.is_trash(),
                edited_at: None,
                edited_by: None,
            };
            (
                key,
                Item::Collection(collection_item(g, kinds, caller, r, listed_id)),
            )
        })
        .collect()
}

/// The cards and dashboards listed, each with its sort key.
async fn content_entries(
    tx: &mut dyn Tx,
    g: &Graph,
    caller: &Principal,
    listed: Option<&CollectionRow>,
    q: &ItemsQuery,
    models: &[String],
) -> ApiResult<Vec<(SortKey, Item)>> {
    let scope = match listed {
        Some(l) if l.is_trash() => ItemScope::Trashed,
        Some(l) => ItemScope::In(Some(l.id)),
        None => ItemScope::In(None),
    };
    let mut entries = Vec::new();
    for r in tx.content_items(scope).await? {
        // A card on a database (or, in the Trash, from a collection) the caller's key may not
        // reach is not listed (key-restrictions.md §2.2–2.3).
        if !item_selected(g, caller, listed, q, models, &r)
            || g.card_level(caller, r.collection_id, r.database_id) == Level::None
        {
            continue;
        }
        let stored = r.collection_id.and_then(|c| g.get(c));
        let caps = ItemCaps {
            can_write: g.level(caller, r.collection_id) == Level::Write,
            parent_live: stored.is_none_or(|c| !c.archived),
        };
        let location = stored.map_or("/", |c| c.location.as_str());
        entries.push((
            SortKey::of_item(&r),
            Item::Content(ContentItem::new(&r, caps, listed.map(|l| l.id), location)),
        ));
    }
    Ok(entries)
}

/// `GET /api/collection/:key/items` and `/api/collection/root/items`.
#[derive(Debug, Serialize)]
pub struct ItemsPage {
    pub total: i64,
    pub data: Vec<Item>,
    pub models: Vec<String>,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

pub async fn items(
    app: &App,
    caller: &Principal,
    key: Option<CollectionKey>,
    q: ItemsQuery,
) -> ApiResult<ItemsPage> {
    let mut tx = app.store.read().await?;
    let listed = match &key {
        Some(k) => Some(resolve(tx.as_mut(), k).await?),
        None => None,
    };
    let g = Graph::load(tx.as_mut()).await?;
    if let Some(l) = &listed {
        if g.level(caller, Some(l.id)) < Level::Read {
            return Err(ApiError::Forbidden);
        }
    }
    let models = selected_models(&q);
    let kinds = Kinds::load(tx.as_mut()).await?;
    let mut entries: Vec<(SortKey, Item)> = Vec::new();
    if models.iter().any(|m| m == "collection") && q.pinned_state != "is_pinned" {
        entries.extend(collection_entries(&g, &kinds, caller, listed.as_ref(), &q));
    }
    let wants_items = models
        .iter()
        .any(|m| ["card", "dataset", "metric", "dashboard"].contains(&m.as_str()));
    // Cards and dashboards of the root need read permission on the root itself.
    let items_visible = listed.is_some() || g.level(caller, None) >= Level::Read;
    if wants_items && items_visible {
        entries
            .extend(content_entries(tx.as_mut(), &g, caller, listed.as_ref(), &q, &models).await?);
    }
    tx.commit().await?;
    let trash_listed = listed.as_ref().is_some_and(|l| l.is_trash());
    let official_first = q.official_first.unwrap_or(!trash_listed);
    entries.sort_by(|a, b| compare(&a.0, &b.0, &q.sort_column, q.descending, official_first));
    let total = entries.len() as i64;
    let (start, take) = match (q.paging.limit, q.paging.offset) {
        (Some(l), Some(o)) => (o.max(0) as usize, l.max(0) as usize),
        _ => (0, entries.len()),
    };
    let data: Vec<Item> = entries
        .into_iter()
        .skip(start)
        .take(take)
        .map(|(_, v)| v)
        .collect();
    Ok(ItemsPage {
        total,
        data,
        models,
        limit: q.paging.limit,
        offset: q.paging.offset,
    })
}
