//! The one error type of the HTTP API: a status, a stable machine-readable
//! code and a message saying what to do. Every handler returns it, so
//! statuses and the error body shape live here only.
//!
//! Body: `{"error": {"code": "not-found", "message": "..."}}`, plus fields
//! that help a client act on some errors (e.g. `missing` chunk indexes).
//! A failure of the server itself is logged with the request's id and
//! answered with a generic message and that id (`request_id`), never with
//! the internal error's text.

use std::sync::Arc;

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

tokio::task_local! {
    /// The id of the request being handled (`x-request-id`).
    static REQUEST_ID: Arc<str>;
}

/// The id of the request being handled, when inside one.
pub fn request_id() -> Option<Arc<str>> {
    REQUEST_ID.try_with(Arc::clone).ok()
}

/// Runs `work` with the request id `id` (a job started by a request keeps
/// the request's id in what it logs and answers).
pub async fn in_request<F: std::future::Future>(id: Option<Arc<str>>, work: F) -> F::Output {
    match id {
        Some(id) => REQUEST_ID.scope(id, work).await,
        None => work.await,
    }
}

/// Middleware: makes the request's `x-request-id` known to the handler
/// (for [`ApiError::internal`] and the answer of every server failure).
pub async fn with_request_id(request: Request, next: Next) -> Response {
    let id: Arc<str> = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .into();
    REQUEST_ID.scope(id, next.run(request)).await
}

/// Every `code` an error answer may carry: the OpenAPI document lists them,
/// and an error with a code missing here is a bug caught in debug builds.
pub const ERROR_CODES: &[&str] = &[
    "admin-disabled",
    "bad-body",
    "bad-chain",
    "bad-config",
    "bad-content-type",
    "bad-digest",
    "bad-hash",
    "bad-header",
    "bad-link",
    "bad-name",
    "bad-request",
    "bad-settings",
    "bad-signature",
    "bad-version",
    "checksum-mismatch",
    "chunk-md5-mismatch",
    "chunks-missing",
    "claimed",
    "closed",
    "completing",
    "digest-mismatch",
    "file-md5-mismatch",
    "forbidden",
    "form-unavailable",
    "if-match-required",
    "immutable",
    "import-refused",
    "index-out-of-range",
    "internal",
    "invalid-page",
    "invalid-props",
    "invalid-submission",
    "material-failed",
    "material-loading",
    "method-not-allowed",
    "no-challenge",
    "no-previous-version",
    "not-a-material",
    "not-a-plugin",
    "not-allowed",
    "not-an-owner",
    "not-found",
    "not-in-registry",
    "not-loadable",
    "offset-mismatch",
    "origin-not-allowed",
    "out-of-scope",
    "overloaded",
    "past-length",
    "proof-used",
    "rate-limited",
    "registry-unavailable",
    "rejected-by-policy",
    "session-expired",
    "stale-page",
    "starting",
    "too-large",
    "tus-version",
    "unauthorized",
    "unknown-file",
    "unknown-form",
    "unknown-job",
    "unknown-material",
    "unknown-plugin",
    "unknown-publisher",
    "unknown-upload",
    "untrusted",
    "upload-busy",
    "upload-complete",
    "upload-expired",
    "world-mismatch",
    "wrong-length",
    "wrong-world",
];

/// The body of every error answer (for the OpenAPI document).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorObject,
}

/// The error object: its code and message, and for some errors fields a
/// client can act on (e.g. `missing` chunk indexes).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorObject {
    /// Stable code clients match on.
    #[schema(schema_with = error_code_schema)]
    pub code: String,
    /// What happened and what to do.
    pub message: String,
    /// The request's id, on failures of the server itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

fn error_code_schema() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(ERROR_CODES.iter().copied()))
        .build()
}

/// An error answer of the HTTP API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable code clients can match on.
    pub code: &'static str,
    /// What happened and what to do.
    pub message: String,
    /// Extra fields of the error object, for clients to act on.
    pub details: Option<serde_json::Map<String, serde_json::Value>>,
    /// Seconds to send as `Retry-After`.
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    /// An error with `status`, `code` and `message`.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        debug_assert!(
            ERROR_CODES.contains(&code),
            "error code {code} is not listed"
        );
        Self {
            status,
            code,
            message: message.into(),
            details: None,
            retry_after_secs: None,
        }
    }

    /// Adds `Retry-After: secs` to the answer.
    #[must_use]
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs);
        self
    }

    /// Adds the fields of `details` (a JSON object) to the error object.
    #[must_use]
    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        if let serde_json::Value::Object(map) = details {
            self.details = Some(map);
        }
        self
    }

    /// 404 for a path no route answers.
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", what)
    }
}

impl ApiError {
    /// 500 for a failure of the server itself: logged here with the
    /// request's id, answered with a generic message and that id.
    pub fn internal(err: impl std::fmt::Display) -> Self {
        let id = request_id().unwrap_or_else(|| "".into());
        tracing::error!(error = %err, request_id = %id, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("the server failed; retry, or report request id {id:?}"),
        )
    }

    /// 400 for a request the server cannot read.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad-request", message)
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::PathRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

/// `axum::extract::Path` whose refusals (a segment that is not UTF-8, a
/// number that is not one) are answered as [`ApiError`]s, in JSON like
/// every other error.
#[derive(Debug, Clone)]
pub struct ApiPath<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiPath<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(ApiError::from)
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        Self::bad_request(rejection.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = self.details.unwrap_or_default();
        error.insert("code".into(), json!(self.code));
        error.insert("message".into(), json!(self.message));
        if self.status.is_server_error()
            && let Some(id) = request_id()
        {
            error.insert("request_id".into(), json!(*id));
        }
        let body = json!({ "error": error });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs
            && let Ok(value) = HeaderValue::from_str(&secs.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::get;
    use tower::ServiceExt as _;

    use super::*;

    async fn failing() -> ApiError {
        ApiError::internal("disk /var/lib/hangar/secret.db is corrupt")
    }

    #[tokio::test]
    async fn internal_errors_answer_the_request_id_and_never_their_text() {
        let app = Router::new()
            .route("/boom", get(failing))
            .layer(axum::middleware::from_fn(with_request_id));
        let response = app
            .oneshot(
                Request::get("/boom")
                    .header("x-request-id", "req-42")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "internal");
        assert_eq!(body["error"]["request_id"], "req-42");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(!message.contains("secret.db"), "{message}");
        assert!(message.contains("req-42"), "{message}");
    }

    #[tokio::test]
    async fn retry_after_is_sent_when_set() {
        let response = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "starting", "wait")
            .with_retry_after(2)
            .into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }
}
