//! `tabs` and `dashcards` of `PUT /api/dashboard/:id` (content.md §3.5): both arrays are the
//! complete desired state. Ids that are not this dashboard's create rows and serve as temporary
//! ids; tab references are remapped to real ids; omitted rows are deleted, except dashcards
//! hidden because their card is archived (§4.2), which take no part. Every rule is checked
//! before the first write; the caller's transaction makes the whole request atomic anyway.
use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::input::{DashcardInput, Layout};
use super::layout_store::{series_text, DashcardRow, TabRow};
use super::service::{archived_object, entity_id_used, map_conflict};
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

/// The tabs of the final state, in order, and what a `dashboard_tab_id` may name.
struct TabPlan {
    keys: Vec<TabKey>,
    by_id: HashMap<i64, TabKey>,
    /// Stored tabs that remain.
    surviving: HashSet<i64>,
}

/// A dashcard of the request: its stored row (if it is this dashboard's) and its final tab.
type Planned<'a> = (&'a DashcardInput, Option<&'a DashcardRow>, Option<TabKey>);

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
    let hidden = hidden_dashcards(tx, stored).await?;
    let tabs = plan_tabs(layout, &stored_tabs)?;
    let by_id: HashMap<i64, &DashcardRow> = stored.iter().map(|d| (d.id, d)).collect();
    let (planned, kept) = plan_dashcards(layout, &by_id, &tabs)?;
    let has_tabs = !tabs.keys.is_empty();

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
    check_new_cards(tx, caller, stored, layout).await?;
    check_entity_ids(tx, layout, &tabs.keys, &by_id).await?;

    // Writes.
    let (real, mut changed) = write_tabs(tx, dash, layout, &stored_tabs, &tabs, now).await?;
    for id in to_delete {
        tx.dashcard_delete(id).await?;
        changed = true;
    }
    for (d, existing, tab) in planned {
        let tab_id = tab.and_then(|k| real.get(&k).copied());
        changed |= write_dashcard(tx, dash, d, existing, tab_id, now).await?;
    }
    let first_tab = tabs.keys.first().and_then(|k| real.get(k).copied());
    for mut dc in to_first_tab {
        dc.dashboard_tab_id = first_tab;
        dc.updated_at = now;
        tx.dashcard_update(&dc).await?;
        changed = true;
    }
    if layout.tabs.is_some() {
        for t in stored_tabs
            .iter()
            .filter(|t| !tabs.surviving.contains(&t.id))
        {
            tx.tab_delete(t.id).await?;
            changed = true;
        }
    }
    Ok(changed)
}

/// Stored dashcards hidden from GET because their card is archived.
async fn hidden_dashcards(tx: &mut dyn Tx, stored: &[DashcardRow]) -> ApiResult<HashSet<i64>> {
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
    Ok(hidden)
}

/// The final tabs: the request's `tabs` (ids of stored tabs keep them, others are new), or the
/// stored tabs when `tabs` is absent.
fn plan_tabs(layout: &Layout, stored_tabs: &[TabRow]) -> ApiResult<TabPlan> {
    let stored_ids: HashSet<i64> = stored_tabs.iter().map(|t| t.id).collect();
    let mut keys = Vec::new();
    let mut by_id: HashMap<i64, TabKey> = HashMap::new();
    match &layout.tabs {
        Some(tabs) => {
            for (i, t) in tabs.iter().enumerate() {
                let key = match t.id {
                    Some(id) if stored_ids.contains(&id) => TabKey::Existing(id),
                    _ => TabKey::New(i),
                };
                if let Some(id) = t.id {
                    if by_id.insert(id, key).is_some() {
                        return Err(ApiError::field(
                            "tabs",
                            format!("Tab id {id} appears more than once."),
                        ));
                    }
                }
                keys.push(key);
            }
        }
        None => {
            for t in stored_tabs {
                by_id.insert(t.id, TabKey::Existing(t.id));
                keys.push(TabKey::Existing(t.id));
            }
        }
    }
    let surviving = keys
        .iter()
        .filter_map(|k| match k {
            TabKey::Existing(id) => Some(*id),
            TabKey::New(_) => None,
        })
        .collect();
    Ok(TabPlan {
        keys,
        by_id,
        surviving,
    })
}

/// Each dashcard of the request with its stored row and final tab, and the ids of the stored
/// dashcards the request keeps.
fn plan_dashcards<'a>(
    layout: &'a Layout,
    by_id: &HashMap<i64, &'a DashcardRow>,
    tabs: &TabPlan,
) -> ApiResult<(Vec<Planned<'a>>, HashSet<i64>)> {
    let has_tabs = !tabs.keys.is_empty();
    let mut planned = Vec::new();
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
            Some(Some(t)) => Some(*tabs.by_id.get(&t).ok_or_else(|| unknown_tab(t))?),
            Some(None) => None,
            None => match existing.and_then(|e| e.dashboard_tab_id) {
                Some(t) if tabs.surviving.contains(&t) => Some(TabKey::Existing(t)),
                Some(t) => return Err(unknown_tab(t)),
                None => None,
            },
        };
        if has_tabs && tab.is_none() {
            return Err(ApiError::bad_request_text(TAB_REQUIRED));
        }
        planned.push((d, existing, tab));
    }
    Ok((planned, kept))
}

/// Cards the request adds must exist, be readable and be live.
async fn check_new_cards(
    tx: &mut dyn Tx,
    caller: &Principal,
    stored: &[DashcardRow],
    layout: &Layout,
) -> ApiResult<()> {
    for id in new_card_ids(stored, layout) {
        let card = tx.card_get(id).await?.ok_or(ApiError::NotFound)?;
        if crate::cards::service::card_level(tx, caller, &card).await? == Level::None {
            return Err(ApiError::Forbidden);
        }
        if card.archived {
            return Err(archived_object());
        }
    }
    Ok(())
}

/// Writes the request's tabs (renamed or moved stored tabs, new tabs); returns the real id of
/// every final tab and whether anything was written.
async fn write_tabs(
    tx: &mut dyn Tx,
    dash: i64,
    layout: &Layout,
    stored_tabs: &[TabRow],
    plan: &TabPlan,
    now: i64,
) -> ApiResult<(HashMap<TabKey, i64>, bool)> {
    let mut real: HashMap<TabKey, i64> = HashMap::new();
    let Some(tabs) = &layout.tabs else {
        for k in &plan.keys {
            if let TabKey::Existing(id) = k {
                real.insert(*k, *id);
            }
        }
        return Ok((real, false));
    };
    let mut changed = false;
    let stored_by_id: HashMap<i64, &TabRow> = stored_tabs.iter().map(|t| (t.id, t)).collect();
    for (i, (t, key)) in tabs.iter().zip(&plan.keys).enumerate() {
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
    Ok((real, changed))
}

/// Writes one dashcard of the request on tab `tab_id`: an update of its stored row `existing`
/// (when anything differs) or an insert. Returns whether anything was written.
async fn write_dashcard(
    tx: &mut dyn Tx,
    dash: i64,
    d: &DashcardInput,
    existing: Option<&DashcardRow>,
    tab_id: Option<i64>,
    now: i64,
) -> ApiResult<bool> {
    let Some(e) = existing else {
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
        return Ok(true);
    };
    let mut n = e.clone();
    n.dashboard_tab_id = tab_id;
    if let Some(c) = d.card_id {
        n.card_id = c;
    }
    (n.row, n.col, n.size_x, n.size_y) = (d.row, d.col, d.size_x, d.size_y);
    n.parameter_mappings = merged_json(&e.parameter_mappings, &d.parameter_mappings);
    n.visualization_settings = merged_json(&e.visualization_settings, &d.visualization_settings);
    n.inline_parameters = merged_json(&e.inline_parameters, &d.inline_parameters);
    if let Some(s) = &d.series {
        n.series = series_text(s);
    }
    if n == *e {
        return Ok(false);
    }
    n.updated_at = now;
    tx.dashcard_update(&n).await?;
    Ok(true)
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
