//! tus uploads: created with a length (or deferred), appended in order by
//! `PATCH` requests whose bytes are stored as parts as they arrive, and,
//! once whole, merged, hashed and registered exactly like a native upload
//! (the upload hooks, content addressing, reference counts). The protocol
//! itself is in [`crate::upload::tus`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use object_store::PutPayload;

use super::finish::{Admitted, CompletingGuard};
use super::tus_merge::{Feeder, follow_on};
use super::{Declared, UploadError, UploadStore, check_name, ms, new_id, valid_id};
use crate::auth::Session;
use crate::store::now_ms;
use crate::upload::blobs::Blobs;
use crate::upload::index::{Source, UploadState};
use crate::upload::merge::budget_permits;
use crate::upload::tus::headers::Checksum;
use crate::upload::tus::index::{Concat, TusPart, TusRecord};

/// A `PATCH` body is stored in parts of at most this many bytes, each
/// recorded as soon as it is written: an interrupted request keeps all
/// but its last part (and that one too when the body ends cleanly).
pub const PART_BYTES: usize = 8 << 20;

/// How long a request waits for another one writing to the same upload
/// (a client retrying after a broken connection, before the server
/// noticed) before it is answered `423`.
const WRITER_WAIT: Duration = Duration::from_secs(3);

/// What a tus creation asks for.
#[derive(Debug, Clone)]
pub struct TusCreate {
    /// Its length; `None` to defer it.
    pub length: Option<u64>,
    /// `Upload-Metadata` as sent.
    pub metadata: String,
    /// File name, from the metadata.
    pub name: Option<String>,
    /// Content type, from the metadata.
    pub content_type: Option<String>,
    /// Concatenation.
    pub concat: Concat,
}

/// What a `PATCH` says besides its bytes.
#[derive(Debug, Clone)]
pub struct TusPatch {
    /// `Upload-Offset`: where the bytes start.
    pub offset: u64,
    /// `Upload-Length`, setting a deferred length.
    pub length: Option<u64>,
    /// `Upload-Checksum`.
    pub checksum: Option<Checksum>,
    /// `Content-Length`, when sent.
    pub declared: Option<u64>,
}

/// The requests writing to tus uploads on this process, one per upload.
#[derive(Debug, Default)]
pub(in crate::upload) struct Writers(Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>);

/// The turn of one request to write to an upload.
struct Writing<'a> {
    writers: &'a Writers,
    id: String,
    _turn: tokio::sync::OwnedMutexGuard<()>,
}

impl Writers {
    async fn take(&self, id: &str) -> Result<Writing<'_>, UploadError> {
        let lock = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(id.to_owned())
            .or_default()
            .clone();
        let turn = tokio::time::timeout(WRITER_WAIT, lock.lock_owned())
            .await
            .map_err(|_| UploadError::Busy(id.to_owned()))?;
        Ok(Writing {
            writers: self,
            id: id.to_owned(),
            _turn: turn,
        })
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        let mut map = self
            .writers
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Two references: the map's and this guard's lock (no one waits).
        if map.get(&self.id).is_some_and(|l| Arc::strong_count(l) <= 2) {
            map.remove(&self.id);
        }
    }
}

/// Parts written by one request and not yet recorded.
struct Pending<'a> {
    store: &'a UploadStore,
    /// The body's checksum: its parts wait for it to match.
    checksum: Option<Checksum>,
    parts: Vec<TusPart>,
}

impl Pending<'_> {
    /// Deletes the parts' objects (they were never recorded).
    async fn discard(&mut self) {
        for part in self.parts.drain(..) {
            let _ = self.store.blobs.delete(&Blobs::at(&part.location)).await;
        }
    }
}

impl UploadStore {
    /// The user's tus upload `id`.
    ///
    /// # Errors
    /// Unknown (or another user's): [`UploadError::UnknownUpload`]; past its
    /// expiry: [`UploadError::Expired`].
    async fn tus_owned(&self, session: &Session, id: &str) -> Result<TusRecord, UploadError> {
        let unknown = || UploadError::UnknownUpload(id.to_owned());
        if !valid_id(id, "t_") {
            return Err(unknown());
        }
        let upload = self.index.tus_upload(id).await?.ok_or_else(unknown)?;
        if upload.owner != session.user.as_str() {
            return Err(unknown());
        }
        if upload.expires_ms < now_ms() {
            return Err(UploadError::Expired(id.to_owned()));
        }
        Ok(upload)
    }

    fn check_length(&self, length: u64) -> Result<(), UploadError> {
        let limit = self.config.limits.max_file_bytes;
        if length > limit {
            return Err(UploadError::TooLarge {
                size: length,
                limit,
            });
        }
        Ok(())
    }

    /// Creates a tus upload. A final (concatenated) upload, and an upload
    /// of length 0, are complete on return.
    ///
    /// # Errors
    /// A length above the limit, a bad name, partial uploads that are not
    /// the user's, not partial or not whole; a refusal by an upload hook.
    #[tracing::instrument(name = "tus_create", skip_all, fields(user = %session.user))]
    pub async fn tus_create(
        &self,
        session: &Session,
        req: TusCreate,
    ) -> Result<TusRecord, UploadError> {
        let name = req.name.unwrap_or_else(|| "upload".to_owned());
        check_name(&name)?;
        let mut length = req.length;
        if let Concat::Final(parts) = &req.concat {
            let mut total = 0u64;
            for id in parts {
                let part = self.tus_owned(session, id).await?;
                if part.concat != Concat::Partial || !part.is_full() {
                    return Err(UploadError::NotAllowed(format!(
                        "upload {id} is not a whole partial upload; only those can be concatenated"
                    )));
                }
                total = total.saturating_add(part.received);
            }
            length = Some(total);
        }
        if let Some(length) = length {
            self.check_length(length)?;
        }
        let content_type = req
            .content_type
            .filter(|t| t.parse::<mime_guess::Mime>().is_ok())
            .unwrap_or_else(|| super::guessed_content_type(&name));
        let now = now_ms();
        let is_final = matches!(req.concat, Concat::Final(_));
        let upload = TusRecord {
            id: new_id("t_"),
            owner: session.user.as_str().to_owned(),
            length,
            // A final upload's bytes are its partial uploads'.
            received: if is_final { length.unwrap_or(0) } else { 0 },
            metadata: req.metadata,
            name,
            content_type,
            concat: req.concat,
            state: UploadState::Open,
            file_id: None,
            created_ms: now,
            expires_ms: now.saturating_add(ms(self.config.ttl)),
        };
        self.index.tus_create(&upload).await?;
        tracing::info!(upload = %upload.id, length = ?upload.length, "tus upload created");
        self.tus_settle(upload).await
    }

    /// Completes `upload` if it is whole and meant to be a file.
    async fn tus_settle(&self, upload: TusRecord) -> Result<TusRecord, UploadError> {
        if upload.state == UploadState::Open && upload.is_full() && upload.concat != Concat::Partial
        {
            self.tus_finish(&upload.id).await
        } else {
            Ok(upload)
        }
    }

    /// The user's tus upload (`HEAD`). A whole upload whose completion was
    /// cut short (a crash, a storage failure) is completed now.
    ///
    /// # Errors
    /// Unknown or expired; the completion's errors.
    pub async fn tus_status(&self, session: &Session, id: &str) -> Result<TusRecord, UploadError> {
        let upload = self.tus_owned(session, id).await?;
        self.tus_settle(upload).await
    }

    /// Appends `body` at `offset` (`PATCH`), setting a deferred `length`
    /// first, verifying `checksum` if given; completes the upload when its
    /// last byte arrives. Without a checksum every part written is kept,
    /// even when the body breaks off; with one, nothing of a body that
    /// does not match (or breaks off) is kept.
    ///
    /// # Errors
    /// Unknown, expired, complete or final upload; an offset other than
    /// the upload's; a length set twice or above the limit; a body past the
    /// length; a checksum mismatch; another request writing to it.
    #[tracing::instrument(name = "tus_append", skip_all, fields(upload = %id, offset))]
    pub async fn tus_append<S, E>(
        &self,
        session: &Session,
        id: &str,
        patch: TusPatch,
        body: S,
    ) -> Result<TusRecord, UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let checked = async {
            self.tus_owned(session, id).await?;
            let writing = self.tus_writers.take(id).await?;
            let upload = self.tus_accepts(session, id, &patch).await?;
            Ok((writing, upload))
        };
        let (_writing, upload) = match checked.await {
            Ok(checked) => checked,
            Err(err) => {
                // Read and drop the body: answering before it is read
                // would break the client's connection mid-send.
                self.refuse_body(body, patch.declared).await;
                return Err(err);
            }
        };
        let limit = upload.length.unwrap_or(self.config.limits.max_file_bytes);
        // A partial upload never becomes a file by itself: its bytes are
        // hashed and merged with the final upload's.
        let mut feeder = match upload.concat {
            Concat::Partial => Feeder::idle(),
            _ => self.tus_hashes.take(id, upload.received),
        };
        let received = self
            .tus_receive(&upload, limit, patch.checksum, body, &mut feeder)
            .await;
        let upload = self
            .index
            .tus_upload(id)
            .await?
            .ok_or_else(|| UploadError::UnknownUpload(id.to_owned()))?;
        self.tus_hashes.keep(id, feeder, upload.received);
        received?;
        self.tus_settle(upload).await
    }

    /// The upload, if `patch` may be appended to it (setting a deferred
    /// length on the way).
    async fn tus_accepts(
        &self,
        session: &Session,
        id: &str,
        patch: &TusPatch,
    ) -> Result<TusRecord, UploadError> {
        let (offset, length) = (patch.offset, patch.length);
        // Read again: the request before this one may have moved it.
        let mut upload = self.tus_owned(session, id).await?;
        if let Concat::Final(_) = upload.concat {
            return Err(UploadError::NotAllowed(
                "a final upload is made by concatenation and takes no PATCH".into(),
            ));
        }
        if let Some(length) = length {
            match upload.length {
                Some(set) if set == length => {}
                Some(set) => {
                    return Err(UploadError::NotAllowed(format!(
                        "the upload's length is already {set}"
                    )));
                }
                None => {
                    self.check_length(length)?;
                    if length < upload.received {
                        return Err(UploadError::PastLength {
                            length,
                            end: upload.received,
                        });
                    }
                    self.index.tus_set_length(id, length).await?;
                    upload.length = Some(length);
                }
            }
        }
        if upload.state == UploadState::Complete {
            return Err(UploadError::AlreadyComplete(id.to_owned()));
        }
        if offset != upload.received {
            return Err(UploadError::OffsetMismatch {
                at: upload.received,
                sent: offset,
            });
        }
        let limit = upload.length.unwrap_or(self.config.limits.max_file_bytes);
        if let Some(declared) = patch.declared
            && offset.saturating_add(declared) > limit
        {
            return Err(UploadError::PastLength {
                length: limit,
                end: offset.saturating_add(declared),
            });
        }
        Ok(upload)
    }

    /// Stores `body` as parts from `upload.received` on, up to `limit`.
    /// Nothing of a checksummed body that is refused (or breaks off) is
    /// kept, and the digests go back to where they stood.
    async fn tus_receive<S, E>(
        &self,
        upload: &TusRecord,
        limit: u64,
        checksum: Option<Checksum>,
        body: S,
        feeder: &mut Feeder,
    ) -> Result<(), UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let checksummed = checksum.is_some();
        let before = if checksummed {
            feeder.current().await
        } else {
            None
        };
        let mut pending = Pending {
            store: self,
            checksum,
            parts: Vec::new(),
        };
        let received = self
            .tus_take_body(upload, limit, body, &mut pending, feeder)
            .await;
        if received.is_err() && checksummed {
            pending.discard().await;
            feeder.reset(before).await;
        }
        received
    }

    /// Reads `body` into parts, recorded as they are written (or, with a
    /// checksum, together once it matched; until then they are in
    /// `pending`).
    async fn tus_take_body<S, E>(
        &self,
        upload: &TusRecord,
        limit: u64,
        mut body: S,
        pending: &mut Pending<'_>,
        feeder: &mut Feeder,
    ) -> Result<(), UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let mut hasher = pending.checksum.as_ref().map(Checksum::hasher);
        // Where the next part starts, and the bytes of the part being filled.
        let mut start = upload.received;
        let mut buffer: Vec<Bytes> = Vec::new();
        let mut buffered = 0usize;
        let mut permit = None;
        let broke = loop {
            let frame = match body.next().await {
                None => break None,
                Some(Err(err)) => break Some(UploadError::Body(err.to_string())),
                Some(Ok(frame)) => frame,
            };
            let end = start + (buffered + frame.len()) as u64;
            if end > limit {
                return Err(UploadError::PastLength { length: limit, end });
            }
            if let Some(hasher) = hasher.as_mut() {
                hasher.update(&frame);
            }
            if permit.is_none() {
                // Memory: part buffers wait here rather than pile up.
                permit = Some(
                    self.body_budget
                        .clone()
                        .acquire_many_owned(budget_permits(PART_BYTES))
                        .await
                        .map_err(|_| UploadError::Body("the server is shutting down".into()))?,
                );
            }
            buffered += frame.len();
            buffer.push(frame);
            if buffered >= PART_BYTES {
                start += self
                    .tus_part(upload, start, &mut buffer, pending, feeder, permit.take())
                    .await?;
                buffered = 0;
            }
        };
        if hasher.is_some()
            && let Some(err) = broke
        {
            tracing::info!(upload = %upload.id, error = %err, "tus body broke off; its checksum cannot hold");
            return Err(err);
        }
        if buffered > 0 {
            self.tus_part(upload, start, &mut buffer, pending, feeder, permit.take())
                .await?;
        }
        drop(permit);
        if let (Some(hasher), Some(checksum)) = (hasher, &pending.checksum) {
            if hasher.finish() != checksum.digest {
                return Err(UploadError::ChecksumMismatch {
                    algorithm: checksum.algorithm.name(),
                });
            }
            if let Some(first) = pending.parts.first().map(|p| p.start)
                && !self
                    .index
                    .tus_append(&upload.id, first, &pending.parts, self.expiry())
                    .await?
            {
                return Err(self.tus_moved(&upload.id, first).await);
            }
            pending.parts.clear();
        }
        match broke {
            Some(err) => Err(err),
            None => Ok(()),
        }
    }

    fn expiry(&self) -> i64 {
        now_ms().saturating_add(ms(self.config.ttl))
    }

    /// Writes the buffered bytes as the part at `start`, records it (or
    /// keeps it pending), and feeds it to the digests and the merged
    /// object; its length.
    async fn tus_part(
        &self,
        upload: &TusRecord,
        start: u64,
        buffer: &mut Vec<Bytes>,
        pending: &mut Pending<'_>,
        feeder: &mut Feeder,
        permit: Option<tokio::sync::OwnedSemaphorePermit>,
    ) -> Result<u64, UploadError> {
        let (part, payload) = self.tus_put_part(&upload.id, start, buffer).await?;
        let len = part.len;
        self.tus_keep(upload, part, pending).await?;
        let of = (upload.id.as_str(), upload.length);
        feeder.feed(&self.blobs, of, start, payload, permit).await;
        Ok(len)
    }

    /// Writes the buffered bytes as the part starting at `start`; the part
    /// and its bytes.
    async fn tus_put_part(
        &self,
        id: &str,
        start: u64,
        buffer: &mut Vec<Bytes>,
    ) -> Result<(TusPart, PutPayload), UploadError> {
        let payload: PutPayload = std::mem::take(buffer).into_iter().collect();
        let len = payload.content_length() as u64;
        // A name of its own: a racing request's part never overwrites it.
        let path = Blobs::tus_part(id, start, &uuid::Uuid::new_v4().simple().to_string());
        self.blobs.put(&path, payload.clone()).await?;
        crate::metrics::metrics().upload_bytes.inc_by(len);
        let part = TusPart {
            start,
            len,
            location: path.as_ref().to_owned(),
        };
        Ok((part, payload))
    }

    /// Records a written part at once, or (with a checksum to verify) keeps
    /// it pending until the body is whole.
    async fn tus_keep(
        &self,
        upload: &TusRecord,
        part: TusPart,
        pending: &mut Pending<'_>,
    ) -> Result<(), UploadError> {
        if pending.checksum.is_some() {
            pending.parts.push(part);
            return Ok(());
        }
        let recorded = self
            .index
            .tus_append(
                &upload.id,
                part.start,
                std::slice::from_ref(&part),
                self.expiry(),
            )
            .await?;
        if !recorded {
            let _ = self.blobs.delete(&Blobs::at(&part.location)).await;
            return Err(self.tus_moved(&upload.id, part.start).await);
        }
        Ok(())
    }

    /// Why parts starting at `start` could not be recorded.
    async fn tus_moved(&self, id: &str, start: u64) -> UploadError {
        match self.index.tus_upload(id).await {
            Ok(Some(upload)) if upload.state == UploadState::Open => UploadError::OffsetMismatch {
                at: upload.received,
                sent: start,
            },
            Ok(Some(_)) => UploadError::AlreadyComplete(id.to_owned()),
            Ok(None) => UploadError::UnknownUpload(id.to_owned()),
            Err(err) => err.into(),
        }
    }

    /// Merges a whole upload's parts (a final upload's: its partial
    /// uploads'), runs the upload hooks and registers the file.
    async fn tus_finish(&self, id: &str) -> Result<TusRecord, UploadError> {
        let _completing = CompletingGuard::take(&self.completing, id)
            .ok_or_else(|| UploadError::Completing(id.to_owned()))?;
        let upload = self
            .index
            .tus_upload(id)
            .await?
            .ok_or_else(|| UploadError::UnknownUpload(id.to_owned()))?;
        if upload.state == UploadState::Complete {
            return Ok(upload);
        }
        let sources: Vec<String> = match &upload.concat {
            Concat::Final(parts) => parts.clone(),
            _ => vec![id.to_owned()],
        };
        let mut parts = Vec::new();
        for source in &sources {
            let of_source = self.index.tus_parts(source).await?;
            let length = if source == id {
                upload.length.unwrap_or(0)
            } else {
                self.index
                    .tus_upload(source)
                    .await?
                    .and_then(|partial| partial.length)
                    .ok_or_else(|| UploadError::UnknownUpload(source.clone()))?
            };
            follow_on(source, &of_source, length)?;
            parts.extend(of_source);
        }
        // What was hashed and merged as the bytes arrived, if this process
        // saw them all.
        let length = match upload.concat {
            Concat::None => upload.length.unwrap_or(0),
            _ => u64::MAX,
        };
        let streamed = self.tus_hashes.whole(id, length).await;
        let merging = std::time::Instant::now();
        let merged = self.tus_merge(id, &parts, streamed).await;
        crate::metrics::metrics()
            .upload_merge_seconds
            .observe(merging.elapsed().as_secs_f64());
        let merged = merged?;
        let declared = Declared {
            owner: &upload.owner,
            name: &upload.name,
            content_type: &upload.content_type,
        };
        let file = declared.file(
            upload.length.unwrap_or(0),
            merged.md5,
            merged.sha256,
            Some(&merged.head),
        );
        match self
            .admit(Source::Tus(id), file, merged.head, &upload.content_type)
            .await?
        {
            Admitted::Registered(file) => {
                for source in &sources {
                    if source != id {
                        self.index.tus_delete(source).await?;
                    }
                    self.delete_later(Blobs::tus_parts_of(source));
                }
                tracing::info!(upload = %id, file = %file.id, sha256 = %file.sha256, "tus upload complete");
                crate::metrics::metrics().upload_merges.inc();
            }
            Admitted::Rejected { by, reason } => {
                self.tus_discard(id).await?;
                return Err(UploadError::Rejected { by, reason });
            }
            Admitted::Gone => {}
        }
        self.index
            .tus_upload(id)
            .await?
            .filter(|u| u.state == UploadState::Complete)
            .ok_or_else(|| UploadError::UnknownUpload(id.to_owned()))
    }

    /// Removes a tus upload with its parts and merged object.
    async fn tus_discard(&self, id: &str) -> Result<(), UploadError> {
        self.tus_hashes.forget(id);
        let was_open = self
            .index
            .tus_upload(id)
            .await?
            .is_some_and(|u| u.state == UploadState::Open);
        self.index.tus_delete(id).await?;
        if was_open {
            self.blobs.delete(&Blobs::merged(id)).await?;
        }
        self.blobs.delete_all(&Blobs::tus_parts_of(id)).await?;
        Ok(())
    }

    /// Terminates the user's tus upload (`DELETE`): an open one's bytes are
    /// deleted; a complete one is forgotten, its file stays.
    ///
    /// # Errors
    /// Unknown or expired; another request writing to it or completing it.
    #[tracing::instrument(name = "tus_terminate", skip_all, fields(upload = %id))]
    pub async fn tus_terminate(&self, session: &Session, id: &str) -> Result<(), UploadError> {
        self.tus_owned(session, id).await?;
        let _writing = self.tus_writers.take(id).await?;
        let _completing = CompletingGuard::take(&self.completing, id)
            .ok_or_else(|| UploadError::Completing(id.to_owned()))?;
        self.tus_discard(id).await
    }

    /// Removes an expired tus upload, unless a request is completing it.
    pub(in crate::upload) async fn tus_expire(&self, id: &str) -> Result<(), UploadError> {
        let Some(_completing) = CompletingGuard::take(&self.completing, id) else {
            return Ok(());
        };
        self.tus_discard(id).await
    }

    /// Forgets the digests of tus uploads that are no longer open.
    pub(in crate::upload) fn drop_stale_tus_hashes(
        &self,
        open: &std::collections::HashSet<String>,
    ) {
        self.tus_hashes.retain(open);
    }
}
