//! What an export holds (serialization.md §2.2): the start set, descendants, referenced cards,
//! ascendant collections and the personal-collection boundary. Pure logic over loaded rows.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use crate::cards::store::CardRow;
use crate::collections::perms::location_ids;
use crate::collections::store::CollectionRow;
use crate::dashboards::layout_store::DashcardRow;
use crate::dashboards::store::DashboardRow;

/// A `collection` parameter value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CollectionRef {
    Id(i64),
    EntityId(String),
}

impl CollectionRef {
    /// An integer id, a bare 21-character entity id, or `eid:<entity id>`.
    pub fn parse(raw: &str) -> Option<CollectionRef> {
        if let Some(e) = raw.strip_prefix("eid:") {
            return Some(CollectionRef::EntityId(e.to_string()));
        }
        if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
            return raw.parse().ok().map(CollectionRef::Id);
        }
        if raw.len() == 21 {
            return Some(CollectionRef::EntityId(raw.to_string()));
        }
        None
    }
}

/// Everything the export reads, loaded in one read transaction.
pub struct Snapshot {
    pub collections: BTreeMap<i64, CollectionRow>,
    pub cards: BTreeMap<i64, CardRow>,
    pub dashboards: BTreeMap<i64, DashboardRow>,
    /// Dashcards of every dashboard, by dashboard id.
    pub dashcards: HashMap<i64, Vec<DashcardRow>>,
}

/// The objects chosen for an export, and the ones skipped at the personal boundary.
#[derive(Debug, Default)]
pub struct Selection {
    pub collections: BTreeSet<i64>,
    pub cards: BTreeSet<i64>,
    pub dashboards: BTreeSet<i64>,
    /// `skipped` log lines (continue_on_error).
    pub skipped: Vec<String>,
}

/// Why a selection failed.
#[derive(Debug)]
pub enum SelectError {
    CollectionNotFound(CollectionRef),
    /// `<Model> <eid> is in a personal collection that is not part of the export.`
    Personal(String),
}

impl Snapshot {
    /// The id of the personal collection at the top of `collection_id`'s tree, if any.
    fn personal_root(&self, collection_id: Option<i64>) -> Option<i64> {
        let c = self.collections.get(&collection_id?)?;
        if c.personal_owner_id.is_some() {
            return Some(c.id);
        }
        location_ids(&c.location).into_iter().find(|id| {
            self.collections
                .get(id)
                .is_some_and(|a| a.personal_owner_id.is_some())
        })
    }

    fn in_tree(&self, c: &CollectionRow, root: &CollectionRow) -> bool {
        c.id == root.id
            || c.location
                .starts_with(&format!("{}{}/", root.location, root.id))
    }
}

/// Cards a card's query uses as sources: `card__<id>` source tables, MBQL 5 `source-card`s and
/// `card-id` template tags.
pub fn card_sources(dataset_query: &Value) -> BTreeSet<i64> {
    let mut out = BTreeSet::new();
    walk_sources(dataset_query, &mut out);
    out
}

fn walk_sources(v: &Value, out: &mut BTreeSet<i64>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("source-table", Value::String(s)) => {
                        if let Some(id) = s.strip_prefix("card__").and_then(|n| n.parse().ok()) {
                            out.insert(id);
                        }
                    }
                    ("card-id", Value::Number(n)) | ("source-card", Value::Number(n)) => {
                        if let Some(id) = n.as_i64() {
                            out.insert(id);
                        }
                    }
                    _ => walk_sources(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| walk_sources(x, out)),
        _ => {}
    }
}

/// Cards shown by a dashboard (dashcards and series).
pub fn dashboard_cards(dashcards: &[DashcardRow]) -> BTreeSet<i64> {
    let mut out = BTreeSet::new();
    for d in dashcards {
        out.extend(d.card_id);
        out.extend(d.series_ids());
    }
    out
}

/// Computes the selection of §2.2 (steps 1–5).
pub fn select(
    snap: &Snapshot,
    requested: &[CollectionRef],
    all_collections: bool,
    continue_on_error: bool,
) -> Result<Selection, SelectError> {
    let mut sel = Selection::default();
    let mut roots: Vec<&CollectionRow> = Vec::new();
    for r in requested {
        let found = match r {
            CollectionRef::Id(id) => snap.collections.get(id),
            CollectionRef::EntityId(e) => snap.collections.values().find(|c| &c.entity_id == e),
        };
        match found.filter(|c| !c.is_trash()) {
            Some(c) => roots.push(c),
            None => return Err(SelectError::CollectionNotFound(r.clone())),
        }
    }
    let root_items = requested.is_empty() && all_collections;
    if requested.is_empty() && all_collections {
        roots = snap
            .collections
            .values()
            .filter(|c| !c.is_trash() && c.location == "/" && c.personal_owner_id.is_none())
            .collect();
    }
    // Step 1–2: the selected trees.
    for c in snap.collections.values().filter(|c| !c.is_trash()) {
        if roots.iter().any(|r| snap.in_tree(c, r)) {
            sel.collections.insert(c.id);
        }
    }
    let listed_personal: BTreeSet<i64> = roots
        .iter()
        .filter_map(|r| snap.personal_root(Some(r.id)))
        .collect();
    let in_start = |cid: Option<i64>| match cid {
        None => root_items,
        Some(id) => sel.collections.contains(&id),
    };
    for c in snap.cards.values() {
        if in_start(c.collection_id) {
            sel.cards.insert(c.id);
        }
    }
    for d in snap.dashboards.values() {
        if in_start(d.collection_id) {
            sel.dashboards.insert(d.id);
        }
    }
    // Step 3: referenced cards, transitively; step 5 at the personal boundary.
    let allowed = |model: &str, eid: &str, cid: Option<i64>, sel: &mut Selection| match snap
        .personal_root(cid)
    {
        Some(p) if !listed_personal.contains(&p) => {
            let msg = format!(
                "{model} {eid} is in a personal collection that is not part of the export."
            );
            if continue_on_error {
                sel.skipped.push(format!("skipped {model} {eid}: {msg}"));
                Ok(false)
            } else {
                Err(SelectError::Personal(msg))
            }
        }
        _ => Ok(true),
    };
    let mut queue: Vec<i64> = Vec::new();
    for id in &sel.dashboards {
        if let Some(dcs) = snap.dashcards.get(id) {
            queue.extend(dashboard_cards(dcs));
        }
    }
    for id in &sel.cards {
        if let Some(c) = snap.cards.get(id) {
            queue.extend(card_sources(&parse_json(&c.dataset_query)));
        }
    }
    let mut seen: BTreeSet<i64> = BTreeSet::new();
    while let Some(id) = queue.pop() {
        if sel.cards.contains(&id) || !seen.insert(id) {
            continue;
        }
        let Some(c) = snap.cards.get(&id) else {
            continue;
        };
        if !allowed("Card", &c.entity_id, c.collection_id, &mut sel)? {
            continue;
        }
        sel.cards.insert(id);
        queue.extend(card_sources(&parse_json(&c.dataset_query)));
    }
    // Step 4: ascendants of everything exported.
    let mut holders: BTreeSet<i64> = sel.collections.clone();
    holders.extend(
        sel.cards
            .iter()
            .filter_map(|id| snap.cards.get(id)?.collection_id),
    );
    holders.extend(
        sel.dashboards
            .iter()
            .filter_map(|id| snap.dashboards.get(id)?.collection_id),
    );
    for cid in holders {
        let Some(c) = snap.collections.get(&cid) else {
            continue;
        };
        for a in location_ids(&c.location).into_iter().chain([cid]) {
            if sel.collections.contains(&a) {
                continue;
            }
            let Some(anc) = snap.collections.get(&a) else {
                continue;
            };
            if allowed("Collection", &anc.entity_id, Some(a), &mut sel)? {
                sel.collections.insert(a);
            }
        }
    }
    sel.skipped.sort();
    sel.skipped.dedup();
    Ok(sel)
}

pub fn parse_json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}
