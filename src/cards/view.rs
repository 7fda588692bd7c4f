//! The card representation of content.md §2.1, for one caller. Field order is the wire order
//! (serde_json keeps it); stored JSON members (`dataset_query`, `visualization_settings`, …)
//! stay open-ended values.
use serde::Serialize;
use serde_json::{json, Value};

use super::store::{CardRow, CollectionBrief};
use crate::auth::Principal;
use crate::clock::Timestamp;
use crate::collections::item_view::LastEditInfo;
use crate::collections::perms::Level;
use crate::json_fields::parse_stored;
use crate::users::store::UserRow;
use crate::users::view::UserSummary;

/// What a card view needs besides the row.
pub struct CardContext<'a> {
    pub creator: Option<&'a UserRow>,
    pub editor: Option<&'a UserRow>,
    pub collection: Option<&'a CollectionBrief>,
    pub level: Level,
    pub collection_archived: bool,
    /// Shown as `collection_id` while the card is archived directly (§4.2).
    pub trash_id: Option<i64>,
}

/// A collection as cards and dashboards embed it (content.md §1.2, the fields they need).
#[derive(Debug, Clone, Serialize)]
pub struct CollectionSummary {
    pub id: i64,
    pub entity_id: String,
    pub name: String,
    pub description: Option<String>,
    pub location: String,
    pub parent_id: Option<i64>,
    pub personal_owner_id: Option<i64>,
    pub is_personal: bool,
    pub namespace: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub authority_level: Option<String>,
    pub archived: bool,
    pub is_sample: bool,
    pub created_at: Timestamp,
}

impl From<&CollectionBrief> for CollectionSummary {
    fn from(c: &CollectionBrief) -> Self {
        let parent_id = c
            .location
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .and_then(|s| s.parse::<i64>().ok());
        CollectionSummary {
            id: c.id,
            entity_id: c.entity_id.clone(),
            name: c.name.clone(),
            description: c.description.clone(),
            location: c.location.clone(),
            parent_id,
            personal_owner_id: c.personal_owner_id,
            is_personal: c.personal_owner_id.is_some(),
            namespace: None,
            kind: c.coll_type.clone(),
            authority_level: None,
            archived: c.archived,
            is_sample: false,
            created_at: Timestamp(c.created_at),
        }
    }
}

/// `last-edit-info` of a card or dashboard: its last editor and the item's `updated_at`.
pub fn last_edit_info(editor: &UserRow, updated_at: i64) -> LastEditInfo {
    LastEditInfo {
        id: editor.id,
        email: editor.email.clone(),
        first_name: editor.first_name.clone(),
        last_name: editor.last_name.clone(),
        timestamp: Timestamp(updated_at),
    }
}

/// The keys a card and a dashboard share near their end: when and by whom it was edited, and
/// what the caller may do with it (content.md §2.1, §3.1, §4.2).
#[derive(Debug, Clone, Serialize)]
pub struct EditState {
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    #[serde(rename = "last-edit-info")]
    pub last_edit_info: Option<LastEditInfo>,
    pub can_write: bool,
    pub can_restore: bool,
    pub can_delete: bool,
}

/// The place and archived state of an item, as [`EditState::new`] reads them.
pub struct Archival {
    pub archived: bool,
    pub archived_directly: bool,
    /// Its collection is in the Trash: restoring it alone is not possible.
    pub collection_archived: bool,
}

impl EditState {
    pub fn new(
        created_at: i64,
        updated_at: i64,
        editor: Option<&UserRow>,
        level: Level,
        a: Archival,
    ) -> EditState {
        let can_write = level == Level::Write;
        EditState {
            created_at: Timestamp(created_at),
            updated_at: Timestamp(updated_at),
            last_edit_info: editor.map(|u| last_edit_info(u, updated_at)),
            can_write,
            can_restore: can_write && a.archived_directly && !a.collection_archived,
            can_delete: can_write && a.archived,
        }
    }
}

/// The card of content.md §2.1.
#[derive(Debug, Clone, Serialize)]
pub struct Card {
    pub id: i64,
    pub entity_id: String,
    pub name: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub card_type: String,
    pub display: String,
    pub dataset_query: Value,
    pub query_type: Option<String>,
    pub database_id: Option<i64>,
    pub table_id: Option<i64>,
    pub visualization_settings: Value,
    pub parameters: Value,
    pub parameter_mappings: Value,
    pub result_metadata: Option<Value>,
    pub collection_id: Option<i64>,
    pub collection_position: Option<i64>,
    pub collection_preview: bool,
    pub collection: Option<CollectionSummary>,
    pub dashboard_id: Option<i64>,
    pub dashboard_tab_id: Option<i64>,
    pub dashboard_count: i64,
    pub archived: bool,
    pub archived_directly: bool,
    pub creator_id: i64,
    pub creator: Option<UserSummary>,
    pub cache_ttl: Option<i64>,
    pub enable_embedding: bool,
    pub embedding_params: Option<Value>,
    pub public_uuid: Option<String>,
    pub made_public_by_id: Option<i64>,
    pub moderation_reviews: [Value; 0],
    pub average_query_time: Option<f64>,
    pub last_used_at: Option<Timestamp>,
    pub view_count: i64,
    #[serde(flatten)]
    pub edit: EditState,
    pub can_run_adhoc_query: bool,
    pub can_manage_db: bool,
}

/// The card view of `c`; `dashboard_count` and `can_run_adhoc_query` are the service's to fill
/// (they need the store).
pub fn card(c: &CardRow, ctx: &CardContext<'_>, caller: &Principal) -> Card {
    let archival = Archival {
        archived: c.archived,
        archived_directly: c.archived_directly,
        collection_archived: ctx.collection_archived,
    };
    Card {
        id: c.id,
        entity_id: c.entity_id.clone(),
        name: c.name.clone(),
        description: c.description.clone(),
        card_type: c.card_type.clone(),
        display: c.display.clone(),
        dataset_query: parse_stored(&c.dataset_query, json!({})),
        query_type: c.query_type.clone(),
        database_id: c.database_id,
        table_id: c.table_id,
        visualization_settings: parse_stored(&c.visualization_settings, json!({})),
        parameters: parse_stored(&c.parameters, json!([])),
        parameter_mappings: parse_stored(&c.parameter_mappings, json!([])),
        result_metadata: c
            .result_metadata
            .as_deref()
            .map(|t| parse_stored(t, Value::Null)),
        collection_id: if c.archived_directly {
            ctx.trash_id.or(c.collection_id)
        } else {
            c.collection_id
        },
        collection_position: c.collection_position,
        collection_preview: c.collection_preview,
        collection: ctx.collection.map(CollectionSummary::from),
        dashboard_id: c.dashboard_id,
        dashboard_tab_id: c.dashboard_tab_id,
        dashboard_count: 0,
        archived: c.archived,
        archived_directly: c.archived_directly,
        creator_id: c.creator_id,
        creator: ctx.creator.map(UserSummary::from),
        cache_ttl: c.cache_ttl,
        enable_embedding: false,
        embedding_params: None,
        public_uuid: None,
        made_public_by_id: None,
        moderation_reviews: [],
        average_query_time: None,
        last_used_at: c.last_used_at.map(Timestamp),
        view_count: 0,
        edit: EditState::new(c.created_at, c.updated_at, ctx.editor, ctx.level, archival),
        can_run_adhoc_query: true,
        can_manage_db: caller.is_superuser,
    }
}
