//! Instant upload: a client that claims content the store already holds
//! proves it by hashing a range the server picks; one try per upload.

use bytes::Bytes;
use md5::{Digest as _, Md5};

use super::{ProofOutcome, UploadError, UploadStore, lower_hex};
use crate::auth::Session;
use crate::upload::blobs::{BlobError, Blobs};
use crate::upload::index::{Content, Registration, Source, UploadRecord, UploadState};
use crate::upload::merge::MergeError;

impl UploadStore {
    /// Answers the instant-upload challenge with the MD5 (hex) of the
    /// challenged range. One try per upload.
    ///
    /// # Errors
    /// Unknown upload, no challenge, or the try was spent.
    #[tracing::instrument(name = "upload_prove", skip_all, fields(upload = %id))]
    pub async fn prove(
        &self,
        session: &Session,
        id: &str,
        answer: &str,
    ) -> Result<ProofOutcome, UploadError> {
        let upload = self.owned(session, id).await?;
        if upload.state == UploadState::Complete {
            return Err(UploadError::AlreadyComplete(id.to_owned()));
        }
        let (Some(challenge), Some(claim)) = (upload.challenge, upload.sha256_claim.clone()) else {
            return Err(UploadError::NoChallenge(id.to_owned()));
        };
        let answer = lower_hex(answer, "md5", 32)?;
        if !self.index.spend_proof(id).await? {
            return Err(UploadError::ProofUsed(id.to_owned()));
        }
        let object = self
            .index
            .object(&claim)
            .await?
            .filter(|o| o.size == upload.layout.size && o.md5 == upload.md5);
        // Unknown content costs the same work as known content (a read of
        // the same length from the store, then its MD5), so the answer's
        // timing does not tell whether the server holds it.
        let (path, offset) = match &object {
            Some(o) => (Blobs::at(&o.location), challenge.offset),
            None => (self.decoy().await?, 0),
        };
        let range = match self.blobs.read_range(&path, offset, challenge.length).await {
            Ok(bytes) => Some(bytes).filter(|_| object.is_some()),
            Err(BlobError::NotFound { .. }) => None,
            Err(err) => return Err(err.into()),
        };
        let known = range.is_some();
        let range = range.unwrap_or_else(|| Bytes::from(vec![0; challenge.length as usize]));
        let expected = tokio::task::spawn_blocking(move || hex::encode(Md5::digest(&range)))
            .await
            .map_err(MergeError::from)?;
        let upload = UploadRecord {
            proof_used: true,
            ..upload
        };
        if !(known && constant_time_eq(expected.as_bytes(), answer.as_bytes())) {
            return Ok(ProofOutcome::Upload(self.view(&upload).await?));
        }
        let file = self.new_file(&upload, claim, None);
        {
            let _guard = self.object_lock(&file.sha256).lock().await;
            // Registered only if the object is still there, in the
            // transaction that counts the reference: a delete (on any node)
            // cannot interleave.
            match self
                .index
                .register(Source::Native(&upload.id), &file, Content::Existing)
                .await?
            {
                Registration::Stored(_) => {}
                Registration::ObjectGone => {
                    return Ok(ProofOutcome::Upload(self.view(&upload).await?));
                }
                Registration::UploadGone => {
                    return Err(UploadError::UnknownUpload(upload.id.clone()));
                }
            }
        }
        self.delete_later(Blobs::chunks_of(&upload.id));
        tracing::info!(upload = %upload.id, file = %file.id, "instant upload");
        crate::metrics::metrics().upload_instant.inc();
        Ok(ProofOutcome::Instant(file))
    }

    /// An object as long as the longest challenge, read in place of stored
    /// content for proofs about content the store does not hold.
    async fn decoy(&self) -> Result<object_store::path::Path, UploadError> {
        let path = object_store::path::Path::from_iter(["decoy", "challenge"]);
        let length = self.config.challenge_bytes;
        self.decoy
            .get_or_try_init(|| async {
                let zeros = Bytes::from(vec![0u8; usize::try_from(length).unwrap_or(65_536)]);
                self.blobs.put(&path, zeros.into()).await
            })
            .await?;
        Ok(path)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
