//! The chunked uploader: hashes a file once (MD5 and SHA-256 on two
//! threads), opens an upload, tries instant upload, sends the missing chunks
//! in parallel with retries, and completes. Running it again on the same
//! file resumes: the server says which chunks it already has.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use md5::Digest as _;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use hangar_md5pair::{self as md5pair, Md5};

use crate::Backoff;
use crate::chunking;
pub use crate::hash_cache::HashCache;

/// How to upload.
#[derive(Debug, Clone)]
pub struct UploadOptions {
    /// Chunks sent at once.
    pub parallel: usize,
    /// Tries per chunk after the first.
    pub retries: u32,
    /// Preferred chunk size; the server decides.
    pub chunk_size: Option<u64>,
    /// Ask for instant upload (send the SHA-256 and answer the challenge).
    pub instant: bool,
    /// Delays between tries.
    pub backoff: Backoff,
    /// Directory keeping the hashes of files whose upload has not finished,
    /// so that running an interrupted upload again skips reading the file
    /// to hash it (see [`HashCache`]); `None` hashes every time.
    pub hash_cache: Option<PathBuf>,
}

impl Default for UploadOptions {
    fn default() -> Self {
        Self {
            parallel: 4,
            retries: 5,
            chunk_size: None,
            instant: true,
            backoff: Backoff {
                initial: Duration::from_millis(200),
                max: Duration::from_secs(10),
            },
            hash_cache: None,
        }
    }
}

/// Progress of an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadEvent {
    /// Bytes hashed so far.
    Hashed {
        /// Done.
        done: u64,
        /// File size.
        total: u64,
    },
    /// The upload is open.
    Opened {
        /// Upload id.
        id: String,
        /// Chunks in all.
        chunk_count: u32,
        /// Bytes the server already holds (resume).
        received_bytes: u64,
    },
    /// A chunk is stored.
    Sent {
        /// Its index.
        index: u32,
        /// Its length.
        bytes: u64,
    },
    /// A chunk failed and will be tried again.
    Retrying {
        /// Its index.
        index: u32,
        /// Why.
        error: String,
    },
    /// The server held the content: no chunk was sent.
    Instant,
    /// Every chunk is stored; the server merges.
    Completing,
}

/// A stored file, as the server describes it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct StoredFile {
    /// File id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Size.
    pub size: u64,
    /// MD5, hex.
    pub md5: String,
    /// SHA-256, hex.
    pub sha256: String,
    /// Content type.
    pub content_type: String,
}

/// What an upload produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// The file.
    pub file: StoredFile,
    /// True when instant upload skipped the bytes.
    pub instant: bool,
    /// Chunks sent by this run.
    pub chunks_sent: u32,
    /// The hashes came from the hash cache: the file was not read to hash it.
    pub hashes_cached: bool,
}

/// Why an upload failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The server could not be reached.
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The server refused.
    #[error("{message} ({status} {code})")]
    Server {
        /// HTTP status.
        status: u16,
        /// Error code.
        code: String,
        /// The server's message.
        message: String,
    },
    /// A hashing thread failed.
    #[error("hashing failed: {0}")]
    Hashing(String),
}

impl UploadError {
    /// Whether trying again may help (network, server failure, rate limit).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Http(_) => true,
            Self::Server { status, .. } => *status >= 500 || *status == 408 || *status == 429,
            Self::Io { .. } | Self::Hashing(_) => false,
        }
    }
}

/// The file's hashes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileHashes {
    /// Size.
    pub size: u64,
    /// MD5, lowercase hex.
    pub md5: String,
    /// SHA-256, lowercase hex.
    pub sha256: String,
    /// MD5 of each chunk, when a chunk size was given.
    pub chunks: Option<ChunkHashes>,
}

/// The MD5s of a file's chunks, for one chunk size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkHashes {
    /// The chunk size they were computed for.
    pub chunk_size: u64,
    /// MD5 of each chunk, lowercase hex, in order.
    pub md5s: Vec<String>,
}

const READ_BLOCK: usize = 4 << 20;

/// The chunk size the server will choose when asked for `preferred`, with
/// its default bounds ([`chunking::chunk_size`]). If the server is
/// configured otherwise, it answers another size and the chunk MD5s are
/// computed again while sending.
pub fn planned_chunk_size(size: u64, preferred: Option<u64>) -> u64 {
    chunking::chunk_size(size, preferred, chunking::DEFAULT_MAX_CHUNK_BYTES)
}

/// The whole-file MD5 and, with a chunk size, each chunk's MD5, advanced
/// together in one pass where the chunks are block-aligned.
struct Md5s {
    file: Md5,
    chunks: Option<(u64, Md5, u64, Vec<String>)>,
}

impl Md5s {
    fn new(chunk_size: Option<u64>) -> Self {
        Self {
            file: Md5::new(),
            chunks: chunk_size
                .filter(|&size| size > 0)
                .map(|size| (size, Md5::new(), 0, Vec::new())),
        }
    }

    fn update(&mut self, mut data: &[u8]) {
        let Some((size, chunk, filled, md5s)) = &mut self.chunks else {
            self.file.update(data);
            return;
        };
        while !data.is_empty() {
            let take = usize::try_from(*size - *filled)
                .unwrap_or(usize::MAX)
                .min(data.len());
            md5pair::update_both(chunk, &mut self.file, &data[..take]);
            *filled += take as u64;
            data = &data[take..];
            if *filled == *size {
                md5s.push(std::mem::take(chunk).finalize_hex());
                *filled = 0;
            }
        }
    }

    fn finish(self) -> (String, Option<ChunkHashes>) {
        let chunks = self.chunks.map(|(chunk_size, chunk, filled, mut md5s)| {
            if filled > 0 {
                md5s.push(chunk.finalize_hex());
            }
            ChunkHashes { chunk_size, md5s }
        });
        (self.file.finalize_hex(), chunks)
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> UploadError + '_ {
    move |source| UploadError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Hashes a file in one read: the whole-file MD5 and, with a
/// `chunk_size`, each chunk's MD5 in one interleaved pass on this thread
/// (see [`md5pair`]), SHA-256 on another, so sending the chunks needs no
/// second hashing pass.
///
/// # Errors
/// The file cannot be read.
pub fn hash_file(
    path: &Path,
    chunk_size: Option<u64>,
    progress: &dyn Fn(u64, u64),
) -> Result<FileHashes, UploadError> {
    use std::io::Read;
    let mut file = std::fs::File::open(path).map_err(io_error(path))?;
    let total = file.metadata().map_err(io_error(path))?.len();
    let (tx, rx) = std::sync::mpsc::sync_channel::<Arc<Vec<u8>>>(4);
    let sha_thread = std::thread::spawn(move || {
        let mut sha = Sha256::new();
        for block in rx {
            sha.update(block.as_slice());
        }
        hex::encode(sha.finalize())
    });
    let mut md5s = Md5s::new(chunk_size);
    let mut done = 0u64;
    loop {
        let mut block = vec![0u8; READ_BLOCK];
        let mut filled = 0;
        while filled < block.len() {
            let n = file.read(&mut block[filled..]).map_err(io_error(path))?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            break;
        }
        block.truncate(filled);
        let block = Arc::new(block);
        if tx.send(block.clone()).is_err() {
            break;
        }
        md5s.update(block.as_slice());
        done += filled as u64;
        progress(done, total);
    }
    drop(tx);
    let (md5, chunks) = md5s.finish();
    let sha256 = sha_thread
        .join()
        .map_err(|_| UploadError::Hashing("the SHA-256 thread panicked".into()))?;
    Ok(FileHashes {
        size: done,
        md5,
        sha256,
        chunks,
    })
}

/// An upload as the server reports it.
#[derive(Debug, Clone, Deserialize)]
struct UploadView {
    id: String,
    chunk_size: u64,
    chunk_count: u32,
    received: Vec<u32>,
    challenge: Option<Challenge>,
    /// The upload's one proof was tried already (a resumed upload).
    #[serde(default)]
    proof_used: bool,
}

#[derive(Debug, Clone, Copy, Deserialize)]
struct Challenge {
    offset: u64,
    length: u64,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Debug, Deserialize)]
struct ErrorDetail {
    code: String,
    message: String,
}

/// Talks to one server with one session token.
#[derive(Debug, Clone)]
pub struct Uploader {
    http: reqwest::Client,
    server: String,
    token: String,
}

impl Uploader {
    /// An uploader for `server` (e.g. `http://127.0.0.1:8080`).
    pub fn new(server: &str, token: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            server: server.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<T, UploadError> {
        let response = request.bearer_auth(&self.token).send().await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response.json().await?);
        }
        let text = response.text().await.unwrap_or_default();
        let (code, message) = match serde_json::from_str::<ErrorBody>(&text) {
            Ok(body) => (body.error.code, body.error.message),
            Err(_) => ("http".to_owned(), text),
        };
        Err(UploadError::Server {
            status: status.as_u16(),
            code,
            message,
        })
    }

    /// Uploads `path`, reporting progress to `events`.
    ///
    /// # Errors
    /// The file cannot be read, the server refused, or a chunk failed every try.
    pub async fn upload(
        &self,
        path: &Path,
        options: &UploadOptions,
        events: &(dyn Fn(UploadEvent) + Send + Sync),
    ) -> Result<Uploaded, UploadError> {
        let size = std::fs::metadata(path).map_err(io_error(path))?.len();
        let planned = planned_chunk_size(size, options.chunk_size);
        let cache = options.hash_cache.clone().map(HashCache::new);
        let cached = cache.as_ref().and_then(|c| c.get(path, planned));
        let hashes_cached = cached.is_some();
        let hashes = match cached {
            Some(hashes) => {
                events(UploadEvent::Hashed {
                    done: hashes.size,
                    total: hashes.size,
                });
                hashes
            }
            None => {
                let hashes = hash_reporting(path, planned, events).await?;
                if let Some(cache) = &cache {
                    cache.put(path, &hashes);
                }
                hashes
            }
        };
        let result = self
            .upload_hashed(path, hashes, planned, options, events)
            .await;
        if let Some(cache) = &cache {
            match &result {
                Ok(_) => cache.remove(path),
                // The file no longer matches its cached hashes.
                Err(UploadError::Server { code, .. })
                    if code == "chunk-md5-mismatch" || code == "file-md5-mismatch" =>
                {
                    cache.remove(path);
                }
                Err(_) => {}
            }
        }
        result.map(|uploaded| Uploaded {
            hashes_cached,
            ..uploaded
        })
    }

    async fn upload_hashed(
        &self,
        path: &Path,
        hashes: FileHashes,
        planned: u64,
        options: &UploadOptions,
        events: &(dyn Fn(UploadEvent) + Send + Sync),
    ) -> Result<Uploaded, UploadError> {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "file".to_owned());
        let mut open = serde_json::json!({
            "name": name,
            "size": hashes.size,
            "md5": hashes.md5,
            "chunk_size": planned,
        });
        if options.instant {
            open["sha256"] = hashes.sha256.clone().into();
        }
        let url = format!("{}/api/uploads", self.server);
        let mut upload: UploadView = self.send(self.http.post(&url).json(&open)).await?;
        if let Some(challenge) = upload
            .challenge
            .filter(|_| options.instant && !upload.proof_used)
        {
            let answer = range_md5(path, challenge).await?;
            let url = format!("{}/api/uploads/{}/proof", self.server, upload.id);
            let proof: ProofAnswer = self
                .send(
                    self.http
                        .post(&url)
                        .json(&serde_json::json!({"md5": answer})),
                )
                .await?;
            if let (true, Some(file)) = (proof.instant, proof.file) {
                events(UploadEvent::Instant);
                return Ok(Uploaded {
                    file,
                    instant: true,
                    chunks_sent: 0,
                    hashes_cached: false,
                });
            }
            if let Some(view) = proof.upload {
                upload = view;
            }
        }
        let layout = Layout {
            size: hashes.size,
            chunk_size: upload.chunk_size,
        };
        events(UploadEvent::Opened {
            id: upload.id.clone(),
            chunk_count: upload.chunk_count,
            received_bytes: upload.received.iter().map(|&i| layout.len(i)).sum(),
        });
        let missing: Vec<u32> = (0..upload.chunk_count)
            .filter(|i| upload.received.binary_search(i).is_err())
            .collect();
        // The MD5s from the hashing pass, if the server cut the file as planned.
        let md5s: Arc<[String]> = hashes
            .chunks
            .filter(|c| c.chunk_size == upload.chunk_size)
            .map(|c| c.md5s.into())
            .unwrap_or_else(|| Arc::from(Vec::new()));
        let job = Job {
            path,
            id: &upload.id,
            layout,
            md5s,
        };
        let sent = self.send_chunks(&job, &missing, options, events).await?;
        events(UploadEvent::Completing);
        let url = format!("{}/api/uploads/{}/complete", self.server, upload.id);
        let done: Completed = self.send(self.http.post(&url)).await?;
        Ok(Uploaded {
            file: done.file,
            instant: false,
            chunks_sent: sent,
            hashes_cached: false,
        })
    }

    async fn send_chunks(
        &self,
        job: &Job<'_>,
        missing: &[u32],
        options: &UploadOptions,
        events: &(dyn Fn(UploadEvent) + Send + Sync),
    ) -> Result<u32, UploadError> {
        let mut queue = missing.iter().copied();
        let mut running = FuturesUnordered::new();
        let mut sent = 0;
        loop {
            while running.len() < options.parallel.max(1) {
                let Some(index) = queue.next() else { break };
                running.push(self.send_chunk(job, index, options, events));
            }
            match running.next().await {
                Some(Ok(())) => sent += 1,
                Some(Err(err)) => return Err(err),
                None => return Ok(sent),
            }
        }
    }

    async fn send_chunk(
        &self,
        job: &Job<'_>,
        index: u32,
        options: &UploadOptions,
        events: &(dyn Fn(UploadEvent) + Send + Sync),
    ) -> Result<(), UploadError> {
        let (path, id, layout) = (job.path, job.id, job.layout);
        let known_md5 = job.md5s.get(index as usize).cloned();
        let (bytes, md5) = read_chunk(path, layout, index, known_md5).await?;
        let url = format!("{}/api/uploads/{id}/chunks/{index}", self.server);
        let mut attempt = 0;
        loop {
            let request = self
                .http
                .put(&url)
                .header("chunk-md5", &md5)
                .body(bytes.clone());
            match self.send::<serde_json::Value>(request).await {
                Ok(_) => {
                    events(UploadEvent::Sent {
                        index,
                        bytes: layout.len(index),
                    });
                    return Ok(());
                }
                Err(err) if err.is_transient() && attempt < options.retries => {
                    events(UploadEvent::Retrying {
                        index,
                        error: err.to_string(),
                    });
                    tokio::time::sleep(options.backoff.delay(attempt)).await;
                    attempt += 1;
                }
                Err(err) => return Err(err),
            }
        }
    }
}

/// Hashes off the async threads, reporting progress every 100 ms.
async fn hash_reporting(
    path: &Path,
    chunk_size: u64,
    events: &(dyn Fn(UploadEvent) + Send + Sync),
) -> Result<FileHashes, UploadError> {
    use std::sync::atomic::{AtomicU64, Ordering};
    let progress = Arc::new((AtomicU64::new(0), AtomicU64::new(0)));
    let (path, shared) = (path.to_path_buf(), progress.clone());
    let mut task = tokio::task::spawn_blocking(move || {
        hash_file(&path, Some(chunk_size), &|done, total| {
            shared.0.store(done, Ordering::Relaxed);
            shared.1.store(total, Ordering::Relaxed);
        })
    });
    let mut ticks = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            done = &mut task => {
                let hashes = done.map_err(|err| UploadError::Hashing(err.to_string()))??;
                events(UploadEvent::Hashed { done: hashes.size, total: hashes.size });
                return Ok(hashes);
            }
            _ = ticks.tick() => events(UploadEvent::Hashed {
                done: progress.0.load(Ordering::Relaxed),
                total: progress.1.load(Ordering::Relaxed),
            }),
        }
    }
}

#[derive(Debug, Deserialize)]
struct ProofAnswer {
    instant: bool,
    file: Option<StoredFile>,
    upload: Option<UploadView>,
}

#[derive(Debug, Deserialize)]
struct Completed {
    file: StoredFile,
}

/// The chunks of one upload to send.
struct Job<'a> {
    path: &'a Path,
    id: &'a str,
    layout: Layout,
    /// Chunk MD5s from the hashing pass (empty when the cut differs).
    md5s: Arc<[String]>,
}

#[derive(Debug, Clone, Copy)]
struct Layout {
    size: u64,
    chunk_size: u64,
}

impl Layout {
    fn start(&self, index: u32) -> u64 {
        u64::from(index) * self.chunk_size
    }

    fn len(&self, index: u32) -> u64 {
        self.size
            .saturating_sub(self.start(index))
            .min(self.chunk_size)
    }
}

fn read_at(path: &Path, offset: u64, len: u64) -> Result<Vec<u8>, UploadError> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    let mut buf = vec![0u8; usize::try_from(len).unwrap_or(usize::MAX)];
    file.read_exact_at(&mut buf, offset)
        .map_err(io_error(path))?;
    Ok(buf)
}

/// Reads chunk `index` off the async threads, with its MD5 (computed here
/// unless the hashing pass already did).
async fn read_chunk(
    path: &Path,
    layout: Layout,
    index: u32,
    known_md5: Option<String>,
) -> Result<(bytes::Bytes, String), UploadError> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let buf = read_at(&path, layout.start(index), layout.len(index))?;
        let md5 = known_md5.unwrap_or_else(|| hex::encode(md5::Md5::digest(&buf)));
        Ok((bytes::Bytes::from(buf), md5))
    })
    .await
    .map_err(|err| UploadError::Hashing(err.to_string()))?
}

/// The MD5 of the challenged range.
async fn range_md5(path: &Path, challenge: Challenge) -> Result<String, UploadError> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let buf = read_at(&path, challenge.offset, challenge.length)?;
        Ok(hex::encode(md5::Md5::digest(&buf)))
    })
    .await
    .map_err(|err| UploadError::Hashing(err.to_string()))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_one_shot_digests() {
        let dir = std::env::temp_dir().join(format!("hangar-hash-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("data.bin");
        let data: Vec<u8> = (0..(READ_BLOCK * 2 + 123))
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        std::fs::write(&path, &data).unwrap();
        // Aligned chunks (one pass for both MD5s) and odd ones (two).
        for chunk in [3 << 20, (3 << 20) + 13] {
            let hashes = hash_file(&path, Some(chunk), &|_, _| {}).unwrap();
            assert_eq!(hashes.size, data.len() as u64);
            assert_eq!(hashes.md5, hex::encode(md5::Md5::digest(&data)));
            assert_eq!(hashes.sha256, hex::encode(Sha256::digest(&data)));
            let expected: Vec<String> = data
                .chunks(chunk as usize)
                .map(|c| hex::encode(md5::Md5::digest(c)))
                .collect();
            assert_eq!(hashes.chunks.unwrap().md5s, expected);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn chunk_layout_covers_the_file() {
        let layout = Layout {
            size: 12,
            chunk_size: 5,
        };
        assert_eq!((layout.len(0), layout.len(1), layout.len(2)), (5, 5, 2));
    }
}
