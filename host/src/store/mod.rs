//! The database: SQLite in the data directory (the default) or PostgreSQL,
//! through [`hangar_storage::db`], with migrations for each engine embedded
//! in the binary (`host/migrations/{sqlite,postgres}`).
//!
//! Each concept keeps its queries in its own file: [`kv`] for the plugins'
//! key-value store, [`alerts`] for alerts, [`meta`] for facts about the
//! installation.

pub mod alerts;
pub mod kv;
pub mod meta;

use std::path::Path;

use hangar_storage::db::{Db, DbError, Migrations};
use sqlx::AnyPool;

/// A database failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or migrated.
    #[error(transparent)]
    Open(#[from] DbError),
    /// A query failed.
    #[error("database query failed: {0}")]
    Query(sqlx::Error),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        crate::metrics::database::failed(&err);
        Self::Query(err)
    }
}

/// The host's schema, for each engine.
fn migrations() -> Migrations {
    Migrations {
        sqlite: sqlx::migrate!("./migrations/sqlite"),
        postgres: sqlx::migrate!("./migrations/postgres"),
        table: None,
    }
}

/// Handle to the database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Database {
    db: Db,
}

impl Database {
    /// Connects to `url` (`sqlite://...` or `postgres://...`) and applies the
    /// migrations.
    ///
    /// # Errors
    /// When the database cannot be reached or a migration fails.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        // PostgreSQL runs the hub's parallel writers and the readers side by
        // side; SQLite has one writer however many connections it has.
        let max = match hangar_storage::Dialect::of_url(url)? {
            hangar_storage::Dialect::Sqlite => 8,
            hangar_storage::Dialect::Postgres => 16,
        };
        let db = Db::connect(url, max).await?;
        db.migrate(&migrations()).await?;
        Ok(Self { db })
    }

    /// Opens (creating if needed) `hangar.db` in `data_dir`: the embedded
    /// default.
    ///
    /// # Errors
    /// When the file cannot be opened or a migration fails.
    pub async fn open(data_dir: &Path) -> Result<Self, StoreError> {
        Self::connect(&Self::default_url(data_dir)).await
    }

    /// The embedded default's URL: `hangar.db` in `data_dir`.
    pub fn default_url(data_dir: &Path) -> String {
        Db::sqlite_url(&data_dir.join("hangar.db"))
    }

    /// The connection pool, for modules that keep their own queries.
    pub fn pool(&self) -> &AnyPool {
        self.db.pool()
    }

    /// The engine-aware handle: write transactions, dialect.
    pub fn db(&self) -> &Db {
        &self.db
    }
}

/// Milliseconds since the Unix epoch, as stored in the database.
pub fn now_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(now.as_millis()).unwrap_or(i64::MAX)
}
