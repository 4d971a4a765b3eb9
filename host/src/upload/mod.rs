//! The chunked upload store.
//!
//! A client opens an upload (name, size, whole-file MD5), sends chunks by
//! index in any order and in parallel (each verified against its own MD5),
//! and completes it: the chunks are merged into one object addressed by the
//! SHA-256 the server computed, the whole-file MD5 is checked, the
//! upload-hook chain decides, and the file is registered. Opening the same
//! file again resumes; instant upload skips the bytes when the store already
//! holds the content and the client proves it has it.
//!
//! Map: [`sizing`] picks chunk sizes, [`index`] keeps metadata, [`blobs`]
//! names objects, [`merge`] hashes and merges while chunks arrive,
//! [`access`] decides who reads a file and signs links, [`http`] and
//! [`download`] are the routes, [`sweep`] removes expired uploads, [`tus`]
//! speaks tus 1.0 over the same store.

pub mod access;
pub mod blobs;
pub mod download;
pub mod http;
pub mod index;
pub mod lease;
pub mod merge;
pub mod sizing;
pub mod sweep;
pub mod tus;

mod service;

pub use service::{
    ChunkOutcome, Completed, OpenRequest, Opened, ProofOutcome, UploadConfig, UploadError,
    UploadStore, UploadView, guessed_content_type,
};
pub use service::{PART_BYTES as TUS_PART_BYTES, TusCreate, TusPatch};
