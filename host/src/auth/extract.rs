//! The `Authorization: Bearer <token>` extractor of the HTTP API.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};

use super::{Session, TokenError};
use crate::error::ApiError;
use crate::server::AppState;

/// A request carrying a valid session token.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Session);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        bearer_session(&parts.headers, state).map(Authenticated)
    }
}

/// The token of an `Authorization: Bearer <token>` header, if any.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
}

/// The session of the bearer token in `headers`.
///
/// # Errors
/// 401 when the header is missing or the token is expired or invalid.
pub fn bearer_session(headers: &HeaderMap, state: &AppState) -> Result<Session, ApiError> {
    let token = bearer_token(headers).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "send the session token as `Authorization: Bearer <token>`",
        )
    })?;
    state.hub.tokens.verify(token).map_err(|err| {
        let code = match err {
            TokenError::Expired => "session-expired",
            TokenError::Invalid(_) => "unauthorized",
        };
        ApiError::new(StatusCode::UNAUTHORIZED, code, err.to_string())
    })
}
