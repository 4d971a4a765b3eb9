//! HTTP side of history: scrollback, conversation list sync, and the
//! conversation lifecycle (open, claim, close, reset).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{HistoryError, RoomId};
use crate::auth::Role;
use crate::auth::extract::Authenticated;
use crate::error::{ApiError, ApiPath};
use crate::hub::AccessError;
use crate::server::AppState;

/// Most messages one scrollback page returns.
const MAX_PAGE: u32 = 500;
/// Most conversations one sync page returns.
const MAX_CONVERSATIONS: u32 = 200;

/// Routes of the history API.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(messages))
        .routes(routes!(reset))
        .routes(routes!(conversations, open))
        .routes(routes!(claim))
        .routes(routes!(close))
}

impl From<HistoryError> for ApiError {
    fn from(err: HistoryError) -> Self {
        match err {
            HistoryError::UnknownRoom(room) => {
                ApiError::not_found(format!("no conversation {room}"))
            }
            HistoryError::Closed(room) => ApiError::new(
                StatusCode::CONFLICT,
                "closed",
                format!("conversation {room} is closed"),
            ),
            HistoryError::Claimed { room, agent } => ApiError::new(
                StatusCode::CONFLICT,
                "claimed",
                format!("conversation {room} is already claimed by {agent}"),
            ),
            err @ (HistoryError::Store(_) | HistoryError::Failed(_)) => ApiError::internal(err),
        }
    }
}

impl From<AccessError> for ApiError {
    fn from(err: AccessError) -> Self {
        match err {
            AccessError::UnknownRoom(room) => {
                ApiError::not_found(format!("no conversation {room}"))
            }
            AccessError::Forbidden(room) => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("conversation {room} is not yours"),
            ),
            AccessError::History(err) => err.into(),
        }
    }
}

fn parse_room(room: &str) -> Result<RoomId, ApiError> {
    room.parse()
        .map_err(|err| ApiError::bad_request(format!("{err}")))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    after: Option<u64>,
    before: Option<u64>,
    limit: Option<u32>,
}

/// `GET /api/rooms/{room}/messages?after=&before=&limit=`: oldest first;
/// with only `before` (or nothing) the newest page below it.
#[utoipa::path(
    get,
    path = "/api/rooms/{room}/messages",
    tag = "chat",
    params(("room" = String, Path, description = "conversation id"), PageQuery),
    security(("session" = [])),
    responses((status = 200, description = "a page of messages, oldest first", body = Object), crate::server::openapi::Refusals),
)]
async fn messages(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(room): ApiPath<String>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let room = parse_room(&room)?;
    state.hub.access(&session, &room).await?;
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    let newest = query.after.is_none();
    let messages = state
        .hub
        .history
        .page(
            &room,
            query.after.unwrap_or(0),
            query.before.unwrap_or(u64::MAX),
            limit,
            newest,
        )
        .await?;
    let head = state.hub.history.head(&room).await?;
    Ok(Json(json!({
        "room": room,
        "epoch": head.map(|h| h.epoch),
        "head_seq": head.map(|h| h.head_seq),
        "messages": messages,
    })))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct SyncQuery {
    cursor: Option<u64>,
    limit: Option<u32>,
}

/// `GET /api/conversations?cursor=`: conversations changed after `cursor`
/// (all of them without it), and the cursor to ask with next time.
#[utoipa::path(
    get,
    path = "/api/conversations",
    tag = "chat",
    params(SyncQuery),
    security(("session" = [])),
    responses((status = 200, description = "conversations changed after `cursor`, and the next cursor", body = Object), crate::server::openapi::Refusals),
)]
async fn conversations(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    query: Result<Query<SyncQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query?;
    let cursor = query.cursor.unwrap_or(0);
    let limit = query
        .limit
        .unwrap_or(MAX_CONVERSATIONS)
        .clamp(1, MAX_CONVERSATIONS);
    let only = (!session.role.is_staff()).then_some(&session.user);
    let conversations = state
        .hub
        .history
        .changed_since(&session.user, only, cursor, limit)
        .await?;
    let next = conversations.last().map_or(cursor, |c| c.changed);
    let more = conversations.len() == limit as usize;
    Ok(Json(
        json!({"conversations": conversations, "cursor": next, "more": more}),
    ))
}

/// `POST /api/conversations`: the customer's open conversation, created on
/// first contact.
#[utoipa::path(
    post,
    path = "/api/conversations",
    tag = "chat",
    security(("session" = [])),
    responses((status = 200, description = "customers only: their open conversation, opened if none", body = Object), crate::server::openapi::Refusals),
)]
async fn open(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
) -> Result<Json<Value>, ApiError> {
    if session.role != Role::Customer {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only customers open conversations; agents claim them",
        ));
    }
    let conversation = state.hub.history.open_conversation(&session.user).await?;
    Ok(Json(json!(conversation)))
}

#[utoipa::path(
    post,
    path = "/api/conversations/{room}/claim",
    tag = "chat",
    params(("room" = String, Path, description = "conversation id")),
    security(("session" = [])),
    responses((status = 200, description = "staff only: the conversation, now the caller's", body = Object), crate::server::openapi::Refusals),
)]
async fn claim(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(room): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    if !session.role.is_staff() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only agents and admins claim conversations",
        ));
    }
    let room = parse_room(&room)?;
    Ok(Json(json!(
        state.hub.history.claim(&room, &session.user).await?
    )))
}

#[utoipa::path(
    post,
    path = "/api/conversations/{room}/close",
    tag = "chat",
    params(("room" = String, Path, description = "conversation id")),
    security(("session" = [])),
    responses((status = 200, description = "the conversation, closed", body = Object), crate::server::openapi::Refusals),
)]
async fn close(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(room): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let room = parse_room(&room)?;
    state.hub.access(&session, &room).await?;
    Ok(Json(json!(
        state.hub.history.close(&room, &session.user).await?
    )))
}

/// `POST /api/rooms/{room}/reset` (admins): deletes the room's history and
/// starts a new epoch; joined clients are told to drop their copy.
#[utoipa::path(
    post,
    path = "/api/rooms/{room}/reset",
    tag = "chat",
    params(("room" = String, Path, description = "conversation id")),
    security(("session" = [])),
    responses((status = 200, description = "admin only: the conversation's history removed", body = Object), crate::server::openapi::Refusals),
)]
async fn reset(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(room): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    if session.role != Role::Admin {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "only admins reset a room's history",
        ));
    }
    let room = parse_room(&room)?;
    let head = state.hub.reset_room(&room).await?;
    Ok(Json(
        json!({"room": room, "epoch": head.epoch, "head_seq": head.head_seq}),
    ))
}
