//! How cards and dashboards appear in collection items (content.md §1.6) and search (§6.1),
//! and the ordering every item listing shares.
use std::cmp::Ordering;

use serde::Serialize;
use serde_json::{Map, Value};

use super::item_store::ItemRow;
use crate::clock::Timestamp;

/// Model rank used by `sort_column=model`, search order and tie-breaking.
pub fn model_rank(model: &str) -> u8 {
    match model {
        "dashboard" => 0,
        "dataset" => 1,
        "metric" => 2,
        "card" => 3,
        _ => 4,
    }
}

/// `last-edit-info` of an item: the last editor and the item's `updated_at`.
#[derive(Debug, Clone, Serialize)]
pub struct LastEditInfo {
    pub id: i64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub timestamp: Timestamp,
}

impl From<&ItemRow> for LastEditInfo {
    fn from(r: &ItemRow) -> Self {
        LastEditInfo {
            id: r.editor_id,
            email: r.editor_email.clone(),
            first_name: r.editor_first_name.clone(),
            last_name: r.editor_last_name.clone(),
            timestamp: Timestamp(r.updated_at),
        }
    }
}

/// Permissions the caller has on one item, decided by the service.
#[derive(Debug, Clone, Copy)]
pub struct ItemCaps {
    pub can_write: bool,
    /// Its stored collection is live (or the root): restoring is possible.
    pub parent_live: bool,
}

/// The keys every entry of an items listing starts with (content.md §1.6), in wire order.
#[derive(Debug, Serialize)]
pub struct ItemHead {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub entity_id: String,
    pub model: &'static str,
    pub collection_position: Option<i64>,
    pub collection_id: Option<i64>,
    pub archived: bool,
    pub can_write: bool,
    pub can_restore: bool,
    pub can_delete: bool,
    pub created_at: Timestamp,
    /// `null` for collections.
    pub updated_at: Option<Timestamp>,
}

/// The collection-items representation of a card or dashboard (content.md §1.6).
#[derive(Debug, Serialize)]
pub struct ContentItem {
    #[serde(flatten)]
    pub head: ItemHead,
    #[serde(rename = "last-edit-info")]
    pub last_edit_info: LastEditInfo,
    #[serde(flatten)]
    pub kind: ContentKind,
}

/// The fields only dashboards or only cards have.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ContentKind {
    Dashboard {
        location: String,
    },
    Card {
        display: Option<String>,
        database_id: Option<i64>,
        dashboard_id: Option<i64>,
        collection_preview: bool,
        last_used_at: Option<Timestamp>,
        moderated_status: Option<String>,
        fully_parameterized: bool,
    },
}

impl ContentItem {
    /// `listed` is the `collection_id` the listing shows (the listed collection, `None` for the
    /// root, the Trash id in the Trash); `location` is the location shown for dashboards.
    pub fn new(r: &ItemRow, caps: ItemCaps, listed: Option<i64>, location: &str) -> ContentItem {
        ContentItem {
            head: ItemHead {
                id: r.id,
                name: r.name.clone(),
                description: r.description.clone(),
                entity_id: r.entity_id.clone(),
                model: r.model(),
                collection_position: r.collection_position,
                collection_id: listed,
                archived: r.archived,
                can_write: caps.can_write,
                can_restore: r.archived_directly && caps.can_write && caps.parent_live,
                can_delete: caps.can_write && r.archived,
                created_at: Timestamp(r.created_at),
                updated_at: Some(Timestamp(r.updated_at)),
            },
            last_edit_info: LastEditInfo::from(r),
            kind: ContentKind::of(r, location),
        }
    }
}

impl ContentKind {
    fn of(r: &ItemRow, location: &str) -> ContentKind {
        if r.kind == "dashboard" {
            return ContentKind::Dashboard {
                location: location.to_string(),
            };
        }
        let q = r
            .dataset_query
            .as_deref()
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
            .unwrap_or(Value::Null);
        ContentKind::Card {
            display: r.display.clone(),
            database_id: r.database_id,
            dashboard_id: r.dashboard_id,
            collection_preview: r.collection_preview.unwrap_or(true),
            last_used_at: r.last_used_at.map(Timestamp),
            moderated_status: None,
            fully_parameterized: fully_parameterized(&q),
        }
    }
}

/// The SQL and template tags of a native query, in the legacy or the pMBQL shape.
fn native_parts(q: &Value) -> Option<(&str, Option<&Map<String, Value>>)> {
    let (sql, tags) = match q.get("native") {
        Some(native) => (native.get("query")?, native.get("template-tags")),
        None => {
            let stage = q.get("stages")?.as_array()?.first()?;
            (stage.get("native")?, stage.get("template-tags"))
        }
    };
    Some((sql.as_str()?, tags.and_then(Value::as_object)))
}

/// The SQL with every optional clause (`[[ … ]]`) removed.
fn outside_optional(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    while let Some(start) = rest.find("[[") {
        out.push_str(&rest[..start]);
        match rest[start..].find("]]") {
            Some(end) => rest = &rest[start + end + 2..],
            None => {
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// The names of the `{{ name }}` references in `sql`.
fn referenced_tags(sql: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = sql;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                names.push(after[..end].trim().to_string());
                rest = &after[end + 2..];
            }
            None => break,
        }
    }
    names
}

/// `fully_parameterized` (content.md §1.6): every template tag referenced outside an optional
/// clause has a default or is a field filter. Non-native queries are fully parameterized.
pub fn fully_parameterized(q: &Value) -> bool {
    let Some((sql, tags)) = native_parts(q) else {
        return true;
    };
    let Some(tags) = tags else {
        return true;
    };
    let required = referenced_tags(&outside_optional(sql));
    tags.iter().all(|(name, tag)| {
        let kind = tag.get("type").and_then(Value::as_str).unwrap_or("text");
        let has_default = tag.get("default").is_some_and(|d| !d.is_null());
        matches!(kind, "dimension" | "temporal-unit" | "card" | "snippet")
            || has_default
            || !required.iter().any(|r| r == name)
    })
}

/// Sort keys shared by every item listing.
#[derive(Debug, Clone)]
pub struct SortKey {
    pub rank: u8,
    pub name: String,
    pub id: i64,
    /// The Trash sorts after everything else when official collections come first.
    pub is_trash: bool,
    pub edited_at: Option<i64>,
    /// `(last name, first name)` of the last editor, lowercased; `None` without an editor.
    pub edited_by: Option<(Option<String>, Option<String>)>,
}

impl SortKey {
    pub fn of_item(r: &ItemRow) -> SortKey {
        SortKey {
            rank: model_rank(r.model()),
            name: r.name.to_lowercase(),
            id: r.id,
            is_trash: false,
            edited_at: Some(r.updated_at),
            edited_by: Some((
                r.editor_last_name.as_deref().map(str::to_lowercase),
                r.editor_first_name.as_deref().map(str::to_lowercase),
            )),
        }
    }
}

/// Nulls last whatever the direction.
fn nulls_last<T: Ord>(a: &Option<T>, b: &Option<T>, descending: bool) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) => {
            let o = x.cmp(y);
            if descending {
                o.reverse()
            } else {
                o
            }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Orders two items for `sort_column` (content.md §1.6 "Order").
pub fn compare(
    a: &SortKey,
    b: &SortKey,
    column: &str,
    descending: bool,
    trash_last: bool,
) -> Ordering {
    let dir = |o: Ordering| if descending { o.reverse() } else { o };
    let trash = |k: &SortKey| trash_last && k.is_trash;
    let primary = match column {
        "model" => dir(a.rank.cmp(&b.rank)).then_with(|| a.name.cmp(&b.name)),
        "last_edited_at" => {
            nulls_last(&a.edited_at, &b.edited_at, descending).then_with(|| a.name.cmp(&b.name))
        }
        "last_edited_by" => {
            // Last name, then first name, each with nulls last in both directions.
            let last = |k: &SortKey| k.edited_by.as_ref().and_then(|e| e.0.clone());
            let first = |k: &SortKey| k.edited_by.as_ref().and_then(|e| e.1.clone());
            nulls_last(&last(a), &last(b), descending)
                .then_with(|| nulls_last(&first(a), &first(b), descending))
                .then_with(|| a.name.cmp(&b.name))
        }
        _ => dir(a.name.cmp(&b.name)),
    };
    trash(a)
        .cmp(&trash(b))
        .then(primary)
        .then(a.rank.cmp(&b.rank))
        .then(a.id.cmp(&b.id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parameterized_queries() {
        let legacy = |sql: &str, tags: Value| {
            json!({"database": 1, "type": "native",
                   "native": {"query": sql, "template-tags": tags}})
        };
        assert!(fully_parameterized(&legacy("SELECT 1", json!({}))));
        assert!(!fully_parameterized(&legacy(
            "SELECT * FROM t WHERE x = {{x}}",
            json!({"x": {"type": "text"}})
        )));
        assert!(fully_parameterized(&legacy(
            "SELECT * FROM t WHERE x = {{ x }}",
            json!({"x": {"type": "text", "default": "a"}})
        )));
        assert!(fully_parameterized(&legacy(
            "SELECT * FROM t WHERE TRUE [[AND x = {{x}}]]",
            json!({"x": {"type": "number"}})
        )));
        assert!(fully_parameterized(&legacy(
            "SELECT * FROM t WHERE {{f}}",
            json!({"f": {"type": "dimension"}})
        )));
        let pmbql = json!({"lib/type": "mbql/query", "database": 1, "stages": [
            {"lib/type": "mbql.stage/native", "native": "SELECT {{n}}",
             "template-tags": {"n": {"type": "number"}}}]});
        assert!(!fully_parameterized(&pmbql));
        assert!(fully_parameterized(
            &json!({"type": "query", "database": 1})
        ));
    }

    #[test]
    fn optional_clauses_are_removed() {
        assert_eq!(outside_optional("a [[b]] c [[d"), "a  c ");
        assert_eq!(referenced_tags("{{a}} {{ b }} {{c"), vec!["a", "b"]);
    }

    fn key(rank: u8, name: &str, id: i64, at: Option<i64>) -> SortKey {
        SortKey {
            rank,
            name: name.into(),
            id,
            is_trash: false,
            edited_at: at,
            edited_by: None,
        }
    }

    #[test]
    fn ordering() {
        let a = key(3, "a", 2, Some(5));
        let b = key(0, "b", 1, None);
        assert_eq!(compare(&a, &b, "name", false, true), Ordering::Less);
        assert_eq!(compare(&a, &b, "name", true, true), Ordering::Greater);
        assert_eq!(compare(&a, &b, "model", false, true), Ordering::Greater);
        // The direction reverses the kind only: names stay ascending within a kind.
        let c = key(3, "c", 3, None);
        assert_eq!(compare(&a, &c, "model", true, true), Ordering::Less);
        assert_eq!(compare(&a, &b, "model", true, true), Ordering::Less);
        // Nulls last in both directions.
        assert_eq!(
            compare(&a, &b, "last_edited_at", false, true),
            Ordering::Less
        );
        assert_eq!(
            compare(&a, &b, "last_edited_at", true, true),
            Ordering::Less
        );
        let mut t = key(4, "0", 9, None);
        t.is_trash = true;
        assert_eq!(compare(&t, &a, "name", false, true), Ordering::Greater);
        assert_eq!(compare(&t, &a, "name", false, false), Ordering::Less);
        // A missing last name sorts after every present one, whatever the direction.
        let mut named = key(3, "z", 4, None);
        named.edited_by = Some((Some("lovelace".into()), Some("ada".into())));
        let mut unnamed = key(3, "a", 5, None);
        unnamed.edited_by = Some((None, Some("bob".into())));
        for desc in [false, true] {
            assert_eq!(
                compare(&named, &unnamed, "last_edited_by", desc, true),
                Ordering::Less
            );
        }
    }
}
