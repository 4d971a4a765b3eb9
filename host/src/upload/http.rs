//! The upload API: `/api/uploads` and `/api/files` (see `docs/uploads.md`).

use axum::extract::rejection::JsonRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;

use super::service::{OpenRequest, ProofOutcome, UploadError};
use crate::auth::extract::Authenticated;
use crate::auth::unix_now;
use crate::error::{ApiError, ApiPath};
use crate::server::AppState;
use crate::server::ready::Ready;

/// The routes of the upload API.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/uploads", post(open))
        .route("/api/uploads/{id}", get(status).delete(abort))
        .route(
            "/api/uploads/{id}/chunks/{index}",
            // Chunks are bounded by the upload's layout, not the default limit.
            put(chunk).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/uploads/{id}/proof", post(prove))
        .route("/api/uploads/{id}/complete", post(complete))
        .route("/api/files/{id}", get(file).delete(delete_file))
        .route("/api/files/{id}/link", post(link))
        .route("/files/{id}", get(super::download::download))
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

async fn status(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    Ok(Json(state.uploads.status(&session, &id).await?).into_response())
}

async fn abort(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.uploads.abort(&session, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

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

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Proof {
    md5: String,
}

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

async fn complete(
    _: Ready,
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let done = state.uploads.complete(&session, &id).await?;
    Ok(Json(json!({ "file": done.file })).into_response())
}

async fn file(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    Ok(Json(state.uploads.readable(&session, &id).await?).into_response())
}

async fn delete_file(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.uploads.delete_file(&session, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

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
