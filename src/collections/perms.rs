//! Collection permission levels of a caller (content.md §5.1, people-and-groups.md §8.1):
//! superusers write everywhere; personal collections and their descendants are the owner's
//! alone; everything else takes the most permissive entry among the caller's groups (no
//! inheritance). The Trash is readable by everyone.
use std::collections::{BTreeMap, HashMap};

use super::store::{CollectionRow, PermRow};
use crate::auth::Principal;
use crate::store::{StoreResult, Tx};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    None,
    Read,
    Write,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "none" => Some(Level::None),
            "read" => Some(Level::Read),
            "write" => Some(Level::Write),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Level::None => "none",
            Level::Read => "read",
            Level::Write => "write",
        }
    }
}

/// The ids in a location string (`"/10/20/"` → `[10, 20]`).
pub fn location_ids(location: &str) -> Vec<i64> {
    location
        .split('/')
        .filter_map(|p| p.parse::<i64>().ok())
        .collect()
}

/// Most permissive level among `entries` for the caller's groups.
fn group_level<'a>(caller: &Principal, entries: impl Iterator<Item = &'a PermRow>) -> Level {
    entries
        .filter(|e| caller.group_ids.contains(&e.group_id))
        .filter_map(|e| Level::parse(&e.level))
        .max()
        .unwrap_or(Level::None)
}

/// The caller's level on a collection (`None` = the root, "Our analytics"): its groups' level,
/// narrowed by a key's collection restriction (key-restrictions.md §2.2). The collection's row
/// is read once, and only when a rule needs it.
pub async fn level(
    tx: &mut dyn Tx,
    caller: &Principal,
    collection_id: Option<i64>,
) -> StoreResult<Level> {
    let row = match collection_id {
        Some(id) if caller.collection_restricted() || !caller.is_superuser => {
            tx.collection_get(id).await?
        }
        _ => None,
    };
    if !restriction_admits(caller, collection_id, row.as_ref()) {
        return Ok(Level::None);
    }
    group_level_of(tx, caller, collection_id, row).await
}

/// Whether a key's collection restriction admits the collection (`None` = the root; `row` is
/// its row, `None` when it does not exist). The Trash is a view every caller may open. Callers
/// without a collection restriction are always admitted.
fn restriction_admits(caller: &Principal, id: Option<i64>, row: Option<&CollectionRow>) -> bool {
    if !caller.collection_restricted() {
        return true;
    }
    match id {
        None => caller.allows_collection(None, &[]),
        Some(id) => row.is_some_and(|row| {
            row.is_trash() || caller.allows_collection(Some(id), &location_ids(&row.location))
        }),
    }
}

/// The caller's level on a card: its collection's, or none when the card queries a database
/// the caller's key may not reach (key-restrictions.md §2.3).
pub async fn card_level(
    tx: &mut dyn Tx,
    caller: &Principal,
    collection_id: Option<i64>,
    database_id: Option<i64>,
) -> StoreResult<Level> {
    if database_id.is_some_and(|db| !caller.allows_database(db)) {
        return Ok(Level::None);
    }
    level(tx, caller, collection_id).await
}

/// The groups' level (the personal-collection and Trash rules included); `row` is the
/// collection's row as [`level`] read it.
async fn group_level_of(
    tx: &mut dyn Tx,
    caller: &Principal,
    collection_id: Option<i64>,
    row: Option<CollectionRow>,
) -> StoreResult<Level> {
    if caller.is_superuser {
        return Ok(Level::Write);
    }
    let Some(id) = collection_id else {
        return Ok(group_level(caller, tx.collection_perm_of(0).await?.iter()));
    };
    let Some(row) = row else {
        return Ok(Level::None);
    };
    if row.is_trash() {
        return Ok(Level::Read);
    }
    let owner = match (row.personal_owner_id, location_ids(&row.location).first()) {
        (Some(o), _) => Some(o),
        (None, Some(top)) => tx
            .collection_get(*top)
            .await?
            .and_then(|t| t.personal_owner_id),
        (None, None) => None,
    };
    if let Some(o) = owner {
        return Ok(if o == caller.user_id {
            Level::Write
        } else {
            Level::None
        });
    }
    Ok(group_level(caller, tx.collection_perm_of(id).await?.iter()))
}

/// Every collection and every entry, loaded once, for endpoints that check many collections.
pub struct Graph {
    pub rows: Vec<CollectionRow>,
    pub by_id: HashMap<i64, usize>,
    /// Entries by collection id (0 = the root), in ascending order, so that walks over them
    /// (the collection graph) are deterministic.
    pub perms: BTreeMap<i64, Vec<PermRow>>,
}

impl Graph {
    pub async fn load(tx: &mut dyn Tx) -> StoreResult<Graph> {
        let rows = tx.collection_all().await?;
        let by_id = rows.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
        let mut perms: BTreeMap<i64, Vec<PermRow>> = BTreeMap::new();
        for p in tx.collection_perm_all().await? {
            perms.entry(p.collection_id).or_default().push(p);
        }
        Ok(Graph { rows, by_id, perms })
    }

    pub fn get(&self, id: i64) -> Option<&CollectionRow> {
        self.by_id.get(&id).map(|i| &self.rows[*i])
    }

    /// The owner of the personal collection this collection is (or is inside).
    pub fn personal_owner(&self, row: &CollectionRow) -> Option<i64> {
        row.personal_owner_id.or_else(|| {
            location_ids(&row.location)
                .first()
                .and_then(|top| self.get(*top))
                .and_then(|t| t.personal_owner_id)
        })
    }

    /// Same rules as [`level`]; `None` = the root.
    pub fn level(&self, caller: &Principal, id: Option<i64>) -> Level {
        if !restriction_admits(caller, id, id.and_then(|i| self.get(i))) {
            return Level::None;
        }
        self.group_level(caller, id)
    }

    /// Same rules as [`card_level`].
    pub fn card_level(
        &self,
        caller: &Principal,
        collection_id: Option<i64>,
        database_id: Option<i64>,
    ) -> Level {
        if database_id.is_some_and(|db| !caller.allows_database(db)) {
            return Level::None;
        }
        self.level(caller, collection_id)
    }

    fn group_level(&self, caller: &Principal, id: Option<i64>) -> Level {
        if caller.is_superuser {
            return Level::Write;
        }
        let entries = |k: i64| self.perms.get(&k).into_iter().flatten();
        let Some(id) = id else {
            return group_level(caller, entries(0));
        };
        let Some(row) = self.get(id) else {
            return Level::None;
        };
        if row.is_trash() {
            return Level::Read;
        }
        if let Some(o) = self.personal_owner(row) {
            return if o == caller.user_id {
                Level::Write
            } else {
                Level::None
            };
        }
        group_level(caller, entries(id))
    }

    /// The ids of every collection strictly below `row`.
    pub fn descendants(&self, row: &CollectionRow) -> Vec<&CollectionRow> {
        let prefix = format!("{}{}/", row.location, row.id);
        self.rows
            .iter()
            .filter(|r| r.location.starts_with(&prefix))
            .collect()
    }
}
