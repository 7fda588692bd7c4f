//! The dashboard, tab and dashcard representations of content.md §3.1, for one caller. Field
//! order is the wire order (serde_json keeps it); stored JSON members stay open-ended values.
use serde::Serialize;
use serde_json::{json, Value};

use super::layout_store::{DashcardRow, TabRow};
use super::store::DashboardRow;
use crate::cards::store::CollectionBrief;
use crate::cards::view::{Archival, Card, CollectionSummary, EditState};
use crate::clock::Timestamp;
use crate::collections::perms::Level;
use crate::json_fields::parse_stored;
use crate::users::store::UserRow;

/// What a dashboard view needs besides the row.
pub struct DashContext<'a> {
    pub editor: Option<&'a UserRow>,
    pub collection: Option<&'a CollectionBrief>,
    pub level: Level,
    /// Shown as `collection_id` while the dashboard is archived directly (§4.2).
    pub trash_id: Option<i64>,
}

/// Every key of §3.1 except `tabs`, `dashcards` and `param_fields` (the list representation).
#[derive(Debug, Serialize)]
pub struct Dashboard {
    pub id: i64,
    pub entity_id: String,
    pub name: String,
    pub description: Option<String>,
    pub collection_id: Option<i64>,
    pub collection_position: Option<i64>,
    pub collection: Option<CollectionSummary>,
    pub collection_authority_level: Option<String>,
    pub creator_id: i64,
    pub parameters: Value,
    pub width: String,
    pub auto_apply_filters: bool,
    pub cache_ttl: Option<i64>,
    pub position: Option<i64>,
    pub caveats: Option<String>,
    pub points_of_interest: Option<String>,
    pub show_in_getting_started: bool,
    pub enable_embedding: bool,
    pub embedding_params: Option<Value>,
    pub public_uuid: Option<String>,
    pub made_public_by_id: Option<i64>,
    pub archived: bool,
    pub archived_directly: bool,
    pub view_count: i64,
    pub last_viewed_at: Option<Timestamp>,
    #[serde(flatten)]
    pub edit: EditState,
}

/// The detail representation: the list one with its tabs and visible dashcards.
#[derive(Debug, Serialize)]
pub struct DashboardDetail {
    #[serde(flatten)]
    pub dashboard: Dashboard,
    pub tabs: Vec<Tab>,
    pub dashcards: Vec<Dashcard>,
    pub param_fields: Option<Value>,
}

pub fn dashboard(d: &DashboardRow, ctx: &DashContext<'_>) -> Dashboard {
    let archival = Archival {
        archived: d.archived,
        archived_directly: d.archived_directly,
        collection_archived: ctx.collection.is_some_and(|c| c.archived),
    };
    let collection_id = if d.archived_directly {
        ctx.trash_id.or(d.collection_id)
    } else {
        d.collection_id
    };
    Dashboard {
        id: d.id,
        entity_id: d.entity_id.clone(),
        name: d.name.clone(),
        description: d.description.clone(),
        collection_id,
        collection_position: d.collection_position,
        collection: ctx.collection.map(CollectionSummary::from),
        collection_authority_level: None,
        creator_id: d.creator_id,
        parameters: parse_stored(&d.parameters, json!([])),
        width: d.width.clone(),
        auto_apply_filters: d.auto_apply_filters,
        cache_ttl: d.cache_ttl,
        position: d.position,
        caveats: d.caveats.clone(),
        points_of_interest: d.points_of_interest.clone(),
        show_in_getting_started: false,
        enable_embedding: false,
        embedding_params: None,
        public_uuid: None,
        made_public_by_id: None,
        archived: d.archived,
        archived_directly: d.archived_directly,
        view_count: 0,
        last_viewed_at: None,
        edit: EditState::new(d.created_at, d.updated_at, ctx.editor, ctx.level, archival),
    }
}

#[derive(Debug, Serialize)]
pub struct Tab {
    pub id: i64,
    pub entity_id: String,
    pub dashboard_id: i64,
    pub name: String,
    pub position: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl From<&TabRow> for Tab {
    fn from(t: &TabRow) -> Self {
        Tab {
            id: t.id,
            entity_id: t.entity_id.clone(),
            dashboard_id: t.dashboard_id,
            name: t.name.clone(),
            position: t.position,
            created_at: Timestamp(t.created_at),
            updated_at: Timestamp(t.updated_at),
        }
    }
}

/// A card as a dashcard shows it (§3.1 card rules): whole when the caller may read it, else
/// only its id.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum DashcardCard {
    Readable(Box<Card>),
    Hidden { id: i64 },
}

#[derive(Debug, Serialize)]
pub struct Dashcard {
    pub id: i64,
    pub entity_id: String,
    pub dashboard_id: i64,
    pub dashboard_tab_id: Option<i64>,
    pub card_id: Option<i64>,
    pub card: Option<DashcardCard>,
    pub action_id: Option<i64>,
    pub row: i64,
    pub col: i64,
    pub size_x: i64,
    pub size_y: i64,
    pub parameter_mappings: Value,
    pub visualization_settings: Value,
    pub inline_parameters: Value,
    pub series: Vec<DashcardCard>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A dashcard with its already-rendered `card` and `series` (§3.1 card rules).
pub fn dashcard(
    d: &DashcardRow,
    card: Option<DashcardCard>,
    series: Vec<DashcardCard>,
) -> Dashcard {
    Dashcard {
        id: d.id,
        entity_id: d.entity_id.clone(),
        dashboard_id: d.dashboard_id,
        dashboard_tab_id: d.dashboard_tab_id,
        card_id: d.card_id,
        card,
        action_id: None,
        row: d.row,
        col: d.col,
        size_x: d.size_x,
        size_y: d.size_y,
        parameter_mappings: parse_stored(&d.parameter_mappings, json!([])),
        visualization_settings: parse_stored(&d.visualization_settings, json!({})),
        inline_parameters: parse_stored(&d.inline_parameters, json!([])),
        series,
        created_at: Timestamp(d.created_at),
        updated_at: Timestamp(d.updated_at),
    }
}
