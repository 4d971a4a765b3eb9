//! The upload API: `/api/uploads` and `/api/files` (see `docs/uploads.md`).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{OpenRequest, ProofOutcome, UploadError};
use crate::auth::extract::Authenticated;
use crate::auth::unix_now;
use crate::error::{ApiError, ApiPath};
use crate::server::AppState;
use crate::server::ready::Ready;

/// The routes of the upload API.
pub fn routes() -> OpenApiRouter<AppState> {
    // Chunks are bounded by the upload's layout, not the default limit.
    let (schemas, paths, chunk_route) = routes!(chunk);
    OpenApiRouter::new()
        .routes(routes!(open))
        .routes(routes!(status, abort))
        .routes((
            schemas,
            paths,
            chunk_route.layer(DefaultBodyLimit::disable()),
        ))
        .routes(routes!(prove))
        .routes(routes!(complete))
        .routes(routes!(file, delete_file))
        .routes(routes!(link))
        .routes(routes!(super::download::download))
}

impl From<UploadError> for ApiError {
    fn from(err: UploadError) -> Self {
        use UploadError as E;
        let message = err.to_string();
        let (status, code) = match &err {
            E::BadName(_) => (StatusCode::BAD_REQUEST, "bad-name"),
            E::BadHash { .. } => (StatusCode::BAD_REQUEST, "bad-hash"),
            E::MissingChunkMd5 => (StatusCode::BAD_REQUEST, "bad-hash"),
            E::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too-large"),
            E::UnknownUpload(_) => (StatusCode::NOT_FOUND, "unknown-upload"),
            E::UnknownFile(_) => (StatusCode::NOT_FOUND, "unknown-file"),
            E::AlreadyComplete(_) => (StatusCode::CONFLICT, "upload-complete"),
            E::IndexOutOfRange { .. } => (StatusCode::BAD_REQUEST, "index-out-of-range"),
            E::WrongLength { .. } => (StatusCode::BAD_REQUEST, "wrong-length"),
            E::ChunkMd5Mismatch { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "chunk-md5-mismatch"),
            E::ChunksMissing { .. } => (StatusCode::CONFLICT, "chunks-missing"),
            E::FileMd5Mismatch { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "file-md5-mismatch"),
            E::Rejected { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "rejected-by-policy"),
            E::NoChallenge(_) => (StatusCode::CONFLICT, "no-challenge"),
            E::ProofUsed(_) => (StatusCode::CONFLICT, "proof-used"),
            E::Completing(_) => (StatusCode::CONFLICT, "completing"),
            E::Body(_) => (StatusCode::BAD_REQUEST, "bad-body"),
            E::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            E::Expired(_) => (StatusCode::GONE, "upload-expired"),
            E::OffsetMismatch { .. } => (StatusCode::CONFLICT, "offset-mismatch"),
            E::PastLength { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "past-length"),
            E::ChecksumMismatch { .. } => (super::tus::CHECKSUM_MISMATCH, "checksum-mismatch"),
            E::Busy(_) => (StatusCode::LOCKED, "upload-busy"),
            E::NotAllowed(_) => (StatusCode::FORBIDDEN, "not-allowed"),
            E::Index(_) | E::Blob(_) | E::Merge(_) => return ApiError::internal(err),
        };
        let error = ApiError::new(status, code, message);
        match err {
            E::ChunksMissing { missing } => error.with_details(json!({ "missing": missing })),
            E::ChunkMd5Mismatch {
                index,
                expected,
                found,
            } => error.with_details(json!({"index": index, "expected": expected, "found": found})),
            E::FileMd5Mismatch { expected, found } => {
                error.with_details(json!({"expected": expected, "found": found}))
            }
            E::WrongLength {
                index,
                expected,
                got,
            } => error.with_details(json!({"index": index, "expected": expected, "got": got})),
            E::Rejected { by, reason } => error.with_details(json!({"by": by, "reason": reason})),
            _ => error,
        }
    }
}

#[utoipa::path(
    post,
    path = "/api/uploads",
    tag = "uploads",
    request_body = OpenRequest,
    security(("session" = [])),
    responses((status = 201, description = "the upload, with its chunk layout; or, for known content proved or needing proof, the file or a challenge", body = Object), (status = 200, description = "instant upload: the file already stored", body = Object), crate::server::openapi::Refusals),
)]
async fn open(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    body: Result<Json<OpenRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    let opened = state.uploads.open(&session, req).await?;
    let status = if opened.resumed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(opened.upload)).into_response())
}

#[utoipa::path(
    get,
    path = "/api/uploads/{id}",
    tag = "uploads",
    params(("id" = String, Path, description = "upload id")),
    security(("session" = [])),
    responses((status = 200, description = "the upload and the chunks received", body = Object), crate::server::openapi::Refusals),
)]
async fn status(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    Ok(Json(state.uploads.status(&session, &id).await?).into_response())
}

#[utoipa::path(
    delete,
    path = "/api/uploads/{id}",
    tag = "uploads",
    params(("id" = String, Path, description = "upload id")),
    security(("session" = [])),
    responses((status = 204, description = "aborted; its chunks are removed"), crate::server::openapi::Refusals),
)]
async fn abort(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.uploads.abort(&session, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    put,
    path = "/api/uploads/{id}/chunks/{index}",
    tag = "uploads",
    params(("id" = String, Path, description = "upload id"), ("index" = u32, Path, description = "chunk index"), ("Content-MD5" = Option<String>, Header, description = "the chunk's MD5 (base64), or `X-Chunk-Md5` in hex")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    security(("session" = [])),
    responses((status = 200, description = "stored (or already stored with the same MD5)", body = Object), crate::server::openapi::Refusals),
)]
async fn chunk(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath((id, index)): ApiPath<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let md5 = headers.get("chunk-md5").and_then(|v| v.to_str().ok());
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let Ok(index) = index.parse::<u32>() else {
        state
            .uploads
            .refuse_body(body.into_data_stream(), length)
            .await;
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "index-out-of-range",
            format!("chunk index {index:?} is not a number"),
        ));
    };
    let outcome = state
        .uploads
        .put_chunk(&session, &id, index, md5, length, body.into_data_stream())
        .await?;
    let status = if outcome.stored {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(outcome)).into_response())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Proof {
    md5: String,
}

#[utoipa::path(
    post,
    path = "/api/uploads/{id}/proof",
    tag = "uploads",
    params(("id" = String, Path, description = "upload id")),
    request_body = Proof,
    security(("session" = [])),
    responses((status = 200, description = "proved: the file, without uploading it", body = Object), crate::server::openapi::Refusals),
)]
async fn prove(
    _: Ready,
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(id): ApiPath<String>,
    body: Result<Json<Proof>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(proof) = body?;
    let answer = match state.uploads.prove(&session, &id, &proof.md5).await? {
        ProofOutcome::Instant(file) => json!({"instant": true, "file": file}),
        ProofOutcome::Upload(upload) => json!({"instant": false, "upload": upload}),
    };
    Ok(Json(answer).into_response())
}

#[utoipa::path(
    post,
    path = "/api/uploads/{id}/complete",
    tag = "uploads",
    params(("id" = String, Path, description = "upload id")),
    security(("session" = [])),
    responses((status = 200, description = "merged, verified and accepted by the upload hooks: the file", body = Object), crate::server::openapi::Refusals),
)]
async fn complete(
    _: Ready,
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let done = state.uploads.complete(&session, &id).await?;
    Ok(Json(json!({ "file": done.file })).into_response())
}

#[utoipa::path(
    get,
    path = "/api/files/{id}",
    tag = "uploads",
    params(("id" = String, Path, description = "file id")),
    security(("session" = [])),
    responses((status = 200, description = "the file's record", body = Object), crate::server::openapi::Refusals),
)]
async fn file(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    Ok(Json(state.uploads.readable(&session, &id).await?).into_response())
}

#[utoipa::path(
    delete,
    path = "/api/files/{id}",
    tag = "uploads",
    params(("id" = String, Path, description = "file id")),
    security(("session" = [])),
    responses((status = 204, description = "deleted"), crate::server::openapi::Refusals),
)]
async fn delete_file(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.uploads.delete_file(&session, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/api/files/{id}/link",
    tag = "uploads",
    params(("id" = String, Path, description = "file id")),
    security(("session" = [])),
    responses((status = 200, description = "`{\"url\", \"expires\"}`: a signed download link", body = Object), crate::server::openapi::Refusals),
)]
async fn link(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let file = state.uploads.readable(&session, &id).await?;
    let expires = unix_now() + state.uploads.config().link_ttl.as_secs();
    let sig = state.uploads.links().sign(&file.id, expires);
    let url = format!("/files/{}?expires={expires}&sig={sig}", file.id);
    Ok(Json(json!({"url": url, "expires": expires})).into_response())
}
