//! The audit log: events written in the transaction of the change they describe, read by admins
//! through `GET /api/audit-log`.
pub mod api;
pub mod input;
pub mod service;
pub mod store;

use serde_json::Value;

use crate::clock::Timestamp;

/// One event to record.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    pub topic: &'static str,
    pub timestamp: Timestamp,
    pub user_id: Option<i64>,
    pub model: &'static str,
    pub model_id: Option<i64>,
    pub details: Value,
}

impl AuditEvent {
    /// An event about the `model` row `model_id`, done by the person `actor`.
    pub fn about(
        model: &'static str,
        model_id: i64,
        topic: &'static str,
        actor: i64,
        now: Timestamp,
        details: Value,
    ) -> AuditEvent {
        AuditEvent {
            topic,
            timestamp: now,
            user_id: Some(actor),
            model,
            model_id: Some(model_id),
            details,
        }
    }
}
