//! Facts about this installation (`meta` table), such as the demo having
//! finished installing.

use super::{Database, StoreError};

impl Database {
    /// The value of `key`, if set.
    ///
    /// # Errors
    /// When the query fails.
    pub async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT value FROM meta WHERE key = $1")
            .bind(key)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|(value,)| value))
    }

    /// Sets `key` to `value`.
    ///
    /// # Errors
    /// When the query fails.
    pub async fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
