//! Loading databases and collections (serialization.md §5.2): databases matched by name, a new
//! or changed connection checked exactly as `POST /api/database` checks it (queries.md §1.1,
//! §1.5), collections upserted by entity id (personal ones also by owner) with locations rebuilt.
use serde_json::{json, Map, Value};

use super::import::Entity;
use super::load::{boolean, int, same_json, text, LoadError, LoadResult, Loader, Outcome};
use crate::collections::store::CollectionRow;
use crate::config::Config;
use crate::databases::store::DatabaseRow;
use crate::error::ApiError;
use crate::store::Tx;

/// A connection that passed the path rules and the connection test.
pub(super) struct Checked {
    engine: String,
    details: Value,
}

/// What a database file asks of the connection, given the local database of that name.
#[derive(Debug, PartialEq)]
enum Plan {
    /// The local engine and details stay; the warning says why when the file differs.
    Keep(Option<String>),
    /// A new database whose file has no details: created without a connection (§5.2), so it
    /// reaches nothing until an administrator sets one through `PUT /api/database/:id`.
    Disconnected,
    /// A new Sample Database: it always reads ferrobase's own sample file.
    Sample,
    /// Engine and details from the file, equal to the local ones: nothing to test.
    Same,
    /// Engine and details from the file, to be checked and tested before they are written.
    Set { engine: String, details: Value },
}

fn plan(d: &Map<String, Value>, name: &str, local: Option<&DatabaseRow>) -> LoadResult<Plan> {
    let engine = text(d, "engine").unwrap_or_default();
    let supported = crate::databases::details::ENGINES.contains(&engine.as_str());
    let details = d.get("details").filter(|v| v.is_object());
    Ok(match local {
        Some(l) if l.is_sample || !supported || details.is_none() => {
            if engine != l.engine {
                Plan::Keep(Some(format!(
                    "database {name} keeps its local engine '{}'; the archive names '{engine}'",
                    l.engine
                )))
            } else if l.is_sample && details.is_some() {
                // Its file is ferrobase's to place (queries.md §1.6): never re-targeted.
                Plan::Keep(Some(format!(
                    "database {name} keeps its local connection: the Sample Database's details \
                     are never changed by an archive"
                )))
            } else {
                Plan::Keep(None)
            }
        }
        Some(l) => {
            let stored: Value = serde_json::from_str(&l.details).unwrap_or(Value::Null);
            match details {
                Some(new) if engine == l.engine && *new == stored => Plan::Same,
                Some(new) => Plan::Set {
                    engine,
                    details: new.clone(),
                },
                None => Plan::Keep(None),
            }
        }
        None if !supported => {
            return Err(LoadError::new(format!(
                "Database '{name}' uses engine '{engine}', which ferrobase does not support."
            )))
        }
        None if boolean(d, "is_sample", false) => Plan::Sample,
        None => match details {
            None => Plan::Disconnected,
            Some(new) => Plan::Set {
                engine,
                details: new.clone(),
            },
        },
    })
}

/// `field: message; …` of a validation failure.
fn field_messages(errs: impl IntoIterator<Item = (String, String)>) -> String {
    errs.into_iter()
        .map(|(k, m)| format!("{k}: {m}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The shape checks of `POST /api/database` on the file's values (name non-blank, at most 254
/// characters, no NUL; description, flags and `cache_ttl` of the right types).
fn check_shape(d: &Map<String, Value>, name: &str) -> LoadResult<()> {
    let mut body = Map::new();
    body.insert("name".into(), json!(name));
    for key in [
        "engine",
        "details",
        "description",
        "auto_run_queries",
        "cache_ttl",
    ] {
        if let Some(v) = d.get(key) {
            body.insert(key.into(), v.clone());
        }
    }
    match crate::databases::input::check_body(&body, false) {
        Ok(()) => Ok(()),
        Err(ApiError::Validation(v)) => {
            let json = v.into_json();
            let errs = json["errors"]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, m)| (k.clone(), m.as_str().unwrap_or("invalid").to_string()));
            Err(LoadError::new(field_messages(errs)))
        }
        Err(e) => Err(LoadError::new(e.to_string())),
    }
}

/// The path rules of queries.md §1.1 and the connection test of §1.5, as `POST /api/database`
/// runs them: the same function, so the same refusals (the application database, files in the
/// data directory or outside `--sqlite-allowed-dir`, files that are not SQLite databases, and
/// what the connection test itself refuses).
async fn check_connection(config: &Config, engine: &str, details: &Value) -> LoadResult<()> {
    let target = crate::databases::details::target(config, engine, details, false)
        .map_err(|errs| LoadError::new(field_messages(errs)))?;
    let options = crate::warehouse::engine::WarehouseOptions::single(config);
    target.build(options).test().await.map_err(|f| LoadError {
        message: f.message,
        causes: f
            .keys
            .iter()
            .map(|k| format!("the connection test failed on {k}"))
            .collect(),
    })
}

impl Loader<'_> {
    /// Checks a database file before its transaction: its shape, and a new or changed
    /// connection (path rules, then the connection test). `Some` carries the connection that
    /// passed, which [`Loader::database`] then writes.
    pub(super) async fn check_database(&self, e: &Entity) -> LoadResult<Option<Checked>> {
        let d = &e.doc;
        let name = text(d, "name").unwrap_or_else(|| e.id.clone());
        check_shape(d, &name)?;
        let local = {
            let mut tx = self.store.read().await?;
            let local = tx.database_get_by_name(&name).await?;
            tx.commit().await?;
            local
        };
        match plan(d, &name, local.as_ref())? {
            Plan::Set { engine, details } => {
                check_connection(self.config, &engine, &details).await?;
                Ok(Some(Checked { engine, details }))
            }
            _ => Ok(None),
        }
    }

    pub(super) async fn database(
        &mut self,
        tx: &mut dyn Tx,
        e: &Entity,
        checked: Option<&Checked>,
    ) -> LoadResult<Outcome> {
        let d = &e.doc;
        let name = text(d, "name").unwrap_or_else(|| e.id.clone());
        let creator = match text(d, "creator_id") {
            Some(email) => Some(self.user(tx, &email).await?),
            None => None,
        };
        let mut row = DatabaseRow {
            id: 0,
            name: name.clone(),
            description: text(d, "description"),
            engine: text(d, "engine").unwrap_or_default(),
            details: "{}".into(),
            is_sample: boolean(d, "is_sample", false),
            auto_run_queries: boolean(d, "auto_run_queries", true),
            cache_ttl: int(d, "cache_ttl"),
            creator_id: creator,
            created_at: self.created_at(d),
            updated_at: self.now(),
        };
        let local = tx.database_get_by_name(&name).await?;
        match plan(d, &name, local.as_ref())? {
            Plan::Keep(warning) => {
                if let Some(l) = &local {
                    row.engine = l.engine.clone();
                    row.details = l.details.clone();
                }
                self.warnings.extend(warning);
            }
            Plan::Same => {
                if let Some(l) = &local {
                    row.details = l.details.clone();
                }
            }
            Plan::Disconnected => {}
            Plan::Sample => {
                row.engine = "sqlite".into();
                row.details = json!({"db": crate::databases::sample::FILE_NAME}).to_string();
            }
            Plan::Set { engine, details } => match checked {
                // What was tested is what gets written, or nothing is.
                Some(c) if c.engine == engine && c.details == details => {
                    row.details = details.to_string();
                }
                _ => {
                    return Err(LoadError::new(format!(
                        "database {name} changed while its connection was tested; import again"
                    )))
                }
            },
        }
        let Some(local) = local else {
            row.id = tx.database_insert(&row, None).await?;
            self.audit_database(tx, "database-create", &row).await?;
            return Ok(Outcome::Created);
        };
        row.id = local.id;
        row.is_sample = local.is_sample;
        row.creator_id = local.creator_id;
        let same = row.description == local.description
            && row.engine == local.engine
            && same_json(&row.details, &local.details)
            && row.auto_run_queries == local.auto_run_queries
            && row.cache_ttl == local.cache_ttl
            && row.created_at == local.created_at;
        if same {
            return Ok(Outcome::Unchanged);
        }
        let connection_changed = row.engine != local.engine || row.details != local.details;
        tx.serdes_database_update(&row).await?;
        if connection_changed {
            self.changed_databases.push(local.id);
            self.audit_database(tx, "database-update", &row).await?;
        }
        Ok(Outcome::Updated)
    }

    /// Databases an import creates or re-targets are audited as the API's are (the
    /// `allow-privileged-role` flag of queries.md §1.5 must never arrive unrecorded).
    async fn audit_database(
        &self,
        tx: &mut dyn Tx,
        topic: &'static str,
        row: &DatabaseRow,
    ) -> LoadResult<()> {
        let event = crate::databases::service::database_event(
            topic,
            self.default_creator,
            row,
            row.updated_at,
        );
        tx.audit_insert(&event).await?;
        Ok(())
    }

    pub(super) async fn collection(&mut self, tx: &mut dyn Tx, e: &Entity) -> LoadResult<Outcome> {
        let d = &e.doc;
        let eid = Loader::entity_id(e)?;
        let name = text(d, "name").ok_or_else(|| LoadError::new("name is missing"))?;
        let owner = match text(d, "personal_owner_id") {
            Some(email) => Some(self.user(tx, &email).await?),
            None => None,
        };
        let parent = match text(d, "parent_id") {
            Some(p) if owner.is_none() => Some(self.collection_ref(tx, &p).await?),
            _ => None,
        };
        let location = match &parent {
            Some(p) => format!("{}{}/", p.location, p.id),
            None => "/".to_string(),
        };
        let mut row = CollectionRow {
            id: 0,
            entity_id: eid.clone(),
            name,
            description: text(d, "description"),
            location,
            personal_owner_id: owner,
            namespace: text(d, "namespace"),
            kind: text(d, "type"),
            authority_level: text(d, "authority_level"),
            archived: boolean(d, "archived", false),
            archived_directly: d.get("archived_directly").and_then(Value::as_bool),
            archive_operation_id: text(d, "archive_operation_id"),
            is_sample: boolean(d, "is_sample", false),
            created_at: self.created_at(d),
        };
        let mut existing = tx.collection_by_entity_id(&eid).await?;
        if existing.is_none() {
            if let Some(o) = owner {
                let mine = tx
                    .collection_all()
                    .await?
                    .into_iter()
                    .find(|c| c.personal_owner_id == Some(o));
                if let Some(local) = mine {
                    if self.placeholders.contains(&o) {
                        // The placeholder's own collection takes the archive's entity id.
                        row.id = local.id;
                        row.name = local.name.clone();
                        tx.serdes_collection_update(&row).await?;
                        self.aliases.insert(eid, local.id);
                        return Ok(Outcome::Updated);
                    }
                    self.aliases.insert(eid, local.id);
                    return Ok(Outcome::Unchanged);
                }
            }
        }
        let Some(local) = existing.take() else {
            let id = tx.serdes_collection_insert(&row).await?;
            if owner.is_none() {
                tx.collection_perm_copy(parent.as_ref().map(|p| p.id).unwrap_or(0), id)
                    .await?;
            }
            return Ok(Outcome::Created);
        };
        row.id = local.id;
        if local.personal_owner_id.is_some() {
            // Never re-parented.
            row.location = local.location.clone();
        }
        let same = row.name == local.name
            && row.description == local.description
            && row.location == local.location
            && row.personal_owner_id == local.personal_owner_id
            && row.namespace == local.namespace
            && row.kind == local.kind
            && row.authority_level == local.authority_level
            && row.archived == local.archived
            && row.archived_directly == local.archived_directly
            && row.archive_operation_id == local.archive_operation_id
            && row.is_sample == local.is_sample
            && row.created_at == local.created_at;
        if same {
            return Ok(Outcome::Unchanged);
        }
        tx.serdes_collection_update(&row).await?;
        if row.location != local.location {
            let old = format!("{}{}/", local.location, local.id);
            let new = format!("{}{}/", row.location, row.id);
            for c in tx.collection_all().await? {
                if let Some(rest) = c.location.strip_prefix(&old) {
                    tx.collection_set_location(c.id, &format!("{new}{rest}"))
                        .await?;
                }
            }
        }
        Ok(Outcome::Updated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(engine: &str, details: &str, is_sample: bool) -> DatabaseRow {
        DatabaseRow {
            id: 7,
            name: "Db".into(),
            description: None,
            engine: engine.into(),
            details: details.into(),
            is_sample,
            auto_run_queries: true,
            cache_ttl: None,
            creator_id: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn file(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn only_a_new_or_changed_connection_is_tested() {
        let db = local("sqlite", r#"{"db":"/data/a.sqlite"}"#, false);
        let same = file(json!({"engine": "sqlite", "details": {"db": "/data/a.sqlite"}}));
        assert_eq!(plan(&same, "Db", Some(&db)).unwrap(), Plan::Same);
        let moved = file(json!({"engine": "sqlite", "details": {"db": "/data/b.sqlite"}}));
        assert_eq!(
            plan(&moved, "Db", Some(&db)).unwrap(),
            Plan::Set {
                engine: "sqlite".into(),
                details: json!({"db": "/data/b.sqlite"})
            }
        );
        let engine = file(json!({"engine": "postgres", "details": {"db": "/data/a.sqlite"}}));
        assert!(matches!(
            plan(&engine, "Db", Some(&db)).unwrap(),
            Plan::Set { .. }
        ));
        // No details in the file (a default export): the local connection stays.
        let bare = file(json!({"engine": "sqlite"}));
        assert_eq!(plan(&bare, "Db", Some(&db)).unwrap(), Plan::Keep(None));
        // New databases: tested when the file brings details, disconnected otherwise.
        assert!(matches!(
            plan(&moved, "Db", None).unwrap(),
            Plan::Set { .. }
        ));
        assert_eq!(plan(&bare, "Db", None).unwrap(), Plan::Disconnected);
        let unknown = file(json!({"engine": "mysql", "details": {"host": "x"}}));
        assert!(plan(&unknown, "Db", None).is_err());
        assert!(matches!(
            plan(&unknown, "Db", Some(&db)).unwrap(),
            Plan::Keep(Some(_))
        ));
    }

    #[test]
    fn the_sample_database_is_never_re_targeted() {
        let sample = local("sqlite", r#"{"db":"sample-database.sqlite"}"#, true);
        let elsewhere = file(json!({"engine": "sqlite", "is_sample": true,
                                    "details": {"db": "/etc/passwd"}}));
        assert!(matches!(
            plan(&elsewhere, "Sample Database", Some(&sample)).unwrap(),
            Plan::Keep(Some(w)) if w.contains("never changed by an archive")
        ));
        let other_engine = file(json!({"engine": "postgres", "details": {"host": "x"}}));
        assert!(matches!(
            plan(&other_engine, "Sample Database", Some(&sample)).unwrap(),
            Plan::Keep(Some(w)) if w.contains("keeps its local engine")
        ));
        // A new sample database reads ferrobase's own file, whatever the archive says.
        assert_eq!(
            plan(&elsewhere, "Sample Database", None).unwrap(),
            Plan::Sample
        );
    }

    #[test]
    fn the_shape_checks_of_post_database_apply() {
        assert!(check_shape(&file(json!({"engine": "sqlite"})), "Db").is_ok());
        let e = check_shape(&file(json!({"engine": "sqlite"})), " ").unwrap_err();
        assert!(e.message.starts_with("name: "), "{}", e.message);
        let e = check_shape(&file(json!({"engine": "sqlite"})), "a\0b").unwrap_err();
        assert!(e.message.contains("NUL"), "{}", e.message);
        let e = check_shape(&file(json!({"details": "x"})), "Db").unwrap_err();
        assert!(e.message.starts_with("details: "), "{}", e.message);
        let e = check_shape(&file(json!({"cache_ttl": -1})), "Db").unwrap_err();
        assert!(e.message.starts_with("cache_ttl: "), "{}", e.message);
    }
}
