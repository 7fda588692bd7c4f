//! JSON representations of collections (content.md §1.2) and the root object (§1.1).
use serde_json::{json, Map, Value};

use super::perms::{location_ids, Graph, Level};
use super::store::CollectionRow;
use crate::auth::Principal;
use crate::clock::Timestamp;

/// The slug of a name (content.md §1.1). Non-ASCII letters count as separators.
pub fn slugify(name: &str) -> String {
    let mut out = String::new();
    let mut pending = false;
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            if pending && !out.is_empty() {
                out.push('_');
            }
            pending = false;
            out.push(c);
        } else {
            pending = true;
        }
    }
    let out: String = out.chars().take(510).collect();
    if out.is_empty() {
        "_".into()
    } else {
        out
    }
}

pub fn parent_id(location: &str) -> Option<i64> {
    location_ids(location).last().copied()
}

/// The root collection object, "Our analytics".
pub fn root_json(can_write: bool) -> Value {
    json!({
        "id": "root", "name": "Our analytics", "parent_id": null, "location": null,
        "effective_location": null, "effective_ancestors": [], "authority_level": null,
        "is_personal": false, "namespace": null, "can_write": can_write,
        "can_restore": false, "can_delete": false,
    })
}

/// The location with the ancestors the caller cannot read removed.
pub fn effective_location(g: &Graph, caller: &Principal, location: &str) -> String {
    let mut s = String::from("/");
    for id in location_ids(location) {
        if g.level(caller, Some(id)) >= Level::Read {
            s.push_str(&format!("{id}/"));
        }
    }
    s
}

pub fn can_write(g: &Graph, caller: &Principal, row: &CollectionRow) -> bool {
    !row.is_trash() && g.level(caller, Some(row.id)) == Level::Write
}

fn can_restore(g: &Graph, caller: &Principal, row: &CollectionRow) -> bool {
    let parent_live = match parent_id(&row.location) {
        None => true,
        Some(p) => g.get(p).is_some_and(|p| !p.archived),
    };
    row.archived_directly == Some(true) && can_write(g, caller, row) && parent_live
}

/// The list entry (detail without `effective_ancestors`).
pub fn entry_json(g: &Graph, caller: &Principal, row: &CollectionRow) -> Map<String, Value> {
    let v = json!({
        "id": row.id,
        "entity_id": row.entity_id,
        "name": row.name,
        "slug": slugify(&row.name),
        "description": row.description,
        "location": row.location,
        "parent_id": parent_id(&row.location),
        "personal_owner_id": row.personal_owner_id,
        "is_personal": g.personal_owner(row).is_some(),
        "namespace": row.namespace,
        "type": row.kind,
        "authority_level": row.authority_level,
        "archived": row.archived,
        "archived_directly": row.archived_directly,
        "archive_operation_id": row.archive_operation_id,
        "is_sample": row.is_sample,
        "created_at": Timestamp(row.created_at).to_rfc3339(),
        "can_write": can_write(g, caller, row),
        "can_restore": can_restore(g, caller, row),
        "can_delete": false,
        "effective_location": effective_location(g, caller, &row.location),
    });
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// The detail representation.
pub fn detail_json(g: &Graph, caller: &Principal, row: &CollectionRow) -> Value {
    let mut m = entry_json(g, caller, row);
    let mut ancestors = Vec::new();
    if g.level(caller, None) >= Level::Read {
        let mut root = root_json(g.level(caller, None) == Level::Write);
        if let Some(o) = root.as_object_mut() {
            o.retain(|k, _| ["id", "name", "can_write"].contains(&k.as_str()));
            o.insert("slug".into(), Value::Null);
            o.insert("entity_id".into(), Value::Null);
            o.insert("personal_owner_id".into(), Value::Null);
        }
        ancestors.push(root);
    }
    for id in location_ids(&row.location) {
        if let Some(a) = g.get(id) {
            if g.level(caller, Some(id)) >= Level::Read {
                ancestors.push(json!({
                    "id": a.id, "name": a.name, "slug": slugify(&a.name),
                    "entity_id": a.entity_id, "personal_owner_id": a.personal_owner_id,
                    "can_write": can_write(g, caller, a),
                }));
            }
        }
    }
    m.insert("effective_ancestors".into(), Value::Array(ancestors));
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::slugify;

    #[test]
    fn slugs() {
        assert_eq!(slugify("Sales & Marketing 2025"), "sales_marketing_2025");
        assert_eq!(slugify("Q1 Sales & Returns"), "q1_sales_returns");
        assert_eq!(slugify("  --  "), "_");
        assert_eq!(slugify("_a_"), "a");
    }
}
