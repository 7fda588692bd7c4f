//! The search rules: which items match, their order (exact name first, then prefix, then the
//! rest; model rank, lowercased name, id within each group) and paging; the shapes are in
//! [`super::view`].
use std::collections::BTreeSet;

use super::input::SearchQuery;
use super::view::{SearchItem, SearchResults};
use crate::auth::Principal;
use crate::collections::item_store::ItemScope;
use crate::collections::item_view::model_rank;
use crate::collections::perms::{Graph, Level};
use crate::error::ApiResult;
use crate::state::App;

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

struct Hit {
    class: u8,
    rank: u8,
    name: String,
    item: SearchItem,
}

impl Hit {
    fn new(class: u8, item: SearchItem) -> Hit {
        Hit {
            class,
            rank: model_rank(item.model),
            name: item.name.to_lowercase(),
            item,
        }
    }
}

pub async fn search(app: &App, caller: &Principal, q: SearchQuery) -> ApiResult<SearchResults> {
    let mut tx = app.store.read().await?;
    let g = Graph::load(tx.as_mut()).await?;
    let items = tx.content_items(ItemScope::All).await?;
    tx.commit().await?;
    let text = q.q.as_deref();
    let mut hits: Vec<Hit> = Vec::new();
    for r in items.iter().filter(|r| r.archived == q.archived) {
        if g.card_level(caller, r.collection_id, r.database_id) < Level::Read {
            continue;
        }
        if let Some(class) = match_class(&r.name, text) {
            hits.push(Hit::new(class, SearchItem::item(&g, r)));
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
            hits.push(Hit::new(class, SearchItem::collection(&g, c)));
        }
    }
    let mut available: Vec<&'static str> = hits
        .iter()
        .map(|h| h.item.model)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    available.sort_by_key(|m| model_rank(m));
    if let Some(models) = &q.models {
        hits.retain(|h| models.iter().any(|m| m == h.item.model));
    }
    hits.sort_by(|a, b| {
        (a.class, a.rank, &a.name, a.item.id).cmp(&(b.class, b.rank, &b.name, b.item.id))
    });
    let total = hits.len();
    let (start, take) = match (q.paging.limit, q.paging.offset) {
        (Some(l), Some(o)) => (o.max(0) as usize, l.max(0) as usize),
        _ => (0, hits.len()),
    };
    let data: Vec<SearchItem> = hits
        .into_iter()
        .skip(start)
        .take(take)
        .map(|h| h.item)
        .collect();
    Ok(SearchResults {
        data,
        total,
        limit: q.paging.limit,
        offset: q.paging.offset,
        models: q.models,
        available_models: available,
        engine: "in-place",
        table_db_id: None,
    })
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
