//! `tabs` and `dashcards` of `PUT /api/dashboard/:id` (content.md §3.5): both arrays are the
//! complete desired state. Ids that are not this dashboard's create rows and serve as temporary
//! ids; tab references are remapped to real ids; omitted rows are deleted, except dashcards
//! hidden because their card is archived (§4.2), which take no part. Every rule is checked
//! before the first write; the caller's transaction makes the whole request atomic anyway.
use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::input::{DashcardInput, Layout};
use super::layout_store::{series_text, DashcardRow, TabRow};
use super::service::{archived_object, entity_id_used, level, map_conflict};
use crate::auth::Principal;
use crate::collections::perms::Level;
use crate::entity_id::new_entity_id;
use crate::error::{ApiError, ApiResult};
use crate::store::Tx;

pub const TAB_REQUIRED: &str = "This dashboard has tab, makes sure every card has a tab";

/// Where a tab of the final state comes from: a stored tab, or element `i` of `tabs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum TabKey {
    Existing(i64),
    New(usize),
}

fn unknown_tab(id: i64) -> ApiError {
    ApiError::field(
        "dashcards",
        format!("Dashboard tab {id} is not a tab of this dashboard."),
    )
}

/// Card ids that the request adds to dashcards (a new dashcard's card, a changed `card_id`, a
/// series card not stored in that dashcard before): these must exist, be readable and be live.
pub fn new_card_ids(stored: &[DashcardRow], layout: &Layout) -> Vec<i64> {
    let by_id: HashMap<i64, &DashcardRow> = stored.iter().map(|d| (d.id, d)).collect();
    let mut out = Vec::new();
    for d in layout.dashcards.iter().flatten() {
        let existing = by_id.get(&d.id);
        if let Some(Some(c)) = d.card_id {
            if existing.is_none_or(|e| e.card_id != Some(c)) {
                out.push(c);
            }
        }
        if let Some(series) = &d.series {
            let old = existing.map(|e| e.series_ids()).unwrap_or_default();
            out.extend(series.iter().filter(|s| !old.contains(s)));
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The stored JSON text, unless `given` is a different value.
fn merged_json(stored: &str, given: &Option<Value>) -> String {
    match given {
        Some(v) if serde_json::from_str::<Value>(stored).ok().as_ref() != Some(v) => v.to_string(),
        _ => stored.to_string(),
    }
}

/// Checks and applies `layout` to dashboard `dash`; `stored` are all its dashcards. Returns
/// whether anything changed.
pub async fn apply(
    tx: &mut dyn Tx,
    caller: &Principal,
    dash: i64,
    layout: &Layout,
    stored: &[DashcardRow],
    now: i64,
) -> ApiResult<bool> {
    let stored_tabs = tx.tab_list(dash).await?;
    let stored_tab_ids: HashSet<i64> = stored_tabs.iter().map(|t| t.id).collect();

    // Dashcards hidden from GET because their card is archived.
    let mut archived: HashMap<i64, bool> = HashMap::new();
    let mut hidden = HashSet::new();
    for dc in stored {
        let Some(c) = dc.card_id else { continue };
        let a = match archived.get(&c) {
            Some(a) => *a,
            None => {
                let a = tx.card_get(c).await?.is_some_and(|r| r.archived);
                archived.insert(c, a);
                a
            }
        };
        if a {
            hidden.insert(dc.id);
        }
    }

    // The final tabs, in order, and what a `dashboard_tab_id` may name.
    let mut tab_keys = Vec::new();
    let mut tab_map: HashMap<i64, TabKey> = HashMap::new();
    match &layout.tabs {
        Some(tabs) => {
            for (i, t) in tabs.iter().enumerate() {
                let key = match t.id {
                    Some(id) if stored_tab_ids.contains(&id) => TabKey::Existing(id),
                    _ => TabKey::New(i),
                };
                if let Some(id) = t.id {
                    if tab_map.insert(id, key).is_some() {
                        return Err(ApiError::field(
                            "tabs",
                            format!("Tab id {id} appears more than once."),
                        ));
                    }
                }
                tab_keys.push(key);
            }
        }
        None => {
            for t in &stored_tabs {
                tab_map.insert(t.id, TabKey::Existing(t.id));
                tab_keys.push(TabKey::Existing(t.id));
            }
        }
    }
    let has_tabs = !tab_keys.is_empty();
    let surviving: HashSet<i64> = tab_keys
        .iter()
        .filter_map(|k| match k {
            TabKey::Existing(id) => Some(*id),
            TabKey::New(_) => None,
        })
        .collect();

    // Each dashcard of the request: its stored row (if it is this dashboard's) and final tab.
    let by_id: HashMap<i64, &DashcardRow> = stored.iter().map(|d| (d.id, d)).collect();
    let mut planned: Vec<(&DashcardInput, Option<&DashcardRow>, Option<TabKey>)> = Vec::new();
    let mut kept = HashSet::new();
    for d in layout.dashcards.iter().flatten() {
        let existing = by_id.get(&d.id).copied();
        if existing.is_some() && !kept.insert(d.id) {
            return Err(ApiError::field(
                "dashcards",
                format!("Dashboard card {} appears more than once.", d.id),
            ));
        }
        let tab = match d.dashboard_tab_id {
            Some(Some(t)) => Some(*tab_map.get(&t).ok_or_else(|| unknown_tab(t))?),
            Some(None) => None,
            None => match existing.and_then(|e| e.dashboard_tab_id) {
                Some(t) if surviving.contains(&t) => Some(TabKey::Existing(t)),
                Some(t) => return Err(unknown_tab(t)),
                None => None,
            },
        };
        if has_tabs && tab.is_none() {
            return Err(ApiError::bad_request_text(TAB_REQUIRED));
        }
        planned.push((d, existing, tab));
    }

    // Stored dashcards the request does not list: deleted, or (hidden ones, or all of them
    // when `dashcards` is absent) left alone unless their tab goes.
    let mut to_delete = Vec::new();
    let mut to_first_tab = Vec::new();
    for dc in stored.iter().filter(|dc| !kept.contains(&dc.id)) {
        if layout.dashcards.is_some() && !hidden.contains(&dc.id) {
            to_delete.push(dc.id);
        } else if dc.dashboard_tab_id.is_none() && has_tabs {
            if !hidden.contains(&dc.id) {
                return Err(ApiError::bad_request_text(TAB_REQUIRED));
            }
            to_first_tab.push(dc.clone());
        }
    }

    for id in new_card_ids(stored, layout) {
        let card = tx.card_get(id).await?.ok_or(ApiError::NotFound)?;
        if level(tx, caller, card.collection_id).await? == Level::None {
            return Err(ApiError::Forbidden);
        }
        if card.archived {
            return Err(archived_object());
        }
    }
    check_entity_ids(tx, layout, &tab_keys, &by_id).await?;

    // Writes.
    let mut changed = false;
    let mut real: HashMap<TabKey, i64> = HashMap::new();
    if let Some(tabs) = &layout.tabs {
        let stored_by_id: HashMap<i64, &TabRow> = stored_tabs.iter().map(|t| (t.id, t)).collect();
        for (i, (t, key)) in tabs.iter().zip(&tab_keys).enumerate() {
            let position = i as i64;
            match (key, stored_by_id.get(&t.id.unwrap_or(0))) {
                (TabKey::Existing(id), Some(s)) => {
                    if s.name != t.name || s.position != position {
                        let mut n = (*s).clone();
                        n.name = t.name.clone();
                        n.position = position;
                        n.updated_at = now;
                        tx.tab_update(&n).await?;
                        changed = true;
                    }
                    real.insert(*key, *id);
                }
                _ => {
                    let row = TabRow {
                        id: 0,
                        entity_id: t.entity_id.clone().unwrap_or_else(new_entity_id),
                        dashboard_id: dash,
                        name: t.name.clone(),
                        position,
                        created_at: now,
                        updated_at: now,
                    };
                    real.insert(*key, tx.tab_insert(&row).await.map_err(map_conflict)?);
                    changed = true;
                }
            }
        }
    } else {
        for k in &tab_keys {
            if let TabKey::Existing(id) = k {
                real.insert(*k, *id);
            }
        }
    }
    for id in to_delete {
        tx.dashcard_delete(id).await?;
        changed = true;
    }
    for (d, existing, tab) in planned {
        let tab_id = tab.and_then(|k| real.get(&k).copied());
        match existing {
            Some(e) => {
                let mut n = e.clone();
                n.dashboard_tab_id = tab_id;
                if let Some(c) = d.card_id {
                    n.card_id = c;
                }
                (n.row, n.col, n.size_x, n.size_y) = (d.row, d.col, d.size_x, d.size_y);
                n.parameter_mappings = merged_json(&e.parameter_mappings, &d.parameter_mappings);
                n.visualization_settings =
                    merged_json(&e.visualization_settings, &d.visualization_settings);
                n.inline_parameters = merged_json(&e.inline_parameters, &d.inline_parameters);
                if let Some(s) = &d.series {
                    n.series = series_text(s);
                }
                if n != *e {
                    n.updated_at = now;
                    tx.dashcard_update(&n).await?;
                    changed = true;
                }
            }
            None => {
                let json = |v: &Option<Value>, default: &str| {
                    v.as_ref()
                        .map_or_else(|| default.to_string(), Value::to_string)
                };
                let row = DashcardRow {
                    id: 0,
                    entity_id: d.entity_id.clone().unwrap_or_else(new_entity_id),
                    dashboard_id: dash,
                    dashboard_tab_id: tab_id,
                    card_id: d.card_id.flatten(),
                    row: d.row,
                    col: d.col,
                    size_x: d.size_x,
                    size_y: d.size_y,
                    parameter_mappings: json(&d.parameter_mappings, "[]"),
                    visualization_settings: json(&d.visualization_settings, "{}"),
                    inline_parameters: json(&d.inline_parameters, "[]"),
                    series: series_text(d.series.as_deref().unwrap_or(&[])),
                    created_at: now,
                    updated_at: now,
                };
                tx.dashcard_insert(&row).await.map_err(map_conflict)?;
                changed = true;
            }
        }
    }
    let first_tab = tab_keys.first().and_then(|k| real.get(k).copied());
    for mut dc in to_first_tab {
        dc.dashboard_tab_id = first_tab;
        dc.updated_at = now;
        tx.dashcard_update(&dc).await?;
        changed = true;
    }
    if layout.tabs.is_some() {
        for t in stored_tabs.iter().filter(|t| !surviving.contains(&t.id)) {
            tx.tab_delete(t.id).await?;
            changed = true;
        }
    }
    Ok(changed)
}

/// Client-chosen entity ids of new tabs and dashcards must be unused, also within the request.
async fn check_entity_ids(
    tx: &mut dyn Tx,
    layout: &Layout,
    tab_keys: &[TabKey],
    stored: &HashMap<i64, &DashcardRow>,
) -> ApiResult<()> {
    let mut seen = HashSet::new();
    for (t, key) in layout.tabs.iter().flatten().zip(tab_keys) {
        if let (TabKey::New(_), Some(e)) = (key, &t.entity_id) {
            if !seen.insert(e.clone()) || tx.tab_entity_id_used(e).await? {
                return Err(entity_id_used());
            }
        }
    }
    let mut seen = HashSet::new();
    for d in layout.dashcards.iter().flatten() {
        if let (false, Some(e)) = (stored.contains_key(&d.id), &d.entity_id) {
            if !seen.insert(e.clone()) || tx.dashcard_entity_id_used(e).await? {
                return Err(entity_id_used());
            }
        }
    }
    Ok(())
}
