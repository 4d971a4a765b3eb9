//! The tus endpoint: `/api/tus` (creation, discovery) and `/api/tus/{id}`
//! (`HEAD`, `PATCH`, `DELETE`), with CORS for the allowed origins. The
//! protocol is tus.io's; the OpenAPI document lists the operations and
//! `docs/uploads.md` says what this server does with them.

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tracing::Instrument as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::headers::{self, BadHeader, Checksum, ConcatRequest, Metadata};
use super::index::{Concat, TusRecord};
use super::{EXTENSIONS, FILE_ID_HEADER, OFFSET_STREAM, VERSION};
use crate::auth::extract::Authenticated;
use crate::error::{ApiError, ApiPath};
use crate::server::AppState;
use crate::server::ready::Ready;
use crate::upload::index::UploadState;
use crate::upload::{TusCreate, TusPatch};

/// `Tus-Resumable`: the one version spoken (for the OpenAPI document).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // a schema, never built
enum TusResumable {
    #[schema(rename = "1.0.0")]
    V1,
}

/// The request headers a browser client sends (its CORS preflight names them).
const REQUEST_HEADERS: [&str; 11] = [
    "authorization",
    "content-type",
    "tus-resumable",
    "upload-length",
    "upload-metadata",
    "upload-offset",
    "upload-defer-length",
    "upload-concat",
    "upload-checksum",
    "x-http-method-override",
    "x-requested-with",
];

/// The response headers a browser client reads.
const RESPONSE_HEADERS: [&str; 13] = [
    "location",
    "upload-offset",
    "upload-length",
    "upload-metadata",
    "upload-defer-length",
    "upload-concat",
    "upload-expires",
    "tus-resumable",
    "tus-version",
    "tus-extension",
    "tus-max-size",
    "tus-checksum-algorithm",
    FILE_ID_HEADER,
];

/// The routes, answering cross-origin requests from `allowed_origins`
/// (`*`: any).
pub fn routes(allowed_origins: &[String]) -> OpenApiRouter<AppState> {
    let router = OpenApiRouter::new()
        .routes(routes!(create, discover_endpoint))
        .routes(routes!(status, append, terminate, overridden, discover))
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(protocol));
    if allowed_origins.is_empty() {
        return router;
    }
    let origins = if allowed_origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            allowed_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o).ok()),
        )
    };
    router.layer(
        CorsLayer::new()
            .allow_origin(origins)
            .allow_methods([
                Method::GET,
                Method::HEAD,
                Method::POST,
                Method::PATCH,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers(REQUEST_HEADERS.map(HeaderName::from_static))
            .expose_headers(RESPONSE_HEADERS.map(HeaderName::from_static))
            .max_age(std::time::Duration::from_secs(86_400)),
    )
}

/// Every answer carries `Tus-Resumable`; every request but `OPTIONS` must
/// (`412` otherwise, with the version spoken).
async fn protocol(request: Request, next: Next) -> Response {
    let resumable = request.headers().get("tus-resumable").cloned();
    let mut response = if request.method() != Method::OPTIONS
        && resumable.as_ref().and_then(|v| v.to_str().ok()) != Some(VERSION)
    {
        let refusal = ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "tus-version",
            format!("send `Tus-Resumable: {VERSION}`: the only version spoken here"),
        );
        ([("tus-version", VERSION)], refusal).into_response()
    } else {
        next.run(request).await
    };
    response
        .headers_mut()
        .insert("tus-resumable", HeaderValue::from_static(VERSION));
    response
}

/// `OPTIONS /api/tus`: what this server supports.
#[utoipa::path(
    options,
    path = "/api/tus",
    tag = "tus",
    responses((status = 204, description = "`Tus-Version`, `Tus-Extension`, `Tus-Max-Size`, `Tus-Checksum-Algorithm`")),
)]
async fn discover_endpoint(state: State<AppState>) -> Response {
    discover(state).await
}

/// `OPTIONS /api/tus/{id}`: the same.
#[utoipa::path(
    options,
    path = "/api/tus/{id}",
    tag = "tus",
    params(("id" = String, Path, description = "tus upload id")),
    responses((status = 204, description = "`Tus-Version`, `Tus-Extension`, `Tus-Max-Size`, `Tus-Checksum-Algorithm`")),
)]
async fn discover(State(state): State<AppState>) -> Response {
    let max = state.uploads.config().limits.max_file_bytes.to_string();
    (
        StatusCode::NO_CONTENT,
        [
            ("tus-version", VERSION.to_owned()),
            ("tus-extension", EXTENSIONS.to_owned()),
            ("tus-max-size", max),
            ("tus-checksum-algorithm", headers::ALGORITHMS.to_owned()),
        ],
    )
        .into_response()
}

impl From<BadHeader> for ApiError {
    fn from(err: BadHeader) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "bad-header", err.to_string())
    }
}

/// A header's text; `None` when absent.
fn text<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<Option<&'h str>, BadHeader> {
    headers
        .get(name)
        .map(|v| {
            v.to_str().map_err(|_| BadHeader {
                header: name,
                why: "is not ASCII".into(),
            })
        })
        .transpose()
}

fn number(headers: &HeaderMap, name: &'static str) -> Result<Option<u64>, BadHeader> {
    text(headers, name)?
        .map(|v| headers::number(name, v))
        .transpose()
}

fn checksum(headers: &HeaderMap) -> Result<Option<Checksum>, BadHeader> {
    text(headers, "upload-checksum")?
        .map(Checksum::parse)
        .transpose()
}

/// Whether the request carries upload bytes.
fn has_offset_stream(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim() == OFFSET_STREAM)
        })
}

/// The headers describing an upload (`HEAD`, and after writes).
fn described(upload: &TusRecord, with_metadata: bool) -> HeaderMap {
    let mut out = HeaderMap::new();
    let mut put = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            out.insert(name, value);
        }
    };
    put("upload-offset", upload.received.to_string());
    match upload.length {
        Some(length) => put("upload-length", length.to_string()),
        None => put("upload-defer-length", "1".into()),
    }
    if with_metadata && !upload.metadata.is_empty() {
        put("upload-metadata", upload.metadata.clone());
    }
    match &upload.concat {
        Concat::None => {}
        Concat::Partial => put("upload-concat", "partial".into()),
        Concat::Final(parts) => {
            let urls: Vec<String> = parts.iter().map(|id| format!("/api/tus/{id}")).collect();
            put("upload-concat", format!("final;{}", urls.join(" ")));
        }
    }
    match (&upload.state, &upload.file_id) {
        (UploadState::Complete, Some(file)) => put(FILE_ID_HEADER, file.clone()),
        _ => put("upload-expires", headers::http_date(upload.expires_ms)),
    }
    out
}

/// `POST /api/tus`: creates an upload, with its first bytes if the body
/// carries them.
#[utoipa::path(
    post,
    path = "/api/tus",
    tag = "tus",
    params(
        ("Tus-Resumable" = inline(TusResumable), Header, description = "the protocol version"),
        ("Upload-Length" = Option<u64>, Header, description = "the upload's length"),
        ("Upload-Defer-Length" = Option<String>, Header, description = "`1`: the length comes with a later PATCH"),
        ("Upload-Metadata" = Option<String>, Header, description = "`key base64,…`: `filename`, `filetype`"),
        ("Upload-Concat" = Option<String>, Header, description = "`partial`, or `final;<url> <url> …`"),
        ("Upload-Checksum" = Option<String>, Header, description = "`md5|sha1|sha256 <base64>` of the body"),
    ),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream", description = "optional: the first bytes"),
    security(("session" = [])),
    responses((status = 201, description = "created: `Location`, `Upload-Offset`, `Upload-Expires` (or `Hangar-File-Id` when complete)"), crate::server::openapi::Refusals),
)]
async fn create(
    _: Ready,
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    request_headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let length = number(&request_headers, "upload-length")?;
    let deferred = match text(&request_headers, "upload-defer-length")? {
        None => false,
        Some("1") => true,
        Some(_) => {
            return Err(BadHeader {
                header: "Upload-Defer-Length",
                why: "must be 1".into(),
            }
            .into());
        }
    };
    let concat = match text(&request_headers, "upload-concat")? {
        None => Concat::None,
        Some(value) => match ConcatRequest::parse(value)? {
            ConcatRequest::Partial => Concat::Partial,
            ConcatRequest::Final(parts) => Concat::Final(parts),
        },
    };
    let is_final = matches!(concat, Concat::Final(_));
    let refuse = |why: &str| -> Result<Response, ApiError> {
        Err(ApiError::new(StatusCode::BAD_REQUEST, "bad-header", why))
    };
    match (length.is_some(), deferred, is_final) {
        (true, true, _) => return refuse("send Upload-Length or Upload-Defer-Length, not both"),
        (false, false, false) => {
            return refuse("send Upload-Length, or Upload-Defer-Length: 1 to give it later");
        }
        (true, _, true) | (_, true, true) => {
            return refuse("a final upload's length is its partial uploads'; send no length");
        }
        _ => {}
    }
    let metadata_text = text(&request_headers, "upload-metadata")?.unwrap_or_default();
    let metadata = Metadata::parse(metadata_text)?;
    let carries_bytes = has_offset_stream(&request_headers);
    if is_final && carries_bytes {
        return refuse("a final upload takes no bytes");
    }
    let checksum = checksum(&request_headers)?;
    let req = TusCreate {
        length,
        metadata: metadata_text.to_owned(),
        name: metadata.text(&["filename", "name"])?,
        content_type: metadata.text(&["filetype", "type"])?,
        concat,
    };
    let upload = state.uploads.tus_create(&session, req).await?;
    let location = format!("/api/tus/{}", upload.id);
    let answer = if carries_bytes {
        let patch = TusPatch {
            offset: 0,
            length: None,
            checksum,
            declared: number(&request_headers, "content-length").ok().flatten(),
        };
        receive(&state, session, upload.id.clone(), patch, body).await
    } else {
        Ok(upload)
    };
    // A refused first body still leaves the upload to resume.
    let location = [(header::LOCATION, location)];
    match answer {
        Ok(upload) => {
            Ok((StatusCode::CREATED, location, described(&upload, false)).into_response())
        }
        Err(err) => Ok((location, ApiError::from(err)).into_response()),
    }
}

/// `HEAD /api/tus/{id}`: where the upload stands.
#[utoipa::path(
    head,
    path = "/api/tus/{id}",
    tag = "tus",
    params(
        ("id" = String, Path, description = "tus upload id"),
        ("Tus-Resumable" = inline(TusResumable), Header, description = "the protocol version"),
    ),
    security(("session" = [])),
    responses((status = 200, description = "`Upload-Offset`, `Upload-Length` (or `Upload-Defer-Length`), `Upload-Metadata`, `Upload-Concat`, `Upload-Expires` or `Hangar-File-Id`"), crate::server::openapi::Refusals),
)]
async fn status(
    _: Ready,
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let upload = state.uploads.tus_status(&session, &id).await?;
    Ok((
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        described(&upload, true),
    )
        .into_response())
}

/// `PATCH /api/tus/{id}`: bytes at `Upload-Offset`.
#[utoipa::path(
    patch,
    path = "/api/tus/{id}",
    tag = "tus",
    params(
        ("id" = String, Path, description = "tus upload id"),
        ("Tus-Resumable" = inline(TusResumable), Header, description = "the protocol version"),
        ("Upload-Offset" = u64, Header, description = "where the bytes start: the stored offset"),
        ("Upload-Length" = Option<u64>, Header, description = "a deferred length"),
        ("Upload-Checksum" = Option<String>, Header, description = "`md5|sha1|sha256 <base64>` of the body"),
    ),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    security(("session" = [])),
    responses((status = 204, description = "stored: `Upload-Offset`, and `Hangar-File-Id` once complete"), crate::server::openapi::Refusals),
)]
async fn append(
    ready: Ready,
    State(state): State<AppState>,
    session: Authenticated,
    ApiPath(id): ApiPath<String>,
    request_headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    patch(ready, &state, session, &id, &request_headers, body).await
}

async fn patch(
    _: Ready,
    state: &AppState,
    Authenticated(session): Authenticated,
    id: &str,
    request_headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let declared = number(request_headers, "content-length").ok().flatten();
    let checked = (|| {
        if !has_offset_stream(request_headers) {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "bad-content-type",
                format!("send the bytes as Content-Type: {OFFSET_STREAM}"),
            ));
        }
        let offset = number(request_headers, "upload-offset")?.ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad-header",
                "send Upload-Offset: where these bytes start",
            )
        })?;
        Ok((
            offset,
            number(request_headers, "upload-length")?,
            checksum(request_headers)?,
        ))
    })();
    let (offset, length, checksum) = match checked {
        Ok(checked) => checked,
        Err(err) => {
            state
                .uploads
                .refuse_body(body.into_data_stream(), declared)
                .await;
            return Err(err);
        }
    };
    let patch = TusPatch {
        offset,
        length,
        checksum,
        declared,
    };
    let upload = receive(state, session, id.to_owned(), patch, body).await?;
    Ok((StatusCode::NO_CONTENT, described(&upload, false)).into_response())
}

/// Appends `body` in a task of its own: a client that goes away drops its
/// request, and the bytes that arrived must still be stored and recorded.
async fn receive(
    state: &AppState,
    session: crate::auth::Session,
    id: String,
    patch: TusPatch,
    body: Body,
) -> Result<TusRecord, crate::upload::UploadError> {
    let uploads = state.uploads.clone();
    let task = tokio::spawn(
        async move {
            uploads
                .tus_append(&session, &id, patch, body.into_data_stream())
                .await
        }
        .in_current_span(),
    );
    task.await.unwrap_or_else(|err| {
        Err(crate::upload::UploadError::Body(format!(
            "the request's task failed: {err}"
        )))
    })
}

/// `DELETE /api/tus/{id}`: termination.
#[utoipa::path(
    delete,
    path = "/api/tus/{id}",
    tag = "tus",
    params(
        ("id" = String, Path, description = "tus upload id"),
        ("Tus-Resumable" = inline(TusResumable), Header, description = "the protocol version"),
    ),
    security(("session" = [])),
    responses((status = 204, description = "terminated: an open upload's bytes are deleted; a complete upload's file stays"), crate::server::openapi::Refusals),
)]
async fn terminate(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.uploads.tus_terminate(&session, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/tus/{id}` with `X-HTTP-Method-Override` (for clients that
/// cannot send `PATCH` or `DELETE`).
#[utoipa::path(
    post,
    path = "/api/tus/{id}",
    tag = "tus",
    params(
        ("id" = String, Path, description = "tus upload id"),
        ("Tus-Resumable" = inline(TusResumable), Header, description = "the protocol version"),
        ("X-HTTP-Method-Override" = String, Header, description = "`PATCH` or `DELETE`"),
    ),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    security(("session" = [])),
    responses((status = 204, description = "as PATCH or DELETE"), crate::server::openapi::Refusals),
)]
async fn overridden(
    ready: Ready,
    State(state): State<AppState>,
    session: Authenticated,
    ApiPath(id): ApiPath<String>,
    request_headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    match text(&request_headers, "x-http-method-override")? {
        Some(m) if m.eq_ignore_ascii_case("PATCH") => {
            patch(ready, &state, session, &id, &request_headers, body).await
        }
        Some(m) if m.eq_ignore_ascii_case("DELETE") => {
            state.uploads.tus_terminate(&session.0, &id).await?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method-not-allowed",
            "an upload takes HEAD, PATCH and DELETE (or POST with X-HTTP-Method-Override)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::CHECKSUM_MISMATCH;

    #[test]
    fn the_checksum_status_is_460() {
        assert_eq!(CHECKSUM_MISMATCH.as_u16(), 460);
    }
}
