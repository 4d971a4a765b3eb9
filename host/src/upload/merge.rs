//! The merge of one upload, advanced while its chunks arrive.
//!
//! Chunks may arrive in any order. Whenever the next chunk in file order is
//! available, it is fed to the whole-file MD5 and SHA-256 and appended to a
//! staging object (a multipart put), so by the time the client asks to
//! complete, most of the file is already hashed and written: `complete` only
//! catches up on what is left. Chunks that arrive early wait in memory within
//! a shared budget, or are read back from the store when the budget is spent.
//! The state lives in memory only: after a restart the merge starts again
//! from the stored chunks.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use md5::{Digest as _, Md5};
use object_store::{MultipartUpload, ObjectStoreExt, PutPayload};
use sha2::Sha256;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::blobs::{BlobError, Blobs};
use super::sizing::Layout;

/// Bytes of the file's start kept for the upload hooks.
pub const HEAD_BYTES: usize = 4096;

/// Longest an early chunk waits for room in memory before it is left on
/// disk for the merge to read back.
const WAIT_FOR_ROOM: std::time::Duration = std::time::Duration::from_secs(2);

/// Why a merge failed.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A chunk to merge is not in the store.
    #[error("chunk {0} is not stored")]
    MissingChunk(u32),
    /// The object store failed.
    #[error("object store: {0}")]
    Blob(#[from] BlobError),
    /// A hashing task panicked or was cancelled.
    #[error("hashing failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// What a finished merge produced: the staging object holds the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    /// Whole-file MD5, lowercase hex.
    pub md5: String,
    /// Whole-file SHA-256, lowercase hex.
    pub sha256: String,
    /// The first bytes of the file (up to [`HEAD_BYTES`]).
    pub head: Vec<u8>,
}

struct Inbox {
    received: Vec<bool>,
    waiting: BTreeMap<u32, (PutPayload, Option<OwnedSemaphorePermit>)>,
    next: u32,
}

struct Progress {
    next: u32,
    md5: Md5,
    sha256: Sha256,
    head: Vec<u8>,
    staging: Option<Box<dyn MultipartUpload>>,
    /// A step failed half-way: start again from the first chunk.
    broken: bool,
}

impl Progress {
    fn new() -> Self {
        Self {
            next: 0,
            md5: Md5::new(),
            sha256: Sha256::new(),
            head: Vec::new(),
            staging: None,
            broken: false,
        }
    }
}

/// The merge of one upload.
pub struct Merge {
    id: String,
    layout: Layout,
    blobs: Blobs,
    budget: Arc<Semaphore>,
    inbox: Mutex<Inbox>,
    progress: tokio::sync::Mutex<Progress>,
}

impl std::fmt::Debug for Merge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Merge")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// Permits of the waiting budget are KiB, so large budgets fit in a `u32`.
pub fn budget_permits(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(1024)).unwrap_or(u32::MAX)
}

impl Merge {
    /// The merge of upload `id`, whose chunks `received` are stored.
    /// Early chunks wait in memory while `budget` (KiB permits) allows.
    pub fn new(
        id: &str,
        layout: Layout,
        received: &[u32],
        blobs: Blobs,
        budget: Arc<Semaphore>,
    ) -> Self {
        let mut flags = vec![false; layout.chunk_count as usize];
        for &i in received {
            if let Some(flag) = flags.get_mut(i as usize) {
                *flag = true;
            }
        }
        Self {
            id: id.to_owned(),
            layout,
            blobs,
            budget,
            inbox: Mutex::new(Inbox {
                received: flags,
                waiting: BTreeMap::new(),
                next: 0,
            }),
            progress: tokio::sync::Mutex::new(Progress::new()),
        }
    }

    fn inbox(&self) -> std::sync::MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records that chunk `index` is stored, with its bytes, and advances
    /// the merge as far as the received chunks allow. Never fails: a merge
    /// that cannot advance now catches up in [`finish`](Self::finish).
    pub async fn offer(&self, index: u32, payload: PutPayload) {
        let permits = budget_permits(payload.content_length());
        let permit = match self.budget.clone().try_acquire_many_owned(permits) {
            Ok(permit) => Some(permit),
            // The next chunk in order is consumed at once and never waits.
            // A later one waits, a bounded time, for room: a fast sender is
            // slowed to the merge's pace (its request holds its body's
            // share of the body budget meanwhile) instead of its chunks
            // being written, dropped and read back.
            Err(_) if index == self.inbox().next => None,
            Err(_) => tokio::time::timeout(
                WAIT_FOR_ROOM,
                self.budget.clone().acquire_many_owned(permits),
            )
            .await
            .ok()
            .and_then(Result::ok),
        };
        {
            let mut inbox = self.inbox();
            let next = inbox.next;
            let Some(flag) = inbox.received.get_mut(index as usize) else {
                return;
            };
            *flag = true;
            let keep = permit.is_some() || index == next;
            if keep && index >= next && !inbox.waiting.contains_key(&index) {
                inbox.waiting.insert(index, (payload, permit));
            }
        }
        // Whoever holds the merge advances it; the check after letting go
        // catches a chunk that arrived while it was finishing.
        loop {
            let Ok(mut progress) = self.progress.try_lock() else {
                return;
            };
            if progress.broken {
                return;
            }
            if let Err(err) = self.advance(&mut progress, false).await {
                tracing::warn!(upload = %self.id, error = %err, "merge paused; complete will retry");
                progress.broken = true;
                return;
            }
            drop(progress);
            let inbox = self.inbox();
            let next = inbox.next as usize;
            if !inbox.received.get(next).copied().unwrap_or(false) {
                return;
            }
        }
    }

    /// Feeds every available chunk in order. With `all`, a chunk that is not
    /// stored is an error; without, it stops there.
    async fn advance(&self, progress: &mut Progress, all: bool) -> Result<(), MergeError> {
        while progress.next < self.layout.chunk_count {
            let index = progress.next;
            let ready = {
                let mut inbox = self.inbox();
                match inbox.waiting.remove(&index) {
                    Some((payload, _permit)) => Some(Ok(payload)),
                    None if inbox.received.get(index as usize).copied().unwrap_or(false) => {
                        Some(Err(()))
                    }
                    None => None,
                }
            };
            let payload = match ready {
                Some(Ok(payload)) => payload,
                Some(Err(())) => PutPayload::from(self.read_chunk(index).await?),
                None if all => return Err(MergeError::MissingChunk(index)),
                None => return Ok(()),
            };
            self.step(progress, payload).await?;
            progress.next += 1;
            self.inbox().next = progress.next;
        }
        Ok(())
    }

    async fn read_chunk(&self, index: u32) -> Result<Bytes, MergeError> {
        match self.blobs.read(&Blobs::chunk(&self.id, index)).await {
            Ok(bytes) => Ok(bytes),
            Err(BlobError::NotFound { .. }) => Err(MergeError::MissingChunk(index)),
            Err(err) => Err(err.into()),
        }
    }

    /// Hashes one chunk (MD5 and SHA-256 on two threads) while appending it
    /// to the staging object.
    async fn step(&self, progress: &mut Progress, payload: PutPayload) -> Result<(), MergeError> {
        progress.broken = true;
        if progress.staging.is_none() {
            let staging = Blobs::staging(&self.id);
            progress.staging = Some(self.blobs.store().put_multipart(&staging).await?);
        }
        if progress.head.len() < HEAD_BYTES {
            for part in &payload {
                let take = (HEAD_BYTES - progress.head.len()).min(part.len());
                progress.head.extend_from_slice(&part[..take]);
            }
        }
        let mut md5 = std::mem::take(&mut progress.md5);
        let mut sha256 = std::mem::take(&mut progress.sha256);
        let (for_md5, for_sha) = (payload.clone(), payload.clone());
        let md5_task = tokio::task::spawn_blocking(move || {
            for part in &for_md5 {
                md5.update(part);
            }
            md5
        });
        let sha_task = tokio::task::spawn_blocking(move || {
            for part in &for_sha {
                sha256.update(part);
            }
            sha256
        });
        let write = match progress.staging.as_mut() {
            Some(staging) => staging.put_part(payload),
            None => return Err(MergeError::MissingChunk(progress.next)),
        };
        let (md5, sha256, written) = tokio::join!(md5_task, sha_task, write);
        progress.md5 = md5?;
        progress.sha256 = sha256?;
        written?;
        progress.broken = false;
        Ok(())
    }

    /// Catches up on every chunk and finishes the staging object.
    ///
    /// # Errors
    /// A chunk is missing from the store, or the store failed; the merge
    /// can be finished again.
    pub async fn finish(&self) -> Result<Merged, MergeError> {
        let mut progress = self.progress.lock().await;
        if progress.broken {
            if let Some(mut staging) = progress.staging.take() {
                let _ = staging.abort().await;
            }
            *progress = Progress::new();
            self.inbox().next = 0;
        }
        self.advance(&mut progress, true).await?;
        match progress.staging.take() {
            Some(mut staging) => {
                if let Err(err) = staging.complete().await {
                    progress.broken = true;
                    return Err(err.into());
                }
            }
            // An empty file has no chunks to append.
            None => {
                self.blobs
                    .put(&Blobs::staging(&self.id), PutPayload::default())
                    .await?;
            }
        }
        // Finished: a second call would start over.
        progress.broken = true;
        Ok(Merged {
            md5: hex::encode(std::mem::take(&mut progress.md5).finalize()),
            sha256: hex::encode(std::mem::take(&mut progress.sha256).finalize()),
            head: std::mem::take(&mut progress.head),
        })
    }

    /// Waits for any step in progress, then drops the staging object.
    pub async fn discard(&self) {
        let mut progress = self.progress.lock().await;
        if let Some(mut staging) = progress.staging.take() {
            let _ = staging.abort().await;
        }
        progress.broken = true;
        self.inbox().waiting.clear();
    }
}
