//! Loading one entity (serialization.md §5.2, §5.4): references resolved to local ids, upsert
//! by entity id, `unchanged` when the stored values already equal the file's, one transaction
//! per entity with retries on transient database errors.
use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::import::{Entity, Kind};
use crate::clock::Timestamp;
use crate::collections::store::CollectionRow;
use crate::config::Config;
use crate::store::{DynStore, StoreError, StoreResult, Tx};

/// The deepest JSON value an import stores (the nesting of the arrays and maps of one top-level
/// key of an entity file). Stored JSON is read back with serde_json, whose reader stops at 128
/// levels, and API responses wrap it a few levels deeper still; a deeper value would be stored
/// fine and then break every later read of its object (and every whole-instance export).
pub const MAX_VALUE_DEPTH: usize = 100;

/// The nesting of `v`'s arrays and maps (0 for a scalar), computed without recursion.
pub fn value_depth(v: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(v, 0usize)];
    while let Some((v, d)) = stack.pop() {
        match v {
            Value::Array(a) => {
                deepest = deepest.max(d + 1);
                stack.extend(a.iter().map(|x| (x, d + 1)));
            }
            Value::Object(m) => {
                deepest = deepest.max(d + 1);
                stack.extend(m.values().map(|x| (x, d + 1)));
            }
            _ => {}
        }
    }
    deepest
}

/// The first top-level key of `doc` whose value is nested deeper than [`MAX_VALUE_DEPTH`].
fn too_deep(doc: &Map<String, Value>) -> Option<LoadError> {
    let (key, _) = doc.iter().find(|(_, v)| value_depth(v) > MAX_VALUE_DEPTH)?;
    Some(LoadError::new(format!(
        "{key} is nested deeper than {MAX_VALUE_DEPTH} levels"
    )))
}

pub enum Outcome {
    Created,
    Updated,
    Unchanged,
    Skipped(String),
}

#[derive(Debug)]
pub struct LoadError {
    pub message: String,
    pub causes: Vec<String>,
}

impl LoadError {
    pub fn new(message: impl Into<String>) -> Self {
        LoadError {
            message: message.into(),
            causes: Vec::new(),
        }
    }
    pub fn not_found(model: &str, reference: &str) -> Self {
        LoadError {
            message: format!("{model} '{reference}' was not found"),
            causes: vec![format!(
                "no {model} named '{reference}' is in the archive or on this server"
            )],
        }
    }
}

impl From<StoreError> for LoadError {
    fn from(e: StoreError) -> Self {
        LoadError {
            message: "the application database refused the write".into(),
            causes: vec![e.to_string()],
        }
    }
}

pub type LoadResult<T> = Result<T, LoadError>;

pub struct Loader<'a> {
    pub(super) store: DynStore,
    /// The rules connection details must pass (databases::details).
    pub(super) config: &'a Config,
    pub(super) default_creator: Option<i64>,
    now: i64,
    /// Archive entity id → local collection id (personal collections matched by owner).
    pub aliases: BTreeMap<String, i64>,
    /// Placeholder users created by this import.
    pub placeholders: BTreeSet<i64>,
    pub warnings: Vec<String>,
    /// Dashboard entity id → the tab entity ids its archive file holds.
    pub archive_tabs: BTreeMap<String, BTreeSet<String>>,
    /// Dashboard entity id → (card entity id, tab entity id) of dashboard questions whose tab
    /// is created later, by the dashboard's tabs-and-dashcards step (§5.1 step 4).
    pub pending_tabs: BTreeMap<String, Vec<(String, String)>>,
    /// Databases whose engine or connection details this import changed.
    pub changed_databases: Vec<i64>,
    /// Database id → where its tables are, for table and field files.
    pub(super) dm_index: BTreeMap<i64, super::load_data_model::DmIndex>,
}

/// The settings `settings.yaml` may set (§4.7).
const KNOWN_SETTINGS: &[&str] = super::export::EXPORTED_SETTINGS;

/// Entity ids of the cards a card's query uses (its sources and card template tags).
pub fn card_source_refs(doc: &Map<String, Value>) -> Vec<String> {
    doc.get("dataset_query")
        .map(super::load_query::card_refs)
        .unwrap_or_default()
}

pub(super) use crate::json_fields::{
    bool_or as boolean, json_text, opt_i64 as int, opt_text as text,
};

/// Two stored JSON texts with the same value.
pub(super) fn same_json(a: &str, b: &str) -> bool {
    a == b || serde_json::from_str::<Value>(a).ok() == serde_json::from_str::<Value>(b).ok()
}

impl<'a> Loader<'a> {
    pub fn new(
        store: DynStore,
        config: &'a Config,
        default_creator: Option<i64>,
        now: i64,
    ) -> Loader<'a> {
        Loader {
            store,
            config,
            default_creator,
            now,
            aliases: BTreeMap::new(),
            placeholders: BTreeSet::new(),
            warnings: Vec::new(),
            archive_tabs: BTreeMap::new(),
            pending_tabs: BTreeMap::new(),
            changed_databases: Vec::new(),
            dm_index: BTreeMap::new(),
        }
    }

    pub fn now(&self) -> i64 {
        self.now
    }

    /// Runs one step in its own transaction, retrying transient errors up to three times.
    pub async fn load(&mut self, kind: Kind, e: &Entity) -> LoadResult<Outcome> {
        if let Some(err) = too_deep(&e.doc) {
            return Err(err);
        }
        // A database's new connection is checked (and tested, which may take seconds) before
        // the transaction opens, so the application database is not held meanwhile.
        let checked = match kind {
            Kind::Database => self.check_database(e).await?,
            _ => None,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut tx = self.store.begin().await?;
            let result = match kind {
                Kind::Database => self.database(tx.as_mut(), e, checked.as_ref()).await,
                Kind::Table => self.table(tx.as_mut(), e).await,
                Kind::Field => self.field(tx.as_mut(), e).await,
                Kind::Collection => self.collection(tx.as_mut(), e).await,
                Kind::DashboardFields => self.dashboard_fields(tx.as_mut(), e).await,
                Kind::Card => self.card(tx.as_mut(), e).await,
                Kind::DashboardLayout => self.dashboard_layout(tx.as_mut(), e).await,
            };
            match result {
                Ok(out) => match tx.commit().await {
                    Ok(()) => return Ok(out),
                    Err(StoreError::Busy) if attempt < 4 => continue,
                    Err(e) => return Err(e.into()),
                },
                Err(e) => {
                    drop(tx);
                    let transient = e.causes.iter().any(|c| c == "database busy");
                    if transient && attempt < 4 {
                        continue;
                    }
                    return Err(e);
                }
            }
        }
    }

    /// A `settings.yaml` entry, checked as `PUT /api/setting/:key` checks it (§4.7); `null`
    /// restores the default, as it does there.
    pub async fn setting(&mut self, key: &str, value: &Value) -> LoadResult<Outcome> {
        if !KNOWN_SETTINGS.contains(&key) {
            return Ok(Outcome::Skipped("unknown setting".into()));
        }
        let stored = match crate::settings::instance::validate(key, value) {
            None => return Ok(Outcome::Skipped("unknown setting".into())),
            Some(Err(message)) => {
                return Err(LoadError {
                    message,
                    causes: vec![format!("{key} cannot be {value}")],
                })
            }
            Some(Ok(stored)) => stored,
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.write_setting(key, stored.as_deref()).await {
                Err(StoreError::Busy) if attempt < 4 => continue,
                result => return Ok(result?),
            }
        }
    }

    async fn write_setting(&self, key: &str, stored: Option<&str>) -> StoreResult<Outcome> {
        let mut tx = self.store.begin().await?;
        if tx.setting_get(key).await?.as_deref() == stored {
            return Ok(Outcome::Unchanged);
        }
        tx.setting_set(key, stored).await?;
        tx.commit().await?;
        Ok(Outcome::Updated)
    }

    /// The entity id of a document: `entity_id`, which must match the `serdes/meta` id; empty
    /// or missing means a fresh one.
    pub(super) fn entity_id(e: &Entity) -> LoadResult<String> {
        let file = text(&e.doc, "entity_id").filter(|s| !s.is_empty());
        let meta = e
            .doc
            .get("serdes/meta")
            .and_then(Value::as_array)
            .and_then(|a| a.last())
            .and_then(|m| m.get("id"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(String::from);
        match (file, meta) {
            (Some(a), Some(b)) if a != b => Err(LoadError::new(format!(
                "serdes/meta id {b} does not match entity_id {a}"
            ))),
            (Some(a), _) | (None, Some(a)) => Ok(a),
            (None, None) => Ok(crate::entity_id::new_entity_id()),
        }
    }

    pub(super) fn created_at(&self, doc: &Map<String, Value>) -> i64 {
        text(doc, "created_at")
            .and_then(|s| Timestamp::parse_rfc3339(&s))
            .map(|t| t.0)
            .unwrap_or(self.now)
    }

    /// A user reference (an email); unknown emails create a placeholder user (§5.2).
    pub(super) async fn user(&mut self, tx: &mut dyn Tx, email: &str) -> LoadResult<i64> {
        let lower = email.to_lowercase();
        if let Some(u) = tx.user_get_by_email(&lower).await? {
            return Ok(u.id);
        }
        // A random password nobody knows (§5.2): an admin must reactivate the person and set
        // a password before anyone can log in as them.
        let hash = crate::passwords::unusable_hash()
            .await
            .map_err(|e| LoadError {
                message: format!("cannot create user {email}"),
                causes: vec![e.to_string()],
            })?;
        let new = crate::users::store::NewUser {
            email: lower,
            first_name: None,
            last_name: None,
            password_hash: Some(hash),
            key_user: false,
            is_superuser: false,
            is_installer: false,
            locale: None,
            login_attributes: None,
            now: self.now,
        };
        let user = crate::users::service::insert_person(tx, None, &new, &[1], false)
            .await
            .map_err(|e| LoadError::new(format!("cannot create user {email}: {e}")))?;
        tx.user_set_active(user.id, false, self.now).await?;
        self.placeholders.insert(user.id);
        Ok(user.id)
    }

    /// The creator of `doc` (`creator_id`), or the importing user.
    pub(super) async fn creator(
        &mut self,
        tx: &mut dyn Tx,
        doc: &Map<String, Value>,
    ) -> LoadResult<i64> {
        match text(doc, "creator_id") {
            Some(email) => self.user(tx, &email).await,
            None => self
                .default_creator
                .ok_or_else(|| LoadError::new("creator_id is missing and there is no superuser")),
        }
    }

    /// A collection reference (entity id) → the local collection.
    pub(super) async fn collection_ref(
        &self,
        tx: &mut dyn Tx,
        eid: &str,
    ) -> LoadResult<CollectionRow> {
        if let Some(id) = self.aliases.get(eid) {
            if let Some(c) = tx.collection_get(*id).await? {
                return Ok(c);
            }
        }
        tx.collection_by_entity_id(eid)
            .await?
            .filter(|c| !c.is_trash())
            .ok_or_else(|| LoadError::not_found("Collection", eid))
    }

    pub(super) async fn database_ref(&self, tx: &mut dyn Tx, name: &str) -> LoadResult<i64> {
        tx.database_get_by_name(name)
            .await?
            .map(|d| d.id)
            .ok_or_else(|| LoadError::not_found("Database", name))
    }

    pub(super) async fn card_ref(&self, tx: &mut dyn Tx, eid: &str) -> LoadResult<i64> {
        tx.card_get_by_entity_id(eid)
            .await?
            .map(|c| c.id)
            .ok_or_else(|| LoadError::not_found("Card", eid))
    }

    pub(super) async fn dashboard_ref(&self, tx: &mut dyn Tx, eid: &str) -> LoadResult<i64> {
        tx.dashboard_get_by_entity_id(eid)
            .await?
            .map(|d| d.id)
            .ok_or_else(|| LoadError::not_found("Dashboard", eid))
    }
}
