//! The plugins' key-value store, with a byte quota per plugin.

use super::{Database, StoreError};

/// Longest key a plugin may use, in bytes.
pub const MAX_KEY_BYTES: usize = 256;

/// Why a write was refused.
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    /// The write would take the plugin past its quota.
    #[error("key-value quota of {quota} bytes exceeded")]
    QuotaExceeded {
        /// The quota in bytes.
        quota: u64,
    },
    /// Empty or longer than [`MAX_KEY_BYTES`].
    #[error("invalid key: must be 1 to {MAX_KEY_BYTES} bytes")]
    InvalidKey,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for KvError {
    fn from(err: sqlx::Error) -> Self {
        Self::Store(StoreError::from(err))
    }
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= MAX_KEY_BYTES
}

impl Database {
    /// The value of `key` in `plugin`'s store.
    ///
    /// # Errors
    /// When the query fails.
    pub async fn kv_get(&self, plugin: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if !valid_key(key) {
            return Ok(None);
        }
        let row: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT value FROM plugin_kv WHERE plugin = $1 AND key = $2")
                .bind(plugin)
                .bind(key)
                .fetch_optional(self.pool())
                .await?;
        Ok(row.map(|(value,)| value))
    }

    /// Stores `value` under `key` unless the plugin's usage (keys plus
    /// values) would exceed `quota` bytes. Usage check and write are one
    /// transaction, so concurrent writers cannot overshoot the quota.
    ///
    /// # Errors
    /// [`KvError::QuotaExceeded`], [`KvError::InvalidKey`], or a database error.
    pub async fn kv_set(
        &self,
        plugin: &str,
        key: &str,
        value: &[u8],
        quota: u64,
    ) -> Result<(), KvError> {
        if !valid_key(key) {
            return Err(KvError::InvalidKey);
        }
        // A write transaction over this plugin's store: two writers cannot
        // both read the old usage and both commit. It rolls back when
        // dropped, so a caller that gives up mid-way (a plugin call out of
        // host budget) never leaves a transaction open on a pooled connection.
        let scope = format!("kv:{plugin}");
        let mut tx = self.db().begin_write(&[&scope], false).await?;
        let (others,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(octet_length(key) + octet_length(value)), 0) AS BIGINT)
             FROM plugin_kv WHERE plugin = $1 AND key <> $2",
        )
        .bind(plugin)
        .bind(key)
        .fetch_one(&mut *tx)
        .await?;
        let usage = u64::try_from(others).unwrap_or(0) + (key.len() + value.len()) as u64;
        if usage > quota {
            return Err(KvError::QuotaExceeded { quota });
        }
        sqlx::query(
            "INSERT INTO plugin_kv (plugin, key, value) VALUES ($1, $2, $3)
             ON CONFLICT (plugin, key) DO UPDATE SET value = excluded.value",
        )
        .bind(plugin)
        .bind(key)
        .bind(value)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Removes `key` from `plugin`'s store.
    ///
    /// # Errors
    /// When the query fails.
    pub async fn kv_delete(&self, plugin: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM plugin_kv WHERE plugin = $1 AND key = $2")
            .bind(plugin)
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Bytes used by `plugin` (keys plus values).
    ///
    /// # Errors
    /// When the query fails.
    pub async fn kv_usage(&self, plugin: &str) -> Result<u64, StoreError> {
        let (usage,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(octet_length(key) + octet_length(value)), 0) AS BIGINT)
             FROM plugin_kv WHERE plugin = $1",
        )
        .bind(plugin)
        .fetch_one(self.pool())
        .await?;
        Ok(u64::try_from(usage).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn quota_counts_keys_and_values_and_replacements() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(dir.path()).await.unwrap();
        db.kv_set("p", "k", b"12345", 10).await.unwrap();
        assert_eq!(db.kv_usage("p").await.unwrap(), 6);
        // Replacing a value frees the old one first.
        db.kv_set("p", "k", b"123456789", 10).await.unwrap();
        let err = db.kv_set("p", "k2", b"x", 10).await.unwrap_err();
        assert!(matches!(err, KvError::QuotaExceeded { quota: 10 }), "{err}");
        // The refused write changed nothing; other plugins are separate.
        assert_eq!(db.kv_get("p", "k").await.unwrap().unwrap(), b"123456789");
        assert_eq!(db.kv_get("p", "k2").await.unwrap(), None);
        db.kv_set("q", "k", b"123456789", 10).await.unwrap();
        db.kv_delete("p", "k").await.unwrap();
        assert_eq!(db.kv_usage("p").await.unwrap(), 0);
        assert!(matches!(
            db.kv_set("p", "", b"", 10).await,
            Err(KvError::InvalidKey)
        ));
    }
}
