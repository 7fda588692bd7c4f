//! Loading cards and dashboards (serialization.md §5.2): a card with its query's references
//! resolved, a dashboard's own fields, and its tabs and dashcards replaced by the file's set.
use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::import::Entity;
use super::load::{
    boolean, int, json_text, same_json, text, LoadError, LoadResult, Loader, Outcome,
};
use crate::cards::store::CardRow;
use crate::dashboards::layout_store::{series_text, DashcardRow, TabRow};
use crate::dashboards::store::DashboardRow;
use crate::store::Tx;

fn same_card(a: &CardRow, b: &CardRow) -> bool {
    let json_same = same_json(&a.dataset_query, &b.dataset_query)
        && same_json(&a.visualization_settings, &b.visualization_settings)
        && same_json(&a.parameters, &b.parameters)
        && same_json(&a.parameter_mappings, &b.parameter_mappings)
        && match (&a.result_metadata, &b.result_metadata) {
            (Some(x), Some(y)) => same_json(x, y),
            (x, y) => x == y,
        };
    json_same
        && a.name == b.name
        && a.description == b.description
        && a.card_type == b.card_type
        && a.display == b.display
        && a.query_type == b.query_type
        && a.database_id == b.database_id
        && a.table_id == b.table_id
        && a.collection_id == b.collection_id
        && a.collection_position == b.collection_position
        && a.collection_preview == b.collection_preview
        && a.dashboard_id == b.dashboard_id
        && a.dashboard_tab_id == b.dashboard_tab_id
        && a.cache_ttl == b.cache_ttl
        && a.archived == b.archived
        && a.archived_directly == b.archived_directly
        && a.creator_id == b.creator_id
        && a.created_at == b.created_at
}

/// Parameter mappings with entity-id `card_id`s resolved.
async fn import_mappings(l: &Loader<'_>, tx: &mut dyn Tx, v: Option<&Value>) -> LoadResult<String> {
    let mut v = v.cloned().unwrap_or_else(|| Value::Array(Vec::new()));
    if let Value::Array(items) = &mut v {
        for item in items.iter_mut() {
            if let Some(m) = item.as_object_mut() {
                if let Some(eid) = m.get("card_id").and_then(Value::as_str).map(String::from) {
                    let id = l.card_ref(tx, &eid).await?;
                    m.insert("card_id".into(), Value::from(id));
                }
            }
        }
    }
    Ok(v.to_string())
}

/// A tab reference: `[dashboard eid, tab eid]`, a bare tab eid, or a list of `{model, id}`.
fn tab_eid(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => match a.last()? {
            Value::String(s) => Some(s.clone()),
            Value::Object(m) => m.get("id")?.as_str().map(String::from),
            _ => None,
        },
        _ => None,
    }
}

impl Loader<'_> {
    async fn collection_id(
        &self,
        tx: &mut dyn Tx,
        d: &Map<String, Value>,
    ) -> LoadResult<Option<i64>> {
        match text(d, "collection_id") {
            Some(eid) => Ok(Some(self.collection_ref(tx, &eid).await?.id)),
            None => Ok(None),
        }
    }

    pub(super) async fn card(&mut self, tx: &mut dyn Tx, e: &Entity) -> LoadResult<Outcome> {
        let d = &e.doc;
        let eid = Loader::entity_id(e)?;
        let name = text(d, "name").ok_or_else(|| LoadError::new("name is missing"))?;
        let collection_id = self.collection_id(tx, d).await?;
        let creator = self.creator(tx, d).await?;
        let query = match d.get("dataset_query") {
            Some(q) if q.is_object() => self.import_query(tx, q).await?,
            _ => return Err(LoadError::new("dataset_query is missing")),
        };
        let dashboard_eid = text(d, "dashboard_id");
        let dashboard_id = match &dashboard_eid {
            Some(x) => Some(self.dashboard_ref(tx, x).await?),
            None => None,
        };
        // A tab that exists here already, or one the dashboard's file in this archive creates
        // after the cards are loaded: the card is then placed on it by that step.
        let mut dashboard_tab_id = None;
        let mut later_tab = None;
        if let (Some(tab), Some(dash), Some(dash_eid)) = (
            tab_eid(d.get("dashboard_tab_id")),
            dashboard_id,
            &dashboard_eid,
        ) {
            dashboard_tab_id = tx
                .tab_list(dash)
                .await?
                .into_iter()
                .find(|t| t.entity_id == tab)
                .map(|t| t.id);
            if dashboard_tab_id.is_none() {
                let in_archive = self
                    .archive_tabs
                    .get(dash_eid)
                    .is_some_and(|tabs| tabs.contains(&tab));
                if !in_archive {
                    return Err(LoadError::not_found("DashboardTab", &tab));
                }
                later_tab = Some((dash_eid.clone(), tab));
            }
        }
        // Recomputed from the query (§4.6) as `POST /api/card` computes them; a query that
        // does not have the shape of one is stored as written, without them.
        let derived = crate::cards::input::derive(&query);
        let table_id = match &derived {
            Some(d) => crate::cards::service::source_card_table(tx, d)
                .await
                .map_err(|e| LoadError {
                    message: "the source card cannot be read".into(),
                    causes: vec![e.to_string()],
                })?
                .or(d.table_id),
            None => None,
        };
        let mut row = CardRow {
            id: 0,
            entity_id: eid.clone(),
            name,
            description: text(d, "description"),
            card_type: text(d, "type").unwrap_or_else(|| "question".into()),
            display: text(d, "display").unwrap_or_else(|| "table".into()),
            dataset_query: query.to_string(),
            query_type: match &derived {
                Some(d) => Some(d.query_type.to_string()),
                None => query.get("type").and_then(Value::as_str).map(String::from),
            },
            database_id: query.get("database").and_then(Value::as_i64),
            table_id,
            visualization_settings: json_text(d, "visualization_settings", "{}"),
            parameters: json_text(d, "parameters", "[]"),
            parameter_mappings: import_mappings(self, tx, d.get("parameter_mappings")).await?,
            result_metadata: d
                .get("result_metadata")
                .filter(|v| !v.is_null())
                .map(Value::to_string),
            collection_id,
            collection_position: int(d, "collection_position"),
            collection_preview: boolean(d, "collection_preview", true),
            dashboard_id,
            dashboard_tab_id,
            cache_ttl: int(d, "cache_ttl"),
            archived: boolean(d, "archived", false),
            archived_directly: boolean(d, "archived_directly", false),
            creator_id: creator,
            last_editor_id: creator,
            last_used_at: None,
            created_at: self.created_at(d),
            updated_at: self.now(),
        };
        if let Some((dash_eid, tab)) = later_tab {
            let pending = self.pending_tabs.entry(dash_eid).or_default();
            if !pending.contains(&(eid.clone(), tab.clone())) {
                pending.push((eid.clone(), tab));
            }
        }
        match tx.card_get_by_entity_id(&eid).await? {
            None => {
                tx.card_insert(&row).await?;
                Ok(Outcome::Created)
            }
            Some(local) => {
                row.id = local.id;
                row.last_editor_id = local.last_editor_id;
                row.last_used_at = local.last_used_at;
                if same_card(&row, &local) {
                    return Ok(Outcome::Unchanged);
                }
                tx.card_update(&row).await?;
                tx.serdes_card_origin(row.id, row.created_at, row.creator_id)
                    .await?;
                Ok(Outcome::Updated)
            }
        }
    }

    pub(super) async fn dashboard_fields(
        &mut self,
        tx: &mut dyn Tx,
        e: &Entity,
    ) -> LoadResult<Outcome> {
        let d = &e.doc;
        let eid = Loader::entity_id(e)?;
        let name = text(d, "name").ok_or_else(|| LoadError::new("name is missing"))?;
        let collection_id = self.collection_id(tx, d).await?;
        let creator = self.creator(tx, d).await?;
        let mut row = DashboardRow {
            id: 0,
            entity_id: eid.clone(),
            name,
            description: text(d, "description"),
            collection_id,
            collection_position: int(d, "collection_position"),
            parameters: json_text(d, "parameters", "[]"),
            width: text(d, "width").unwrap_or_else(|| "fixed".into()),
            auto_apply_filters: boolean(d, "auto_apply_filters", true),
            cache_ttl: int(d, "cache_ttl"),
            position: int(d, "position"),
            caveats: text(d, "caveats"),
            points_of_interest: text(d, "points_of_interest"),
            archived: boolean(d, "archived", false),
            archived_directly: boolean(d, "archived_directly", false),
            creator_id: creator,
            last_editor_id: creator,
            created_at: self.created_at(d),
            updated_at: self.now(),
        };
        match tx.dashboard_get_by_entity_id(&eid).await? {
            None => {
                tx.dashboard_insert(&row).await?;
                Ok(Outcome::Created)
            }
            Some(local) => {
                row.id = local.id;
                row.last_editor_id = local.last_editor_id;
                let mut cmp = row.clone();
                cmp.updated_at = local.updated_at;
                cmp.parameters = local.parameters.clone();
                if cmp == local && same_json(&row.parameters, &local.parameters) {
                    return Ok(Outcome::Unchanged);
                }
                tx.dashboard_update(&row).await?;
                tx.serdes_dashboard_origin(row.id, row.created_at, row.creator_id)
                    .await?;
                Ok(Outcome::Updated)
            }
        }
    }

    /// Replaces the dashboard's tabs and dashcards by the file's set.
    pub(super) async fn dashboard_layout(
        &mut self,
        tx: &mut dyn Tx,
        e: &Entity,
    ) -> LoadResult<Outcome> {
        let d = &e.doc;
        let eid = Loader::entity_id(e)?;
        let dash = self.dashboard_ref(tx, &eid).await?;
        let now = self.now();
        let empty = Vec::new();
        let tabs_in = d.get("tabs").and_then(Value::as_array).unwrap_or(&empty);
        let dcs_in = d
            .get("dashcards")
            .and_then(Value::as_array)
            .unwrap_or(&empty);
        let local_tabs = tx.tab_list(dash).await?;
        let local_dcs = tx.dashcard_list(dash).await?;
        let mut changed = false;
        let mut tab_ids: BTreeMap<String, i64> = BTreeMap::new();
        for (i, t) in tabs_in.iter().enumerate() {
            let m = t
                .as_object()
                .ok_or_else(|| LoadError::new("a tab is not a map"))?;
            let teid = text(m, "entity_id")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(crate::entity_id::new_entity_id);
            let mut row = TabRow {
                id: 0,
                entity_id: teid.clone(),
                dashboard_id: dash,
                name: text(m, "name").unwrap_or_default(),
                position: int(m, "position").unwrap_or(i as i64),
                created_at: self.created_at(m),
                updated_at: now,
            };
            match local_tabs.iter().find(|l| l.entity_id == teid) {
                Some(l) => {
                    row.id = l.id;
                    if l.name != row.name || l.position != row.position {
                        tx.tab_update(&row).await?;
                        changed = true;
                    }
                }
                None => {
                    row.id = tx.tab_insert(&row).await?;
                    changed = true;
                }
            }
            tab_ids.insert(teid, row.id);
        }
        // Dashboard questions whose tab did not exist when they were loaded.
        let pending = self.pending_tabs.get(&eid).cloned().unwrap_or_default();
        for (card_eid, tab) in pending {
            let (Some(card), Some(tab_id)) = (
                tx.card_get_by_entity_id(&card_eid).await?,
                tab_ids.get(&tab),
            ) else {
                continue;
            };
            if card.dashboard_id == Some(dash) && card.dashboard_tab_id != Some(*tab_id) {
                tx.serdes_card_tab(card.id, *tab_id).await?;
                changed = true;
            }
        }
        let mut keep: Vec<i64> = Vec::new();
        for dc in dcs_in {
            let m = dc
                .as_object()
                .ok_or_else(|| LoadError::new("a dashcard is not a map"))?;
            let dceid = text(m, "entity_id")
                .filter(|s| !s.is_empty())
                .unwrap_or_else(crate::entity_id::new_entity_id);
            let card_id = match text(m, "card_id") {
                Some(c) => Some(self.card_ref(tx, &c).await?),
                None => None,
            };
            let tab = match tab_eid(m.get("dashboard_tab_id")) {
                Some(t) => Some(
                    *tab_ids
                        .get(&t)
                        .ok_or_else(|| LoadError::not_found("DashboardTab", &t))?,
                ),
                None => None,
            };
            let mut series: Vec<(i64, i64)> = Vec::new();
            if let Some(list) = m.get("series").and_then(Value::as_array) {
                for (i, s) in list.iter().enumerate() {
                    let c = s
                        .get("card_id")
                        .and_then(Value::as_str)
                        .ok_or_else(|| LoadError::new("a series entry has no card_id"))?;
                    let pos = s
                        .get("position")
                        .and_then(Value::as_i64)
                        .unwrap_or(i as i64);
                    series.push((pos, self.card_ref(tx, c).await?));
                }
            }
            series.sort();
            let ids: Vec<i64> = series.into_iter().map(|s| s.1).collect();
            let mut row = DashcardRow {
                id: 0,
                entity_id: dceid.clone(),
                dashboard_id: dash,
                dashboard_tab_id: tab,
                card_id,
                row: int(m, "row").unwrap_or(0),
                col: int(m, "col").unwrap_or(0),
                size_x: int(m, "size_x").unwrap_or(4),
                size_y: int(m, "size_y").unwrap_or(4),
                parameter_mappings: import_mappings(self, tx, m.get("parameter_mappings")).await?,
                visualization_settings: json_text(m, "visualization_settings", "{}"),
                inline_parameters: json_text(m, "inline_parameters", "[]"),
                series: series_text(&ids),
                created_at: self.created_at(m),
                updated_at: now,
            };
            match local_dcs.iter().find(|l| l.entity_id == dceid) {
                Some(l) => {
                    row.id = l.id;
                    let same = l.dashboard_tab_id == row.dashboard_tab_id
                        && l.card_id == row.card_id
                        && (l.row, l.col, l.size_x, l.size_y)
                            == (row.row, row.col, row.size_x, row.size_y)
                        && same_json(&l.parameter_mappings, &row.parameter_mappings)
                        && same_json(&l.visualization_settings, &row.visualization_settings)
                        && same_json(&l.inline_parameters, &row.inline_parameters)
                        && l.series_ids() == ids;
                    if !same {
                        tx.dashcard_update(&row).await?;
                        changed = true;
                    }
                }
                None => {
                    row.id = tx.dashcard_insert(&row).await?;
                    changed = true;
                }
            }
            keep.push(row.id);
        }
        for l in &local_dcs {
            if !keep.contains(&l.id) {
                tx.dashcard_delete(l.id).await?;
                changed = true;
            }
        }
        for l in &local_tabs {
            if !tab_ids.values().any(|id| *id == l.id) {
                tx.tab_delete(l.id).await?;
                changed = true;
            }
        }
        Ok(if changed {
            Outcome::Updated
        } else {
            Outcome::Unchanged
        })
    }
}
