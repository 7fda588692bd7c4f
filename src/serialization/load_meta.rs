//! Loading databases and collections (serialization.md §5.2): databases matched by name,
//! collections upserted by entity id (personal ones also by owner) with locations rebuilt.
use serde_json::Value;

use super::import::Entity;
use super::load::{boolean, int, same_json, text, LoadError, LoadResult, Loader, Outcome};
use crate::collections::store::CollectionRow;
use crate::databases::store::DatabaseRow;
use crate::store::Tx;

impl Loader {
    pub(super) async fn database(&mut self, tx: &mut dyn Tx, e: &Entity) -> LoadResult<Outcome> {
        let d = &e.doc;
        let name = text(d, "name").unwrap_or_else(|| e.id.clone());
        let engine = text(d, "engine").unwrap_or_default();
        let supported = matches!(engine.as_str(), "sqlite" | "postgres");
        let details = d
            .get("details")
            .filter(|v| v.is_object())
            .map(Value::to_string);
        let creator = match text(d, "creator_id") {
            Some(email) => Some(self.user(tx, &email).await?),
            None => None,
        };
        let mut row = DatabaseRow {
            id: 0,
            name: name.clone(),
            description: text(d, "description"),
            engine: engine.clone(),
            details: details.clone().unwrap_or_else(|| "{}".into()),
            is_sample: boolean(d, "is_sample", false),
            auto_run_queries: boolean(d, "auto_run_queries", true),
            cache_ttl: int(d, "cache_ttl"),
            creator_id: creator,
            created_at: self.created_at(d),
            updated_at: self.now(),
        };
        match tx.database_get_by_name(&name).await? {
            Some(local) => {
                if !(supported && details.is_some()) {
                    if engine != local.engine {
                        self.warnings.push(format!(
                            "database {name} keeps its local engine '{}'; the archive names '{engine}'",
                            local.engine
                        ));
                    }
                    row.engine = local.engine.clone();
                    row.details = local.details.clone();
                }
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
                tx.serdes_database_update(&row).await?;
                Ok(Outcome::Updated)
            }
            None if !supported => Err(LoadError::new(format!(
                "Database '{name}' uses engine '{engine}', which ferrobase does not support."
            ))),
            None => {
                tx.database_insert(&row, None).await?;
                Ok(Outcome::Created)
            }
        }
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
