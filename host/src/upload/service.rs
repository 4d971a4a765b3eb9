//! The upload store's operations, independent of HTTP.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use md5::{Digest as _, Md5};
use object_store::PutPayload;
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::access::{self, LinkSigner};
use super::blobs::{BlobError, Blobs};
use super::index::{
    Challenge, Content, FileRecord, IndexError, Registration, UploadIndex, UploadRecord,
    UploadState,
};
use super::merge::{Merge, MergeError, budget_permits};
use super::sizing::{ChunkLimits, Layout};
use crate::auth::Session;
use crate::plugins::Runtime;
use crate::plugins::bindings::wit;
use crate::store::alerts::{AlertKind, Alerts, NewAlert};
use crate::store::now_ms;

/// Longest a chunk waits for the chunks before it that are still arriving,
/// so that it is hashed as a chunk and into the whole file in one pass.
/// Short: on a slow link the wait holds one of the client's parallel slots,
/// and missing the pass costs only a second hash of this chunk.
const TURN_WAIT: Duration = Duration::from_secs(1);

/// How the upload store behaves.
#[derive(Debug, Clone)]
pub struct UploadConfig {
    /// File and chunk size bounds.
    pub limits: ChunkLimits,
    /// An upload untouched this long expires.
    pub ttl: Duration,
    /// How often expired uploads are removed.
    pub sweep_interval: Duration,
    /// Chunk bodies held in memory at once, all uploads together.
    pub body_budget_bytes: usize,
    /// Early chunks kept in memory for the merge, all uploads together.
    pub merge_budget_bytes: usize,
    /// Smallest range a proof of possession covers (the whole file if smaller).
    pub challenge_bytes: u64,
    /// How long a signed download link is valid.
    pub link_ttl: Duration,
}

impl Default for UploadConfig {
    fn default() -> Self {
        Self {
            limits: ChunkLimits::default(),
            ttl: Duration::from_secs(24 * 3600),
            sweep_interval: Duration::from_secs(60),
            body_budget_bytes: 64 << 20,
            merge_budget_bytes: 32 << 20,
            challenge_bytes: 64 << 10,
            link_ttl: Duration::from_secs(300),
        }
    }
}

/// Why an upload operation was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The file name is not acceptable.
    #[error("invalid file name: {0}")]
    BadName(String),
    /// A hash is not lowercase or uppercase hex of the right length.
    #[error("{field} must be {len} hexadecimal characters")]
    BadHash {
        /// Which field.
        field: &'static str,
        /// Expected number of characters.
        len: usize,
    },
    /// The declared size is above the limit.
    #[error("file is {size} bytes; the largest accepted is {limit} bytes")]
    TooLarge {
        /// Declared size.
        size: u64,
        /// Limit.
        limit: u64,
    },
    /// No such upload for this user, or it expired.
    #[error("unknown or expired upload {0}")]
    UnknownUpload(String),
    /// The upload is already complete.
    #[error("upload {0} is already complete")]
    AlreadyComplete(String),
    /// The chunk index is outside the upload.
    #[error("chunk index {index} is out of range: the upload has {count} chunks (0 to {last})", last = count.saturating_sub(1))]
    IndexOutOfRange {
        /// Index sent.
        index: u32,
        /// Chunk count.
        count: u32,
    },
    /// The chunk body has the wrong length.
    #[error("chunk {index} must be {expected} bytes, got {got}")]
    WrongLength {
        /// Index.
        index: u32,
        /// Required length.
        expected: u64,
        /// Length sent (or declared).
        got: u64,
    },
    /// The chunk MD5 header is missing or malformed.
    #[error("send the chunk's MD5 as 32 hexadecimal characters in the `Chunk-MD5` header")]
    MissingChunkMd5,
    /// The chunk's bytes do not hash to the MD5 sent with it.
    #[error("chunk {index} MD5 mismatch: expected {expected}, found {found}; send it again")]
    ChunkMd5Mismatch {
        /// Index.
        index: u32,
        /// MD5 the client sent.
        expected: String,
        /// MD5 of the bytes received.
        found: String,
    },
    /// Chunks are missing at complete.
    #[error("{} chunks missing, first: {:?}", missing.len(), &missing[..missing.len().min(20)])]
    ChunksMissing {
        /// Indexes not received.
        missing: Vec<u32>,
    },
    /// The merged file does not hash to the declared MD5.
    #[error(
        "file MD5 mismatch: declared {expected}, merged chunks hash to {found}; the upload was discarded"
    )]
    FileMd5Mismatch {
        /// Declared at open.
        expected: String,
        /// Computed while merging.
        found: String,
    },
    /// An upload hook rejected the file.
    #[error("rejected by {by}: {reason}")]
    Rejected {
        /// The plugin.
        by: String,
        /// Its reason.
        reason: String,
    },
    /// The upload has no instant-upload challenge.
    #[error("upload {0} has no challenge: open it with `sha256` to ask for instant upload")]
    NoChallenge(String),
    /// The one proof attempt was already spent.
    #[error("the proof for upload {0} was already tried; upload the chunks")]
    ProofUsed(String),
    /// Another complete of this upload is running.
    #[error("upload {0} is being completed; ask its status")]
    Completing(String),
    /// The body could not be read.
    #[error("could not read the request body: {0}")]
    Body(String),
    /// No such file, or not readable by this user.
    #[error("unknown file {0}")]
    UnknownFile(String),
    /// The file exists and is readable, but the action is not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// The metadata store failed.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The object store failed.
    #[error("object store: {0}")]
    Blob(#[from] BlobError),
    /// The merge failed.
    #[error(transparent)]
    Merge(#[from] MergeError),
}

/// `POST /api/uploads`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenRequest {
    /// File name (metadata only).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Whole-file MD5, hex.
    pub md5: String,
    /// Whole-file SHA-256, hex: asks for instant upload.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Preferred chunk size.
    #[serde(default)]
    pub chunk_size: Option<u64>,
    /// Content type; guessed from the name when absent.
    #[serde(default)]
    pub content_type: Option<String>,
}

/// An upload as clients see it.
#[derive(Debug, Clone, Serialize)]
pub struct UploadView {
    /// Upload id.
    pub id: String,
    /// `open` or `complete`.
    pub state: &'static str,
    /// File name.
    pub name: String,
    /// Size.
    pub size: u64,
    /// Declared MD5.
    pub md5: String,
    /// Every chunk but the last is this long.
    pub chunk_size: u64,
    /// Number of chunks.
    pub chunk_count: u32,
    /// Chunks already stored, ascending.
    pub received: Vec<u32>,
    /// When an untouched upload expires, ms since the epoch.
    pub expires_ms: i64,
    /// The range to prove for instant upload (opened with `sha256`); it
    /// stays in the view after the proof was tried.
    pub challenge: Option<Challenge>,
    /// Whether the upload's one proof was tried (another is `409`).
    pub proof_used: bool,
    /// The file, once complete.
    pub file_id: Option<String>,
}

/// The answer to an open.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The upload.
    pub upload: UploadView,
    /// Whether an open upload was resumed rather than created.
    pub resumed: bool,
}

/// What storing a chunk did.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct ChunkOutcome {
    /// Index.
    pub index: u32,
    /// False when the chunk was already stored (nothing changed).
    pub stored: bool,
}

/// The answer to a proof.
#[derive(Debug, Clone)]
pub enum ProofOutcome {
    /// The store holds the content: the file is registered.
    Instant(FileRecord),
    /// Upload the chunks (wrong answer or unknown content, alike).
    Upload(UploadView),
}

/// A completed upload.
#[derive(Debug, Clone)]
pub struct Completed {
    /// The registered file.
    pub file: FileRecord,
}

/// The upload store.
#[derive(Debug)]
pub struct UploadStore {
    config: UploadConfig,
    index: Arc<dyn UploadIndex>,
    blobs: Blobs,
    runtime: Arc<Runtime>,
    alerts: Alerts,
    links: LinkSigner,
    body_budget: Arc<Semaphore>,
    merge_budget: Arc<Semaphore>,
    merges: Mutex<HashMap<String, Arc<Merge>>>,
    completing: Mutex<HashSet<String>>,
    /// Materialising and releasing objects of one hash never interleave.
    object_locks: [tokio::sync::Mutex<()>; 16],
    /// Opens of one file (by MD5) take turns, so concurrent identical opens
    /// find one another's upload instead of each creating one.
    open_locks: [tokio::sync::Mutex<()>; 16],
    /// The decoy object proofs of unknown content read (written once).
    decoy: tokio::sync::OnceCell<()>,
}

fn lower_hex(value: &str, field: &'static str, len: usize) -> Result<String, UploadError> {
    if value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(UploadError::BadHash { field, len })
    }
}

/// Names are shown and sent in `Content-Disposition`, never used as paths.
fn check_name(name: &str) -> Result<(), UploadError> {
    let bad = |why: &str| Err(UploadError::BadName(format!("{name:?}: {why}")));
    if name.is_empty() || name.len() > 255 {
        return bad("use 1 to 255 bytes");
    }
    if name.contains(['/', '\\']) {
        return bad("path separators are not allowed; send the file name only");
    }
    if name == "." || name.contains("..") {
        return bad("`..` is not allowed");
    }
    if name.chars().any(char::is_control) {
        return bad("control characters are not allowed");
    }
    Ok(())
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// Upload and file ids are generated here; anything else is unknown.
fn valid_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == 32 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl UploadStore {
    /// A store over `index` and `blobs`, running uploads through the
    /// runtime's upload chain, signing links with a key derived from
    /// `link_secret`.
    pub fn new(
        config: UploadConfig,
        index: Arc<dyn UploadIndex>,
        blobs: Blobs,
        runtime: Arc<Runtime>,
        alerts: Alerts,
        link_secret: &[u8],
    ) -> Self {
        Self {
            body_budget: Arc::new(Semaphore::new(
                budget_permits(config.body_budget_bytes) as usize
            )),
            merge_budget: Arc::new(Semaphore::new(
                budget_permits(config.merge_budget_bytes) as usize
            )),
            config,
            index,
            blobs,
            runtime,
            alerts,
            links: LinkSigner::new(link_secret),
            merges: Mutex::new(HashMap::new()),
            completing: Mutex::new(HashSet::new()),
            object_locks: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
            open_locks: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
            decoy: tokio::sync::OnceCell::new(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &UploadConfig {
        &self.config
    }

    /// The metadata index.
    pub fn index(&self) -> &Arc<dyn UploadIndex> {
        &self.index
    }

    /// The blobs.
    pub fn blobs(&self) -> &Blobs {
        &self.blobs
    }

    /// The link signer.
    pub fn links(&self) -> &LinkSigner {
        &self.links
    }

    fn object_lock(&self, sha256: &str) -> &tokio::sync::Mutex<()> {
        &self.object_locks[stripe(sha256)]
    }

    async fn view(&self, upload: &UploadRecord) -> Result<UploadView, UploadError> {
        let received = match upload.state {
            UploadState::Open => self.index.received(&upload.id).await?,
            UploadState::Complete => (0..upload.layout.chunk_count).collect(),
        };
        Ok(UploadView {
            id: upload.id.clone(),
            state: match upload.state {
                UploadState::Open => "open",
                UploadState::Complete => "complete",
            },
            name: upload.name.clone(),
            size: upload.layout.size,
            md5: upload.md5.clone(),
            chunk_size: upload.layout.chunk_size,
            chunk_count: upload.layout.chunk_count,
            received,
            expires_ms: upload.expires_ms,
            challenge: upload.challenge,
            proof_used: upload.proof_used,
            file_id: upload.file_id.clone(),
        })
    }

    /// The user's upload `id`; anyone else's is unknown.
    async fn owned(&self, session: &Session, id: &str) -> Result<UploadRecord, UploadError> {
        let unknown = || UploadError::UnknownUpload(id.to_owned());
        if !valid_id(id, "u_") {
            return Err(unknown());
        }
        let upload = self.index.upload(id).await?.ok_or_else(unknown)?;
        if upload.owner != session.user.as_str() || upload.expires_ms < now_ms() {
            return Err(unknown());
        }
        Ok(upload)
    }

    /// Opens an upload, or resumes the user's open upload of the same file.
    ///
    /// # Errors
    /// Bad name or hash, or a size above the limit.
    pub async fn open(&self, session: &Session, req: OpenRequest) -> Result<Opened, UploadError> {
        check_name(&req.name)?;
        let md5 = lower_hex(&req.md5, "md5", 32)?;
        let sha256 = req
            .sha256
            .as_deref()
            .map(|s| lower_hex(s, "sha256", 64))
            .transpose()?;
        let layout =
            Layout::choose(req.size, req.chunk_size, self.config.limits).map_err(|limit| {
                UploadError::TooLarge {
                    size: req.size,
                    limit,
                }
            })?;
        let owner = session.user.as_str();
        let _turn = self.open_locks[stripe(&md5)].lock().await;
        let (mut upload, resumed) = match self
            .index
            .find_open(owner, &md5, req.size, &req.name)
            .await?
        {
            Some(upload) if upload.expires_ms >= now_ms() => (upload, true),
            _ => {
                let content_type = req.content_type.clone().unwrap_or_else(|| {
                    mime_guess::from_path(&req.name)
                        .first_or_octet_stream()
                        .essence_str()
                        .to_owned()
                });
                let now = now_ms();
                let upload = UploadRecord {
                    id: new_id("u_"),
                    owner: owner.to_owned(),
                    name: req.name.clone(),
                    content_type,
                    layout,
                    md5: md5.clone(),
                    state: UploadState::Open,
                    sha256_claim: None,
                    challenge: None,
                    proof_used: false,
                    file_id: None,
                    created_ms: now,
                    expires_ms: now.saturating_add(ms(self.config.ttl)),
                };
                self.index.create(&upload).await?;
                (upload, false)
            }
        };
        if let Some(sha256) = sha256
            && upload.challenge.is_none()
        {
            let challenge = self.challenge_for(upload.layout.size);
            self.index
                .set_challenge(&upload.id, &sha256, challenge)
                .await?;
            upload.challenge = Some(challenge);
            upload.sha256_claim = Some(sha256);
        }
        Ok(Opened {
            upload: self.view(&upload).await?,
            resumed,
        })
    }

    fn challenge_for(&self, size: u64) -> Challenge {
        let length = size.min(self.config.challenge_bytes.max(1));
        let offset = match size - length {
            0 => 0,
            room => rand::random_range(0..=room),
        };
        Challenge { offset, length }
    }

    /// The user's upload.
    ///
    /// # Errors
    /// Unknown or expired.
    pub async fn status(&self, session: &Session, id: &str) -> Result<UploadView, UploadError> {
        let upload = self.owned(session, id).await?;
        self.view(&upload).await
    }

    /// Answers the instant-upload challenge with the MD5 (hex) of the
    /// challenged range. One try per upload.
    ///
    /// # Errors
    /// Unknown upload, no challenge, or the try was spent.
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
                .register(&upload.id, &file, Content::Existing)
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
        self.drop_chunks(&upload.id);
        tracing::info!(upload = %upload.id, file = %file.id, "instant upload");
        Ok(ProofOutcome::Instant(file))
    }

    /// An object as long as the longest challenge, read in place of stored
    /// content for proofs about content the store does not hold.
    async fn decoy(&self) -> Result<object_store::path::Path, UploadError> {
        let path = object_store::path::Path::from_iter(["decoy", "challenge"]);
        let length = self.config.challenge_bytes.max(1);
        self.decoy
            .get_or_try_init(|| async {
                let zeros = Bytes::from(vec![0u8; usize::try_from(length).unwrap_or(65_536)]);
                self.blobs.put(&path, zeros.into()).await
            })
            .await?;
        Ok(path)
    }

    fn new_file(&self, upload: &UploadRecord, sha256: String, head: Option<&[u8]>) -> FileRecord {
        let sniffed = head.and_then(infer::get);
        let (content_type, inline) = match sniffed {
            Some(kind) => (kind.mime_type().to_owned(), is_raster(kind.mime_type())),
            None => (upload.content_type.clone(), false),
        };
        FileRecord {
            id: new_id("f_"),
            owner: upload.owner.clone(),
            name: upload.name.clone(),
            size: upload.layout.size,
            md5: upload.md5.clone(),
            sha256,
            content_type,
            inline,
            created_ms: now_ms(),
        }
    }

    /// Stores chunk `index` of the user's upload from `body`, which must
    /// hash to `md5` (hex) and have the chunk's exact length. A chunk stored
    /// before is acknowledged without reading the body.
    ///
    /// # Errors
    /// Unknown upload, index out of range, wrong length, MD5 mismatch.
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
        let verified = merge.verify(index, &payload, &md5, TURN_WAIT).await?;
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

    async fn merge_of(&self, upload: &UploadRecord) -> Result<Arc<Merge>, UploadError> {
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

    fn merges(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Merge>>> {
        self.merges.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Merges the chunks, checks the whole-file MD5, runs the upload hooks
    /// and registers the file. Completing a complete upload returns its file.
    ///
    /// # Errors
    /// Chunks missing, MD5 mismatch, rejection by a hook (the last two
    /// discard the upload), or a storage failure (complete again).
    pub async fn complete(&self, session: &Session, id: &str) -> Result<Completed, UploadError> {
        let upload = self.owned(session, id).await?;
        if upload.state == UploadState::Complete {
            let file_id = upload.file_id.clone().unwrap_or_default();
            let file = self
                .index
                .file(&file_id)
                .await?
                .ok_or(UploadError::UnknownFile(file_id))?;
            return Ok(Completed { file });
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
        let merge = self.merge_of(&upload).await?;
        let merged = merge.finish().await;
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
        let decision = self
            .runtime
            .upload_chain()
            .on_upload(
                wit::FileInfo {
                    id: file.id.clone(),
                    name: file.name.clone(),
                    size: file.size,
                    md5: file.md5.clone(),
                    content_type: upload.content_type.clone(),
                },
                merged.head.clone(),
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
            self.discard(id).await?;
            tracing::info!(upload = %id, by = %rejection.by, reason = %rejection.reason, "upload rejected");
            return Err(UploadError::Rejected {
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
            self.index.register(id, &file, content).await?
        };
        match registration {
            Registration::Stored(location) if location != merged_at.as_ref() => {
                // Same content as a stored object: this merge's copy is in
                // the trash; delete it now (the sweep would, later).
                self.empty_trash_item(&merged_at).await;
            }
            Registration::Stored(_) => {}
            Registration::UploadGone | Registration::ObjectGone => {
                // Completed on another node meanwhile (its merge wrote the
                // same bytes to the same place), or removed (expired,
                // aborted), which put the merged object in the trash.
                return match self.index.upload(id).await? {
                    Some(done) if done.state == UploadState::Complete => {
                        let file_id = done.file_id.unwrap_or_default();
                        let file = self.index.file(&file_id).await?;
                        file.map(|file| Completed { file })
                            .ok_or(UploadError::UnknownFile(file_id))
                    }
                    _ => Err(UploadError::UnknownUpload(id.to_owned())),
                };
            }
        }
        self.drop_chunks(id);
        tracing::info!(upload = %id, file = %file.id, sha256 = %file.sha256, "upload complete");
        Ok(Completed { file })
    }

    /// Removes an upload with its chunks and merged object.
    async fn discard(&self, id: &str) -> Result<(), UploadError> {
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

    /// Deletes a blob that is in the trash and forgets it; a failure leaves
    /// it to the sweep.
    async fn empty_trash_item(&self, path: &object_store::path::Path) {
        let deleted = match self.blobs.delete(path).await {
            Ok(()) => self
                .index
                .untrash(path.as_ref())
                .await
                .map_err(UploadError::from),
            Err(err) => Err(err.into()),
        };
        if let Err(err) = deleted {
            tracing::warn!(blob = %path, error = %err, "blob left in the trash for the sweep");
        }
    }

    /// Deletes the blobs in the trash, on any node: each was recorded there
    /// by the transaction that made it garbage. Returns how many.
    ///
    /// # Errors
    /// The index or the object store failed; the next sweep tries again.
    pub(super) async fn empty_trash(&self) -> Result<usize, UploadError> {
        let mut emptied = 0;
        loop {
            let batch = self.index.trash(100).await?;
            for location in &batch {
                self.blobs.delete(&Blobs::at(location)).await?;
                self.index.untrash(location).await?;
            }
            emptied += batch.len();
            if batch.len() < 100 {
                return Ok(emptied);
            }
        }
    }

    /// Where a registered file's bytes are.
    ///
    /// # Errors
    /// The file's content is not in the index (a damaged index).
    pub async fn content_of(
        &self,
        file: &FileRecord,
    ) -> Result<object_store::path::Path, UploadError> {
        match self.index.object(&file.sha256).await? {
            Some(object) => Ok(Blobs::at(&object.location)),
            None => {
                tracing::error!(file = %file.id, sha256 = %file.sha256, "registered file has no object");
                Err(UploadError::UnknownFile(file.id.clone()))
            }
        }
    }

    /// Chunks are not needed once the file is registered: they are deleted
    /// after the answer (a gigabyte of them takes a while), and failing to
    /// delete them only leaves garbage the sweep removes.
    fn drop_chunks(&self, id: &str) {
        let (blobs, id) = (self.blobs.clone(), id.to_owned());
        tokio::spawn(async move {
            if let Err(err) = blobs.delete_all(&Blobs::chunks_of(&id)).await {
                tracing::warn!(upload = %id, error = %err, "could not delete merged chunks");
            }
        });
    }

    /// Aborts the user's open upload: its chunks are deleted.
    ///
    /// # Errors
    /// Unknown upload, or it is complete.
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
    pub(super) async fn expire(&self, id: &str) -> Result<(), UploadError> {
        let Some(_completing) = CompletingGuard::take(&self.completing, id) else {
            return Ok(());
        };
        self.discard(id).await
    }

    /// The file, if `session` may read it.
    ///
    /// # Errors
    /// Unknown or unreadable (alike, so ids cannot be probed).
    pub async fn readable(&self, session: &Session, id: &str) -> Result<FileRecord, UploadError> {
        let file = self.file(id).await?;
        if access::reads_directly(session, &file)
            || self
                .index
                .shared_with_customer(id, session.user.as_str())
                .await?
        {
            Ok(file)
        } else {
            Err(UploadError::UnknownFile(id.to_owned()))
        }
    }

    /// The file by id, with no access check (for signed links).
    ///
    /// # Errors
    /// Unknown file.
    pub async fn file(&self, id: &str) -> Result<FileRecord, UploadError> {
        let unknown = || UploadError::UnknownFile(id.to_owned());
        if !valid_id(id, "f_") {
            return Err(unknown());
        }
        self.index.file(id).await?.ok_or_else(unknown)
    }

    /// Deletes a file (its uploader or an admin); the content goes when no
    /// other file uses it.
    ///
    /// # Errors
    /// Unknown file, or not the uploader.
    pub async fn delete_file(&self, session: &Session, id: &str) -> Result<(), UploadError> {
        let file = self.readable(session, id).await?;
        if file.owner != session.user.as_str() && session.role != crate::auth::Role::Admin {
            return Err(UploadError::Forbidden(format!(
                "only the uploader or an admin may delete file {id}"
            )));
        }
        let _guard = self.object_lock(&file.sha256).lock().await;
        if let Some(released) = self.index.delete_file(id).await?
            && released.orphaned
        {
            self.empty_trash_item(&Blobs::at(&released.location)).await;
        }
        Ok(())
    }

    /// Checks that `session` may send the attached files and returns their
    /// stored name, size and type.
    ///
    /// # Errors
    /// A file is unknown or not readable by the sender.
    pub async fn attachable(
        &self,
        session: &Session,
        file_ids: &[String],
    ) -> Result<Vec<FileRecord>, UploadError> {
        let mut files = Vec::with_capacity(file_ids.len());
        for id in file_ids {
            files.push(self.readable(session, id).await?);
        }
        Ok(files)
    }

    /// Records that files were sent to `room`: its members may read them.
    ///
    /// # Errors
    /// The index failed.
    pub async fn share(&self, file_ids: &[String], room: &str) -> Result<(), UploadError> {
        for id in file_ids {
            self.index.share(id, room).await?;
        }
        Ok(())
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

fn is_raster(mime: &str) -> bool {
    matches!(
        mime,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/avif" | "image/bmp"
    )
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Marks an upload as being completed (or removed) until dropped.
struct CompletingGuard<'a> {
    set: &'a Mutex<HashSet<String>>,
    id: String,
}

impl<'a> CompletingGuard<'a> {
    fn take(set: &'a Mutex<HashSet<String>>, id: &str) -> Option<Self> {
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

/// The lock stripe of a hex digest: its first digit.
fn stripe(hex: &str) -> usize {
    hex.bytes()
        .next()
        .and_then(|b| (b as char).to_digit(16))
        .unwrap_or(0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_metadata_not_paths() {
        for bad in [
            "",
            "../etc/passwd",
            "a/b",
            "a\\b",
            "..",
            ".",
            "x\u{0}y",
            "..hidden",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?} accepted");
        }
        for good in ["report.pdf", "photo 1.JPG", "数据.txt", ".profile"] {
            assert!(check_name(good).is_ok(), "{good:?} refused");
        }
    }

    #[test]
    fn hashes_are_normalised_to_lowercase() {
        assert_eq!(
            lower_hex("D41D8CD98F00B204E9800998ECF8427E", "md5", 32).unwrap(),
            "d41d8cd98f00b204e9800998ecf8427e"
        );
        assert!(lower_hex("xyz", "md5", 32).is_err());
    }

    #[test]
    fn ids_are_checked_before_use() {
        assert!(valid_id("u_0123456789abcdef0123456789abcdef", "u_"));
        assert!(!valid_id("u_../../etc", "u_"));
        assert!(!valid_id("f_0123456789abcdef0123456789abcdef", "u_"));
    }
}
