//! The JSON shapes of databases (queries.md §1.2–§1.7, data-model.md §2.10). Field order is
//! the wire order (serde_json keeps it).
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::details;
use super::store::DatabaseRow;
use super::SyncView;
use crate::auth::Principal;
use crate::clock::Timestamp;
use crate::config::Config;
use crate::permissions::Access;

/// `{}`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Empty {}

/// A database's `sync` object.
#[derive(Debug, Clone, Serialize)]
pub struct SyncJson {
    pub state: &'static str,
    pub last_started_at: Option<Timestamp>,
    pub last_finished_at: Option<Timestamp>,
    pub last_succeeded_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

impl From<&SyncView> for SyncJson {
    fn from(s: &SyncView) -> Self {
        SyncJson {
            state: s.state,
            last_started_at: s.status.sync_last_started_at.map(Timestamp),
            last_finished_at: s.status.sync_last_finished_at.map(Timestamp),
            last_succeeded_at: s.status.sync_last_succeeded_at.map(Timestamp),
            last_error: s.status.sync_last_error.clone(),
        }
    }
}

/// The database representation of queries.md §1.2, as a caller with some access sees it;
/// `details` (masked) for superusers only.
#[derive(Debug, Clone, Serialize)]
pub struct Database {
    pub id: i64,
    pub name: String,
    pub description: Option<String>,
    pub engine: String,
    pub is_sample: bool,
    pub is_full_sync: bool,
    pub is_on_demand: bool,
    pub is_audit: bool,
    pub auto_run_queries: bool,
    pub cache_ttl: Option<i64>,
    pub timezone: Option<String>,
    pub initial_sync_status: String,
    pub sync: SyncJson,
    pub settings: Empty,
    pub dbms_version: Option<String>,
    pub creator_id: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub native_permissions: &'static str,
    pub can_upload: bool,
    pub features: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl Database {
    pub fn new(
        d: &DatabaseRow,
        caller: &Principal,
        access: Access,
        config: &Config,
        sync: &SyncView,
    ) -> Database {
        Database {
            id: d.id,
            name: d.name.clone(),
            description: d.description.clone(),
            engine: d.engine.clone(),
            is_sample: d.is_sample,
            is_full_sync: true,
            is_on_demand: false,
            is_audit: false,
            auto_run_queries: d.auto_run_queries,
            cache_ttl: d.cache_ttl,
            timezone: None,
            initial_sync_status: sync.status.initial_sync_status.clone(),
            sync: SyncJson::from(sync),
            settings: Empty {},
            dbms_version: None,
            creator_id: d.creator_id,
            created_at: Timestamp(d.created_at),
            updated_at: Timestamp(d.updated_at),
            native_permissions: if access.native { "write" } else { "none" },
            can_upload: false,
            features: ["native-parameters"],
            details: caller.is_superuser.then(|| shown_details(d, config)),
        }
    }
}

/// The stored details as GET shows them (secrets masked; the Sample Database's real path).
fn shown_details(d: &DatabaseRow, config: &Config) -> Value {
    let mut stored: Value = serde_json::from_str(&d.details).unwrap_or_else(|_| json!({}));
    if d.is_sample {
        stored["db"] = json!(details::sample_path(config).to_string_lossy());
    }
    details::masked(&stored)
}

/// An entry of `GET /api/database`, with its tables under `include=tables`.
#[derive(Debug, Serialize)]
pub struct ListedDatabase {
    #[serde(flatten)]
    pub database: Database,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tables: Option<Vec<Box<RawValue>>>,
}

/// `GET /api/database`.
#[derive(Debug, Serialize)]
pub struct DatabaseList {
    pub data: Vec<ListedDatabase>,
    pub total: usize,
}

/// `GET /api/database/:id` and the answer of `PUT`.
#[derive(Debug, Serialize)]
pub struct DatabaseDetail {
    #[serde(flatten)]
    pub database: Database,
    #[serde(rename = "can-manage")]
    pub can_manage: bool,
    pub schedules: Empty,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tables: Option<Vec<Box<RawValue>>>,
}

/// `POST /api/database/validate`.
#[derive(Debug, Serialize)]
pub struct Validity {
    pub valid: bool,
}

/// `GET /api/database/:id/healthcheck` and the superuser no-op endpoints.
#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Health {
    pub fn ok() -> Health {
        Health {
            status: "ok",
            message: None,
        }
    }

    pub fn error(message: String) -> Health {
        Health {
            status: "error",
            message: Some(message),
        }
    }
}
