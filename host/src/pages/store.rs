//! Pages and their revisions in the database.

use sqlx::Row;

use crate::store::{Database, now_ms};

/// A stored page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Saved {
    /// Page id.
    pub id: String,
    /// Revision, from 1.
    pub revision: i64,
    /// The schema as JSON text.
    pub schema: String,
    /// Last saved, ms since the epoch.
    pub updated_ms: i64,
    /// Who saved it.
    pub updated_by: String,
}

/// Why a save did not happen.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    /// The page changed since the revision the client edited.
    #[error(
        "page {id} is at revision {current}, not {expected}: load it again and reapply your change"
    )]
    Conflict {
        /// Page.
        id: String,
        /// Revision the client had.
        expected: i64,
        /// Revision stored.
        current: i64,
    },
    /// The page exists and the client did not say which revision it edited.
    #[error("page {0} exists: send If-Match with the ETag you loaded")]
    PreconditionRequired(String),
    /// The database failed.
    #[error("page store: {0}")]
    Db(sqlx::Error),
}

impl From<sqlx::Error> for SaveError {
    fn from(err: sqlx::Error) -> Self {
        crate::metrics::database::failed(&err);
        Self::Db(err)
    }
}

/// The page store.
#[derive(Debug, Clone)]
pub struct PageStore {
    db: Database,
}

fn saved(row: &sqlx::any::AnyRow) -> Result<Saved, sqlx::Error> {
    Ok(Saved {
        id: row.try_get("id")?,
        revision: row.try_get("revision")?,
        schema: row.try_get("schema")?,
        updated_ms: row.try_get("updated_ms")?,
        updated_by: row.try_get("updated_by")?,
    })
}

impl PageStore {
    /// Pages in `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// The current revision of a page.
    ///
    /// # Errors
    /// The database failed.
    pub async fn get(&self, id: &str) -> Result<Option<Saved>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, revision, schema, updated_ms, updated_by FROM pages WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(saved).transpose()
    }

    /// One saved revision.
    ///
    /// # Errors
    /// The database failed.
    pub async fn revision(&self, id: &str, revision: i64) -> Result<Option<Saved>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, revision, schema, saved_ms AS updated_ms, saved_by AS updated_by \
             FROM page_revisions WHERE id = $1 AND revision = $2",
        )
        .bind(id)
        .bind(revision)
        .fetch_optional(self.db.pool())
        .await?;
        row.as_ref().map(saved).transpose()
    }

    /// Every revision number with when and by whom, newest first.
    ///
    /// # Errors
    /// The database failed.
    pub async fn revisions(&self, id: &str) -> Result<Vec<(i64, i64, String)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT revision, saved_ms, saved_by FROM page_revisions WHERE id = $1 ORDER BY revision DESC",
        )
        .bind(id)
        .fetch_all(self.db.pool())
        .await
    }

    /// Saves a new revision if the page is at `expected` (`None`: the page
    /// must not exist yet). Returns the new revision.
    ///
    /// # Errors
    /// [`SaveError`].
    pub async fn save(
        &self,
        id: &str,
        expected: Option<i64>,
        schema: &str,
        by: &str,
    ) -> Result<Saved, SaveError> {
        // Concurrent saves of a page queue on its write scope: one wins,
        // the others see a changed revision and get a conflict.
        let now = now_ms();
        let scope = format!("page:{id}");
        let mut tx = self.db.db().begin_write(&[&scope], false).await?;
        let next = match expected {
            None => {
                let inserted = sqlx::query(
                    "INSERT INTO pages (id, revision, schema, updated_ms, updated_by) \
                     VALUES ($1, 1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
                )
                .bind(id)
                .bind(schema)
                .bind(now)
                .bind(by)
                .execute(&mut *tx)
                .await?;
                if inserted.rows_affected() == 0 {
                    return Err(SaveError::PreconditionRequired(id.to_owned()));
                }
                1
            }
            Some(expected) => {
                let updated = sqlx::query(
                    "UPDATE pages SET revision = revision + 1, schema = $1, updated_ms = $2, \
                     updated_by = $3 WHERE id = $4 AND revision = $5",
                )
                .bind(schema)
                .bind(now)
                .bind(by)
                .bind(id)
                .bind(expected)
                .execute(&mut *tx)
                .await?;
                if updated.rows_affected() == 0 {
                    let current: Option<(i64,)> =
                        sqlx::query_as("SELECT revision FROM pages WHERE id = $1")
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?;
                    return Err(SaveError::Conflict {
                        id: id.to_owned(),
                        expected,
                        current: current.map_or(0, |(c,)| c),
                    });
                }
                expected + 1
            }
        };
        sqlx::query("INSERT INTO page_revisions (id, revision, schema, saved_ms, saved_by) VALUES ($1, $2, $3, $4, $5)")
            .bind(id)
            .bind(next)
            .bind(schema)
            .bind(now)
            .bind(by)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Saved {
            id: id.to_owned(),
            revision: next,
            schema: schema.to_owned(),
            updated_ms: now,
            updated_by: by.to_owned(),
        })
    }
}
