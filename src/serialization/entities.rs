//! Entity documents of serialization.md §4.4–§4.6: each stored row rendered as an ordered map
//! with references written as entity ids, emails, database names and table and field paths
//! (a card's query through [`super::export_query`]).
use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::export::label;
use super::select::Snapshot;
use crate::cards::store::CardRow;
use crate::clock::Timestamp;
use crate::collections::perms::location_ids;
use crate::collections::store::CollectionRow;
use crate::config::{METABASE_TAG, VERSION};
use crate::dashboards::layout_store::{DashcardRow, TabRow};
use crate::dashboards::store::DashboardRow;
use crate::databases::store::DatabaseRow;

/// Numeric id → the value written in files.
#[derive(Debug, Default)]
pub struct Refs {
    pub collections: BTreeMap<i64, String>,
    pub cards: BTreeMap<i64, String>,
    pub dashboards: BTreeMap<i64, String>,
    /// Tab id → (dashboard id, tab entity id).
    pub tabs: BTreeMap<i64, (i64, String)>,
    pub users: BTreeMap<i64, String>,
    pub databases: BTreeMap<i64, String>,
    /// Table id → `[database, schema or null, table]`.
    pub tables: BTreeMap<i64, Value>,
    /// Field id → `[database, schema or null, table, field]`.
    pub fields: BTreeMap<i64, Value>,
}

impl Refs {
    fn get(map: &BTreeMap<i64, String>, id: Option<i64>) -> Value {
        match id.and_then(|i| map.get(&i)) {
            Some(s) => Value::String(s.clone()),
            None => Value::Null,
        }
    }
    fn tab(&self, id: Option<i64>) -> Value {
        match id.and_then(|i| self.tabs.get(&i)) {
            Some((dash, eid)) => json!([Refs::get(&self.dashboards, Some(*dash)), eid]),
            None => Value::Null,
        }
    }
}

/// A stored value that cannot be read back (a JSON column that does not parse): the entity
/// cannot be exported (§2.1).
#[derive(Debug)]
pub struct Unreadable {
    pub message: String,
    /// The cause chain, for `full_stacktrace`.
    pub causes: Vec<String>,
}

pub type Rendered = Result<Map<String, Value>, Unreadable>;

/// A stored JSON column as a value.
pub(super) fn stored(column: &str, text: &str) -> Result<Value, Unreadable> {
    serde_json::from_str(text).map_err(|e| Unreadable {
        message: format!("the stored {column} is not valid JSON"),
        causes: vec![e.to_string()],
    })
}

pub fn metabase_version() -> String {
    format!("{METABASE_TAG} (ferrobase {VERSION})")
}

fn ts(micros: i64) -> Value {
    Value::String(Timestamp(micros).to_rfc3339())
}

pub(super) fn obj(pairs: Vec<(&str, Value)>) -> Map<String, Value> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

fn meta(model: &str, eid: &str, name: &str) -> Value {
    json!([{"id": eid, "label": label(name), "model": model}])
}

pub fn collection(c: &CollectionRow, refs: &Refs, snap: &Snapshot) -> Map<String, Value> {
    let parent = location_ids(&c.location)
        .last()
        .and_then(|p| snap.collections.get(p))
        .map(|p| Value::String(p.entity_id.clone()))
        .unwrap_or(Value::Null);
    obj(vec![
        ("name", json!(c.name)),
        ("description", json!(c.description)),
        ("entity_id", json!(c.entity_id)),
        ("slug", json!(crate::collections::view::slugify(&c.name))),
        ("created_at", ts(c.created_at)),
        ("archived", json!(c.archived)),
        ("archived_directly", json!(c.archived_directly)),
        ("archive_operation_id", json!(c.archive_operation_id)),
        ("type", json!(c.kind)),
        ("parent_id", parent),
        (
            "personal_owner_id",
            Refs::get(&refs.users, c.personal_owner_id),
        ),
        ("namespace", json!(c.namespace)),
        ("authority_level", json!(c.authority_level)),
        ("serdes/meta", meta("Collection", &c.entity_id, &c.name)),
        ("is_sample", json!(c.is_sample)),
        ("metabase_version", json!(metabase_version())),
    ])
}

/// Parameter mappings with numeric `card_id`s written as entity ids.
fn export_mappings(column: &str, text: &str, refs: &Refs) -> Result<Value, Unreadable> {
    let mut v = stored(column, text)?;
    if let Value::Array(items) = &mut v {
        for item in items.iter_mut() {
            if let Some(m) = item.as_object_mut() {
                if let Some(id) = m.get("card_id").and_then(Value::as_i64) {
                    m.insert("card_id".into(), Refs::get(&refs.cards, Some(id)));
                }
            }
        }
    }
    Ok(v)
}

pub fn card(c: &CardRow, refs: &Refs) -> Rendered {
    let query = super::export_query::dataset_query(
        &stored("dataset_query", &c.dataset_query)?,
        &c.entity_id,
        refs,
    );
    let table = c
        .table_id
        .and_then(|id| refs.tables.get(&id))
        .cloned()
        .unwrap_or(Value::Null);
    let result_metadata = match c.result_metadata.as_deref() {
        Some(t) => stored("result_metadata", t)?,
        None => Value::Null,
    };
    Ok(obj(vec![
        ("name", json!(c.name)),
        ("description", json!(c.description)),
        ("entity_id", json!(c.entity_id)),
        ("created_at", ts(c.created_at)),
        ("creator_id", Refs::get(&refs.users, Some(c.creator_id))),
        ("display", json!(c.display)),
        ("type", json!(c.card_type)),
        ("archived", json!(c.archived)),
        ("archived_directly", json!(c.archived_directly)),
        (
            "collection_id",
            Refs::get(&refs.collections, c.collection_id),
        ),
        ("collection_position", json!(c.collection_position)),
        ("collection_preview", json!(c.collection_preview)),
        ("dashboard_id", Refs::get(&refs.dashboards, c.dashboard_id)),
        ("dashboard_tab_id", refs.tab(c.dashboard_tab_id)),
        ("database_id", Refs::get(&refs.databases, c.database_id)),
        ("table_id", table),
        ("query_type", json!(c.query_type)),
        ("dataset_query", query),
        ("parameters", stored("parameters", &c.parameters)?),
        (
            "parameter_mappings",
            export_mappings("parameter_mappings", &c.parameter_mappings, refs)?,
        ),
        ("result_metadata", result_metadata),
        (
            "visualization_settings",
            stored("visualization_settings", &c.visualization_settings)?,
        ),
        ("cache_ttl", json!(c.cache_ttl)),
        ("enable_embedding", json!(false)),
        ("embedding_params", Value::Null),
        ("serdes/meta", meta("Card", &c.entity_id, &c.name)),
        ("metabase_version", json!(metabase_version())),
    ]))
}

pub fn dashboard(
    d: &DashboardRow,
    tabs: &[TabRow],
    dashcards: &[DashcardRow],
    refs: &Refs,
) -> Rendered {
    let dash_meta = json!({"id": d.entity_id, "model": "Dashboard"});
    let tab_values: Vec<Value> = tabs
        .iter()
        .map(|t| {
            Value::Object(obj(vec![
                ("entity_id", json!(t.entity_id)),
                ("name", json!(t.name)),
                ("position", json!(t.position)),
                ("created_at", ts(t.created_at)),
                (
                    "serdes/meta",
                    json!([dash_meta, {"id": t.entity_id, "model": "DashboardTab"}]),
                ),
            ]))
        })
        .collect();
    let tab_pos = |id: Option<i64>| -> i64 {
        id.and_then(|i| tabs.iter().find(|t| t.id == i))
            .map(|t| t.position)
            .unwrap_or(-1)
    };
    let mut dcs: Vec<&DashcardRow> = dashcards.iter().collect();
    dcs.sort_by(|a, b| {
        (tab_pos(a.dashboard_tab_id), a.row, a.col, &a.entity_id).cmp(&(
            tab_pos(b.dashboard_tab_id),
            b.row,
            b.col,
            &b.entity_id,
        ))
    });
    let dc_values: Vec<Value> = dcs
        .iter()
        .map(|dc| -> Result<Value, Unreadable> {
            let series: Vec<Value> = dc
                .series_ids()
                .iter()
                .enumerate()
                .map(|(i, id)| json!({"card_id": Refs::get(&refs.cards, Some(*id)), "position": i}))
                .collect();
            Ok(Value::Object(obj(vec![
                ("entity_id", json!(dc.entity_id)),
                ("card_id", Refs::get(&refs.cards, dc.card_id)),
                ("action_id", Value::Null),
                ("dashboard_tab_id", refs.tab(dc.dashboard_tab_id)),
                ("row", json!(dc.row)),
                ("col", json!(dc.col)),
                ("size_x", json!(dc.size_x)),
                ("size_y", json!(dc.size_y)),
                (
                    "parameter_mappings",
                    export_mappings("dashcard parameter_mappings", &dc.parameter_mappings, refs)?,
                ),
                (
                    "visualization_settings",
                    stored(
                        "dashcard visualization_settings",
                        &dc.visualization_settings,
                    )?,
                ),
                (
                    "inline_parameters",
                    stored("dashcard inline_parameters", &dc.inline_parameters)?,
                ),
                ("series", Value::Array(series)),
                ("created_at", ts(dc.created_at)),
                (
                    "serdes/meta",
                    json!([dash_meta, {"id": dc.entity_id, "model": "DashboardCard"}]),
                ),
            ])))
        })
        .collect::<Result<_, _>>()?;
    Ok(obj(vec![
        ("name", json!(d.name)),
        ("description", json!(d.description)),
        ("entity_id", json!(d.entity_id)),
        ("created_at", ts(d.created_at)),
        ("creator_id", Refs::get(&refs.users, Some(d.creator_id))),
        ("archived", json!(d.archived)),
        ("archived_directly", json!(d.archived_directly)),
        (
            "collection_id",
            Refs::get(&refs.collections, d.collection_id),
        ),
        ("collection_position", json!(d.collection_position)),
        ("parameters", stored("parameters", &d.parameters)?),
        ("width", json!(d.width)),
        ("auto_apply_filters", json!(d.auto_apply_filters)),
        ("cache_ttl", json!(d.cache_ttl)),
        ("position", json!(d.position)),
        ("caveats", json!(d.caveats)),
        ("points_of_interest", json!(d.points_of_interest)),
        ("show_in_getting_started", json!(false)),
        ("enable_embedding", json!(false)),
        ("embedding_params", Value::Null),
        ("tabs", Value::Array(tab_values)),
        ("dashcards", Value::Array(dc_values)),
        ("serdes/meta", meta("Dashboard", &d.entity_id, &d.name)),
        ("metabase_version", json!(metabase_version())),
    ]))
}

pub fn database(d: &DatabaseRow, refs: &Refs, secrets: bool) -> Rendered {
    let mut pairs = vec![
        ("name", json!(d.name)),
        ("description", json!(d.description)),
        ("engine", json!(d.engine)),
    ];
    if secrets && !d.is_sample {
        pairs.push(("details", stored("details", &d.details)?));
    }
    pairs.extend([
        ("is_sample", json!(d.is_sample)),
        ("auto_run_queries", json!(d.auto_run_queries)),
        ("cache_ttl", json!(d.cache_ttl)),
        ("timezone", Value::Null),
        ("created_at", ts(d.created_at)),
        ("creator_id", Refs::get(&refs.users, d.creator_id)),
        ("serdes/meta", json!([{"id": d.name, "model": "Database"}])),
        ("metabase_version", json!(metabase_version())),
    ]);
    Ok(obj(pairs))
}
