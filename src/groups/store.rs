//! Permission groups and memberships.
use async_trait::async_trait;

use crate::store::StoreResult;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GroupRow {
    pub id: i64,
    pub name: String,
    pub magic_group_type: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct GroupCountRow {
    pub id: i64,
    pub name: String,
    pub magic_group_type: Option<String>,
    pub member_count: i64,
}

/// Defined with the users' rows: membership sync ([`crate::users::membership`]) names it, and
/// users never depend on groups.
pub use crate::users::store::MembershipRow;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub membership_id: i64,
    pub user_id: i64,
    pub group_id: i64,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub is_superuser: bool,
}

#[async_trait]
pub trait GroupTx {
    async fn group_get(&mut self, id: i64) -> StoreResult<Option<GroupRow>>;
    async fn group_get_by_name(&mut self, name: &str) -> StoreResult<Option<GroupRow>>;
    /// Every group with the number of its active members (the service sorts them).
    async fn group_list(&mut self) -> StoreResult<Vec<GroupCountRow>>;
    async fn group_insert(&mut self, name: &str) -> StoreResult<GroupRow>;
    async fn group_insert_fixed(&mut self, id: i64, name: &str, magic: &str) -> StoreResult<()>;
    async fn group_rename(&mut self, id: i64, name: &str) -> StoreResult<()>;
    /// Deletes the group and (by cascade) its memberships.
    async fn group_delete(&mut self, id: i64) -> StoreResult<()>;
    /// Active members (the service sorts them).
    async fn group_members(&mut self, group_id: i64) -> StoreResult<Vec<MemberRow>>;
    async fn membership_all(&mut self) -> StoreResult<Vec<MembershipRow>>;
    async fn membership_get(&mut self, id: i64) -> StoreResult<Option<MembershipRow>>;
    async fn membership_find(
        &mut self,
        user_id: i64,
        group_id: i64,
    ) -> StoreResult<Option<MembershipRow>>;
    async fn memberships_of_user(&mut self, user_id: i64) -> StoreResult<Vec<MembershipRow>>;
    async fn memberships_of_group(&mut self, group_id: i64) -> StoreResult<Vec<MembershipRow>>;
    async fn membership_insert(&mut self, user_id: i64, group_id: i64) -> StoreResult<i64>;
    async fn membership_delete(&mut self, id: i64) -> StoreResult<()>;
}

#[macro_export]
macro_rules! impl_group_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::groups::store::GroupTx for $t {
            async fn group_get(
                &mut self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::groups::store::GroupRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, name, magic_group_type FROM permissions_group WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(self.conn())
                .await?)
            }

            async fn group_get_by_name(
                &mut self,
                name: &str,
            ) -> $crate::store::StoreResult<Option<$crate::groups::store::GroupRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, name, magic_group_type FROM permissions_group WHERE name_lower = $1",
                )
                .bind(name.to_lowercase())
                .fetch_optional(self.conn())
                .await?)
            }

            async fn group_list(
                &mut self,
            ) -> $crate::store::StoreResult<Vec<$crate::groups::store::GroupCountRow>> {
                Ok(sqlx::query_as(
                    "SELECT g.id, g.name, g.magic_group_type,
                        (SELECT count(*) FROM permissions_group_membership m
                         JOIN core_user u ON u.id = m.user_id
                         WHERE m.group_id = g.id AND u.is_active) AS member_count
                     FROM permissions_group g",
                )
                .fetch_all(self.conn())
                .await?)
            }

            async fn group_insert(
                &mut self,
                name: &str,
            ) -> $crate::store::StoreResult<$crate::groups::store::GroupRow> {
                Ok(sqlx::query_as(
                    "INSERT INTO permissions_group (name, name_lower) VALUES ($1, $2)
                     RETURNING id, name, magic_group_type",
                )
                .bind(name)
                .bind(name.to_lowercase())
                .fetch_one(self.conn())
                .await?)
            }

            async fn group_insert_fixed(
                &mut self,
                id: i64,
                name: &str,
                magic: &str,
            ) -> $crate::store::StoreResult<()> {
                // The default value keeps the identity sequence in step on PostgreSQL; the id is
                // checked so a non-empty table can never shift the fixed ids.
                let (got,): (i64,) = sqlx::query_as(
                    "INSERT INTO permissions_group (name, name_lower, magic_group_type)
                     VALUES ($1, $2, $3) RETURNING id",
                )
                .bind(name)
                .bind(name.to_lowercase())
                .bind(magic)
                .fetch_one(self.conn())
                .await?;
                if got != id {
                    return Err($crate::store::StoreError::Other(format!(
                        "fixed group {name} got id {got}, expected {id}"
                    )));
                }
                Ok(())
            }

            async fn group_rename(&mut self, id: i64, name: &str) -> $crate::store::StoreResult<()> {
                sqlx::query("UPDATE permissions_group SET name = $1, name_lower = $2 WHERE id = $3")
                    .bind(name)
                    .bind(name.to_lowercase())
                    .bind(id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn group_delete(&mut self, id: i64) -> $crate::store::StoreResult<()> {
                sqlx::query("DELETE FROM permissions_group_membership WHERE group_id = $1")
                    .bind(id)
                    .execute(self.conn())
                    .await?;
                sqlx::query("DELETE FROM permissions_group WHERE id = $1")
                    .bind(id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }

            async fn group_members(
                &mut self,
                group_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::groups::store::MemberRow>> {
                Ok(sqlx::query_as(
                    "SELECT m.id AS membership_id, m.user_id, m.group_id, u.email, u.first_name,
                        u.last_name, u.is_superuser
                     FROM permissions_group_membership m JOIN core_user u ON u.id = m.user_id
                     WHERE m.group_id = $1 AND u.is_active",
                )
                .bind(group_id)
                .fetch_all(self.conn())
                .await?)
            }

            async fn membership_all(
                &mut self,
            ) -> $crate::store::StoreResult<Vec<$crate::groups::store::MembershipRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, user_id, group_id FROM permissions_group_membership
                     ORDER BY user_id, group_id",
                )
                .fetch_all(self.conn())
                .await?)
            }

            async fn membership_get(
                &mut self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::groups::store::MembershipRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, user_id, group_id FROM permissions_group_membership WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(self.conn())
                .await?)
            }

            async fn membership_find(
                &mut self,
                user_id: i64,
                group_id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::groups::store::MembershipRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, user_id, group_id FROM permissions_group_membership
                     WHERE user_id = $1 AND group_id = $2",
                )
                .bind(user_id)
                .bind(group_id)
                .fetch_optional(self.conn())
                .await?)
            }

            async fn memberships_of_user(
                &mut self,
                user_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::groups::store::MembershipRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, user_id, group_id FROM permissions_group_membership
                     WHERE user_id = $1 ORDER BY group_id",
                )
                .bind(user_id)
                .fetch_all(self.conn())
                .await?)
            }

            async fn memberships_of_group(
                &mut self,
                group_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::groups::store::MembershipRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, user_id, group_id FROM permissions_group_membership
                     WHERE group_id = $1 ORDER BY user_id",
                )
                .bind(group_id)
                .fetch_all(self.conn())
                .await?)
            }

            async fn membership_insert(
                &mut self,
                user_id: i64,
                group_id: i64,
            ) -> $crate::store::StoreResult<i64> {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO permissions_group_membership (user_id, group_id) VALUES ($1, $2)
                     RETURNING id",
                )
                .bind(user_id)
                .bind(group_id)
                .fetch_one(self.conn())
                .await?;
                Ok(id)
            }

            async fn membership_delete(&mut self, id: i64) -> $crate::store::StoreResult<()> {
                sqlx::query("DELETE FROM permissions_group_membership WHERE id = $1")
                    .bind(id)
                    .execute(self.conn())
                    .await?;
                Ok(())
            }
        }
    };
}
