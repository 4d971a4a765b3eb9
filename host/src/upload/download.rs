//! `GET /files/{id}` (and `HEAD`): downloads with Range support, served so
//! an uploaded file can never act as a page of this origin.
//!
//! Every answer carries `X-Content-Type-Options: nosniff` and a sandboxing
//! `Content-Security-Policy`; everything but raster images (recognised from
//! their bytes, not their name) is sent as `Content-Disposition: attachment`.

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::TryStreamExt;
use object_store::{GetOptions, GetRange, ObjectStore as _};
use serde::Deserialize;

use super::blobs::BlobError;
use super::index::FileRecord;
use super::service::UploadError;
use crate::auth::extract::bearer_session;
use crate::auth::unix_now;
use crate::error::{ApiError, ApiPath};
use crate::server::AppState;

/// A signed link's query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LinkQuery {
    expires: Option<u64>,
    sig: Option<String>,
}

/// The file, by signed link or by the bearer's right to read it.
async fn authorised(
    state: &AppState,
    id: &str,
    link: &LinkQuery,
    headers: &HeaderMap,
) -> Result<FileRecord, ApiError> {
    if let (Some(expires), Some(sig)) = (link.expires, link.sig.as_deref()) {
        if !state.uploads.links().verify(id, expires, sig, unix_now()) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "bad-link",
                "the download link is invalid or expired; ask for a new one",
            ));
        }
        return Ok(state.uploads.file(id).await?);
    }
    let session = bearer_session(headers, state)?;
    Ok(state.uploads.readable(&session, id).await?)
}

/// `filename*` per RFC 8187: every byte outside the safe set is %-encoded.
fn disposition(file: &FileRecord) -> String {
    let kind = if file.inline { "inline" } else { "attachment" };
    let mut encoded = String::with_capacity(file.name.len());
    for b in file.name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{kind}; filename*=UTF-8''{encoded}")
}

enum Wanted {
    All,
    Part(u64, u64),
    Unsatisfiable,
}

/// A single satisfiable range is served as 206; several ranges or an
/// unreadable header are answered with the whole file, as RFC 9110 allows.
fn wanted(headers: &HeaderMap, size: u64) -> Wanted {
    let Some(value) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Wanted::All;
    };
    let Ok(parsed) = http_range_header::parse_range_header(value) else {
        return Wanted::All;
    };
    match parsed.validate(size) {
        Ok(ranges) if ranges.len() == 1 => {
            let range = &ranges[0];
            Wanted::Part(*range.start(), *range.end())
        }
        Ok(_) => Wanted::All,
        Err(_) => Wanted::Unsatisfiable,
    }
}

/// The headers of every answer of `/files/...`, refusals included.
const NOSNIFF: (header::HeaderName, &str) = (header::X_CONTENT_TYPE_OPTIONS, "nosniff");
const SANDBOX: (header::HeaderName, &str) = (
    header::CONTENT_SECURITY_POLICY,
    "sandbox; default-src 'none'",
);

/// `GET`/`HEAD /files/{id}`: every answer, a refusal too, is `nosniff`
/// and sandboxed.
#[utoipa::path(
    get,
    path = "/files/{id}",
    tag = "uploads",
    params(("id" = String, Path, description = "file id"), LinkQuery, ("Range" = Option<String>, Header, description = "one byte range")),
    responses((status = 200, description = "the file (images inline, everything else as an attachment)", content_type = "application/octet-stream", body = Vec<u8>), (status = 206, description = "the range asked for", content_type = "application/octet-stream", body = Vec<u8>), crate::server::openapi::Refusals),
)]
pub async fn download(
    state: State<AppState>,
    id: Result<ApiPath<String>, ApiError>,
    link: Result<Query<LinkQuery>, axum::extract::rejection::QueryRejection>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let answer = async {
        let ApiPath(id) = id?;
        let Query(link) = link?;
        serve(state, id, link, method, headers).await
    }
    .await;
    match answer {
        Ok(response) => response,
        Err(err) => {
            let mut response = err.into_response();
            for (name, value) in [NOSNIFF, SANDBOX] {
                response
                    .headers_mut()
                    .insert(name, HeaderValue::from_static(value));
            }
            response
        }
    }
}

async fn serve(
    State(state): State<AppState>,
    id: String,
    link: LinkQuery,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let file = authorised(&state, &id, &link, &headers).await?;
    let etag = format!("\"{}\"", file.sha256);
    let mut out = HeaderMap::new();
    let set = |out: &mut HeaderMap, name, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            out.insert(name, value);
        }
    };
    for (name, value) in [NOSNIFF, SANDBOX] {
        set(&mut out, name, value);
    }
    set(&mut out, header::CONTENT_TYPE, &file.content_type);
    set(&mut out, header::CONTENT_DISPOSITION, &disposition(&file));
    set(&mut out, header::ACCEPT_RANGES, "bytes");
    set(&mut out, header::ETAG, &etag);
    set(&mut out, header::CACHE_CONTROL, "private, max-age=300");
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok((StatusCode::NOT_MODIFIED, out).into_response());
    }
    let (status, range) = match wanted(&headers, file.size) {
        Wanted::All => (StatusCode::OK, None),
        Wanted::Part(start, end) => {
            set(
                &mut out,
                header::CONTENT_RANGE,
                &format!("bytes {start}-{end}/{}", file.size),
            );
            (StatusCode::PARTIAL_CONTENT, Some((start, end)))
        }
        Wanted::Unsatisfiable => {
            set(
                &mut out,
                header::CONTENT_RANGE,
                &format!("bytes */{}", file.size),
            );
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, out).into_response());
        }
    };
    let length = range.map_or(file.size, |(start, end)| end - start + 1);
    set(&mut out, header::CONTENT_LENGTH, &length.to_string());
    if method == Method::HEAD || length == 0 {
        return Ok((status, out).into_response());
    }
    let options = GetOptions::default()
        .with_range(range.map(|(start, end)| GetRange::Bounded(start..end + 1)));
    let path = state.uploads.content_of(&file).await?;
    let got = state
        .uploads
        .blobs()
        .store()
        .get_opts(&path, options)
        .await
        .map_err(|err| match err {
            BlobError::NotFound { .. } => {
                tracing::error!(file = %file.id, sha256 = %file.sha256, "registered file has no content");
                ApiError::from(UploadError::UnknownFile(file.id.clone()))
            }
            other => ApiError::from(UploadError::Blob(other)),
        })?;
    let stream = got.into_stream().map_err(std::io::Error::other);
    Ok((status, out, Body::from_stream(stream)).into_response())
}
