//! Collection rows and collection permission entries (portable SQL for both backends).
use async_trait::async_trait;

use crate::store::StoreResult;

pub const COLLECTION_COLUMNS: &str =
    "id, entity_id, name, description, location, personal_owner_id,
    namespace, type, authority_level, archived, archived_directly, archive_operation_id, is_sample,
    created_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CollectionRow {
    pub id: i64,
    pub entity_id: String,
    pub name: String,
    pub description: Option<String>,
    pub location: String,
    pub personal_owner_id: Option<i64>,
    pub namespace: Option<String>,
    #[sqlx(rename = "type")]
    pub kind: Option<String>,
    pub authority_level: Option<String>,
    pub archived: bool,
    pub archived_directly: Option<bool>,
    pub archive_operation_id: Option<String>,
    pub is_sample: bool,
    pub created_at: i64,
}

impl CollectionRow {
    pub fn is_trash(&self) -> bool {
        self.kind.as_deref() == Some("trash")
    }
}

/// One non-`none` entry of the graph; `collection_id` 0 is the root.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PermRow {
    pub group_id: i64,
    pub collection_id: i64,
    pub level: String,
}

pub struct NewCollection<'a> {
    pub entity_id: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub location: &'a str,
    pub now: i64,
}

#[async_trait]
pub trait CollectionTx {
    async fn collection_all(&mut self) -> StoreResult<Vec<CollectionRow>>;
    async fn collection_get(&mut self, id: i64) -> StoreResult<Option<CollectionRow>>;
    async fn collection_by_entity_id(&mut self, eid: &str) -> StoreResult<Option<CollectionRow>>;
    async fn collection_trash(&mut self) -> StoreResult<Option<CollectionRow>>;
    async fn collection_insert(&mut self, new: &NewCollection<'_>) -> StoreResult<CollectionRow>;
    async fn collection_update_text(
        &mut self,
        id: i64,
        name: &str,
        description: Option<&str>,
    ) -> StoreResult<()>;
    async fn collection_set_location(&mut self, id: i64, location: &str) -> StoreResult<()>;
    async fn collection_set_archived(
        &mut self,
        id: i64,
        archived: bool,
        directly: Option<bool>,
        operation: Option<&str>,
    ) -> StoreResult<()>;
    /// Archives (`true`) the live cards and dashboards of a collection together with it, or
    /// restores (`false`) those archived together with it (content.md §4.3–4.4).
    async fn collection_content_archive(
        &mut self,
        collection_id: i64,
        archived: bool,
        now: i64,
    ) -> StoreResult<()>;
    /// Every stored entry (the readers ignore entries of groups that no longer exist).
    async fn collection_perm_all(&mut self) -> StoreResult<Vec<PermRow>>;
    async fn collection_perm_of(&mut self, collection_id: i64) -> StoreResult<Vec<PermRow>>;
    /// Sets one entry; `none` removes it.
    async fn collection_perm_set(
        &mut self,
        group_id: i64,
        collection_id: i64,
        level: &str,
    ) -> StoreResult<()>;
    /// Copies every group's entry on `from` to `to` (which must have none).
    async fn collection_perm_copy(&mut self, from: i64, to: i64) -> StoreResult<()>;
    async fn collection_perm_clear(&mut self, collection_id: i64) -> StoreResult<()>;
    async fn collection_perm_delete_group(&mut self, group_id: i64) -> StoreResult<()>;
}

#[macro_export]
macro_rules! impl_collection_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::collections::store::CollectionTx for $t {
            async fn collection_all(
                &mut self,
            ) -> $crate::store::StoreResult<Vec<$crate::collections::store::CollectionRow>> {
                let sql = format!(
                    "SELECT {} FROM collection",
                    $crate::collections::store::COLLECTION_COLUMNS
                );
                Ok(sqlx::query_as(&sql).fetch_all(self.conn()).await?)
            }

            async fn collection_get(
                &mut self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::collections::store::CollectionRow>> {
                let sql = format!(
                    "SELECT {} FROM collection WHERE id = $1",
                    $crate::collections::store::COLLECTION_COLUMNS
                );
                Ok(sqlx::query_as(&sql).bind(id).fetch_optional(self.conn()).await?)
            }

            async fn collection_by_entity_id(
                &mut self,
                eid: &str,
            ) -> $crate::store::StoreResult<Option<$crate::collections::store::CollectionRow>> {
                let sql = format!(
                    "SELECT {} FROM collection WHERE entity_id = $1",
                    $crate::collections::store::COLLECTION_COLUMNS
                );
                Ok(sqlx::query_as(&sql).bind(eid).fetch_optional(self.conn()).await?)
            }

            async fn collection_trash(
                &mut self,
            ) -> $crate::store::StoreResult<Option<$crate::collections::store::CollectionRow>> {
                let sql = format!(
                    "SELECT {} FROM collection WHERE type = 'trash' ORDER BY id LIMIT 1",
                    $crate::collections::store::COLLECTION_COLUMNS
                );
                Ok(sqlx::query_as(&sql).fetch_optional(self.conn()).await?)
            }

            async fn collection_insert(
                &mut self,
                new: &$crate::collections::store::NewCollection<'_>,
            ) -> $crate::store::StoreResult<$crate::collections::store::CollectionRow> {
                let sql = format!(
                    "INSERT INTO collection (entity_id, name, description, location, created_at)
                     VALUES ($1, $2, $3, $4, $5) RETURNING {}",
                    $crate::collections::store::COLLECTION_COLUMNS
                );
                Ok(sqlx::query_as(&sql)
                    .bind(new.entity_id)
                    .bind(new.name)
                    .bind(new.description)
                    .bind(new.location)
                    .bind(new.now)
                    .fetch_one(self.conn())
                    .await?)
            }

            async fn collection_update_text(
                &mut self,
                id: i64,
                name: &str,
                description: Option<&str>,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE collection SET name = $1, description = $2 WHERE id = $3")
                    .bind(name)
                    .bind(description)
                    .bind(id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn collection_set_location(
                &mut self,
                id: i64,
                location: &str,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE collection SET location = $1 WHERE id = $2")
                    .bind(location)
                    .bind(id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn collection_set_archived(
                &mut self,
                id: i64,
                archived: bool,
                directly: Option<bool>,
                operation: Option<&str>,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "UPDATE collection SET archived = $1, archived_directly = $2,
                     archive_operation_id = $3 WHERE id = $4",
                )
                .bind(archived)
                .bind(directly)
                .bind(operation)
                .bind(id)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn collection_content_archive(
                &mut self,
                collection_id: i64,
                archived: bool,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                // Dashboard questions of a dashboard trashed on its own stay with it.
                let own_dashboard_trashed = "AND (dashboard_id IS NULL OR dashboard_id NOT IN
                    (SELECT id FROM report_dashboard WHERE archived_directly = TRUE))";
                for (table, extra) in [("report_card", own_dashboard_trashed), ("report_dashboard", "")] {
                    let sql = format!(
                        "UPDATE {table} SET archived = $1, archived_directly = FALSE,
                         updated_at = $2
                         WHERE collection_id = $3 AND archived <> $1 AND archived_directly = FALSE
                         {extra}"
                    );
                    sqlx::query(&sql)
                        .bind(archived)
                        .bind(now)
                        .bind(collection_id)
                        .execute(self.conn())
                        .await?;
                }
                Ok(())
            }

            async fn collection_perm_all(
                &mut self,
            ) -> $crate::store::StoreResult<Vec<$crate::collections::store::PermRow>> {
                Ok(sqlx::query_as(
                    "SELECT group_id, collection_id, level FROM collection_permission",
                )
                .fetch_all(self.conn())
                .await?)
            }

            async fn collection_perm_of(
                &mut self,
                collection_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::collections::store::PermRow>> {
                Ok(sqlx::query_as(
                    "SELECT group_id, collection_id, level FROM collection_permission
                     WHERE collection_id = $1",
                )
                .bind(collection_id)
                .fetch_all(self.conn())
                .await?)
            }

            async fn collection_perm_set(
                &mut self,
                group_id: i64,
                collection_id: i64,
                level: &str,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "DELETE FROM collection_permission WHERE group_id = $1 AND collection_id = $2",
                )
                .bind(group_id)
                .bind(collection_id)
                .execute(self.conn())
                .await?;
                if level != "none" {
                    sqlx::query(
                        "INSERT INTO collection_permission (group_id, collection_id, level)
                         VALUES ($1, $2, $3)",
                    )
                    .bind(group_id)
                    .bind(collection_id)
                    .bind(level)
                    .execute(self.conn())
                    .await?;
                }
                Ok(())
            }

            async fn collection_perm_copy(
                &mut self,
                from: i64,
                to: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO collection_permission (group_id, collection_id, level)
                     SELECT group_id, $2, level FROM collection_permission WHERE collection_id = $1",
                )
                .bind(from)
                .bind(to)
                .execute(self.conn())
                .await?;
                Ok(())
            }

            async fn collection_perm_clear(
                &mut self,
                collection_id: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("DELETE FROM collection_permission WHERE collection_id = $1")
                    .bind(collection_id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn collection_perm_delete_group(
                &mut self,
                group_id: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query("DELETE FROM collection_permission WHERE group_id = $1")
                    .bind(group_id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }
        }
    };
}
