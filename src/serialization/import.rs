//! Import (serialization.md §3, §5): read the entity files, order them by dependency, load each
//! in its own transaction, and write the import log (§7).
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use serde_json::{Map, Value};

use super::load::{self, Loader, Outcome};
use super::load_data_model::DmPath;
use super::source::Source;
use crate::config::Config;
use crate::store::DynStore;

/// How an import ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Status {
    /// Everything loaded.
    Ok,
    /// continue_on_error and some entities failed.
    Partial,
    /// Stopped at a failing entity (`400`).
    Failed,
    /// No source directory (`400`).
    NoSource,
}

pub struct ImportResult {
    pub status: Status,
    pub log: String,
    /// Databases whose connection the import changed: a server drops their pools.
    pub changed_databases: Vec<i64>,
}

impl ImportResult {
    pub fn no_source() -> ImportResult {
        ImportResult {
            status: Status::NoSource,
            log: NO_SOURCE.to_string(),
            changed_databases: Vec::new(),
        }
    }
}

pub const NO_SOURCE: &str =
    "No source dir detected. Please make sure the serialization files are in the top level dir.";

/// One entity of the archive, read from its file.
pub struct Entity {
    pub model: String,
    /// Entity id, or name for databases, or the key for settings.
    pub id: String,
    pub doc: Map<String, Value>,
}

/// What the first pass keeps of an entity: enough to order it and to find its file again. The
/// document itself is read again when it is loaded, so memory does not grow with the archive.
pub struct Header {
    pub model: String,
    pub id: String,
    /// The file, relative to the source directory.
    pub path: String,
    /// Collections: the parent's entity id.
    parent: Option<String>,
    /// Cards: the entity ids of the cards the query uses.
    sources: Vec<String>,
}

/// Who imports: the creator of new objects without `creator_id` (§5.2).
pub struct ImportOptions {
    pub continue_on_error: bool,
    pub full_stacktrace: bool,
    /// `None` when there is nobody (a fresh database imported by the CLI).
    pub default_creator: Option<i64>,
}

const SUPPORTED: &[&str] = &[
    "Collection",
    "Card",
    "Dashboard",
    "Database",
    "Table",
    "Field",
];

/// Files up to this size are parsed on the async thread: a fraction of a millisecond, far less
/// than a hop to the blocking pool, which tripled the time of an import of many small files.
const INLINE_BYTES: u64 = 64 << 10;

/// Reads and parses one file; a large one off the async threads (it may take a while).
async fn read(source: &Arc<Source>, path: &str) -> Result<Map<String, Value>, String> {
    if source.size(path) <= INLINE_BYTES {
        return source.read(path);
    }
    let (source, path) = (source.clone(), path.to_string());
    tokio::task::spawn_blocking(move || source.read(&path))
        .await
        .unwrap_or_else(|e| Err(format!("the file could not be read: {e}")))
}

/// Tables and fields: the path their `serdes/meta` declares (data-model.md §6).
fn dm_path(doc: &Map<String, Value>, model: &str) -> Option<Result<DmPath, String>> {
    matches!(model, "Table" | "Field").then(|| DmPath::of(doc, model))
}

/// The model and id an entity file declares (§4.2); tables and fields are identified by their
/// path, written as a JSON array.
fn identity(doc: &Map<String, Value>) -> Option<(String, String)> {
    let (model, meta_id) = meta_of(doc)?;
    if let Some(Ok(p)) = dm_path(doc, &model) {
        return Some((model, p.id()));
    }
    let id = meta_id
        .or_else(|| {
            doc.get("entity_id")
                .and_then(Value::as_str)
                .map(String::from)
        })
        .or_else(|| doc.get("name").and_then(Value::as_str).map(String::from))
        .unwrap_or_default();
    Some((model, id))
}

/// Imports the entity files of `source`; `log` may already hold unpacking warnings. `config`
/// carries the rules a database's connection details must pass (queries.md §1.1, §1.5).
pub async fn run(
    store: &DynStore,
    config: &Config,
    source: Source,
    opts: &ImportOptions,
    mut log: Vec<String>,
    now: i64,
    progress: &dyn super::progress::Progress,
) -> ImportResult {
    let source = Arc::new(source);
    let mut counts = Counts::default();
    let mut headers: Vec<Header> = Vec::new();
    let mut settings: Vec<(String, Value)> = Vec::new();
    let mut versions: BTreeSet<String> = BTreeSet::new();
    let mut archive_tabs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut failed_early = false;
    // First pass: every file is read and parsed once, and only its header is kept.
    for path in source.files() {
        let doc = match read(&source, path).await {
            Ok(doc) => doc,
            Err(e) => {
                counts.failed += 1;
                log.push(format!("failed File {path}: {e}"));
                failed_early = true;
                continue;
            }
        };
        if path == "settings.yaml" {
            settings.extend(doc);
            continue;
        }
        let Some((model, id)) = identity(&doc) else {
            counts.skipped += 1;
            log.push(format!("skipped File {path}: no serdes/meta"));
            continue;
        };
        if !SUPPORTED.contains(&model.as_str()) {
            counts.skipped += 1;
            log.push(format!("skipped {model} {id}: not supported by ferrobase"));
            continue;
        }
        if let Some(Err(e)) = dm_path(&doc, &model) {
            counts.failed += 1;
            log.push(format!("failed File {path}: {e}"));
            failed_early = true;
            continue;
        }
        if let Some(v) = doc.get("metabase_version").and_then(Value::as_str) {
            versions.insert(v.to_string());
        }
        let mut header = Header {
            model,
            id,
            path: path.to_string(),
            parent: None,
            sources: Vec::new(),
        };
        match header.model.as_str() {
            "Collection" => {
                header.parent = doc
                    .get("parent_id")
                    .and_then(Value::as_str)
                    .map(String::from)
            }
            "Card" => header.sources = load::card_source_refs(&doc),
            "Dashboard" => {
                let tabs = doc
                    .get("tabs")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|t| t.get("entity_id")?.as_str().map(String::from))
                    .collect();
                archive_tabs.insert(header.id.clone(), tabs);
            }
            _ => {}
        }
        headers.push(header);
    }
    if failed_early && !opts.continue_on_error {
        log.push(counts.summary());
        return ImportResult {
            status: Status::Failed,
            log: join(&log),
            changed_databases: Vec::new(),
        };
    }
    if let Some(v) = versions.iter().find(|v| major(v).is_some_and(|m| m != 58)) {
        let v = v.split(' ').next().unwrap_or(v);
        log.push(format!(
            "warning: archive was written by {v}; this server speaks {}",
            crate::config::METABASE_TAG
        ));
    }
    let mut loader = Loader::new(store.clone(), config, opts.default_creator, now);
    loader.archive_tabs = archive_tabs;
    let mut stopped = false;
    // Settings first (sorted by key), then the ordered entities.
    settings.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, value) in settings {
        let out = loader.setting(&key, &value).await;
        if !record(&mut log, &mut counts, "Setting", &key, out, opts) {
            stopped = true;
            break;
        }
    }
    if !stopped {
        let (order, cycles) = order(headers);
        for (eid, msg) in cycles {
            counts.failed += 1;
            log.push(format!("failed Card {eid}: {msg}"));
            if !opts.continue_on_error {
                stopped = true;
            }
        }
        if !stopped {
            progress.start("importing", order.len() as u64);
            for step in order {
                let h = &step.header;
                // Second pass: the file again, checked to still be the entity ordered.
                let out = match read(&source, &h.path).await {
                    Ok(doc)
                        if identity(&doc).as_ref() == Some(&(h.model.clone(), h.id.clone())) =>
                    {
                        let e = Entity {
                            model: h.model.clone(),
                            id: h.id.clone(),
                            doc,
                        };
                        loader.load(step.kind, &e).await
                    }
                    Ok(_) => Err(load::LoadError::new(format!(
                        "{} changed during the import",
                        h.path
                    ))),
                    Err(e) => Err(load::LoadError::new(format!("{}: {e}", h.path))),
                };
                progress.advance(&format!("{} {}", h.model, h.id));
                if !record(&mut log, &mut counts, &h.model, &h.id, out, opts) {
                    stopped = true;
                    break;
                }
            }
            progress.finish();
        }
    }
    log.extend(loader.warnings.drain(..).map(|w| format!("warning: {w}")));
    log.push(counts.summary());
    let status = if stopped {
        Status::Failed
    } else if counts.failed > 0 {
        Status::Partial
    } else {
        Status::Ok
    };
    ImportResult {
        status,
        log: join(&log),
        changed_databases: std::mem::take(&mut loader.changed_databases),
    }
}

fn join(lines: &[String]) -> String {
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

#[derive(Default)]
struct Counts {
    created: usize,
    updated: usize,
    unchanged: usize,
    skipped: usize,
    failed: usize,
}

impl Counts {
    fn summary(&self) -> String {
        format!(
            "summary: {} created, {} updated, {} unchanged, {} skipped, {} failed",
            self.created, self.updated, self.unchanged, self.skipped, self.failed
        )
    }
}

/// Logs one outcome; `false` when loading must stop.
fn record(
    log: &mut Vec<String>,
    counts: &mut Counts,
    model: &str,
    id: &str,
    out: Result<Outcome, load::LoadError>,
    opts: &ImportOptions,
) -> bool {
    match out {
        Ok(Outcome::Created) => {
            counts.created += 1;
            log.push(format!("created {model} {id}"));
        }
        Ok(Outcome::Updated) => {
            counts.updated += 1;
            log.push(format!("updated {model} {id}"));
        }
        Ok(Outcome::Unchanged) => {
            counts.unchanged += 1;
            log.push(format!("unchanged {model} {id}"));
        }
        Ok(Outcome::Skipped(reason)) => {
            counts.skipped += 1;
            log.push(format!("skipped {model} {id}: {reason}"));
        }
        Err(e) => {
            counts.failed += 1;
            log.push(format!("failed {model} {id}: {}", e.message));
            if opts.full_stacktrace {
                for c in &e.causes {
                    log.push(format!("  caused by: {c}"));
                }
            }
            return opts.continue_on_error;
        }
    }
    true
}

/// The model and id of the last `serdes/meta` element.
fn meta_of(doc: &Map<String, Value>) -> Option<(String, Option<String>)> {
    let last = doc.get("serdes/meta")?.as_array()?.last()?;
    let model = last.get("model")?.as_str()?.to_string();
    let id = last.get("id").and_then(Value::as_str).map(String::from);
    Some((model, id))
}

/// The Metabase major version named by a `metabase_version` (52 in `v0.52.3`).
fn major(v: &str) -> Option<u32> {
    let rest = v.strip_prefix("v0.").or_else(|| v.strip_prefix("v1."))?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// What a loading step does with its entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Database,
    Table,
    Field,
    Collection,
    DashboardFields,
    Card,
    DashboardLayout,
}

/// One loading step.
pub struct Step {
    pub kind: Kind,
    pub header: Header,
}

/// §5.1 step 4: databases → tables → fields (after every table, so that foreign keys resolve)
/// → collections (parents first) → dashboards → cards (sources first) → dashboard layouts.
/// Returns the steps and the cards on cycles with their messages.
fn order(headers: Vec<Header>) -> (Vec<Step>, Vec<(String, String)>) {
    let mut dbs = Vec::new();
    let mut tables = Vec::new();
    let mut fields = Vec::new();
    let mut colls = Vec::new();
    let mut dashes = Vec::new();
    let mut cards = Vec::new();
    for h in headers {
        match h.model.as_str() {
            "Database" => dbs.push(h),
            "Table" => tables.push(h),
            "Field" => fields.push(h),
            "Collection" => colls.push(h),
            "Dashboard" => dashes.push(h),
            _ => cards.push(h),
        }
    }
    // Collections: by depth of the parent chain inside the archive.
    let parent_of: HashMap<String, String> = colls
        .iter()
        .filter_map(|c| Some((c.id.clone(), c.parent.clone()?)))
        .collect();
    let depth = |id: &str| {
        let mut d = 0;
        let mut cur = id.to_string();
        while let Some(p) = parent_of.get(&cur) {
            d += 1;
            if d > 1000 {
                break;
            }
            cur = p.clone();
        }
        d
    };
    colls.sort_by_key(|c| depth(&c.id));
    // Cards: topological by source cards within the archive.
    let ids: BTreeSet<String> = cards.iter().map(|c| c.id.clone()).collect();
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in &cards {
        let d: BTreeSet<String> = c
            .sources
            .iter()
            .filter(|s| ids.contains(*s) && **s != c.id)
            .cloned()
            .collect();
        deps.insert(c.id.clone(), d);
    }
    let mut by_id: BTreeMap<String, Header> =
        cards.into_iter().map(|c| (c.id.clone(), c)).collect();
    let mut sorted = Vec::new();
    let mut done: BTreeSet<String> = BTreeSet::new();
    loop {
        let ready: Vec<String> = by_id
            .keys()
            .filter(|k| {
                deps.get(*k)
                    .is_none_or(|d| d.iter().all(|x| done.contains(x)))
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            break;
        }
        for k in ready {
            if let Some(e) = by_id.remove(&k) {
                done.insert(k);
                sorted.push(e);
            }
        }
    }
    let mut cycles = Vec::new();
    let stuck: Vec<String> = by_id.keys().cloned().collect();
    if !stuck.is_empty() {
        let msg = format!("dependency cycle: {}", stuck.join(", "));
        for k in &stuck {
            cycles.push((k.clone(), msg.clone()));
        }
    }
    let step = |kind| move |header| Step { kind, header };
    let mut steps: Vec<Step> = Vec::new();
    steps.extend(dbs.into_iter().map(step(Kind::Database)));
    steps.extend(tables.into_iter().map(step(Kind::Table)));
    steps.extend(fields.into_iter().map(step(Kind::Field)));
    steps.extend(colls.into_iter().map(step(Kind::Collection)));
    let layouts: Vec<Header> = dashes
        .iter()
        .map(|d| Header {
            model: d.model.clone(),
            id: d.id.clone(),
            path: d.path.clone(),
            parent: None,
            sources: Vec::new(),
        })
        .collect();
    steps.extend(dashes.into_iter().map(step(Kind::DashboardFields)));
    steps.extend(sorted.into_iter().map(step(Kind::Card)));
    steps.extend(layouts.into_iter().map(step(Kind::DashboardLayout)));
    (steps, cycles)
}
