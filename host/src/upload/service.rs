//! The upload store's operations, independent of HTTP: opening and status
//! here; [`chunks`], [`instant`] upload, [`finish`] (complete, abort,
//! expire, the blob trash) and [`files`] in their modules.

mod chunks;
mod files;
mod finish;
mod instant;
mod tus;
mod tus_merge;

pub use tus::{PART_BYTES, TusCreate, TusPatch};

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;

use super::access::LinkSigner;
use super::blobs::{BlobError, Blobs};
use super::index::{Challenge, FileRecord, IndexError, UploadIndex, UploadRecord, UploadState};
use super::merge::{Merge, MergeError, budget_permits};
use super::sizing::{ChunkLimits, Layout};
use crate::auth::Session;
use crate::plugins::Runtime;
use crate::store::alerts::Alerts;
use crate::store::now_ms;

/// How the upload store behaves (`[uploads]` in `hangar.toml`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadConfig {
    /// File and chunk size bounds.
    #[serde(flatten)]
    pub limits: ChunkLimits,
    /// An upload untouched this long expires.
    #[serde(rename = "ttl_ms", with = "crate::config::values::millis")]
    pub ttl: Duration,
    /// How often expired uploads are removed.
    #[serde(rename = "sweep_ms", with = "crate::config::values::millis")]
    pub sweep_interval: Duration,
    /// Chunk bodies held in memory at once, all uploads together.
    pub body_budget_bytes: usize,
    /// Early chunks kept in memory for the merge, all uploads together.
    pub merge_budget_bytes: usize,
    /// Smallest range a proof of possession covers (the whole file if smaller).
    pub challenge_bytes: u64,
    /// How long a signed download link is valid.
    #[serde(rename = "link_ttl_secs", with = "crate::config::values::secs")]
    pub link_ttl: Duration,
    /// Longest a chunk waits for the chunks before it that are still
    /// arriving, so that it is hashed as a chunk and into the whole file in
    /// one pass. Short: on a slow link the wait holds one of the client's
    /// parallel slots, and missing the pass costs only a second hash of
    /// this chunk.
    #[serde(rename = "turn_wait_ms", with = "crate::config::values::millis")]
    pub turn_wait: Duration,
    /// Flush every stored chunk and object to disk before acknowledging it.
    pub fsync: bool,
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
            turn_wait: Duration::from_secs(1),
            fsync: true,
        }
    }
}

impl UploadConfig {
    /// Refuses values that cannot work.
    ///
    /// # Errors
    /// The key and what is wrong with it.
    pub fn validate(&self) -> Result<(), crate::config::Invalid> {
        use super::sizing::{CHUNK_ALIGN, MAX_CHUNKS, MIN_CHUNK_BYTES};
        use crate::config::Invalid;
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        let limits = &self.limits;
        if limits.max_chunk_bytes < MIN_CHUNK_BYTES {
            return Err(Invalid::new("max_chunk_bytes", "must be at least 5 MiB"));
        }
        // Chunk sizes are multiples of 64 KiB so that a file's MD5 and its
        // chunks' MD5s are computed in one pass; a cap off that grid would
        // cut some chunks off it and quietly double the hashing.
        if !limits.max_chunk_bytes.is_multiple_of(CHUNK_ALIGN) {
            return Err(Invalid::new(
                "max_chunk_bytes",
                "must be a multiple of 65536 (64 KiB)",
            ));
        }
        Invalid::positive("max_file_bytes", limits.max_file_bytes)?;
        if limits.max_file_bytes / MAX_CHUNKS > limits.max_chunk_bytes {
            return Err(Invalid::new(
                "max_file_bytes",
                "must fit in 10,000 chunks of max_chunk_bytes",
            ));
        }
        Invalid::positive("ttl_ms", ms(self.ttl))?;
        Invalid::positive("sweep_ms", ms(self.sweep_interval))?;
        if (self.body_budget_bytes as u64) < limits.max_chunk_bytes {
            return Err(Invalid::new(
                "body_budget_bytes",
                "must hold at least one chunk of max_chunk_bytes",
            ));
        }
        Invalid::positive("challenge_bytes", self.challenge_bytes)?;
        Invalid::positive("link_ttl_secs", self.link_ttl.as_secs())?;
        Ok(())
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
    /// A tus upload is past its expiry.
    #[error("upload {0} expired")]
    Expired(String),
    /// A tus `PATCH` starts elsewhere than where the upload stands.
    #[error("the upload is at offset {at}; this request starts at {sent}")]
    OffsetMismatch {
        /// Bytes stored.
        at: u64,
        /// `Upload-Offset` sent.
        sent: u64,
    },
    /// A tus body runs past the upload's length.
    #[error("the upload is {length} bytes long; this request runs to byte {end}")]
    PastLength {
        /// The upload's length.
        length: u64,
        /// Where the body would end.
        end: u64,
    },
    /// A tus body does not hash to its `Upload-Checksum`.
    #[error("{algorithm} checksum mismatch: the request's bytes were discarded; send them again")]
    ChecksumMismatch {
        /// The algorithm named.
        algorithm: &'static str,
    },
    /// Another request is writing to this tus upload.
    #[error("upload {0} is busy with another request; try again")]
    Busy(String),
    /// The request does not fit the upload's state or kind (a `PATCH` of a
    /// final upload, a second length, a bad concatenation).
    #[error("{0}")]
    NotAllowed(String),
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
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
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
    /// tus uploads a request is writing to, on this process.
    tus_writers: tus::Writers,
    /// The running digests of tus uploads, between their requests.
    tus_hashes: tus_merge::TusHashes,
    /// Materialising and releasing objects of one hash never interleave.
    object_locks: [tokio::sync::Mutex<()>; 16],
    /// Opens of one file (by MD5) take turns, so concurrent identical opens
    /// find one another's upload instead of each creating one.
    open_locks: [tokio::sync::Mutex<()>; 16],
    /// The decoy object proofs of unknown content read (written once).
    decoy: tokio::sync::OnceCell<()>,
    /// Who finishes a merge when several processes share the index.
    leases: Option<super::lease::MergeLeases>,
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
            tus_writers: tus::Writers::default(),
            tus_hashes: tus_merge::TusHashes::default(),
            object_locks: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
            open_locks: std::array::from_fn(|_| tokio::sync::Mutex::new(())),
            decoy: tokio::sync::OnceCell::new(),
            leases: None,
        }
    }

    /// This store with merges finished under `leases`: `complete` may then
    /// be called on any of the processes sharing the index, and one at a
    /// time finishes each upload's merge.
    #[must_use]
    pub fn with_merge_leases(mut self, leases: super::lease::MergeLeases) -> Self {
        self.leases = Some(leases);
        self
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
    #[tracing::instrument(name = "upload_open", skip_all, fields(user = %session.user, size = req.size))]
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
                let content_type = req
                    .content_type
                    .clone()
                    .unwrap_or_else(|| guessed_content_type(&req.name));
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
        let length = size.min(self.config.challenge_bytes);
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

    fn new_file(&self, upload: &UploadRecord, sha256: String, head: Option<&[u8]>) -> FileRecord {
        let declared = Declared {
            owner: &upload.owner,
            name: &upload.name,
            content_type: &upload.content_type,
        };
        declared.file(upload.layout.size, upload.md5.clone(), sha256, head)
    }
}

/// What an uploader said about a file.
struct Declared<'a> {
    owner: &'a str,
    name: &'a str,
    content_type: &'a str,
}

impl Declared<'_> {
    /// A new file record; its content type is the one its first bytes
    /// (`head`) show, else the declared one.
    fn file(&self, size: u64, md5: String, sha256: String, head: Option<&[u8]>) -> FileRecord {
        let sniffed = head.and_then(infer::get);
        let (content_type, inline) = match sniffed {
            Some(kind) => (kind.mime_type().to_owned(), is_raster(kind.mime_type())),
            None => (self.content_type.to_owned(), false),
        };
        FileRecord {
            id: new_id("f_"),
            owner: self.owner.to_owned(),
            name: self.name.to_owned(),
            size,
            md5,
            sha256,
            content_type,
            inline,
            created_ms: now_ms(),
        }
    }
}

fn is_raster(mime: &str) -> bool {
    matches!(
        mime,
        "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/avif" | "image/bmp"
    )
}

/// The lock stripe of a hex digest: its first digit.
fn stripe(hex: &str) -> usize {
    hex.bytes()
        .next()
        .and_then(|b| (b as char).to_digit(16))
        .unwrap_or(0) as usize
}

/// The content type of a file named `name` whose uploader declared none:
/// guessed from its extension, `application/octet-stream` when unknown.
pub fn guessed_content_type(name: &str) -> String {
    mime_guess::from_path(name)
        .first_or_octet_stream()
        .essence_str()
        .to_owned()
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
