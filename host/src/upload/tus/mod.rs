//! tus 1.0 (<https://tus.io/protocols/resumable-upload>) beside the native
//! upload API, at `/api/tus`: core, creation, creation-with-upload,
//! creation-defer-length, termination, checksum, expiration and
//! concatenation. Uploads land in the same store as native ones and become
//! the same files (see `docs/uploads.md`).
//!
//! Map: [`headers`] parses and formats the protocol's headers, [`index`]
//! keeps the uploads and their parts, [`http`] is the endpoint; the
//! operations are the upload store's (`service/tus.rs`).

pub mod headers;
pub mod http;
pub mod index;

use axum::http::StatusCode;

/// The protocol version spoken.
pub const VERSION: &str = "1.0.0";

/// The extensions supported, as `Tus-Extension` lists them.
pub const EXTENSIONS: &str = "creation,creation-with-upload,creation-defer-length,termination,checksum,expiration,concatenation";

/// `460 Checksum Mismatch`, the checksum extension's status.
pub const CHECKSUM_MISMATCH: StatusCode = match StatusCode::from_u16(460) {
    Ok(status) => status,
    Err(_) => StatusCode::BAD_REQUEST,
};

/// The content type of `PATCH` bodies.
pub const OFFSET_STREAM: &str = "application/offset+octet-stream";

/// The response header naming the file a complete upload became.
pub const FILE_ID_HEADER: &str = "hangar-file-id";
