//! The merge of one upload, advanced while its chunks arrive.
//!
//! Chunks may arrive in any order. Whenever the next chunk in file order is
//! available, it is fed to the whole-file MD5 and SHA-256 and appended to a
//! merged object (a multipart put), so by the time the client asks to
//! complete, most of the file is already hashed and written: `complete` only
//! catches up on what is left. A chunk that arrives as the next in order is
//! verified in the same pass ([`md5pair`]: its MD5 and the file's advance
//! together), and one whose predecessors are still arriving waits for its
//! turn to get that pass, so chunks sent in order are hashed once. Chunks
//! that arrive early wait in memory within a shared budget, or are read back
//! from the store when the budget is spent.
//! The state lives in memory only: after a restart the merge starts again
//! from the stored chunks.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;
use hangar_md5pair::{self as md5pair, Md5};
use md5::Digest as _;
use object_store::{MultipartUpload, ObjectStoreExt, PutPayload};
use sha2::Sha256;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use super::blobs::{BlobError, Blobs};
use super::sizing::Layout;

/// How long a chunk waits for a missing chunk before it to start arriving
/// (its request may be a step behind) before it is verified on its own.
const GAP_GRACE: std::time::Duration = std::time::Duration::from_millis(50);

/// The merged object is flushed to disk in the background every this many
/// bytes (see [`Blobs::write_behind`]).
pub(crate) const WRITE_BEHIND_BYTES: u64 = 64 << 20;

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
    /// The stored bytes of an upload have a gap (a tus upload whose
    /// index and object store disagree).
    #[error("{0}")]
    Gap(String),
    /// A hashing or writing task panicked or was cancelled.
    #[error("hashing failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// What a finished merge produced: the merged object holds the file.
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
    /// Chunks whose bodies are being received now, with how many requests
    /// carry each (a client may retry one while the first is still open).
    arriving: BTreeMap<u32, u32>,
}

/// What a chunk waiting for its turn should do now.
enum Turn {
    /// It is the next chunk the merge needs.
    Now,
    /// Every chunk before it is arriving or received: its turn is coming.
    Soon,
    /// A chunk before it is not on its way (yet: its request may still be
    /// getting ready, so this is worth a short wait).
    Gap,
    /// The merge is past it.
    Passed,
}

impl Inbox {
    fn turn_of(&self, index: u32) -> Turn {
        if index == self.next {
            return Turn::Now;
        }
        if index < self.next {
            return Turn::Passed;
        }
        let coming = (self.next..index).all(|i| {
            self.arriving.contains_key(&i) || self.received.get(i as usize) == Some(&true)
        });
        if coming { Turn::Soon } else { Turn::Gap }
    }
}

struct Progress {
    next: u32,
    md5: Md5,
    sha256: Sha256,
    head: Vec<u8>,
    target: Option<Box<dyn MultipartUpload>>,
    /// The last part appended to the merged object, still being written;
    /// the next step waits for it, so one chunk at most is in flight.
    writing: Option<tokio::task::JoinHandle<object_store::Result<()>>>,
    /// Bytes appended since the last write-behind flush was started.
    unflushed: u64,
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
            target: None,
            writing: None,
            unflushed: 0,
            broken: false,
        }
    }

    /// Waits for the part in flight. If it failed, the merged
    /// object lacks a chunk the hashes already cover: the merge is broken.
    async fn written(&mut self) -> Result<(), MergeError> {
        let Some(write) = self.writing.take() else {
            return Ok(());
        };
        let written = write
            .await
            .map_err(MergeError::from)
            .and_then(|w| w.map_err(MergeError::from));
        if written.is_err() {
            self.broken = true;
        }
        written
    }
}

/// A verified chunk: its MD5, and whether the merge took it in the same pass.
#[derive(Debug)]
pub struct Verified {
    /// The chunk's MD5, lowercase hex.
    pub md5: String,
    /// The chunk was fed to the merge: it need not be offered.
    pub merged: bool,
}

/// The merge of one upload.
pub struct Merge {
    id: String,
    layout: Layout,
    blobs: Blobs,
    budget: Arc<Semaphore>,
    inbox: Mutex<Inbox>,
    /// Bumped whenever the merge advances or a chunk starts or stops
    /// arriving, for chunks waiting for their turn.
    changed: watch::Sender<u64>,
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

/// Marks a chunk as arriving while it lives.
pub struct Arriving<'m> {
    merge: &'m Merge,
    index: u32,
}

impl Drop for Arriving<'_> {
    fn drop(&mut self) {
        {
            let mut inbox = self.merge.inbox();
            if let Some(count) = inbox.arriving.get_mut(&self.index) {
                *count -= 1;
                if *count == 0 {
                    inbox.arriving.remove(&self.index);
                }
            }
        }
        self.merge.bump();
    }
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
                arriving: BTreeMap::new(),
            }),
            changed: watch::Sender::new(0),
            progress: tokio::sync::Mutex::new(Progress::new()),
        }
    }

    fn inbox(&self) -> std::sync::MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn bump(&self) {
        self.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn set_next(&self, next: u32) {
        self.inbox().next = next;
        self.bump();
    }

    /// Notes chunks stored meanwhile by other processes (the merge only
    /// knows those received at its start and through this process).
    pub fn note_received(&self, received: &[u32]) {
        let mut inbox = self.inbox();
        for &i in received {
            if let Some(flag) = inbox.received.get_mut(i as usize) {
                *flag = true;
            }
        }
    }

    /// Marks chunk `index` as arriving until the guard is dropped, so a
    /// later chunk waits for it rather than being hashed twice.
    pub fn arriving(&self, index: u32) -> Arriving<'_> {
        *self.inbox().arriving.entry(index).or_default() += 1;
        self.bump();
        Arriving { merge: self, index }
    }

    /// Waits, at most `wait`, until chunk `index` is the next the merge
    /// needs, as long as every chunk before it is on its way; a chunk before
    /// it that is not is given [`GAP_GRACE`] to show up.
    async fn await_turn(&self, index: u32, wait: std::time::Duration) -> bool {
        let started = tokio::time::Instant::now();
        let (deadline, grace) = (started + wait, started + GAP_GRACE.min(wait));
        let mut changes = self.changed.subscribe();
        let mut kicked = false;
        loop {
            let (turn, stored_next) = {
                let inbox = self.inbox();
                let next = inbox.next;
                let stored = inbox.received.get(next as usize) == Some(&true)
                    && !inbox.arriving.contains_key(&next);
                (inbox.turn_of(index), stored)
            };
            let until = match turn {
                Turn::Now => return true,
                Turn::Passed => return false,
                // The chunks before it are stored, but nobody may be merging
                // them (stored before a restart, or verified on their own):
                // merge them now.
                Turn::Soon if stored_next && !kicked => {
                    kicked = true;
                    self.resume().await;
                    continue;
                }
                Turn::Soon => deadline,
                Turn::Gap if tokio::time::Instant::now() >= grace => return false,
                Turn::Gap => grace,
            };
            match tokio::time::timeout_at(until, changes.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) => return false,
                // The grace ended: look again (a gap now ends the wait).
                Err(_) if until == grace && grace < deadline => {}
                Err(_) => return false,
            }
        }
    }

    /// Hashes chunk `index` and checks it against `md5`. When the chunk is
    /// the next the merge needs (waiting up to `wait` for the chunks before
    /// it that are arriving), the same pass advances the whole-file hashes
    /// and the chunk is appended to the merge, so its bytes are hashed once
    /// as a chunk and as part of the file; a chunk that does not match
    /// leaves the merge as it was.
    ///
    /// # Errors
    /// The hashing task failed.
    pub async fn verify(
        &self,
        index: u32,
        payload: &PutPayload,
        md5: &str,
        wait: std::time::Duration,
    ) -> Result<Verified, MergeError> {
        if self.await_turn(index, wait).await {
            let mut progress = self.progress.lock().await;
            if !progress.broken && progress.next == index {
                match self.step(&mut progress, payload.clone(), Some(md5)).await {
                    Ok(found) => {
                        let merged = found == md5;
                        if merged {
                            if let Some(flag) = self.inbox().received.get_mut(index as usize) {
                                *flag = true;
                            }
                            self.set_next(progress.next);
                        }
                        return Ok(Verified { md5: found, merged });
                    }
                    // The chunk itself may be fine: verify it alone below;
                    // the merge catches up in `finish`.
                    Err(err) => {
                        tracing::warn!(upload = %self.id, error = %err, "merge paused; complete will retry");
                        progress.broken = true;
                    }
                };
            }
        }
        let parts = payload.clone();
        let found = tokio::task::spawn_blocking(move || {
            let mut chunk = md5::Md5::new();
            for part in &parts {
                chunk.update(part);
            }
            hex::encode(chunk.finalize())
        })
        .await?;
        Ok(Verified {
            md5: found,
            merged: false,
        })
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
        self.resume().await;
    }

    /// Advances the merge over the chunks already received, unless another
    /// request is advancing it.
    pub async fn resume(&self) {
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
            self.step(progress, payload, None).await?;
            self.set_next(progress.next);
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

    /// Hashes chunk `progress.next` into the whole-file MD5 and SHA-256 (on
    /// two threads) and appends it to the merged object. With `check`, the
    /// same pass computes the chunk's own MD5, returned; the merge advances
    /// only if it equals `check`. Nothing advances on an error; a failed
    /// write of the previous part also marks the merge broken.
    async fn step(
        &self,
        progress: &mut Progress,
        payload: PutPayload,
        check: Option<&str>,
    ) -> Result<String, MergeError> {
        if progress.target.is_none() {
            let target = Blobs::merged(&self.id);
            progress.target = Some(self.blobs.store().put_multipart(&target).await?);
        }
        let mut md5 = progress.md5.clone();
        let mut sha256 = progress.sha256.clone();
        let (for_md5, for_sha) = (payload.clone(), payload.clone());
        let with_chunk = check.is_some();
        let md5_task = tokio::task::spawn_blocking(move || {
            let mut chunk = Md5::new();
            for part in &for_md5 {
                if with_chunk {
                    md5pair::update_both(&mut chunk, &mut md5, part);
                } else {
                    md5.update(part);
                }
            }
            (md5, chunk.finalize_hex())
        });
        let sha_task = tokio::task::spawn_blocking(move || {
            for part in &for_sha {
                sha256.update(part);
            }
            sha256
        });
        // The previous part finishes writing while this one is hashed.
        let (hashed, sha256, written) = tokio::join!(md5_task, sha_task, progress.written());
        let (md5, found) = hashed?;
        let sha256 = sha256?;
        written?;
        if check.is_some_and(|expected| expected != found) {
            return Ok(found);
        }
        if progress.head.len() < HEAD_BYTES {
            for part in &payload {
                let take = (HEAD_BYTES - progress.head.len()).min(part.len());
                progress.head.extend_from_slice(&part[..take]);
            }
        }
        let len = payload.content_length() as u64;
        let write = match progress.target.as_mut() {
            Some(target) => target.put_part(payload),
            None => return Err(MergeError::MissingChunk(progress.next)),
        };
        progress.unflushed += len;
        if progress.unflushed >= WRITE_BEHIND_BYTES {
            progress.unflushed = 0;
            self.blobs.write_behind(&Blobs::merged(&self.id));
        }
        progress.writing = Some(tokio::spawn(write));
        progress.md5 = md5;
        progress.sha256 = sha256;
        progress.next += 1;
        Ok(found)
    }

    /// Catches up on every chunk and finishes the merged object.
    ///
    /// # Errors
    /// A chunk is missing from the store, or the store failed; the merge
    /// can be finished again.
    pub async fn finish(&self) -> Result<Merged, MergeError> {
        let mut progress = self.progress.lock().await;
        if progress.broken {
            if let Some(mut target) = progress.target.take() {
                let _ = target.abort().await;
            }
            *progress = Progress::new();
            self.set_next(0);
        }
        self.advance(&mut progress, true).await?;
        progress.written().await?;
        match progress.target.take() {
            Some(mut target) => {
                if let Err(err) = target.complete().await {
                    progress.broken = true;
                    return Err(err.into());
                }
            }
            // An empty file has no chunks to append.
            None => {
                self.blobs
                    .put(&Blobs::merged(&self.id), PutPayload::default())
                    .await?;
            }
        }
        // Finished: a second call would start over.
        progress.broken = true;
        Ok(Merged {
            md5: std::mem::take(&mut progress.md5).finalize_hex(),
            sha256: hex::encode(std::mem::take(&mut progress.sha256).finalize()),
            head: std::mem::take(&mut progress.head),
        })
    }

    /// Waits for any step in progress, then drops the merged object.
    pub async fn discard(&self) {
        let mut progress = self.progress.lock().await;
        let _ = progress.written().await;
        if let Some(mut target) = progress.target.take() {
            let _ = target.abort().await;
        }
        progress.broken = true;
        self.inbox().waiting.clear();
    }
}
