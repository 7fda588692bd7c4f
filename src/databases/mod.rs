//! The database registry (queries.md §1): the databases cards query. Only listing and reading
//! are offered here; creating databases and running queries belong to the queries feature.
pub mod api;
pub mod store;

use serde_json::{json, Value};

use crate::clock::Timestamp;
use crate::http::auth::Principal;
use store::DatabaseRow;

/// The secret keys of `details`, masked in responses (queries.md §1.1).
const SECRETS: &[&str] = &["password"];
const MASK: &str = "**MetabasePass**";

/// The database representation of queries.md §1.2 for `caller`. Data permissions are not
/// modelled yet: every authenticated user may view every database and run native SQL on it
/// (Metabase's default for All Users).
pub fn view(d: &DatabaseRow, caller: &Principal) -> Value {
    let mut v = json!({
        "id": d.id,
        "name": d.name,
        "description": d.description,
        "engine": d.engine,
        "is_sample": d.is_sample,
        "is_full_sync": true,
        "is_on_demand": false,
        "is_audit": false,
        "auto_run_queries": d.auto_run_queries,
        "cache_ttl": d.cache_ttl,
        "timezone": null,
        "initial_sync_status": "complete",
        "settings": {},
        "dbms_version": null,
        "creator_id": d.creator_id,
        "created_at": Timestamp(d.created_at).to_rfc3339(),
        "updated_at": Timestamp(d.updated_at).to_rfc3339(),
        "native_permissions": "write",
        "can_upload": false,
        "features": ["native-parameters"],
    });
    if caller.is_superuser {
        let mut details: Value = serde_json::from_str(&d.details).unwrap_or_else(|_| json!({}));
        if let Some(m) = details.as_object_mut() {
            for k in SECRETS {
                if m.get(*k).is_some_and(|x| !x.is_null()) {
                    m.insert((*k).into(), json!(MASK));
                }
            }
        }
        v["details"] = details;
    }
    v
}
