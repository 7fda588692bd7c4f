//! Key/value settings rows.
use async_trait::async_trait;

use crate::store::StoreResult;

#[async_trait]
pub trait SettingsTx {
    async fn setting_get(&mut self, key: &str) -> StoreResult<Option<String>>;
    async fn setting_set(&mut self, key: &str, value: Option<&str>) -> StoreResult<()>;
}

#[macro_export]
macro_rules! impl_settings_tx {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::settings::store::SettingsTx for $t {
            async fn setting_get(
                &mut self,
                key: &str,
            ) -> $crate::store::StoreResult<Option<String>> {
                let row: Option<(Option<String>,)> =
                    sqlx::query_as("SELECT value FROM setting WHERE key = $1")
                        .bind(key)
                        .fetch_optional(self.conn())
                        .await?;
                Ok(row.and_then(|r| r.0))
            }

            async fn setting_set(
                &mut self,
                key: &str,
                value: Option<&str>,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query(
                    "INSERT INTO setting (key, value) VALUES ($1, $2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .bind(key)
                .bind(value)
                .execute(self.conn())
                .await?;
                Ok(())
            }
        }
    };
}
