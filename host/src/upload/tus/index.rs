//! What the tus endpoint keeps in the database: its uploads and the parts
//! of their bytes. [`TusIndex`] is part of every upload index.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::upload::index::{IndexError, SqlIndex, UploadState, to_i64, to_u64};

/// How an upload takes part in concatenation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Concat {
    /// An upload of its own: a file once complete.
    None,
    /// A piece of a later final upload; never a file by itself.
    Partial,
    /// The concatenation of these partial uploads, in order.
    Final(Vec<String>),
}

/// One tus upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TusRecord {
    /// Upload id (`t_…`).
    pub id: String,
    /// The user who created it.
    pub owner: String,
    /// Its length; `None` while deferred.
    pub length: Option<u64>,
    /// Bytes stored (the offset the next `PATCH` starts at).
    pub received: u64,
    /// `Upload-Metadata` as the client sent it.
    pub metadata: String,
    /// File name (metadata only).
    pub name: String,
    /// Declared (or guessed) content type.
    pub content_type: String,
    /// Its part in concatenation.
    pub concat: Concat,
    /// Open, or registered as a file.
    pub state: UploadState,
    /// The file, once complete.
    pub file_id: Option<String>,
    /// Created, ms since the epoch.
    pub created_ms: i64,
    /// Removed after this, ms since the epoch.
    pub expires_ms: i64,
}

impl TusRecord {
    /// Every byte is stored.
    pub fn is_full(&self) -> bool {
        self.length == Some(self.received)
    }
}

/// A stored run of an upload's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TusPart {
    /// Offset of its first byte in the upload.
    pub start: u64,
    /// Its length.
    pub len: u64,
    /// Where it is in the object store.
    pub location: String,
}

/// The tus uploads' metadata.
#[async_trait]
pub trait TusIndex {
    /// Stores a new upload.
    async fn tus_create(&self, upload: &TusRecord) -> Result<(), IndexError>;
    /// One upload.
    async fn tus_upload(&self, id: &str) -> Result<Option<TusRecord>, IndexError>;
    /// Sets a deferred length; false when the length was already set or
    /// the upload is gone.
    async fn tus_set_length(&self, id: &str, length: u64) -> Result<bool, IndexError>;
    /// Records stored parts that continue the upload at `start`, in one
    /// transaction, and extends its life; false (nothing recorded) when the
    /// upload is gone, complete, or no longer at `start`.
    async fn tus_append(
        &self,
        id: &str,
        start: u64,
        parts: &[TusPart],
        expires_ms: i64,
    ) -> Result<bool, IndexError>;
    /// The upload's parts in order.
    async fn tus_parts(&self, id: &str) -> Result<Vec<TusPart>, IndexError>;
    /// Removes an upload and its parts' rows; false when it was gone.
    async fn tus_delete(&self, id: &str) -> Result<bool, IndexError>;
    /// Uploads past their expiry, at most `limit`.
    async fn tus_expired(&self, now_ms: i64, limit: u32) -> Result<Vec<String>, IndexError>;
    /// Ids of the open uploads (to find parts nothing refers to).
    async fn tus_open_ids(&self) -> Result<Vec<String>, IndexError>;
}

macro_rules! tus_columns {
    () => {
        "id, owner, length, received, metadata, name, content_type, concat, parts, state, \
         file_id, created_ms, expires_ms"
    };
}

fn tus_row(row: &AnyRow) -> Result<TusRecord, sqlx::Error> {
    let concat: String = row.try_get("concat")?;
    let parts: String = row.try_get("parts")?;
    let state: String = row.try_get("state")?;
    Ok(TusRecord {
        id: row.try_get("id")?,
        owner: row.try_get("owner")?,
        length: row.try_get::<Option<i64>, _>("length")?.map(to_u64),
        received: to_u64(row.try_get("received")?),
        metadata: row.try_get("metadata")?,
        name: row.try_get("name")?,
        content_type: row.try_get("content_type")?,
        concat: match concat.as_str() {
            "partial" => Concat::Partial,
            "final" => Concat::Final(parts.split_whitespace().map(str::to_owned).collect()),
            _ => Concat::None,
        },
        state: if state == "complete" {
            UploadState::Complete
        } else {
            UploadState::Open
        },
        file_id: row.try_get("file_id")?,
        created_ms: row.try_get("created_ms")?,
        expires_ms: row.try_get("expires_ms")?,
    })
}

#[async_trait]
impl TusIndex for SqlIndex {
    async fn tus_create(&self, u: &TusRecord) -> Result<(), IndexError> {
        let (concat, parts) = match &u.concat {
            Concat::None => ("none", String::new()),
            Concat::Partial => ("partial", String::new()),
            Concat::Final(parts) => ("final", parts.join(" ")),
        };
        sqlx::query(concat!(
            "INSERT INTO tus_uploads (",
            tus_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'open', NULL, $10, $11)"
        ))
        .bind(&u.id)
        .bind(&u.owner)
        .bind(u.length.map(to_i64))
        .bind(to_i64(u.received))
        .bind(&u.metadata)
        .bind(&u.name)
        .bind(&u.content_type)
        .bind(concat)
        .bind(parts)
        .bind(u.created_ms)
        .bind(u.expires_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    async fn tus_upload(&self, id: &str) -> Result<Option<TusRecord>, IndexError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            tus_columns!(),
            " FROM tus_uploads WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(tus_row).transpose()?)
    }

    async fn tus_set_length(&self, id: &str, length: u64) -> Result<bool, IndexError> {
        let done = sqlx::query(
            "UPDATE tus_uploads SET length = $1 WHERE id = $2 AND length IS NULL AND received <= $1",
        )
        .bind(to_i64(length))
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn tus_append(
        &self,
        id: &str,
        start: u64,
        parts: &[TusPart],
        expires_ms: i64,
    ) -> Result<bool, IndexError> {
        let added: u64 = parts.iter().map(|p| p.len).sum();
        let scope = format!("upload:{id}");
        let mut tx = self.begin_write(&scope).await?;
        let moved = sqlx::query(
            "UPDATE tus_uploads SET received = received + $1, expires_ms = $2 \
             WHERE id = $3 AND received = $4 AND state = 'open'",
        )
        .bind(to_i64(added))
        .bind(expires_ms)
        .bind(id)
        .bind(to_i64(start))
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            return Ok(false);
        }
        for part in parts {
            sqlx::query(
                "INSERT INTO tus_parts (upload_id, start, len, location) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(to_i64(part.start))
            .bind(to_i64(part.len))
            .bind(&part.location)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn tus_parts(&self, id: &str) -> Result<Vec<TusPart>, IndexError> {
        let rows: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT start, len, location FROM tus_parts WHERE upload_id = $1 ORDER BY start",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(start, len, location)| TusPart {
                start: to_u64(start),
                len: to_u64(len),
                location,
            })
            .collect())
    }

    async fn tus_delete(&self, id: &str) -> Result<bool, IndexError> {
        let done = sqlx::query("DELETE FROM tus_uploads WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn tus_expired(&self, now_ms: i64, limit: u32) -> Result<Vec<String>, IndexError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT id FROM tus_uploads WHERE expires_ms < $1 LIMIT $2")
                .bind(now_ms)
                .bind(i64::from(limit))
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn tus_open_ids(&self) -> Result<Vec<String>, IndexError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT id FROM tus_uploads WHERE state = 'open'")
                .fetch_all(self.pool())
                .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }
}
