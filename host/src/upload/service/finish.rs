//! Completing, discarding and expiring uploads, and deleting blobs that
//! became garbage (the trash).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use super::{Completed, UploadError, UploadStore};
use crate::auth::Session;
use crate::plugins::bindings::wit;
use crate::store::alerts::{AlertKind, NewAlert};
use crate::upload::blobs::Blobs;
use crate::upload::index::{Content, FileRecord, Registration, Source, UploadRecord, UploadState};
use crate::upload::merge::Merge;

/// How long a `complete` waits while another process finishes the same
/// upload's merge: longer than a lease, so a dead holder is taken over.
const LEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(25);

impl UploadStore {
    pub(super) async fn merge_of(&self, upload: &UploadRecord) -> Result<Arc<Merge>, UploadError> {
        if let Some(merge) = self.merges().get(&upload.id) {
            return Ok(merge.clone());
        }
        let received = self.index.received(&upload.id).await?;
        let fresh = Arc::new(Merge::new(
            &upload.id,
            upload.layout,
            &received,
            self.blobs.clone(),
            self.merge_budget.clone(),
        ));
        Ok(self
            .merges()
            .entry(upload.id.clone())
            .or_insert(fresh)
            .clone())
    }

    pub(super) fn merges(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Merge>>> {
        self.merges.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Merges the chunks, checks the whole-file MD5, runs the upload hooks
    /// and registers the file. Completing a complete upload returns its file.
    ///
    /// # Errors
    /// Chunks missing, MD5 mismatch, rejection by a hook (the last two
    /// discard the upload), or a storage failure (complete again).
    #[tracing::instrument(name = "upload_complete", skip_all, fields(upload = %id))]
    pub async fn complete(&self, session: &Session, id: &str) -> Result<Completed, UploadError> {
        let upload = self.owned(session, id).await?;
        if upload.state == UploadState::Complete {
            return self.completed(&upload).await;
        }
        let received = self.index.received(id).await?;
        if received.len() < upload.layout.chunk_count as usize {
            let missing = (0..upload.layout.chunk_count)
                .filter(|i| received.binary_search(i).is_err())
                .collect();
            return Err(UploadError::ChunksMissing { missing });
        }
        let _completing = CompletingGuard::take(&self.completing, id)
            .ok_or_else(|| UploadError::Completing(id.to_owned()))?;
        let _lease = match &self.leases {
            Some(leases) => {
                let deadline = tokio::time::Instant::now() + LEASE_WAIT;
                loop {
                    if let Some(lease) = leases.try_take(id).await? {
                        break Some(lease);
                    }
                    // Another process merges: it finishes, or it dies and
                    // its lease runs out.
                    match self.index.upload(id).await? {
                        Some(done) if done.state == UploadState::Complete => {
                            return self.completed(&done).await;
                        }
                        Some(_) => {}
                        None => return Err(UploadError::UnknownUpload(id.to_owned())),
                    }
                    if tokio::time::Instant::now() >= deadline {
                        return Err(UploadError::Completing(id.to_owned()));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                }
            }
            None => None,
        };
        // Finished elsewhere while this process waited for its turn.
        match self.index.upload(id).await? {
            Some(done) if done.state == UploadState::Complete => {
                return self.completed(&done).await;
            }
            Some(_) => {}
            None => return Err(UploadError::UnknownUpload(id.to_owned())),
        }
        let merge = self.merge_of(&upload).await?;
        // Chunks other processes stored are read back from the store.
        merge.note_received(&received);
        let merging = std::time::Instant::now();
        let merged = merge.finish().await;
        crate::metrics::metrics()
            .upload_merge_seconds
            .observe(merging.elapsed().as_secs_f64());
        self.merges().remove(id);
        let merged = merged?;
        if merged.md5 != upload.md5 {
            self.discard(id).await?;
            return Err(UploadError::FileMd5Mismatch {
                expected: upload.md5.clone(),
                found: merged.md5,
            });
        }
        let file = self.new_file(&upload, merged.sha256.clone(), Some(&merged.head));
        let file = match self
            .admit(Source::Native(id), file, merged.head, &upload.content_type)
            .await?
        {
            Admitted::Registered(file) => file,
            Admitted::Rejected { by, reason } => {
                self.discard(id).await?;
                return Err(UploadError::Rejected { by, reason });
            }
            Admitted::Gone => {
                // Completed on another node meanwhile (its merge wrote the
                // same bytes to the same place), or removed (expired,
                // aborted), which put the merged object in the trash.
                return match self.index.upload(id).await? {
                    Some(done) if done.state == UploadState::Complete => {
                        self.completed(&done).await
                    }
                    _ => Err(UploadError::UnknownUpload(id.to_owned())),
                };
            }
        };
        self.delete_later(Blobs::chunks_of(id));
        tracing::info!(upload = %id, file = %file.id, sha256 = %file.sha256, "upload complete");
        crate::metrics::metrics().upload_merges.inc();
        Ok(Completed { file })
    }

    /// Runs the upload hooks on a merged file (its first bytes in `head`)
    /// and, if they accept it, registers it from `source`, whose merged
    /// object is at [`Blobs::merged`]. The hooks' flags become alerts.
    pub(super) async fn admit(
        &self,
        source: Source<'_>,
        file: FileRecord,
        head: Vec<u8>,
        declared_type: &str,
    ) -> Result<Admitted, UploadError> {
        let id = source.id();
        let decision = self
            .runtime
            .upload_chain()
            .on_upload(
                wit::FileInfo {
                    id: file.id.clone(),
                    name: file.name.clone(),
                    size: file.size,
                    md5: file.md5.clone(),
                    content_type: declared_type.to_owned(),
                },
                head,
            )
            .await;
        for flag in decision.flags {
            let alert = NewAlert {
                severity: flag.severity,
                kind: AlertKind::Flag,
                source: flag.by.to_string(),
                reason: format!("file {} ({}): {}", file.id, file.name, flag.reason),
                room: None,
                message_id: None,
            };
            if let Err(err) = self.alerts.raise(alert).await {
                tracing::error!(error = %err, "could not store an upload alert");
            }
        }
        if let Some(rejection) = decision.rejected {
            tracing::info!(upload = %id, by = %rejection.by, reason = %rejection.reason, "upload rejected");
            return Ok(Admitted::Rejected {
                by: rejection.by.to_string(),
                reason: rejection.reason,
            });
        }
        let merged_at = Blobs::merged(id);
        let registration = {
            let _guard = self.object_lock(&file.sha256).lock().await;
            // Content stored before is kept where it is; if its blob went
            // missing, this merge's takes its place.
            let replace = match self.index.object(&file.sha256).await? {
                Some(object) => !self.blobs.exists(&Blobs::at(&object.location)).await?,
                None => false,
            };
            let content = Content::Merged {
                location: merged_at.as_ref(),
                replace,
            };
            self.index.register(source, &file, content).await?
        };
        match registration {
            Registration::Stored(location) if location != merged_at.as_ref() => {
                // Same content as a stored object: this merge's copy is in
                // the trash; delete it now (the sweep would, later).
                self.empty_trash_item(&merged_at).await;
            }
            Registration::Stored(_) => {}
            Registration::UploadGone | Registration::ObjectGone => return Ok(Admitted::Gone),
        }
        Ok(Admitted::Registered(file))
    }

    /// The file of a complete upload.
    async fn completed(&self, upload: &UploadRecord) -> Result<Completed, UploadError> {
        let file_id = upload.file_id.clone().unwrap_or_default();
        let file = self
            .index
            .file(&file_id)
            .await?
            .ok_or(UploadError::UnknownFile(file_id))?;
        Ok(Completed { file })
    }

    /// Drops this process's merges of uploads that are no longer open
    /// (completed, aborted or expired through another process): their
    /// early chunks leave the memory budget and their unfinished merged
    /// objects are abandoned.
    pub(in crate::upload) async fn drop_stale_merges(&self, open: &HashSet<String>) {
        let stale: Vec<Arc<Merge>> = {
            let mut merges = self.merges();
            let ids: Vec<String> = merges
                .keys()
                .filter(|id| !open.contains(*id))
                .cloned()
                .collect();
            ids.iter().filter_map(|id| merges.remove(id)).collect()
        };
        for merge in stale {
            merge.discard().await;
        }
    }

    /// Removes an upload with its chunks and merged object.
    pub(super) async fn discard(&self, id: &str) -> Result<(), UploadError> {
        let merge = self.merges().remove(id);
        if let Some(merge) = merge {
            merge.discard().await;
        }
        let merged_at = Blobs::merged(id);
        self.index.delete_upload(id, merged_at.as_ref()).await?;
        self.empty_trash_item(&merged_at).await;
        self.blobs.delete_all(&Blobs::chunks_of(id)).await?;
        Ok(())
    }

    /// Deletes a blob that is in the trash and forgets it.
    async fn delete_trashed(&self, location: &str) -> Result<(), UploadError> {
        self.blobs.delete(&Blobs::at(location)).await?;
        self.index.untrash(location).await?;
        Ok(())
    }

    /// [`Self::delete_trashed`] at once, after the change that trashed it; a
    /// failure leaves it to the sweep.
    pub(super) async fn empty_trash_item(&self, path: &object_store::path::Path) {
        if let Err(err) = self.delete_trashed(path.as_ref()).await {
            tracing::warn!(blob = %path, error = %err, "blob left in the trash for the sweep");
        }
    }

    /// Deletes the blobs in the trash, on any node: each was recorded there
    /// by the transaction that made it garbage. Returns how many.
    ///
    /// # Errors
    /// The index or the object store failed; the next sweep tries again.
    pub(in crate::upload) async fn empty_trash(&self) -> Result<usize, UploadError> {
        let mut emptied = 0;
        loop {
            let batch = self.index.trash(100).await?;
            for location in &batch {
                self.delete_trashed(location).await?;
            }
            emptied += batch.len();
            if batch.len() < 100 {
                return Ok(emptied);
            }
        }
    }

    /// Chunks (or tus parts) are not needed once the file is registered:
    /// everything under `prefix` is deleted after the answer (a gigabyte of
    /// them takes a while), and failing to delete it only leaves garbage
    /// the sweep removes.
    pub(super) fn delete_later(&self, prefix: object_store::path::Path) {
        let blobs = self.blobs.clone();
        tokio::spawn(async move {
            if let Err(err) = blobs.delete_all(&prefix).await {
                tracing::warn!(blobs = %prefix, error = %err, "could not delete merged chunks or parts");
            }
        });
    }

    /// Aborts the user's open upload: its chunks are deleted.
    ///
    /// # Errors
    /// Unknown upload, or it is complete.
    #[tracing::instrument(name = "upload_abort", skip_all, fields(upload = %id))]
    pub async fn abort(&self, session: &Session, id: &str) -> Result<(), UploadError> {
        let upload = self.owned(session, id).await?;
        if upload.state == UploadState::Complete {
            return Err(UploadError::AlreadyComplete(id.to_owned()));
        }
        let _completing = CompletingGuard::take(&self.completing, id)
            .ok_or_else(|| UploadError::Completing(id.to_owned()))?;
        self.discard(id).await
    }

    /// Removes an expired upload, unless it is being completed.
    pub(in crate::upload) async fn expire(&self, id: &str) -> Result<(), UploadError> {
        let Some(_completing) = CompletingGuard::take(&self.completing, id) else {
            return Ok(());
        };
        self.discard(id).await
    }
}

/// What the upload hooks and the index made of a merged file.
pub(super) enum Admitted {
    /// Accepted and registered.
    Registered(FileRecord),
    /// A hook rejected it: the caller discards the upload.
    Rejected {
        /// The plugin.
        by: String,
        /// Its reason.
        reason: String,
    },
    /// The upload was no longer open (completed elsewhere, or removed).
    Gone,
}

/// Marks an upload as being completed (or removed) until dropped.
pub(super) struct CompletingGuard<'a> {
    set: &'a Mutex<HashSet<String>>,
    id: String,
}

impl<'a> CompletingGuard<'a> {
    pub(super) fn take(set: &'a Mutex<HashSet<String>>, id: &str) -> Option<Self> {
        let fresh = set
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.to_owned());
        fresh.then(|| Self {
            set,
            id: id.to_owned(),
        })
    }
}

impl Drop for CompletingGuard<'_> {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.id);
    }
}
