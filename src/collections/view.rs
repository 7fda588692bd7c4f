//! JSON representations of collections (content.md §1.2) and the root object (§1.1). Field
//! order is the wire order (serde_json keeps it).
use serde::Serialize;

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
#[derive(Debug, Serialize)]
pub struct RootCollection {
    pub id: &'static str,
    pub name: &'static str,
    pub parent_id: Option<i64>,
    pub location: Option<String>,
    pub effective_location: Option<String>,
    pub effective_ancestors: [Ancestor; 0],
    pub authority_level: Option<String>,
    pub is_personal: bool,
    pub namespace: Option<String>,
    pub can_write: bool,
    pub can_restore: bool,
    pub can_delete: bool,
}

impl RootCollection {
    pub fn new(can_write: bool) -> RootCollection {
        RootCollection {
            id: ROOT_ID,
            name: ROOT_NAME,
            parent_id: None,
            location: None,
            effective_location: None,
            effective_ancestors: [],
            authority_level: None,
            is_personal: false,
            namespace: None,
            can_write,
            can_restore: false,
            can_delete: false,
        }
    }
}

const ROOT_ID: &str = "root";
const ROOT_NAME: &str = "Our analytics";

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

/// A collection as `GET /api/collection` lists it (the detail without `effective_ancestors`).
#[derive(Debug, Serialize)]
pub struct CollectionEntry {
    pub id: i64,
    pub entity_id: String,
    pub name: String,
    pub slug: String,
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
    pub archived_directly: Option<bool>,
    pub archive_operation_id: Option<String>,
    pub is_sample: bool,
    pub created_at: Timestamp,
    pub can_write: bool,
    pub can_restore: bool,
    pub can_delete: bool,
    pub effective_location: String,
}

impl CollectionEntry {
    pub fn new(g: &Graph, caller: &Principal, row: &CollectionRow) -> CollectionEntry {
        CollectionEntry {
            id: row.id,
            entity_id: row.entity_id.clone(),
            name: row.name.clone(),
            slug: slugify(&row.name),
            description: row.description.clone(),
            location: row.location.clone(),
            parent_id: parent_id(&row.location),
            personal_owner_id: row.personal_owner_id,
            is_personal: g.personal_owner(row).is_some(),
            namespace: row.namespace.clone(),
            kind: row.kind.clone(),
            authority_level: row.authority_level.clone(),
            archived: row.archived,
            archived_directly: row.archived_directly,
            archive_operation_id: row.archive_operation_id.clone(),
            is_sample: row.is_sample,
            created_at: Timestamp(row.created_at),
            can_write: can_write(g, caller, row),
            can_restore: can_restore(g, caller, row),
            can_delete: false,
            effective_location: effective_location(g, caller, &row.location),
        }
    }
}

/// An entry of `GET /api/collection`: the root object first, when it is listed.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ListedCollection {
    Root(RootCollection),
    Collection(CollectionEntry),
}

/// An element of `effective_ancestors`; the root shows fewer fields, in another order.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Ancestor {
    Root {
        id: &'static str,
        name: &'static str,
        can_write: bool,
        slug: Option<String>,
        entity_id: Option<String>,
        personal_owner_id: Option<i64>,
    },
    Collection {
        id: i64,
        name: String,
        slug: String,
        entity_id: String,
        personal_owner_id: Option<i64>,
        can_write: bool,
    },
}

/// The detail representation (content.md §1.2).
#[derive(Debug, Serialize)]
pub struct CollectionDetail {
    #[serde(flatten)]
    pub entry: CollectionEntry,
    pub effective_ancestors: Vec<Ancestor>,
}

impl CollectionDetail {
    pub fn new(g: &Graph, caller: &Principal, row: &CollectionRow) -> CollectionDetail {
        let mut ancestors = Vec::new();
        if g.level(caller, None) >= Level::Read {
            ancestors.push(Ancestor::Root {
                id: ROOT_ID,
                name: ROOT_NAME,
                can_write: g.level(caller, None) == Level::Write,
                slug: None,
                entity_id: None,
                personal_owner_id: None,
            });
        }
        for id in location_ids(&row.location) {
            if let Some(a) = g.get(id) {
                if g.level(caller, Some(id)) >= Level::Read {
                    ancestors.push(Ancestor::Collection {
                        id: a.id,
                        name: a.name.clone(),
                        slug: slugify(&a.name),
                        entity_id: a.entity_id.clone(),
                        personal_owner_id: a.personal_owner_id,
                        can_write: can_write(g, caller, a),
                    });
                }
            }
        }
        CollectionDetail {
            entry: CollectionEntry::new(g, caller, row),
            effective_ancestors: ancestors,
        }
    }
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
