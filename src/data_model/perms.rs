//! Who may read and edit the data model (data-model.md §4.2), from the data permission graph:
//! reading a table needs view access and query-builder rights on it (plain or per schema and
//! table); editing metadata needs `data-model` `all` (or superuser). Loaded once per request for
//! every database involved.
use std::collections::HashMap;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::permissions::{self, Access, Rights};
use crate::store::Tx;

use super::store::TableRow;

pub struct Perms {
    superuser: bool,
    rights: HashMap<i64, Rights>,
}

impl Perms {
    pub async fn load(tx: &mut dyn Tx, caller: &Principal, db_ids: &[i64]) -> ApiResult<Perms> {
        Ok(Perms {
            // A superuser's key restricted to some databases decides through `rights`, which
            // leaves the other databases out (key-restrictions.md §2.3).
            superuser: caller.is_superuser
                && caller
                    .restrictions
                    .as_ref()
                    .is_none_or(|r| r.databases.is_none()),
            rights: permissions::rights_all(tx, caller, db_ids).await?,
        })
    }

    /// The caller's rights on one database.
    pub fn access(&self, db_id: i64) -> Access {
        if self.superuser {
            Access::ALL
        } else {
            self.rights
                .get(&db_id)
                .map(|r| r.access)
                .unwrap_or_default()
        }
    }

    /// "read table T" (§4.2): can view and build queries on it.
    pub fn can_read(&self, t: &TableRow) -> bool {
        self.superuser
            || self
                .rights
                .get(&t.db_id)
                .is_some_and(|r| r.query_builder(&t.schema, t.id))
    }

    /// "view database D".
    pub fn can_view_db(&self, db_id: i64) -> bool {
        self.access(db_id).view
    }

    pub fn can_manage(&self, db_id: i64) -> bool {
        self.access(db_id).manage_metadata
    }

    pub fn require_read(&self, t: &TableRow) -> ApiResult<()> {
        if self.can_read(t) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    pub fn require_manage(&self, db_id: i64) -> ApiResult<()> {
        if self.can_manage(db_id) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// Reading with `include_editable_data_model=true` needs the right to edit instead.
    pub fn require_read_or_manage(&self, t: &TableRow, editable: bool) -> ApiResult<()> {
        if editable {
            self.require_manage(t.db_id)
        } else {
            self.require_read(t)
        }
    }
}
