//! Upload metadata: uploads in progress, received chunks, stored objects and
//! files. [`UploadIndex`] is what the upload store needs from a database;
//! [`SqlIndex`] keeps it in the host's database (SQLite or PostgreSQL).

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::sizing::Layout;
use crate::store::Database;

/// A database failure of the upload index.
#[derive(Debug, thiserror::Error)]
#[error("upload index query failed: {0}")]
pub struct IndexError(sqlx::Error);

impl From<sqlx::Error> for IndexError {
    fn from(err: sqlx::Error) -> Self {
        crate::metrics::database::failed(&err);
        Self(err)
    }
}

/// Where an upload stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadState {
    /// Accepting chunks.
    Open,
    /// Registered as a file.
    Complete,
}

/// The byte range a client must hash to prove it holds a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Challenge {
    /// First byte.
    pub offset: u64,
    /// Number of bytes.
    pub length: u64,
}

/// One upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadRecord {
    /// Upload id.
    pub id: String,
    /// The user who opened it.
    pub owner: String,
    /// File name (metadata only).
    pub name: String,
    /// Content type the client declared (or guessed from the name).
    pub content_type: String,
    /// Size and chunking.
    pub layout: Layout,
    /// Declared whole-file MD5, lowercase hex.
    pub md5: String,
    /// Open or complete.
    pub state: UploadState,
    /// The client's SHA-256 of the file, when it asked for instant upload.
    pub sha256_claim: Option<String>,
    /// The range it must prove.
    pub challenge: Option<Challenge>,
    /// Whether the one proof attempt was spent.
    pub proof_used: bool,
    /// The file, once complete.
    pub file_id: Option<String>,
    /// Opened, ms since the epoch.
    pub created_ms: i64,
    /// Removed after this, ms since the epoch.
    pub expires_ms: i64,
}

/// Stored content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectRecord {
    /// SHA-256, lowercase hex: the object's address.
    pub sha256: String,
    /// Size.
    pub size: u64,
    /// MD5, lowercase hex.
    pub md5: String,
    /// Files using it.
    pub refs: u64,
    /// Where its bytes are in the object store.
    pub location: String,
}

/// A registered file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FileRecord {
    /// File id.
    pub id: String,
    /// Uploader.
    pub owner: String,
    /// Name (metadata only).
    pub name: String,
    /// Size.
    pub size: u64,
    /// MD5, lowercase hex.
    pub md5: String,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// Content type served.
    pub content_type: String,
    /// Served inline (raster images) rather than as an attachment.
    pub inline: bool,
    /// Registered, ms since the epoch.
    pub created_ms: i64,
}

/// What deleting a file left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    /// The object the file used.
    pub sha256: String,
    /// Where the object's bytes are.
    pub location: String,
    /// Whether no file uses it any more: its blob is in the trash.
    pub orphaned: bool,
}

/// The content a file registers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Content<'a> {
    /// A merged blob at `location`. It becomes the object's if there is
    /// none; if there is one, the object keeps its location and the merged
    /// blob goes to the trash, unless `replace` (the object's blob is
    /// missing): then the object moves to `location`.
    Merged {
        /// Where the merge wrote the bytes.
        location: &'a str,
        /// The existing object's blob is missing.
        replace: bool,
    },
    /// The stored object with the file's SHA-256 (an instant upload).
    Existing,
}

/// What registering did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registration {
    /// Registered; the object's bytes are at this location (the merged
    /// blob's, or an existing object's with the same content).
    Stored(String),
    /// The upload is no longer open (removed, or completed elsewhere):
    /// nothing changed.
    UploadGone,
    /// [`Content::Existing`], and there is no such object (any more):
    /// nothing changed.
    ObjectGone,
}

/// The upload a file registers from: a native one (`uploads`) or a tus one
/// (`tus_uploads`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source<'a> {
    /// A native upload's id.
    Native(&'a str),
    /// A tus upload's id.
    Tus(&'a str),
}

impl Source<'_> {
    /// The upload's id.
    pub fn id(&self) -> &str {
        match self {
            Self::Native(id) | Self::Tus(id) => id,
        }
    }
}

/// The metadata the upload store keeps.
#[async_trait]
pub trait UploadIndex: super::tus::index::TusIndex + Send + Sync + std::fmt::Debug {
    /// Stores a new upload.
    async fn create(&self, upload: &UploadRecord) -> Result<(), IndexError>;
    /// The open upload of this owner for this file, if any.
    async fn find_open(
        &self,
        owner: &str,
        md5: &str,
        size: u64,
        name: &str,
    ) -> Result<Option<UploadRecord>, IndexError>;
    /// One upload.
    async fn upload(&self, id: &str) -> Result<Option<UploadRecord>, IndexError>;
    /// Records the client's SHA-256 and its challenge.
    async fn set_challenge(
        &self,
        id: &str,
        sha256: &str,
        challenge: Challenge,
    ) -> Result<(), IndexError>;
    /// Spends the one proof attempt; false when it was already spent.
    async fn spend_proof(&self, id: &str) -> Result<bool, IndexError>;
    /// Indexes of the chunks received, ascending.
    async fn received(&self, id: &str) -> Result<Vec<u32>, IndexError>;
    /// Records a written, verified chunk and extends the upload's life;
    /// false when the upload is gone or no longer open.
    async fn add_chunk(
        &self,
        id: &str,
        index: u32,
        md5: &str,
        expires_ms: i64,
    ) -> Result<bool, IndexError>;
    /// Stored content by SHA-256.
    async fn object(&self, sha256: &str) -> Result<Option<ObjectRecord>, IndexError>;
    /// In one transaction, if the upload is still open: counts a reference
    /// to the object (see [`Content`]), registers the file, and marks the
    /// upload complete.
    async fn register(
        &self,
        upload: Source<'_>,
        file: &FileRecord,
        content: Content<'_>,
    ) -> Result<Registration, IndexError>;
    /// Removes an upload and its chunk rows; an open upload's merge target
    /// (`merged`) goes to the trash in the same transaction.
    async fn delete_upload(&self, id: &str, merged: &str) -> Result<(), IndexError>;
    /// Blobs in the trash, oldest first, at most `limit`.
    async fn trash(&self, limit: u32) -> Result<Vec<String>, IndexError>;
    /// Forgets a trashed blob once it is deleted.
    async fn untrash(&self, location: &str) -> Result<(), IndexError>;
    /// Uploads to remove: open past their expiry, or complete past it.
    async fn expired(&self, now_ms: i64, limit: u32) -> Result<Vec<String>, IndexError>;
    /// Ids of open uploads (to find chunks nothing refers to).
    async fn open_ids(&self) -> Result<Vec<String>, IndexError>;
    /// One file.
    async fn file(&self, id: &str) -> Result<Option<FileRecord>, IndexError>;
    /// The newest files first, at most `limit`.
    async fn recent_files(&self, limit: u32) -> Result<Vec<FileRecord>, IndexError>;
    /// Deletes a file and releases its reference to the object.
    async fn delete_file(&self, id: &str) -> Result<Option<Released>, IndexError>;
    /// Records that a file was sent to a conversation.
    async fn share(&self, file_id: &str, room: &str) -> Result<(), IndexError>;
    /// Whether the file was sent to a conversation of this customer.
    async fn shared_with_customer(&self, file_id: &str, user: &str) -> Result<bool, IndexError>;
}

/// [`UploadIndex`] in the host's database.
#[derive(Debug, Clone)]
pub struct SqlIndex {
    db: Database,
}

impl SqlIndex {
    /// The index in `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    pub(in crate::upload) fn pool(&self) -> &sqlx::AnyPool {
        self.db.pool()
    }

    /// A write transaction holding the lock of `scope` (PostgreSQL).
    pub(in crate::upload) async fn begin_write(
        &self,
        scope: &str,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        self.db.db().begin_write(&[scope], false).await
    }
}

// Macros, not constants: queries stay string literals (sqlx's guard
// against SQL built at run time).
macro_rules! upload_columns {
    () => {
        "id, owner, name, content_type, size, md5, chunk_size, chunk_count, state, \
         sha256_claim, challenge_offset, challenge_length, proof_used, file_id, created_ms, expires_ms"
    };
}

macro_rules! file_columns {
    () => {
        "id, owner, name, size, md5, sha256, content_type, inline, created_ms"
    };
}

pub(in crate::upload) fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

pub(in crate::upload) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn upload_row(row: &AnyRow) -> Result<UploadRecord, sqlx::Error> {
    let state: String = row.try_get("state")?;
    let offset: Option<i64> = row.try_get("challenge_offset")?;
    let length: Option<i64> = row.try_get("challenge_length")?;
    let chunk_count: i64 = row.try_get("chunk_count")?;
    Ok(UploadRecord {
        id: row.try_get("id")?,
        owner: row.try_get("owner")?,
        name: row.try_get("name")?,
        content_type: row.try_get("content_type")?,
        layout: Layout {
            size: to_u64(row.try_get("size")?),
            chunk_size: to_u64(row.try_get("chunk_size")?),
            chunk_count: u32::try_from(chunk_count).unwrap_or(0),
        },
        md5: row.try_get("md5")?,
        state: if state == "complete" {
            UploadState::Complete
        } else {
            UploadState::Open
        },
        sha256_claim: row.try_get("sha256_claim")?,
        challenge: offset.zip(length).map(|(offset, length)| Challenge {
            offset: to_u64(offset),
            length: to_u64(length),
        }),
        proof_used: row.try_get::<i64, _>("proof_used")? != 0,
        file_id: row.try_get("file_id")?,
        created_ms: row.try_get("created_ms")?,
        expires_ms: row.try_get("expires_ms")?,
    })
}

fn file_row(row: &AnyRow) -> Result<FileRecord, sqlx::Error> {
    Ok(FileRecord {
        id: row.try_get("id")?,
        owner: row.try_get("owner")?,
        name: row.try_get("name")?,
        size: to_u64(row.try_get("size")?),
        md5: row.try_get("md5")?,
        sha256: row.try_get("sha256")?,
        content_type: row.try_get("content_type")?,
        inline: row.try_get::<i64, _>("inline")? != 0,
        created_ms: row.try_get("created_ms")?,
    })
}

/// Records, in `tx`, that the blob at `location` is garbage.
async fn put_in_trash(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    location: &str,
    since_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO blob_trash (location, since_ms) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(location)
    .bind(since_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[async_trait]
impl UploadIndex for SqlIndex {
    async fn create(&self, u: &UploadRecord) -> Result<(), IndexError> {
        sqlx::query(
            "INSERT INTO uploads (id, owner, name, content_type, size, md5, chunk_size, chunk_count, \
             state, created_ms, expires_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $10)",
        )
        .bind(&u.id)
        .bind(&u.owner)
        .bind(&u.name)
        .bind(&u.content_type)
        .bind(to_i64(u.layout.size))
        .bind(&u.md5)
        .bind(to_i64(u.layout.chunk_size))
        .bind(i64::from(u.layout.chunk_count))
        .bind(u.created_ms)
        .bind(u.expires_ms)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    async fn find_open(
        &self,
        owner: &str,
        md5: &str,
        size: u64,
        name: &str,
    ) -> Result<Option<UploadRecord>, IndexError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            upload_columns!(),
            " FROM uploads WHERE owner = $1 AND md5 = $2 AND size = $3 AND name = $4 \
             AND state = 'open' ORDER BY created_ms DESC LIMIT 1"
        ))
        .bind(owner)
        .bind(md5)
        .bind(to_i64(size))
        .bind(name)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.as_ref().map(upload_row).transpose()?)
    }

    async fn upload(&self, id: &str) -> Result<Option<UploadRecord>, IndexError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            upload_columns!(),
            " FROM uploads WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.as_ref().map(upload_row).transpose()?)
    }

    async fn set_challenge(
        &self,
        id: &str,
        sha256: &str,
        challenge: Challenge,
    ) -> Result<(), IndexError> {
        sqlx::query(
            "UPDATE uploads SET sha256_claim = $1, challenge_offset = $2, challenge_length = $3 \
             WHERE id = $4 AND challenge_offset IS NULL",
        )
        .bind(sha256)
        .bind(to_i64(challenge.offset))
        .bind(to_i64(challenge.length))
        .bind(id)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    async fn spend_proof(&self, id: &str) -> Result<bool, IndexError> {
        let done = sqlx::query(
            "UPDATE uploads SET proof_used = 1 WHERE id = $1 AND proof_used = 0 AND state = 'open'",
        )
        .bind(id)
        .execute(self.db.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn received(&self, id: &str) -> Result<Vec<u32>, IndexError> {
        let rows: Vec<(i64,)> =
            sqlx::query_as("SELECT idx FROM upload_chunks WHERE upload_id = $1 ORDER BY idx")
                .bind(id)
                .fetch_all(self.db.pool())
                .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(i,)| u32::try_from(i).ok())
            .collect())
    }

    async fn add_chunk(
        &self,
        id: &str,
        index: u32,
        md5: &str,
        expires_ms: i64,
    ) -> Result<bool, IndexError> {
        let scope = format!("upload:{id}");
        let mut tx = self.db.db().begin_write(&[&scope], false).await?;
        let open =
            sqlx::query("UPDATE uploads SET expires_ms = $1 WHERE id = $2 AND state = 'open'")
                .bind(expires_ms)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        if open.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("INSERT INTO upload_chunks (upload_id, idx, md5) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(i64::from(index))
            .bind(md5)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn object(&self, sha256: &str) -> Result<Option<ObjectRecord>, IndexError> {
        let row: Option<(String, i64, String, i64, String)> = sqlx::query_as(
            "SELECT sha256, size, md5, refs, location FROM upload_objects \
             WHERE sha256 = $1 AND refs > 0",
        )
        .bind(sha256)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.map(|(sha256, size, md5, refs, location)| ObjectRecord {
            sha256,
            size: to_u64(size),
            md5,
            refs: to_u64(refs),
            location,
        }))
    }

    async fn register(
        &self,
        upload: Source<'_>,
        f: &FileRecord,
        content: Content<'_>,
    ) -> Result<Registration, IndexError> {
        let upload_id = upload.id();
        let scopes = [
            format!("object:{}", f.sha256),
            format!("upload:{upload_id}"),
        ];
        let mut tx = self
            .db
            .db()
            .begin_write(&[&scopes[0], &scopes[1]], false)
            .await?;
        let complete = match upload {
            Source::Native(_) => {
                "UPDATE uploads SET state = 'complete', file_id = $1 WHERE id = $2 AND state = 'open'"
            }
            Source::Tus(_) => {
                "UPDATE tus_uploads SET state = 'complete', file_id = $1 WHERE id = $2 AND state = 'open'"
            }
        };
        let completed = sqlx::query(complete)
            .bind(&f.id)
            .bind(upload_id)
            .execute(&mut *tx)
            .await?;
        if completed.rows_affected() == 0 {
            return Ok(Registration::UploadGone);
        }
        let previous: Option<(String,)> =
            sqlx::query_as("SELECT location FROM upload_objects WHERE sha256 = $1")
                .bind(&f.sha256)
                .fetch_optional(&mut *tx)
                .await?;
        let stored = match (previous, content) {
            // Dropping the transaction rolls the upload's update back.
            (None, Content::Existing) => return Ok(Registration::ObjectGone),
            (Some((existing,)), Content::Existing) => {
                sqlx::query("UPDATE upload_objects SET refs = refs + 1 WHERE sha256 = $1")
                    .bind(&f.sha256)
                    .execute(&mut *tx)
                    .await?;
                existing
            }
            (None, Content::Merged { location, .. }) => {
                sqlx::query(
                    "INSERT INTO upload_objects (sha256, size, md5, refs, created_ms, location) \
                     VALUES ($1, $2, $3, 1, $4, $5)",
                )
                .bind(&f.sha256)
                .bind(to_i64(f.size))
                .bind(&f.md5)
                .bind(f.created_ms)
                .bind(location)
                .execute(&mut *tx)
                .await?;
                location.to_owned()
            }
            (Some((existing,)), Content::Merged { location, replace }) => {
                let (keep, drop) = if replace && existing != location {
                    (location, existing.as_str())
                } else {
                    (existing.as_str(), location)
                };
                sqlx::query(
                    "UPDATE upload_objects SET refs = refs + 1, location = $1 WHERE sha256 = $2",
                )
                .bind(keep)
                .bind(&f.sha256)
                .execute(&mut *tx)
                .await?;
                if drop != keep {
                    put_in_trash(&mut tx, drop, f.created_ms).await?;
                }
                keep.to_owned()
            }
        };
        sqlx::query(concat!(
            "INSERT INTO files (",
            file_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&f.id)
        .bind(&f.owner)
        .bind(&f.name)
        .bind(to_i64(f.size))
        .bind(&f.md5)
        .bind(&f.sha256)
        .bind(&f.content_type)
        .bind(i64::from(f.inline))
        .bind(f.created_ms)
        .execute(&mut *tx)
        .await?;
        let parts = match upload {
            Source::Native(_) => "DELETE FROM upload_chunks WHERE upload_id = $1",
            Source::Tus(_) => "DELETE FROM tus_parts WHERE upload_id = $1",
        };
        sqlx::query(parts).bind(upload_id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(Registration::Stored(stored))
    }

    async fn delete_upload(&self, id: &str, merged: &str) -> Result<(), IndexError> {
        let scope = format!("upload:{id}");
        let mut tx = self.db.db().begin_write(&[&scope], false).await?;
        let state: Option<(String,)> =
            sqlx::query_as("DELETE FROM uploads WHERE id = $1 RETURNING state")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        // A complete upload's merged blob is its file's content (or was
        // trashed when it registered): only an open one's is garbage.
        if state.is_some_and(|(state,)| state == "open") {
            put_in_trash(&mut tx, merged, crate::store::now_ms()).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn trash(&self, limit: u32) -> Result<Vec<String>, IndexError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT location FROM blob_trash ORDER BY since_ms LIMIT $1")
                .bind(i64::from(limit))
                .fetch_all(self.db.pool())
                .await?;
        Ok(rows.into_iter().map(|(location,)| location).collect())
    }

    async fn untrash(&self, location: &str) -> Result<(), IndexError> {
        sqlx::query("DELETE FROM blob_trash WHERE location = $1")
            .bind(location)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    async fn expired(&self, now_ms: i64, limit: u32) -> Result<Vec<String>, IndexError> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT id FROM uploads WHERE expires_ms < $1 LIMIT $2")
                .bind(now_ms)
                .bind(i64::from(limit))
                .fetch_all(self.db.pool())
                .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn open_ids(&self) -> Result<Vec<String>, IndexError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT id FROM uploads WHERE state = 'open'")
            .fetch_all(self.db.pool())
            .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn file(&self, id: &str) -> Result<Option<FileRecord>, IndexError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            file_columns!(),
            " FROM files WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.as_ref().map(file_row).transpose()?)
    }

    async fn recent_files(&self, limit: u32) -> Result<Vec<FileRecord>, IndexError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            file_columns!(),
            " FROM files ORDER BY created_ms DESC LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.iter().map(file_row).collect::<Result<_, _>>()?)
    }

    async fn delete_file(&self, id: &str) -> Result<Option<Released>, IndexError> {
        // The object's reference count changes under its write scope, the
        // scope `register` takes too.
        let object: Option<(String,)> = sqlx::query_as("SELECT sha256 FROM files WHERE id = $1")
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?;
        let Some((sha256,)) = object else {
            return Ok(None);
        };
        let scope = format!("object:{sha256}");
        let mut tx = self.db.db().begin_write(&[&scope], false).await?;
        let deleted = sqlx::query("DELETE FROM files WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if deleted.rows_affected() == 0 {
            return Ok(None);
        }
        let (refs, location): (i64, String) = sqlx::query_as(
            "UPDATE upload_objects SET refs = refs - 1 WHERE sha256 = $1 RETURNING refs, location",
        )
        .bind(&sha256)
        .fetch_one(&mut *tx)
        .await?;
        if refs == 0 {
            sqlx::query("DELETE FROM upload_objects WHERE sha256 = $1")
                .bind(&sha256)
                .execute(&mut *tx)
                .await?;
            put_in_trash(&mut tx, &location, crate::store::now_ms()).await?;
        }
        tx.commit().await?;
        Ok(Some(Released {
            sha256,
            location,
            orphaned: refs == 0,
        }))
    }

    async fn share(&self, file_id: &str, room: &str) -> Result<(), IndexError> {
        sqlx::query(
            "INSERT INTO file_shares (file_id, room) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(file_id)
        .bind(room)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    async fn shared_with_customer(&self, file_id: &str, user: &str) -> Result<bool, IndexError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT 1 FROM file_shares s JOIN rooms r ON r.id = s.room \
             WHERE s.file_id = $1 AND r.customer = $2 LIMIT 1",
        )
        .bind(file_id)
        .bind(user)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(row.is_some())
    }
}
