//! HTTP side of the hub: the `/ws` upgrade (origin check, token, protocol
//! version) and, in demo mode, `POST /api/session`.

use axum::Json;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Hub;
use super::protocol::{ErrorCode, PROTOCOL_VERSION, ServerFrame, close};
use crate::auth::{Role, TokenError, unix_now};
use crate::error::ApiError;
use crate::history::UserId;
use crate::server::AppState;

/// Routes of the hub.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upgrade))
        .routes(routes!(demo_session))
}

/// The handshake's query. `v` is read as text so that an unreadable
/// version gets the protocol's own answer (an `error` frame and 4004), not
/// an HTTP error a browser cannot read; a missing `v` means version 1.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct WsQuery {
    token: Option<String>,
    v: Option<String>,
}

/// Whether the browser origin of a handshake may open a socket: requests
/// without `Origin` come from non-browser clients, which cannot be ridden by
/// another site; browser requests must come from an allowed origin (by
/// default the server's own, i.e. the `Host` they connect to).
fn origin_allowed(hub: &Hub, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return true;
    };
    if hub.config.allowed_origins.is_empty() {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        return !host.is_empty() && origin_host.eq_ignore_ascii_case(host);
    }
    hub.config
        .allowed_origins
        .iter()
        .any(|allowed| allowed == "*" || allowed.eq_ignore_ascii_case(origin))
}

#[utoipa::path(
    get,
    path = "/ws",
    tag = "chat",
    params(WsQuery),
    responses((status = 101, description = "the chat WebSocket (docs/protocol.md)"), crate::server::openapi::Refusals),
)]
async fn upgrade(
    State(state): State<AppState>,
    query: Result<Query<WsQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    let query = match query {
        Ok(Query(query)) => query,
        Err(rejection) => return ApiError::from(rejection).into_response(),
    };
    // Not a WebSocket handshake: the API's JSON error, not axum's text.
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => {
            return ApiError::new(rejection.status(), "bad-request", rejection.body_text())
                .into_response();
        }
    };
    let hub = state.hub.clone();
    if !origin_allowed(&hub, &headers) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "origin-not-allowed",
            "this origin may not open a chat connection (cross-site WebSocket refused)",
        )
        .into_response();
    }
    // Nothing is moderated before the plugins are back: no chat yet.
    if !state.ready.is_ready() {
        let error = ServerFrame::error(
            ErrorCode::Starting,
            "the server is starting: its plugins are being restored; reconnect shortly",
            None,
        );
        return ws.on_upgrade(move |socket| {
            super::connection::refuse(socket, error, close::TRY_AGAIN_LATER, "server starting")
        });
    }
    let limits = hub.config.limits;
    let ws = ws
        .read_buffer_size(512)
        .write_buffer_size(0)
        .max_message_size(limits.max_frame_bytes)
        .max_frame_size(limits.max_frame_bytes);
    // Token and version problems are answered inside the socket, with an
    // error frame and a close code: a browser cannot read the body of a
    // refused handshake, and must not mistake it for a network failure.
    let version = query.v.as_deref().map(str::parse::<u32>);
    if !matches!(version, None | Some(Ok(PROTOCOL_VERSION))) {
        let asked = query.v.as_deref().unwrap_or_default();
        let error = ServerFrame::error(
            ErrorCode::BadFrame,
            format!(
                "protocol version {asked:?} is not supported; this server speaks {PROTOCOL_VERSION}"
            ),
            None,
        );
        return ws.on_upgrade(move |socket| {
            super::connection::refuse(
                socket,
                error,
                close::UNSUPPORTED_VERSION,
                "unsupported protocol version",
            )
        });
    }
    let verified = match query.token.as_deref() {
        Some(token) => hub.tokens.verify(token),
        None => Err(TokenError::Invalid("missing ?token=".into())),
    };
    match verified {
        Ok(session) => ws.on_upgrade(move |socket| super::connection::run(hub, socket, session)),
        Err(err) => {
            let (code, reason) = match err {
                TokenError::Expired => (close::SESSION_EXPIRED, "session expired"),
                TokenError::Invalid(_) => (close::UNAUTHORIZED, "unauthorized"),
            };
            let error = ServerFrame::error(ErrorCode::Unauthorized, err.to_string(), None);
            ws.on_upgrade(move |socket| super::connection::refuse(socket, error, code, reason))
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SessionRequest {
    #[schema(value_type = String)]
    user: UserId,
    #[schema(value_type = String, example = "customer")]
    role: Role,
}

/// Demo only: a token for any user and role, valid for 12 hours.
#[utoipa::path(
    post,
    path = "/api/session",
    tag = "chat",
    request_body = SessionRequest,
    responses((status = 200, description = "demo mode only: `{\"token\", \"user\", \"role\", \"expires\"}`", body = Object), crate::server::openapi::Refusals),
)]
async fn demo_session(
    State(state): State<AppState>,
    body: Result<Json<SessionRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    if !state.demo {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            "sessions are minted by the embedding application with the shared key (see docs/protocol.md)",
        ));
    }
    let Json(request) = body?;
    let expires = unix_now() + 12 * 3600;
    let token = state
        .hub
        .tokens
        .mint(&request.user, request.role, expires)
        .map_err(ApiError::internal)?;
    Ok(Json(
        json!({"token": token, "user": request.user, "role": request.role, "expires": expires}),
    ))
}
