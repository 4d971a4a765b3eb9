//! Hashing and merging a tus upload's parts. Bytes arrive in order, so
//! with each recorded part the whole-file MD5 and SHA-256 advance (on two
//! threads) and the part is appended to the merged object (a multipart
//! put), while the next part is received ([`Feeder`]). Between requests the
//! state is kept ([`TusHashes`]) while it matches the recorded offset, and
//! completion only finishes the merged object. When that chain is broken (a
//! restart, bytes received by another node, a part under the object
//! store's minimum part size, a checksummed body that was refused),
//! completion copies the parts into the merged object, hashing them unless
//! the digests survived.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

use hangar_md5pair::Md5;
use md5::Digest as _;
use object_store::{MultipartUpload, ObjectStoreExt as _, PutPayload, WriteMultipart};
use sha2::Sha256;
use tokio::sync::OwnedSemaphorePermit;
use tokio::task::JoinHandle;

use super::{UploadError, UploadStore};
use crate::upload::blobs::Blobs;
use crate::upload::merge::{HEAD_BYTES, MergeError, Merged, WRITE_BEHIND_BYTES};
use crate::upload::tus::index::TusPart;

/// The digests of an upload's first `next` bytes.
#[derive(Debug, Clone)]
pub(super) struct Hashing {
    next: u64,
    md5: Md5,
    sha256: Sha256,
    head: Vec<u8>,
}

impl Hashing {
    fn new() -> Self {
        Self {
            next: 0,
            md5: Md5::new(),
            sha256: Sha256::new(),
            head: Vec::new(),
        }
    }

    /// Adds `payload`, MD5 and SHA-256 on two blocking threads.
    async fn fed(mut self, payload: PutPayload) -> Result<Self, MergeError> {
        if self.head.len() < HEAD_BYTES {
            for bytes in &payload {
                let take = (HEAD_BYTES - self.head.len()).min(bytes.len());
                self.head.extend_from_slice(&bytes[..take]);
            }
        }
        let (mut md5, mut sha256) = (self.md5, self.sha256);
        let (for_md5, for_sha) = (payload.clone(), payload.clone());
        let md5_task = tokio::task::spawn_blocking(move || {
            for bytes in &for_md5 {
                md5.update(bytes);
            }
            md5
        });
        let sha_task = tokio::task::spawn_blocking(move || {
            for bytes in &for_sha {
                sha256.update(bytes);
            }
            sha256
        });
        let (md5, sha256) = tokio::join!(md5_task, sha_task);
        self.md5 = md5?;
        self.sha256 = sha256?;
        self.next += payload.content_length() as u64;
        Ok(self)
    }

    fn finish(self) -> Merged {
        Merged {
            md5: self.md5.finalize_hex(),
            sha256: hex::encode(self.sha256.finalize()),
            head: self.head,
        }
    }
}

/// Smallest part of a multipart put but the last (S3's rule).
const MIN_PART_BYTES: u64 = 5 << 20;

/// Most uploads whose merged object stays open between their requests (on
/// a local store each holds a file open).
const MAX_OPEN_MERGES: usize = 256;

/// The hashing and merging of the uploads this process received bytes of,
/// between their requests (the last part may still be in flight: the next
/// request waits for it while the client sends it more bytes).
#[derive(Default)]
pub(in crate::upload) struct TusHashes(Mutex<HashMap<String, Feeder>>);

impl std::fmt::Debug for TusHashes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TusHashes")
            .field("uploads", &self.map().len())
            .finish()
    }
}

impl TusHashes {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Feeder>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The feeder of upload `id` if it covers exactly its `received` bytes
    /// (a fresh one for an upload with none); one that does nothing
    /// otherwise.
    pub(super) fn take(&self, id: &str, received: u64) -> Feeder {
        match self.map().remove(id) {
            Some(feeder) if feeder.fed_to == Some(received) => feeder,
            _ if received == 0 => Feeder::new(Some(Hashing::new())),
            _ => Feeder::new(None),
        }
    }

    /// What upload `id`'s feeder made of its `length` bytes.
    pub(super) async fn whole(&self, id: &str, length: u64) -> Streamed {
        let mut feeder = self.take(id, length);
        feeder.settle().await;
        let digests = feeder.digests.take().filter(|s| s.next == length);
        let merged = feeder
            .merging
            .take_if(|m| m.written_to == length && digests.is_some());
        Streamed { digests, merged }
    }

    /// Keeps `feeder` for the next request if it covers `received` bytes.
    pub(super) fn keep(&self, id: &str, mut feeder: Feeder, received: u64) {
        if feeder.fed_to != Some(received) {
            return;
        }
        let mut map = self.map();
        if feeder.merging.is_some()
            && map.values().filter(|f| f.merging.is_some()).count() >= MAX_OPEN_MERGES
        {
            feeder.abandon_merge();
        }
        map.insert(id.to_owned(), feeder);
    }

    /// Forgets upload `id`.
    pub(super) fn forget(&self, id: &str) {
        self.map().remove(id);
    }

    /// Forgets the uploads that are no longer open.
    pub(in crate::upload) fn retain(&self, open: &HashSet<String>) {
        self.map().retain(|id, _| open.contains(id));
    }
}

/// What arrived in order for a whole upload.
pub(super) struct Streamed {
    /// The digests of every byte.
    digests: Option<Hashing>,
    /// The merged object, every byte written (given the digests).
    merged: Option<Merging>,
}

/// The merged object, written as the parts arrive.
struct Merging {
    target: Box<dyn MultipartUpload>,
    written_to: u64,
    unflushed: u64,
}

/// The part in flight: its hashing, and its write to the merged object.
type InFlight = JoinHandle<(
    Result<Hashing, MergeError>,
    Option<object_store::Result<()>>,
)>;

/// Feeds written parts to the digests and the merged object, one part in
/// flight while the next is received.
pub(super) struct Feeder {
    digests: Option<Hashing>,
    in_flight: Option<InFlight>,
    /// Where the digests will stand once the part in flight is done.
    fed_to: Option<u64>,
    merging: Option<Merging>,
}

impl Drop for Feeder {
    fn drop(&mut self) {
        self.abandon_merge();
    }
}

impl Feeder {
    /// A feeder that hashes and merges nothing.
    pub(super) fn idle() -> Self {
        Self::new(None)
    }

    fn new(digests: Option<Hashing>) -> Self {
        Self {
            fed_to: digests.as_ref().map(|s| s.next),
            digests,
            in_flight: None,
            merging: None,
        }
    }

    /// Aborts the merged object (in the background).
    fn abandon_merge(&mut self) {
        if let Some(mut merging) = self.merging.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let _ = merging.target.abort().await;
            });
        }
    }

    async fn settle(&mut self) {
        let Some(task) = self.in_flight.take() else {
            return;
        };
        let (digests, written) = match task.await {
            Ok((fed, wrote)) => (fed.ok(), !matches!(wrote, Some(Err(_)))),
            Err(_) => (None, false),
        };
        self.digests = digests;
        if self.digests.is_none() {
            self.fed_to = None;
        }
        if !written {
            self.abandon_merge();
        }
    }

    /// Adds the part of upload `id` (of `length`, when known) at `start`;
    /// the chain breaks if the digests do not end there. `permit` (the
    /// part's memory) is released once it is hashed and written.
    pub(super) async fn feed(
        &mut self,
        blobs: &Blobs,
        (id, length): (&str, Option<u64>),
        start: u64,
        payload: PutPayload,
        permit: Option<OwnedSemaphorePermit>,
    ) {
        self.settle().await;
        let Some(digests) = self.digests.take().filter(|s| s.next == start) else {
            self.fed_to = None;
            self.abandon_merge();
            return;
        };
        let len = payload.content_length() as u64;
        let last = length == Some(start + len);
        let write = if len >= MIN_PART_BYTES || last {
            self.append(blobs, id, start, &payload).await
        } else {
            self.abandon_merge();
            None
        };
        self.fed_to = Some(start + len);
        self.in_flight = Some(tokio::spawn(async move {
            let wrote = match write {
                Some(write) => Some(write.await),
                None => None,
            };
            let fed = digests.fed(payload).await;
            drop(permit);
            (fed, wrote)
        }));
    }

    /// Appends the part at `start` to the merged object (started for the
    /// first part); the write, or `None` when the object is not written.
    async fn append(
        &mut self,
        blobs: &Blobs,
        id: &str,
        start: u64,
        payload: &PutPayload,
    ) -> Option<object_store::UploadPart> {
        if start == 0 && self.merging.is_none() {
            let target = blobs.store().put_multipart(&Blobs::merged(id)).await.ok()?;
            self.merging = Some(Merging {
                target,
                written_to: 0,
                unflushed: 0,
            });
        }
        let merging = self.merging.as_mut().filter(|m| m.written_to == start)?;
        let len = payload.content_length() as u64;
        let write = merging.target.put_part(payload.clone());
        merging.written_to += len;
        merging.unflushed += len;
        if merging.unflushed >= WRITE_BEHIND_BYTES {
            merging.unflushed = 0;
            blobs.write_behind(&Blobs::merged(id));
        }
        Some(write)
    }

    /// The digests as of every part fed.
    pub(super) async fn current(&mut self) -> Option<Hashing> {
        self.settle().await;
        self.digests.clone()
    }

    /// Goes back to `digests` (a checksummed body that was not recorded):
    /// the merged object, which holds the refused bytes, is abandoned.
    pub(super) async fn reset(&mut self, digests: Option<Hashing>) {
        self.settle().await;
        if self.fed_to != digests.as_ref().map(|s| s.next) {
            self.abandon_merge();
        }
        self.fed_to = digests.as_ref().map(|s| s.next);
        self.digests = digests;
    }
}

impl UploadStore {
    /// The merged object of `parts` at [`Blobs::merged`]`(id)` and its
    /// digests: finished if it was written as the parts arrived, else the
    /// parts are copied into it in order, hashed unless the digests are
    /// known.
    pub(super) async fn tus_merge(
        &self,
        id: &str,
        parts: &[TusPart],
        streamed: Streamed,
    ) -> Result<Merged, UploadError> {
        let digests = match streamed {
            Streamed {
                digests: Some(digests),
                merged: Some(mut merging),
            } => {
                merging.target.complete().await?;
                tracing::debug!(upload = %id, "merged as the parts arrived");
                return Ok(digests.finish());
            }
            Streamed { digests, .. } => digests,
        };
        tracing::debug!(upload = %id, hashed = digests.is_some(), "copying the parts into the merged object");
        let target = Blobs::merged(id);
        let copy_only = digests.is_some();
        let mut hashing = digests.unwrap_or_else(Hashing::new);
        if parts.is_empty() {
            self.blobs.put(&target, PutPayload::default()).await?;
            return Ok(hashing.finish());
        }
        let upload = self.blobs.store().put_multipart(&target).await?;
        let mut writer = WriteMultipart::new(upload);
        let mut unflushed = 0u64;
        let read = |part: &TusPart| {
            let path = Blobs::at(&part.location);
            async move { self.blobs.read(&path).await }
        };
        let mut current = match parts.first() {
            Some(first) => Some(read(first).await?),
            None => None,
        };
        let mut i = 0;
        while let Some(bytes) = current.take() {
            // The next part is read while this one is hashed.
            let following = async {
                match parts.get(i + 1) {
                    Some(part) => Some(read(part).await),
                    None => None,
                }
            };
            if copy_only {
                current = following.await.transpose()?;
            } else {
                let (fed, following) =
                    tokio::join!(hashing.fed(PutPayload::from(bytes.clone())), following);
                hashing = fed?;
                current = following.transpose()?;
            }
            writer.wait_for_capacity(2).await?;
            unflushed += bytes.len() as u64;
            writer.put(bytes);
            if unflushed >= WRITE_BEHIND_BYTES {
                unflushed = 0;
                self.blobs.write_behind(&target);
            }
            i += 1;
        }
        writer.finish().await?;
        Ok(hashing.finish())
    }
}

/// Checks that `parts` hold bytes 0 to `length` of upload `id`, in order.
pub(super) fn follow_on(id: &str, parts: &[TusPart], length: u64) -> Result<(), MergeError> {
    let mut at = 0u64;
    for part in parts {
        if part.start != at {
            return Err(MergeError::Gap(format!(
                "the stored parts of upload {id} do not follow on at byte {at}"
            )));
        }
        at += part.len;
    }
    if at != length {
        return Err(MergeError::Gap(format!(
            "upload {id} holds {at} of its {length} bytes"
        )));
    }
    Ok(())
}
