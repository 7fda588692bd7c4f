//! Reading the audit log: superusers only, newest first, always paged (api-keys.md 5.7).
use serde::Serialize;
use serde_json::Value;

use super::store::{AuditFilter, AuditRow};
use crate::auth::Principal;
use crate::clock::Timestamp;
use crate::error::ApiResult;
use crate::state::App;

/// One event as `GET /api/audit-log` shows it.
#[derive(Debug, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub topic: String,
    pub timestamp: String,
    pub user_id: Option<i64>,
    pub model: String,
    pub model_id: Option<i64>,
    pub details: Value,
}

impl From<AuditRow> for AuditEntry {
    fn from(r: AuditRow) -> Self {
        AuditEntry {
            id: r.id,
            topic: r.topic,
            timestamp: Timestamp(r.timestamp).to_rfc3339(),
            user_id: r.user_id,
            model: r.model,
            model_id: r.model_id,
            details: serde_json::from_str::<Value>(&r.details).unwrap_or(Value::Null),
        }
    }
}

/// A page of the log, with the number of matching events.
#[derive(Debug, Serialize)]
pub struct AuditPage {
    pub data: Vec<AuditEntry>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
}

/// `GET /api/audit-log`.
pub async fn list(app: &App, caller: &Principal, filter: AuditFilter) -> ApiResult<AuditPage> {
    caller.require_superuser()?;
    let mut tx = app.store.read().await?;
    let (rows, total) = tx.audit_list(&filter).await?;
    Ok(AuditPage {
        data: rows.into_iter().map(AuditEntry::from).collect(),
        total,
        limit: filter.limit,
        offset: filter.offset,
    })
}
