//! Audit rows. No foreign keys: entries outlive what they describe.
use async_trait::async_trait;

use super::AuditEvent;
use crate::store::StoreResult;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub topic: String,
    pub timestamp: i64,
    pub user_id: Option<i64>,
    pub model: String,
    pub model_id: Option<i64>,
    pub details: String,
}

#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub model: Option<String>,
    pub model_id: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

#[async_trait]
pub trait AuditTx {
    async fn audit_insert(&mut self, event: &AuditEvent) -> StoreResult<()>;
    /// Newest first, with the total number of matches.
    async fn audit_list(&mut self, filter: &AuditFilter) -> StoreResult<(Vec<AuditRow>, i64)>;
}

/// `($1 IS NULL OR …)` keeps one statement for every filter combination.
pub const AUDIT_WHERE: &str = "WHERE ($1 IS NULL OR model = $1) AND ($2 IS NULL OR model_id = $2)";

#[macro_export]
macro_rules! impl_audit_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::audit::store::AuditTx for $t {
            async fn audit_insert(
                &mut self,
                e: &$crate::audit::AuditEvent,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO audit_log (topic, timestamp, user_id, model, model_id, details)
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(e.topic)
                .bind(e.timestamp.micros())
                .bind(e.user_id)
                .bind(e.model)
                .bind(e.model_id)
                .bind(e.details.to_string())
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn audit_list(
                &mut self,
                f: &$crate::audit::store::AuditFilter,
            ) -> $crate::store::StoreResult<(Vec<$crate::audit::store::AuditRow>, i64)> {
                use $crate::audit::store::AUDIT_WHERE;
                let rows = sqlx::query_as(&format!(
                    "SELECT id, topic, timestamp, user_id, model, model_id, details
                     FROM audit_log {AUDIT_WHERE} ORDER BY id DESC LIMIT $3 OFFSET $4"
                ))
                .bind(f.model.as_deref())
                .bind(f.model_id)
                .bind(f.limit)
                .bind(f.offset)
                .fetch_all(self.conn())
                .await?;
                let (total,): (i64,) =
                    sqlx::query_as(&format!("SELECT count(*) FROM audit_log {AUDIT_WHERE}"))
                        .bind(f.model.as_deref())
                        .bind(f.model_id)
                        .fetch_one(self.conn())
                        .await?;
                Ok((rows, total))
            }
        }
    };
}
