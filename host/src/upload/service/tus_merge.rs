//! Hashing and merging a tus upload's parts. Bytes arrive in order, so
//! the whole-file MD5 and SHA-256 advance with each recorded part, on two
//! threads while the next part is received ([`Feeder`]); the state is kept
//! between requests ([`TusHashes`]) while it matches the recorded offset.
//! Completion then only copies the parts into the merged object. After a
//! restart, or when another node received some of the bytes, completion
//! hashes while it copies.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

use hangar_md5pair::Md5;
use md5::Digest as _;
use object_store::{ObjectStoreExt as _, PutPayload, WriteMultipart};
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

/// The hashing state of the uploads this process received bytes of.
#[derive(Debug, Default)]
pub(in crate::upload) struct TusHashes(Mutex<HashMap<String, Hashing>>);

impl TusHashes {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Hashing>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The state of upload `id` if it covers exactly its `received` bytes
    /// (a fresh one for an upload with none); `None` otherwise.
    pub(super) fn take(&self, id: &str, received: u64) -> Option<Hashing> {
        match self.map().remove(id) {
            Some(state) if state.next == received => Some(state),
            _ if received == 0 => Some(Hashing::new()),
            _ => None,
        }
    }

    /// Keeps `state` for the next request if it covers `received` bytes.
    pub(super) fn keep(&self, id: &str, state: Option<Hashing>, received: u64) {
        if let Some(state) = state.filter(|s| s.next == received) {
            self.map().insert(id.to_owned(), state);
        }
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

/// Feeds written parts to a [`Hashing`], one part hashing while the next
/// is received.
pub(super) struct Feeder {
    state: Option<Hashing>,
    hashing: Option<JoinHandle<Result<Hashing, MergeError>>>,
}

impl Feeder {
    pub(super) fn new(state: Option<Hashing>) -> Self {
        Self {
            state,
            hashing: None,
        }
    }

    async fn settle(&mut self) {
        if let Some(task) = self.hashing.take() {
            self.state = task.await.ok().and_then(Result::ok);
        }
    }

    /// Adds the part at `start` (the state is dropped if it does not end
    /// there); `permit` (its memory) is released once it is hashed.
    pub(super) async fn feed(
        &mut self,
        start: u64,
        payload: PutPayload,
        permit: Option<OwnedSemaphorePermit>,
    ) {
        self.settle().await;
        let Some(state) = self.state.take().filter(|s| s.next == start) else {
            return;
        };
        self.hashing = Some(tokio::spawn(async move {
            let fed = state.fed(payload).await;
            drop(permit);
            fed
        }));
    }

    /// The state as of every part fed.
    pub(super) async fn current(&mut self) -> Option<Hashing> {
        self.settle().await;
        self.state.clone()
    }

    /// Replaces the state (a checksummed body that was not recorded).
    pub(super) async fn reset(&mut self, state: Option<Hashing>) {
        self.settle().await;
        self.state = state;
    }

    /// The final state.
    pub(super) async fn into_state(mut self) -> Option<Hashing> {
        self.settle().await;
        self.state
    }
}

impl UploadStore {
    /// Copies `parts` in order into [`Blobs::merged`]`(id)`, hashing them
    /// unless `hashed` already covers them.
    pub(super) async fn tus_merge(
        &self,
        id: &str,
        parts: &[TusPart],
        hashed: Option<Hashing>,
    ) -> Result<Merged, UploadError> {
        let target = Blobs::merged(id);
        let copy_only = hashed.is_some();
        let mut hashing = hashed.unwrap_or_else(Hashing::new);
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
