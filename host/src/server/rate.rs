//! Per-client rate limits on the routes anyone may call that make the
//! server run plugins (renders, descriptions, listings, published pages):
//! a token bucket per client address (`governor`), `[http]
//! anonymous_rate_per_sec` and `anonymous_burst`. Over the limit the answer
//! is `429 rate-limited` with `Retry-After`.
//!
//! The client is the peer address of the TCP connection: behind a reverse
//! proxy every client shares the proxy's address, so set the limits for the
//! proxy's total, or rate-limit at the proxy.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::AppState;
use crate::error::ApiError;

/// Addresses remembered before idle ones are forgotten.
const MAX_TRACKED: usize = 100_000;

/// The per-client limiter of anonymous routes.
#[derive(Clone)]
pub struct ClientLimiter(Arc<DefaultKeyedRateLimiter<IpAddr>>);

impl std::fmt::Debug for ClientLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientLimiter").finish_non_exhaustive()
    }
}

impl ClientLimiter {
    /// `per_sec` requests per second per address, bursts of `burst`.
    pub fn new(per_sec: u32, burst: u32) -> Self {
        let per_sec = NonZeroU32::new(per_sec).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        Self(Arc::new(RateLimiter::keyed(
            Quota::per_second(per_sec).allow_burst(burst),
        )))
    }

    /// `per_minute` requests a minute per address, bursts of `burst`.
    pub fn per_minute(per_minute: u32, burst: u32) -> Self {
        let per_minute = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        Self(Arc::new(RateLimiter::keyed(
            Quota::per_minute(per_minute).allow_burst(burst),
        )))
    }

    /// Takes one request of `client` from its bucket.
    ///
    /// # Errors
    /// `429 rate-limited` when its bucket is empty.
    pub fn check(&self, client: IpAddr) -> Result<(), ApiError> {
        if self.0.len() > MAX_TRACKED {
            self.0.retain_recent();
        }
        self.0.check_key(&client).map_err(|_| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "too many requests from your address; slow down",
            )
            .with_retry_after(1)
        })
    }
}

/// Extractor of a rate-limited anonymous route.
#[derive(Debug, Clone, Copy)]
pub struct Metered;

impl FromRequestParts<AppState> for Metered {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Requests built in-process (tests with `oneshot`) have no peer.
        let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
            return Ok(Self);
        };
        state.limiter.check(peer.ip()).map(|()| Self)
    }
}

/// The client's address, when the request came over a connection.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| peer.ip()),
        ))
    }
}
