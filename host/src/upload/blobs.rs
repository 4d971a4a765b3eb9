//! Where upload bytes live in the object store: chunks per upload until
//! merged, and one merged object per upload, written in place by a
//! multipart upload. A merged object is never moved (on S3 a move is a
//! server-side copy, limited to 5 GiB): the index maps each content hash to
//! the location of its bytes.

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
/// Returns how many files it flushed.
fn flush_partial(root: &std::path::Path, path: &Path) -> std::io::Result<usize> {
    let target = path
        .parts()
        .fold(root.to_path_buf(), |dir, part| dir.join(part.as_ref()));
    let (Some(dir), Some(name)) = (target.parent(), target.file_name()) else {
        return Ok(0);
    };
    let prefix = format!("{}#", name.to_string_lossy());
    let mut flushed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            std::fs::File::open(entry.path())?.sync_data()?;
            flushed += 1;
        }
    }
    Ok(flushed)
}

/// The upload store's view of an object store.
#[derive(Debug, Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
    local: Option<Arc<Local>>,
}

/// The directory of a local store.
#[derive(Debug)]
struct Local {
    root: std::path::PathBuf,
    /// Growing merged objects are flushed in the background, so the flush
    /// that publishes one has little left.
    write_behind: bool,
    flushing: AtomicBool,
}

impl Blobs {
    /// Blobs kept in `store` (any object store; no local-file extras).
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        Self { store, local: None }
    }

    /// Blobs of a local store under `root`. With `write_behind` (for a store
    /// that flushes what it publishes), [`write_behind`](Self::write_behind)
    /// starts that flush early.
    pub fn local(
        store: Arc<dyn ObjectStore>,
        root: std::path::PathBuf,
        write_behind: bool,
    ) -> Self {
        Self {
            store,
            local: Some(Arc::new(Local {
                root,
                write_behind,
                flushing: AtomicBool::new(false),
            })),
        }
    }

    /// Removes a local store's partial files, and the staging folder older
    /// versions merged into; returns how many files. Merges live in memory
    /// only, so at startup whatever a killed process left half-written
    /// belongs to no merge (each is started again from the stored chunks).
    /// A local store belongs to one node: this is never done on a shared
    /// store (on S3 an unfinished multipart upload is not an object; the
    /// bucket's lifecycle rule removes it).
    ///
    /// # Errors
    /// The directory cannot be read or cleared.
    pub fn clear_partial(&self) -> std::io::Result<usize> {
        let Some(local) = &self.local else {
            return Ok(0);
        };
        let mut removed = 0;
        // Older versions merged into `staging/` and renamed from there.
        match std::fs::read_dir(local.root.join("staging")) {
            Ok(entries) => {
                for entry in entries {
                    std::fs::remove_file(entry?.path())?;
                    removed += 1;
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err),
        }
        // A process killed while writing a chunk or an object leaves the
        // local store's temporary file (`{path}#{n}`) beside where the file
        // would be; nothing refers to it. (Should `object_store` name them
        // otherwise, they are left behind: wasted space, never wrong data.)
        for (top, depth) in [("chunks", 2), ("objects", 2), ("merged", 1)] {
            removed += remove_temporaries(&local.root.join(top), depth)?;
        }
        Ok(removed)
    }

    /// Starts writing what is written so far of the multipart upload to
    /// `path` to disk, in the background (one flush at a time; a no-op for
    /// other stores). A merge calls it as its object grows: published
    /// objects are flushed before they are acknowledged, and a gigabyte
    /// flushed at once stalls `complete` for half a second.
    pub fn write_behind(&self, path: &Path) {
        let Some(local) = self.local.clone().filter(|l| l.write_behind) else {
            return;
        };
        if local.flushing.swap(true, Ordering::AcqRel) {
            return;
        }
        let path = path.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(err) = flush_partial(&local.root, &path) {
                tracing::debug!(error = %err, "write-behind flush failed");
            }
            local.flushing.store(false, Ordering::Release);
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

    /// A part of tus upload `id` starting at byte `start`; `tag` makes its
    /// name its own.
    pub fn tus_part(id: &str, start: u64, tag: &str) -> Path {
        Path::from_iter(["tus", id, &format!("{start:020}-{tag}")])
    }

    /// The folder of tus upload `id`'s parts.
    pub fn tus_parts_of(id: &str) -> Path {
        Path::from_iter(["tus", id])
    }

    /// Where upload `id` is merged; once registered, the content of its
    /// file (unless the same content was stored before).
    pub fn merged(id: &str) -> Path {
        Path::from_iter(["merged", id])
    }

    /// A location the index recorded.
    pub fn at(location: &str) -> Path {
        Path::from(location)
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
        self.folders("chunks").await
    }

    /// tus upload ids that have a folder of parts.
    pub async fn tus_folders(&self) -> Result<Vec<String>, BlobError> {
        self.folders("tus").await
    }

    async fn folders(&self, area: &str) -> Result<Vec<String>, BlobError> {
        let listing = self
            .store
            .list_with_delimiter(Some(&Path::from(area)))
            .await?;
        Ok(listing
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_owned))
            .collect())
    }
}

/// Removes the local store's temporary files (names with `#`) under
/// `dir`, `depth` levels down.
fn remove_temporaries(dir: &std::path::Path, depth: u32) -> std::io::Result<usize> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(err) => return Err(err),
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            if depth > 1 {
                removed += remove_temporaries(&path, depth - 1)?;
            }
        } else if entry.file_name().to_string_lossy().contains('#') {
            std::fs::remove_file(&path)?;
            removed += 1;
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::MultipartUpload as _;

    #[tokio::test]
    async fn write_behind_finds_the_file_of_a_multipart_upload_in_progress() {
        let dir = tempfile::tempdir().unwrap();
        let store = object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap();
        let staging = Blobs::merged("u_test");
        let mut upload = store.put_multipart(&staging).await.unwrap();
        upload
            .put_part(PutPayload::from(vec![7u8; 1 << 16]))
            .await
            .unwrap();
        // If object_store names its partial files otherwise, this finds
        // nothing and only the final flush remains: worth knowing.
        assert_eq!(flush_partial(dir.path(), &staging).unwrap(), 1);
        assert_eq!(
            flush_partial(dir.path(), &Blobs::merged("u_other")).unwrap(),
            0
        );
        upload.complete().await.unwrap();
        assert_eq!(flush_partial(dir.path(), &staging).unwrap(), 0);
    }
}
