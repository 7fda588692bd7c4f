//! The card representation of content.md §2.1, for one caller.
use serde_json::{json, Value};

use super::store::{CardRow, CollectionBrief};
use crate::auth::Principal;
use crate::clock::rfc3339;
use crate::collections::perms::Level;
use crate::json_fields::parse_stored;
use crate::users::store::UserRow;
use crate::users::view::{last_edit_info, short};

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

/// `{id, name, ...}` of a collection as listed (content.md §1.2, the fields cards need).
pub fn collection_entry(c: &CollectionBrief) -> Value {
    let parent_id = c
        .location
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .and_then(|s| s.parse::<i64>().ok());
    json!({
        "id": c.id,
        "entity_id": c.entity_id,
        "name": c.name,
        "description": c.description,
        "location": c.location,
        "parent_id": parent_id,
        "personal_owner_id": c.personal_owner_id,
        "is_personal": c.personal_owner_id.is_some(),
        "namespace": null,
        "type": c.coll_type,
        "authority_level": null,
        "archived": c.archived,
        "is_sample": false,
        "created_at": rfc3339(c.created_at),
    })
}

pub fn card(c: &CardRow, ctx: &CardContext<'_>, caller: &Principal) -> Value {
    let can_write = ctx.level == Level::Write;
    let creator = ctx.creator.map(short);
    let last_edit = ctx.editor.map(|u| last_edit_info(u, c.updated_at));
    let mut v = json!({
        "id": c.id,
        "entity_id": c.entity_id,
        "name": c.name,
        "description": c.description,
        "type": c.card_type,
        "display": c.display,
        "dataset_query": parse_stored(&c.dataset_query, json!({})),
        "query_type": c.query_type,
        "database_id": c.database_id,
        "table_id": c.table_id,
        "visualization_settings": parse_stored(&c.visualization_settings, json!({})),
        "parameters": parse_stored(&c.parameters, json!([])),
        "parameter_mappings": parse_stored(&c.parameter_mappings, json!([])),
        "result_metadata": c.result_metadata.as_deref().map(|t| parse_stored(t, Value::Null)),
        "collection_id": if c.archived_directly { ctx.trash_id.or(c.collection_id) } else { c.collection_id },
        "collection_position": c.collection_position,
        "collection_preview": c.collection_preview,
        "collection": ctx.collection.map(collection_entry),
    });
    let more = json!({
        "dashboard_id": c.dashboard_id,
        "dashboard_tab_id": c.dashboard_tab_id,
        "dashboard_count": 0,
        "archived": c.archived,
        "archived_directly": c.archived_directly,
        "creator_id": c.creator_id,
        "creator": creator,
        "cache_ttl": c.cache_ttl,
        "enable_embedding": false,
        "embedding_params": null,
        "public_uuid": null,
        "made_public_by_id": null,
        "moderation_reviews": [],
        "average_query_time": null,
        "last_used_at": c.last_used_at.map(rfc3339),
        "view_count": 0,
        "created_at": rfc3339(c.created_at),
        "updated_at": rfc3339(c.updated_at),
        "last-edit-info": last_edit,
        "can_write": can_write,
        "can_restore": can_write && c.archived_directly && !ctx.collection_archived,
        "can_delete": can_write && c.archived,
        "can_run_adhoc_query": true,
        "can_manage_db": caller.is_superuser,
    });
    if let (Value::Object(a), Value::Object(b)) = (&mut v, more) {
        a.extend(b);
    }
    v
}
