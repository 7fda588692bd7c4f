//! Export (serialization.md §2, §4, §7, §8): reads a consistent snapshot, selects the objects,
//! and renders the classic-layout YAML tree with references by entity id, email and name.
use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Map, Value};

use super::entities::{self, Refs};
use super::export_data_model;
use super::select::{self, CollectionRef, SelectError, Snapshot};
use super::yaml;
use std::sync::Arc;

use crate::auth::restrictions::Restrictions;
use crate::collections::perms::location_ids;
use crate::store::{DynStore, StoreError};

/// The options of `POST /api/ee/serialization/export` and `ferrobase export`.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    pub collections: Vec<CollectionRef>,
    pub all_collections: bool,
    pub settings: bool,
    pub data_model: bool,
    pub database_secrets: bool,
    pub continue_on_error: bool,
    pub full_stacktrace: bool,
    /// The restrictions of the key asking (key-restrictions.md §2.2–2.3): the export holds
    /// only the collections, cards, dashboards and databases it may reach. `None`: everything.
    pub scope: Option<Arc<Restrictions>>,
}

/// The rendered tree: paths relative to the top-level directory, sorted; `export.log` included.
pub struct ExportTree {
    pub files: BTreeMap<String, Vec<u8>>,
    pub log: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Personal(String),
    #[error("{0}")]
    Store(#[from] StoreError),
    /// An entity could not be exported and `continue_on_error` is off: the export log, with
    /// its `failed` lines (§2.1: `500`, the log as the body).
    #[error("the export failed")]
    Failed(String),
}

/// The settings `settings.yaml` may hold (§4.7).
pub const EXPORTED_SETTINGS: &[&str] = &[
    "aggregated-query-row-limit",
    "download-row-limit",
    "humanization-strategy",
    "report-timezone",
    "site-locale",
    "site-name",
    "start-of-week",
    "unaggregated-query-row-limit",
];

/// Label of a file or directory name: the slug cut to 100 characters, then to 200 bytes.
pub fn label(name: &str) -> String {
    let slug = crate::collections::view::slugify(name);
    let mut out: String = slug.chars().take(100).collect();
    while out.len() > 200 {
        out.pop();
    }
    out
}

/// A database directory or file name (§4.1).
pub fn database_dir(name: &str) -> String {
    if name == "." || name == ".." {
        return name.replace('.', "__DOT__");
    }
    name.replace('/', "__SLASH__")
        .replace('\\', "__BACKSLASH__")
}

/// Leaves out of `snap` what a restricted key may not reach: collections outside its subtrees
/// (the Trash stays: it is only a view), and cards and dashboards in them or, for cards, on a
/// database it may not query.
fn scope_snapshot(snap: &mut Snapshot, r: &Restrictions) {
    let allowed: BTreeSet<i64> = snap
        .collections
        .values()
        .filter(|c| c.is_trash() || r.allows_collection(Some(c.id), &location_ids(&c.location)))
        .map(|c| c.id)
        .collect();
    let reaches = |cid: Option<i64>| match cid {
        None => r.allows_collection(None, &[]),
        Some(id) => allowed.contains(&id),
    };
    snap.cards.retain(|_, c| {
        reaches(c.collection_id) && c.database_id.is_none_or(|d| r.allows_database(d))
    });
    snap.dashboards.retain(|_, d| reaches(d.collection_id));
    snap.collections.retain(|id, _| allowed.contains(id));
}

pub async fn run(store: &DynStore, opts: &ExportOptions) -> Result<ExportTree, ExportError> {
    let mut tx = store.read().await?;
    let mut snap = Snapshot {
        collections: tx
            .collection_all()
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect(),
        cards: tx
            .card_list()
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect(),
        dashboards: tx
            .dashboard_list()
            .await?
            .into_iter()
            .map(|d| (d.id, d))
            .collect(),
        dashcards: HashMap::new(),
    };
    if let Some(r) = &opts.scope {
        scope_snapshot(&mut snap, r);
    }
    let dash_ids: Vec<i64> = snap.dashboards.keys().copied().collect();
    for id in dash_ids {
        let dcs = tx.dashcard_list(id).await?;
        snap.dashcards.insert(id, dcs);
    }
    let wants_content = !opts.collections.is_empty() || opts.all_collections;
    let sel = if wants_content {
        select::select(
            &snap,
            &opts.collections,
            opts.all_collections,
            opts.continue_on_error,
        )
        .map_err(|e| match e {
            SelectError::CollectionNotFound(CollectionRef::Id(id)) => {
                ExportError::NotFound(format!("Could not find Collection with ID {id}"))
            }
            SelectError::CollectionNotFound(CollectionRef::EntityId(e)) => {
                ExportError::NotFound(format!("Could not find Collection with entity ID {e}"))
            }
            SelectError::Personal(m) => ExportError::Personal(m),
        })?
    } else {
        select::Selection::default()
    };
    let mut databases = tx.database_list().await?;
    if let Some(r) = &opts.scope {
        databases.retain(|d| r.allows_database(d.id));
    }
    let mut refs = Refs::default();
    for d in &databases {
        refs.databases.insert(d.id, d.name.clone());
    }
    if !sel.cards.is_empty() {
        (refs.tables, refs.fields) =
            super::export_query::read_paths(tx.as_mut(), &databases).await?;
    }
    for c in snap.collections.values() {
        refs.collections.insert(c.id, c.entity_id.clone());
    }
    for c in snap.cards.values() {
        refs.cards.insert(c.id, c.entity_id.clone());
    }
    for d in snap.dashboards.values() {
        refs.dashboards.insert(d.id, d.entity_id.clone());
    }
    // Users referenced by the selected objects.
    let mut user_ids: Vec<i64> = Vec::new();
    user_ids.extend(
        sel.cards
            .iter()
            .filter_map(|i| Some(snap.cards.get(i)?.creator_id)),
    );
    user_ids.extend(
        sel.dashboards
            .iter()
            .filter_map(|i| Some(snap.dashboards.get(i)?.creator_id)),
    );
    user_ids.extend(
        sel.collections
            .iter()
            .filter_map(|i| snap.collections.get(i)?.personal_owner_id),
    );
    if opts.data_model {
        user_ids.extend(databases.iter().filter_map(|d| d.creator_id));
    }
    for uid in user_ids {
        if let std::collections::btree_map::Entry::Vacant(e) = refs.users.entry(uid) {
            if let Some(u) = tx.user_get(uid).await? {
                e.insert(u.email);
            }
        }
    }
    let mut tabs: HashMap<i64, Vec<crate::dashboards::layout_store::TabRow>> = HashMap::new();
    for id in &sel.dashboards {
        let mut t = tx.tab_list(*id).await?;
        t.sort_by_key(|t| (t.position, t.id));
        for tab in &t {
            refs.tabs.insert(tab.id, (*id, tab.entity_id.clone()));
        }
        tabs.insert(*id, t);
    }
    // Card tabs may belong to dashboards outside the selection.
    for c in sel.cards.iter().filter_map(|i| snap.cards.get(i)) {
        if let (Some(tab_id), Some(dash_id)) = (c.dashboard_tab_id, c.dashboard_id) {
            if let std::collections::btree_map::Entry::Vacant(slot) = refs.tabs.entry(tab_id) {
                if let Some(t) = tx.tab_get(tab_id).await? {
                    slot.insert((dash_id, t.entity_id));
                }
            }
        }
    }
    let data_model = if opts.data_model {
        export_data_model::read(tx.as_mut(), &databases).await?
    } else {
        export_data_model::DataModel::default()
    };
    let mut settings: Map<String, Value> = Map::new();
    if opts.settings {
        for key in EXPORTED_SETTINGS {
            if let Some(v) = tx.setting_get(key).await? {
                settings.insert((*key).into(), setting_value(key, &v));
            }
        }
    }
    tx.commit().await?;

    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    let mut lines: Vec<(String, String)> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    let mut add =
        |path: String, model: &str, id: &str, doc: entities::Rendered, nested: &[&str]| match doc {
            Ok(doc) => {
                lines.push((path.clone(), format!("exported {model} {id} {path}")));
                files.insert(path, yaml::emit_document(&doc, nested).into_bytes());
            }
            Err(e) => {
                failed.push(format!("failed {model} {id}: {}", e.message));
                if opts.full_stacktrace {
                    failed.extend(e.causes.iter().map(|c| format!("  caused by: {c}")));
                }
            }
        };
    let dir_of = |cid: Option<i64>| -> String {
        let mut p = String::from("collections/");
        if let Some(c) = cid.and_then(|id| snap.collections.get(&id)) {
            for a in location_ids(&c.location).into_iter().chain([c.id]) {
                if let Some(x) = snap.collections.get(&a) {
                    p.push_str(&format!("{}_{}/", x.entity_id, label(&x.name)));
                }
            }
        }
        p
    };
    for id in &sel.collections {
        let Some(c) = snap.collections.get(id) else {
            continue;
        };
        let doc = entities::collection(c, &refs, &snap);
        let path = format!(
            "{}{}_{}.yaml",
            dir_of(Some(c.id)),
            c.entity_id,
            label(&c.name)
        );
        add(path, "Collection", &c.entity_id, Ok(doc), &[]);
    }
    for id in &sel.cards {
        let Some(c) = snap.cards.get(id) else {
            continue;
        };
        let doc = entities::card(c, &refs);
        let path = format!(
            "{}cards/{}_{}.yaml",
            dir_of(c.collection_id),
            c.entity_id,
            label(&c.name)
        );
        add(path, "Card", &c.entity_id, doc, &[]);
    }
    for id in &sel.dashboards {
        let Some(d) = snap.dashboards.get(id) else {
            continue;
        };
        let t = tabs.get(id).map(Vec::as_slice).unwrap_or(&[]);
        let dcs = snap.dashcards.get(id).map(Vec::as_slice).unwrap_or(&[]);
        let doc = entities::dashboard(d, t, dcs, &refs);
        let path = format!(
            "{}dashboards/{}_{}.yaml",
            dir_of(d.collection_id),
            d.entity_id,
            label(&d.name)
        );
        add(path, "Dashboard", &d.entity_id, doc, &["tabs", "dashcards"]);
    }
    if opts.data_model {
        for d in &databases {
            let doc = entities::database(d, &refs, opts.database_secrets);
            let dir = database_dir(&d.name);
            let path = format!("databases/{dir}/{dir}.yaml");
            add(path, "Database", &d.name, doc, &[]);
        }
    }
    // Tables and fields (data-model.md §6). Two names can escape to the same file name (`a/b`
    // and `a__SLASH__b`): the first, by id, is written, the other skipped with its fields.
    let mut dm_skipped: Vec<String> = Vec::new();
    let mut taken: BTreeSet<String> = BTreeSet::new();
    let mut skipping_table = false;
    for item in data_model.items() {
        if item.model == "Table" {
            skipping_table = !taken.insert(item.path.clone());
            if skipping_table {
                dm_skipped.push(format!(
                    "skipped Table {}: its file name is taken by another table",
                    item.id
                ));
                continue;
            }
        } else if skipping_table {
            dm_skipped.push(format!("skipped Field {}: its table was skipped", item.id));
            continue;
        } else if !taken.insert(item.path.clone()) {
            dm_skipped.push(format!(
                "skipped Field {}: its file name is taken by another field",
                item.id
            ));
            continue;
        }
        add(item.path, item.model, &item.id, item.doc, &[]);
    }
    if opts.settings {
        let path = "settings.yaml".to_string();
        lines.push((path.clone(), format!("exported Setting settings {path}")));
        files.insert(path, yaml::emit_sorted(&settings).into_bytes());
    }
    lines.sort();
    let mut log = String::new();
    for (_, l) in &lines {
        log.push_str(l);
        log.push('\n');
    }
    for s in sel.skipped.iter().chain(&dm_skipped).chain(&failed) {
        log.push_str(s);
        log.push('\n');
    }
    let failures = failed.iter().filter(|l| l.starts_with("failed ")).count();
    log.push_str(&format!(
        "summary: {} exported, {} skipped, {failures} failed\n",
        lines.len(),
        sel.skipped.len() + dm_skipped.len()
    ));
    if failures > 0 && !opts.continue_on_error {
        return Err(ExportError::Failed(log));
    }
    files.insert("export.log".into(), log.clone().into_bytes());
    Ok(ExportTree { files, log })
}

/// A stored setting as written in `settings.yaml`: row limits are integers, the rest strings.
fn setting_value(key: &str, raw: &str) -> Value {
    if key.ends_with("row-limit") {
        if let Ok(n) = raw.parse::<i64>() {
            return json!(n);
        }
    }
    Value::String(raw.to_string())
}
