//! The search rules: which items match, their order (exact name first, then prefix, then the
//! rest; model rank, lowercased name, id within each group), and the result shape.
use std::collections::BTreeSet;

use serde_json::{json, Value};

use crate::auth::Principal;
use crate::clock::Timestamp;
use crate::collections::item_store::{ItemRow, ItemScope};
use crate::collections::item_view::model_rank;
use crate::collections::perms::{Graph, Level};
use crate::collections::store::CollectionRow;
use crate::collections::view::parent_id;
use crate::error::ApiResult;
use crate::http::query::Paging;
use crate::state::App;

pub struct SearchQuery {
    /// The text to look for; `None` matches everything.
    pub q: Option<String>,
    /// The requested kinds; `None` = every kind.
    pub models: Option<Vec<String>>,
    pub archived: bool,
    pub paging: Paging,
}

/// How well a name matches: 0 exact, 1 prefix, 2 contains; `None` no match.
pub fn match_class(name: &str, q: Option<&str>) -> Option<u8> {
    let Some(q) = q else {
        return Some(2);
    };
    let name = name.to_lowercase();
    let q = q.to_lowercase();
    if name == q {
        Some(0)
    } else if name.starts_with(&q) {
        Some(1)
    } else if name.contains(&q) {
        Some(2)
    } else {
        None
    }
}

/// The `collection` field of a result: its (parent) collection, or four nulls in the root.
fn collection_ref(g: &Graph, id: Option<i64>) -> Value {
    match id.and_then(|id| g.get(id)) {
        Some(c) => json!({"id": c.id, "name": c.name, "authority_level": null, "type": c.kind}),
        None => json!({"id": null, "name": null, "authority_level": null, "type": null}),
    }
}

struct Hit {
    class: u8,
    rank: u8,
    name: String,
    id: i64,
    model: &'static str,
    value: Value,
}

fn item_hit(g: &Graph, r: &ItemRow, class: u8) -> Hit {
    let model = r.model();
    let mut v = json!({
        "id": r.id, "name": r.name, "model": model, "description": r.description,
        "archived": r.archived, "entity_id": r.entity_id,
        "collection_position": r.collection_position,
        "created_at": Timestamp(r.created_at).to_rfc3339(),
        "updated_at": Timestamp(r.updated_at).to_rfc3339(),
        "collection": collection_ref(g, r.collection_id),
    });
    if r.kind == "card" {
        if let Some(o) = v.as_object_mut() {
            o.insert("display".into(), json!(r.display));
            o.insert("database_id".into(), json!(r.database_id));
            o.insert("dashboard_id".into(), json!(r.dashboard_id));
        }
    }
    Hit {
        class,
        rank: model_rank(model),
        name: r.name.to_lowercase(),
        id: r.id,
        model,
        value: v,
    }
}

fn collection_hit(g: &Graph, c: &CollectionRow, class: u8) -> Hit {
    let v = json!({
        "id": c.id, "name": c.name, "model": "collection", "description": c.description,
        "archived": c.archived, "entity_id": c.entity_id, "collection_position": null,
        "created_at": Timestamp(c.created_at).to_rfc3339(), "updated_at": null,
        "collection": collection_ref(g, parent_id(&c.location)),
    });
    Hit {
        class,
        rank: model_rank("collection"),
        name: c.name.to_lowercase(),
        id: c.id,
        model: "collection",
        value: v,
    }
}

pub async fn search(app: &App, caller: &Principal, q: SearchQuery) -> ApiResult<Value> {
    let mut tx = app.store.read().await?;
    let g = Graph::load(tx.as_mut()).await?;
    let items = tx.content_items(ItemScope::All).await?;
    tx.commit().await?;
    let text = q.q.as_deref();
    let mut hits: Vec<Hit> = Vec::new();
    for r in items.iter().filter(|r| r.archived == q.archived) {
        if g.level(caller, r.collection_id) < Level::Read {
            continue;
        }
        if let Some(class) = match_class(&r.name, text) {
            hits.push(item_hit(&g, r, class));
        }
    }
    for c in g
        .rows
        .iter()
        .filter(|c| c.archived == q.archived && !c.is_trash())
    {
        let foreign = g.personal_owner(c).is_some_and(|o| o != caller.user_id);
        if foreign || g.level(caller, Some(c.id)) < Level::Read {
            continue;
        }
        if let Some(class) = match_class(&c.name, text) {
            hits.push(collection_hit(&g, c, class));
        }
    }
    let mut available: Vec<&'static str> = hits
        .iter()
        .map(|h| h.model)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    available.sort_by_key(|m| model_rank(m));
    if let Some(models) = &q.models {
        hits.retain(|h| models.iter().any(|m| m == h.model));
    }
    hits.sort_by(|a, b| (a.class, a.rank, &a.name, a.id).cmp(&(b.class, b.rank, &b.name, b.id)));
    let total = hits.len();
    let (start, take) = match (q.paging.limit, q.paging.offset) {
        (Some(l), Some(o)) => (o.max(0) as usize, l.max(0) as usize),
        _ => (0, hits.len()),
    };
    let data: Vec<Value> = hits
        .into_iter()
        .skip(start)
        .take(take)
        .map(|h| h.value)
        .collect();
    Ok(json!({
        "data": data, "total": total,
        "limit": q.paging.limit, "offset": q.paging.offset,
        "models": q.models, "available_models": available,
        "engine": "in-place", "table_db_id": null,
    }))
}

#[cfg(test)]
mod tests {
    use super::match_class;

    #[test]
    fn classes() {
        assert_eq!(match_class("Revenue", Some("REVENUE")), Some(0));
        assert_eq!(match_class("Revenue old", Some("revenue")), Some(1));
        assert_eq!(match_class("Monthly revenue", Some("revenue")), Some(2));
        assert_eq!(match_class("Orders", Some("revenue")), None);
        assert_eq!(match_class("Ünïcode", Some("ÜNÏ")), Some(1));
        assert_eq!(match_class("x", None), Some(2));
    }
}
