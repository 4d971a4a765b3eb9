//! Where upload bytes live in the object store: chunks per upload until
//! merged, one staging object per merge, and content-addressed objects.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use futures_util::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};

/// An object-store failure.
pub type BlobError = object_store::Error;

/// Writes to disk what is already written of the local multipart upload
/// to `path` under `root`. `object_store` keeps a multipart upload in a
/// file named after its destination with a `#` suffix; should that change,
/// nothing is found and the flush that publishes the object does it all.
fn flush_partial(root: &std::path::Path, path: &Path) -> std::io::Result<()> {
    let target = path
        .parts()
        .fold(root.to_path_buf(), |dir, part| dir.join(part.as_ref()));
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return Ok(());
    };
    let prefix = format!("{}#", name.to_string_lossy());
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            std::fs::File::open(entry.path())?.sync_data()?;
        }
    }
    Ok(())
}

/// The upload store's view of an object store.
#[derive(Debug, Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    write_behind: Option<Arc<WriteBehind>>,
}

/// A local store's directory, whose growing merged objects are flushed in
/// the background, so the flush that publishes one has little left.
#[derive(Debug)]
struct WriteBehind {
    root: std::path::PathBuf,
    running: AtomicBool,
}

impl Blobs {
    /// Blobs kept in `store`.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self {
            store,
            write_behind: None,
        }
    }

    /// Blobs in a local store under `root` that flushes what it publishes:
    /// [`write_behind`](Self::write_behind) starts that flush early.
    pub fn with_write_behind(mut self, root: std::path::PathBuf) -> Self {
        self.write_behind = Some(Arc::new(WriteBehind {
            root,
            running: AtomicBool::new(false),
        }));
        self
    }

    /// Starts writing what is written so far of the multipart upload to
    /// `path` to disk, in the background (one flush at a time; a no-op for
    /// other stores). A merge calls it as its object grows: published
    /// objects are flushed before they are acknowledged, and a gigabyte
    /// flushed at once stalls `complete` for half a second.
    pub fn write_behind(&self, path: &Path) {
        let Some(behind) = self.write_behind.clone() else {
            return;
        };
        if behind.running.swap(true, Ordering::AcqRel) {
            return;
        }
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(err) = flush_partial(&behind.root, &path) {
                tracing::debug!(error = %err, "write-behind flush failed");
            }
            behind.running.store(false, Ordering::Release);
        });
    }

    /// The store itself.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Chunk `index` of upload `id`.
    pub fn chunk(id: &str, index: u32) -> Path {
        Path::from_iter(["chunks", id, &format!("{index:05}")])
    }

    /// The folder of upload `id`'s chunks.
    pub fn chunks_of(id: &str) -> Path {
        Path::from_iter(["chunks", id])
    }

    /// The merge target of upload `id`, before it is named by its hash.
    pub fn staging(id: &str) -> Path {
        Path::from_iter(["staging", id])
    }

    /// Stored content with SHA-256 `sha256` (lowercase hex).
    pub fn object(sha256: &str) -> Path {
        let fan = sha256.get(..2).unwrap_or("00");
        Path::from_iter(["objects", fan, sha256])
    }

    /// Writes a whole object; on return it is complete and in place.
    pub async fn put(&self, path: &Path, payload: PutPayload) -> Result<(), BlobError> {
        self.store.put(path, payload).await.map(|_| ())
    }

    /// Reads a whole object (chunks only: they are bounded in size).
    pub async fn read(&self, path: &Path) -> Result<Bytes, BlobError> {
        self.store.get(path).await?.bytes().await
    }

    /// Reads `len` bytes at `offset`.
    pub async fn read_range(&self, path: &Path, offset: u64, len: u64) -> Result<Bytes, BlobError> {
        self.store.get_range(path, offset..offset + len).await
    }

    /// Whether an object exists.
    pub async fn exists(&self, path: &Path) -> Result<bool, BlobError> {
        match self.store.head(path).await {
            Ok(_) => Ok(true),
            Err(BlobError::NotFound { .. }) => Ok(false),
            Err(err) => Err(err),
        }
    }

    /// Moves an object, replacing the target.
    pub async fn rename(&self, from: &Path, to: &Path) -> Result<(), BlobError> {
        self.store.rename(from, to).await
    }

    /// Deletes an object; a missing one is not an error.
    pub async fn delete(&self, path: &Path) -> Result<(), BlobError> {
        match self.store.delete(path).await {
            Ok(()) | Err(BlobError::NotFound { .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Deletes every object under `prefix`.
    pub async fn delete_all(&self, prefix: &Path) -> Result<(), BlobError> {
        let mut listing = self.store.list(Some(prefix));
        while let Some(meta) = listing.next().await {
            self.delete(&meta?.location).await?;
        }
        Ok(())
    }

    /// Upload ids that have a chunk folder.
    pub async fn chunk_folders(&self) -> Result<Vec<String>, BlobError> {
        let listing = self
            .store
            .list_with_delimiter(Some(&Path::from("chunks")))
            .await?;
        Ok(listing
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_owned))
            .collect())
    }
}
