//! Readiness: the server listens from its first moment (so `/healthz` can
//! say it is starting), but nothing that plugins guard — chat sends, upload
//! completion, material renders, page views — is accepted until the
//! deployed plugins and chains are restored. Until then those routes answer
//! `503 starting` with `Retry-After`, and the chat socket closes with 1013.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::AppState;
use crate::error::ApiError;

/// Seconds a client is told to wait while the server starts.
pub const RETRY_AFTER_SECS: u64 = 2;

/// Whether the server has restored its plugins and serves.
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// Not ready yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// From now on the guarded routes serve.
    pub fn set_ready(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether the guarded routes serve.
    pub fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The answer of a guarded route while the server starts.
pub fn starting() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "starting",
        "the server is starting: its plugins are being restored; retry shortly",
    )
    .with_retry_after(RETRY_AFTER_SECS)
}

/// Extractor of a route that plugins guard: refuses with [`starting`]
/// until the server is ready.
#[derive(Debug, Clone, Copy)]
pub struct Ready;

impl FromRequestParts<AppState> for Ready {
    type Rejection = ApiError;

    async fn from_request_parts(
        _parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.ready.is_ready() {
            Ok(Self)
        } else {
            Err(starting())
        }
    }
}
