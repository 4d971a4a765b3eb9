//! Receiving chunks: each is read to its declared length, verified
//! against its MD5 (in the merge's pass when it is next in order), stored,
//! and recorded.

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use object_store::PutPayload;

use super::{ChunkOutcome, UploadError, UploadStore, lower_hex, ms};
use crate::auth::Session;
use crate::store::now_ms;
use crate::upload::blobs::Blobs;
use crate::upload::index::{UploadRecord, UploadState};
use crate::upload::merge::budget_permits;

impl UploadStore {
    /// Stores chunk `index` of the user's upload from `body`, which must
    /// hash to `md5` (hex) and have the chunk's exact length. A chunk stored
    /// before is acknowledged without reading the body.
    ///
    /// # Errors
    /// Unknown upload, index out of range, wrong length, MD5 mismatch.
    #[tracing::instrument(name = "upload_chunk", skip_all, fields(upload = %id, index))]
    pub async fn put_chunk<S, E>(
        &self,
        session: &Session,
        id: &str,
        index: u32,
        md5: Option<&str>,
        declared_len: Option<u64>,
        body: S,
    ) -> Result<ChunkOutcome, UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let (upload, expected, md5) = match self
            .check_chunk(session, id, index, md5, declared_len)
            .await
        {
            Ok(checked) => checked,
            Err(err) => {
                self.refuse_body(body, declared_len).await;
                return Err(err);
            }
        };
        if self.index.received(id).await?.binary_search(&index).is_ok() {
            // Read and drop the body: answering before it is read would
            // break the client's connection mid-send.
            drain(body, expected).await?;
            tracing::info!(upload = %id, index, stored = false, "chunk received");
            return Ok(ChunkOutcome {
                index,
                stored: false,
            });
        }
        // Memory: chunk bodies wait here rather than pile up.
        let _permit = self
            .body_budget
            .clone()
            .acquire_many_owned(budget_permits(
                usize::try_from(expected).unwrap_or(usize::MAX),
            ))
            .await
            .map_err(|_| UploadError::Body("the server is shutting down".into()))?;
        let merge = self.merge_of(&upload).await?;
        let arriving = merge.arriving(index);
        let payload = read_chunk(body, index, expected).await?;
        // Still arriving (for the chunks after it) until offered below.
        let verified = merge
            .verify(index, &payload, &md5, self.config.turn_wait)
            .await?;
        if verified.md5 != md5 {
            return Err(UploadError::ChunkMd5Mismatch {
                index,
                expected: md5,
                found: verified.md5,
            });
        }
        let path = Blobs::chunk(id, index);
        self.blobs.put(&path, payload.clone()).await?;
        let expires = now_ms().saturating_add(ms(self.config.ttl));
        if !self.index.add_chunk(id, index, &md5, expires).await? {
            // Aborted or completed meanwhile: the chunk belongs to nothing.
            let _ = self.blobs.delete(&path).await;
            return Err(UploadError::UnknownUpload(id.to_owned()));
        }
        tracing::info!(upload = %id, index, stored = true, merged = verified.merged, "chunk received");
        let metrics = crate::metrics::metrics();
        metrics.upload_chunks.inc();
        metrics
            .upload_bytes
            .inc_by(u64::try_from(payload.content_length()).unwrap_or(0));
        // In a task of its own: a client that leaves (a page reload) drops
        // this request, and the merge must not stop halfway through a step.
        // Awaited, so a fast sender is still slowed to the merge's pace.
        let offered = tokio::spawn({
            let merge = merge.clone();
            async move {
                if verified.merged {
                    merge.resume().await;
                } else {
                    merge.offer(index, payload).await;
                }
            }
        });
        if let Err(err) = offered.await {
            tracing::warn!(upload = %id, index, error = %err, "merge step failed; complete will retry");
        }
        drop(arriving);
        Ok(ChunkOutcome {
            index,
            stored: true,
        })
    }

    /// What a chunk must be: the upload, the chunk's length and its MD5.
    async fn check_chunk(
        &self,
        session: &Session,
        id: &str,
        index: u32,
        md5: Option<&str>,
        declared_len: Option<u64>,
    ) -> Result<(UploadRecord, u64, String), UploadError> {
        let upload = self.owned(session, id).await?;
        if upload.state == UploadState::Complete {
            return Err(UploadError::AlreadyComplete(id.to_owned()));
        }
        let expected = upload
            .layout
            .chunk_len(index)
            .ok_or(UploadError::IndexOutOfRange {
                index,
                count: upload.layout.chunk_count,
            })?;
        let md5 = md5
            .and_then(|m| lower_hex(m, "Chunk-MD5", 32).ok())
            .ok_or(UploadError::MissingChunkMd5)?;
        if let Some(got) = declared_len.filter(|&len| len != expected) {
            return Err(UploadError::WrongLength {
                index,
                expected,
                got,
            });
        }
        Ok((upload, expected, md5))
    }

    /// Reads and drops the body of a refused chunk (up to the largest chunk
    /// size) so the client sees the answer rather than a broken connection.
    pub async fn refuse_body<S, E>(&self, body: S, declared_len: Option<u64>)
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let limit = self.config.limits.max_chunk_bytes;
        if declared_len.is_none_or(|len| len <= limit) {
            let _ = drain(body, limit).await;
        }
    }
}

/// Reads exactly `expected` bytes of a chunk.
async fn read_chunk<S, E>(mut body: S, index: u32, expected: u64) -> Result<PutPayload, UploadError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut parts = Vec::new();
    let mut got = 0u64;
    while let Some(part) = body.next().await {
        let part = part.map_err(|err| UploadError::Body(err.to_string()))?;
        got += part.len() as u64;
        if got > expected {
            return Err(UploadError::WrongLength {
                index,
                expected,
                got,
            });
        }
        parts.push(part);
    }
    if got != expected {
        return Err(UploadError::WrongLength {
            index,
            expected,
            got,
        });
    }
    Ok(parts.into_iter().collect())
}

/// Reads and discards a body of at most `limit` bytes.
async fn drain<S, E>(mut body: S, limit: u64) -> Result<(), UploadError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut got = 0u64;
    while let Some(part) = body.next().await {
        got += part
            .map_err(|err| UploadError::Body(err.to_string()))?
            .len() as u64;
        if got > limit {
            return Err(UploadError::Body(format!(
                "body longer than the chunk ({limit} bytes)"
            )));
        }
    }
    Ok(())
}
