//! The dashboard, tab and dashcard representations of content.md §3.1, for one caller.
use serde_json::{json, Map, Value};

use super::layout_store::{DashcardRow, TabRow};
use super::store::DashboardRow;
use crate::cards::store::CollectionBrief;
use crate::cards::view::collection_entry;
use crate::clock::rfc3339;
use crate::collections::perms::Level;
use crate::json_fields::parse_stored;
use crate::users::store::UserRow;
use crate::users::view::last_edit_info;

/// What a dashboard view needs besides the row.
pub struct DashContext<'a> {
    pub editor: Option<&'a UserRow>,
    pub collection: Option<&'a CollectionBrief>,
    pub level: Level,
    /// Shown as `collection_id` while the dashboard is archived directly (§4.2).
    pub trash_id: Option<i64>,
}

/// Every key of §3.1 except `tabs`, `dashcards` and `param_fields` (the list representation).
pub fn dashboard(d: &DashboardRow, ctx: &DashContext<'_>) -> Map<String, Value> {
    let can_write = ctx.level == Level::Write;
    let collection_archived = ctx.collection.is_some_and(|c| c.archived);
    let last_edit = ctx.editor.map(|u| last_edit_info(u, d.updated_at));
    let collection_id = if d.archived_directly {
        ctx.trash_id.or(d.collection_id)
    } else {
        d.collection_id
    };
    let v = json!({
        "id": d.id,
        "entity_id": d.entity_id,
        "name": d.name,
        "description": d.description,
        "collection_id": collection_id,
        "collection_position": d.collection_position,
        "collection": ctx.collection.map(collection_entry),
        "collection_authority_level": null,
        "creator_id": d.creator_id,
        "parameters": parse_stored(&d.parameters, json!([])),
        "width": d.width,
        "auto_apply_filters": d.auto_apply_filters,
        "cache_ttl": d.cache_ttl,
        "position": d.position,
        "caveats": d.caveats,
        "points_of_interest": d.points_of_interest,
        "show_in_getting_started": false,
        "enable_embedding": false,
        "embedding_params": null,
        "public_uuid": null,
        "made_public_by_id": null,
        "archived": d.archived,
        "archived_directly": d.archived_directly,
        "view_count": 0,
        "last_viewed_at": null,
        "created_at": rfc3339(d.created_at),
        "updated_at": rfc3339(d.updated_at),
        "last-edit-info": last_edit,
        "can_write": can_write,
        "can_restore": can_write && d.archived_directly && !collection_archived,
        "can_delete": can_write && d.archived,
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

pub fn tab(t: &TabRow) -> Value {
    json!({
        "id": t.id,
        "entity_id": t.entity_id,
        "dashboard_id": t.dashboard_id,
        "name": t.name,
        "position": t.position,
        "created_at": rfc3339(t.created_at),
        "updated_at": rfc3339(t.updated_at),
    })
}

/// A dashcard with its already-rendered `card` and `series` (§3.1 card rules).
pub fn dashcard(d: &DashcardRow, card: Value, series: Vec<Value>) -> Value {
    json!({
        "id": d.id,
        "entity_id": d.entity_id,
        "dashboard_id": d.dashboard_id,
        "dashboard_tab_id": d.dashboard_tab_id,
        "card_id": d.card_id,
        "card": card,
        "action_id": null,
        "row": d.row,
        "col": d.col,
        "size_x": d.size_x,
        "size_y": d.size_y,
        "parameter_mappings": parse_stored(&d.parameter_mappings, json!([])),
        "visualization_settings": parse_stored(&d.visualization_settings, json!({})),
        "inline_parameters": parse_stored(&d.inline_parameters, json!([])),
        "series": series,
        "created_at": rfc3339(d.created_at),
        "updated_at": rfc3339(d.updated_at),
    })
}
