//! The admin token: `Authorization: Bearer <token>`, compared in constant
//! time.

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use secrecy::ExposeSecret;

use crate::auth::extract::bearer_token;
use crate::error::ApiError;
use crate::server::AppState;

/// A request carrying the admin token.
#[derive(Debug, Clone, Copy)]
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(expected) = state
            .admin_token
            .as_deref()
            .map(ExposeSecret::expose_secret)
        else {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "admin-disabled",
                "the admin API is off: start the server with HANGAR_ADMIN_TOKEN",
            ));
        };
        let sent = bearer_token(&parts.headers).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send the admin token as `Authorization: Bearer <token>`",
            )
        })?;
        if hangar_registry::http::constant_time_eq(sent.as_bytes(), expected.as_bytes()) {
            Ok(Self)
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "wrong admin token",
            ))
        }
    }
}
