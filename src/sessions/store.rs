//! Login-session rows, keyed by the SHA-256 of the session id (the id itself is never stored).
use async_trait::async_trait;

use crate::store::StoreResult;

/// One row per membership of the session's user, so one query returns the groups too.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionAuthJoinRow {
    pub user_id: i64,
    pub created_at: i64,
    pub is_active: bool,
    pub is_superuser: bool,
    pub group_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionAuthRow {
    pub user_id: i64,
    pub created_at: i64,
    pub is_active: bool,
    pub is_superuser: bool,
    pub group_ids: Vec<i64>,
}

impl SessionAuthRow {
    pub fn from_join(rows: Vec<SessionAuthJoinRow>) -> Option<SessionAuthRow> {
        let first = rows.first()?;
        let mut group_ids: Vec<i64> = rows.iter().filter_map(|r| r.group_id).collect();
        group_ids.sort_unstable();
        Some(SessionAuthRow {
            user_id: first.user_id,
            created_at: first.created_at,
            is_active: first.is_active,
            is_superuser: first.is_superuser,
            group_ids,
        })
    }
}

pub const SESSION_AUTH_SQL: &str = "SELECT s.user_id, s.created_at, u.is_active, u.is_superuser,
        m.group_id
     FROM core_session s
     JOIN core_user u ON u.id = s.user_id
     LEFT JOIN permissions_group_membership m ON m.user_id = s.user_id
     WHERE s.id_digest = $1";

#[async_trait]
pub trait SessionTx {
    async fn session_insert(&mut self, digest: &[u8], user_id: i64, now: i64) -> StoreResult<()>;
    /// Returns whether a session was deleted.
    async fn session_delete(&mut self, digest: &[u8]) -> StoreResult<bool>;
    async fn session_delete_for_user(&mut self, user_id: i64) -> StoreResult<()>;
    async fn session_delete_created_before(&mut self, cutoff: i64) -> StoreResult<u64>;
}

#[macro_export]
macro_rules! impl_session_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::sessions::store::SessionTx for $t {
            async fn session_insert(
                &mut self,
                digest: &[u8],
                user_id: i64,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO core_session (id_digest, user_id, created_at) VALUES ($1, $2, $3)",
                )
                .bind(digest)
                .bind(user_id)
                .bind(now)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn session_delete(&mut self, digest: &[u8]) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query("DELETE FROM core_session WHERE id_digest = $1")
                    .bind(digest)
                    .execute(self.conn())
                    .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn session_delete_for_user(
                &mut self,
                user_id: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("DELETE FROM core_session WHERE user_id = $1")
                    .bind(user_id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn session_delete_created_before(
                &mut self,
                cutoff: i64,
            ) -> $crate::store::StoreResult<u64> {
                let r = sqlx::query("DELETE FROM core_session WHERE created_at < $1")
                    .bind(cutoff)
                    .execute(self.conn())
                    .await?;
                Ok(r.rows_affected())
            }
        }
    };
}
