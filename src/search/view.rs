//! The JSON shapes of `GET /api/search`. Field order is the wire order (serde_json keeps it).
use serde::Serialize;

use crate::clock::Timestamp;
use crate::collections::item_store::ItemRow;
use crate::collections::perms::Graph;
use crate::collections::store::CollectionRow;
use crate::collections::view::parent_id;

/// The `collection` field of a result: its (parent) collection, or four nulls in the root.
#[derive(Debug, Serialize)]
pub struct CollectionRef {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub authority_level: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

impl CollectionRef {
    fn of(g: &Graph, id: Option<i64>) -> CollectionRef {
        let c = id.and_then(|id| g.get(id));
        CollectionRef {
            id: c.map(|c| c.id),
            name: c.map(|c| c.name.clone()),
            authority_level: None,
            kind: c.and_then(|c| c.kind.clone()),
        }
    }
}

/// The fields only cards have.
#[derive(Debug, Serialize)]
pub struct CardFields {
    pub display: Option<String>,
    pub database_id: Option<i64>,
    pub dashboard_id: Option<i64>,
}

/// One result.
#[derive(Debug, Serialize)]
pub struct SearchItem {
    pub id: i64,
    pub name: String,
    pub model: &'static str,
    pub description: Option<String>,
    pub archived: bool,
    pub entity_id: String,
    pub collection_position: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Option<Timestamp>,
    pub collection: CollectionRef,
    #[serde(flatten)]
    pub card: Option<CardFields>,
}

impl SearchItem {
    /// A card or dashboard.
    pub fn item(g: &Graph, r: &ItemRow) -> SearchItem {
        SearchItem {
            id: r.id,
            name: r.name.clone(),
            model: r.model(),
            description: r.description.clone(),
            archived: r.archived,
            entity_id: r.entity_id.clone(),
            collection_position: r.collection_position,
            created_at: Timestamp(r.created_at),
            updated_at: Some(Timestamp(r.updated_at)),
            collection: CollectionRef::of(g, r.collection_id),
            card: (r.kind == "card").then(|| CardFields {
                display: r.display.clone(),
                database_id: r.database_id,
                dashboard_id: r.dashboard_id,
            }),
        }
    }

    /// A collection (no `updated_at`, no position).
    pub fn collection(g: &Graph, c: &CollectionRow) -> SearchItem {
        SearchItem {
            id: c.id,
            name: c.name.clone(),
            model: "collection",
            description: c.description.clone(),
            archived: c.archived,
            entity_id: c.entity_id.clone(),
            collection_position: None,
            created_at: Timestamp(c.created_at),
            updated_at: None,
            collection: CollectionRef::of(g, parent_id(&c.location)),
            card: None,
        }
    }
}

/// `GET /api/search`.
#[derive(Debug, Serialize)]
pub struct SearchResults {
    pub data: Vec<SearchItem>,
    pub total: usize,
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    pub models: Option<Vec<String>>,
    pub available_models: Vec<&'static str>,
    pub engine: &'static str,
    pub table_db_id: Option<i64>,
}
