//! The administration API (`/api/admin/...`, admin bearer token; see
//! `docs/admin.md`), and the public plugin list (`GET /api/plugins`).

mod auth;
mod materials;

use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

pub use auth::Admin;

use crate::deploy::DeployError;
use crate::error::{ApiError, ApiPath};
use crate::plugins::{Hook, PluginName, PluginStatus, World};
use crate::server::AppState;
use crate::store::alerts::Severity;

/// Routes of the admin API and the public plugin list.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/plugins", get(list_plugins))
        .route("/api/admin/plugins", get(admin_plugins))
        .route("/api/admin/plugins/{name}/activate", post(activate))
        .route("/api/admin/plugins/{name}/rollback", post(rollback))
        .route("/api/admin/cluster/plugins", get(cluster_plugins))
        .route("/api/admin/plugins/{name}/enable", post(enable))
        .route("/api/admin/plugins/{name}/disable", post(disable))
        .route(
            "/api/admin/plugins/{name}/config",
            put(set_config).get(get_config),
        )
        .route("/api/admin/chains", get(chains))
        .route("/api/admin/chains/{hook}", put(set_chain))
        .route("/api/admin/alerts", get(alerts))
        .route("/api/admin/files", get(files))
        .route("/api/admin/session", post(session))
        .route("/api/admin/runtime", get(runtime_counts))
        .route("/api/admin/rooms/{room}/import", post(import_history))
        .merge(materials::routes())
}

/// Most messages one import request carries.
const MAX_IMPORT: usize = 10_000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Imported {
    sender: String,
    text: String,
    time_ms: Option<i64>,
}

/// Appends messages to a conversation's history in one transaction (for
/// migrating history from another system), through the hub's single writer
/// like every append: not moderated, delivered to connected clients like
/// any message.
async fn import_history(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(room): ApiPath<String>,
    body: Result<Json<Vec<Imported>>, JsonRejection>,
) -> Result<Response, ApiError> {
    use crate::history::{NewMessage, RoomId, SenderKind};
    let room: RoomId = room
        .parse()
        .map_err(|e: crate::history::InvalidId| ApiError::bad_request(e.to_string()))?;
    let Json(messages) = body?;
    if messages.len() > MAX_IMPORT {
        return Err(ApiError::bad_request(format!(
            "at most {MAX_IMPORT} messages per import"
        )));
    }
    let max_text = state.hub.config.limits.max_text_bytes;
    if let Some(i) = messages
        .iter()
        .position(|m| m.text.len() > max_text || m.sender.is_empty())
    {
        return Err(ApiError::bad_request(format!(
            "message {i}: empty sender or text longer than {max_text} bytes"
        )));
    }
    let now = crate::store::now_ms();
    let batch: Vec<NewMessage> = messages
        .into_iter()
        .map(|m| NewMessage {
            room: room.clone(),
            id: format!("m-{}", uuid::Uuid::new_v4().simple()),
            sender: m.sender,
            kind: SenderKind::User,
            text: m.text,
            time_ms: m.time_ms.unwrap_or(now),
            attachments: Vec::new(),
            client_id: None,
        })
        .collect();
    let results = state.hub.import(batch).await.map_err(ApiError::internal)?;
    let mut stored = 0;
    for result in results {
        result.map_err(|err| {
            ApiError::new(StatusCode::CONFLICT, "import-refused", err.to_string())
        })?;
        stored += 1;
    }
    Ok(Json(json!({"room": room, "imported": stored})).into_response())
}

/// What the runtime has fetched and compiled since start (`downloads` is
/// `hangar_registry_fetches_total`: blobs fetched, one per shared fetch).
async fn runtime_counts(_: Admin, State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "downloads": crate::metrics::metrics().registry_fetches.get(),
        "cache": state.runtime.cache_counts(),
    }))
}

impl From<DeployError> for ApiError {
    fn from(err: DeployError) -> Self {
        use crate::deploy::fetch::FetchError;
        let (status, code) = match &err {
            DeployError::Fetch(FetchError::NotFound(_)) => {
                (StatusCode::NOT_FOUND, "not-in-registry")
            }
            DeployError::Fetch(FetchError::DigestMismatch { .. }) => {
                (StatusCode::BAD_GATEWAY, "digest-mismatch")
            }
            DeployError::Fetch(_) => (StatusCode::BAD_GATEWAY, "registry-unavailable"),
            DeployError::Load(_) => (StatusCode::UNPROCESSABLE_ENTITY, "not-loadable"),
            DeployError::Install(_) => (StatusCode::CONFLICT, "wrong-world"),
            DeployError::Swap(_) => (StatusCode::CONFLICT, "no-previous-version"),
            DeployError::UnknownPlugin(_) => (StatusCode::NOT_FOUND, "unknown-plugin"),
            DeployError::Chain(_) => (StatusCode::UNPROCESSABLE_ENTITY, "bad-chain"),
            DeployError::BadConfig(_) => (StatusCode::BAD_REQUEST, "bad-config"),
            DeployError::PinMismatch(_) => (StatusCode::CONFLICT, "digest-mismatch"),
            DeployError::Untrusted(_) => (StatusCode::UNPROCESSABLE_ENTITY, "untrusted"),
            DeployError::Store(_) => return ApiError::internal(err),
        };
        ApiError::new(status, code, err.to_string())
    }
}

fn plugin_name(name: &str) -> Result<PluginName, ApiError> {
    PluginName::from_str(name).map_err(|err| ApiError::bad_request(err.to_string()))
}

/// One row of `GET /api/plugins`.
#[derive(Debug, Serialize)]
pub struct PluginRow {
    /// Plugin name.
    pub name: String,
    /// Active version.
    pub version: String,
    /// Exported world.
    pub world: World,
}

async fn list_plugins(State(state): State<AppState>) -> Json<Vec<PluginRow>> {
    Json(
        state
            .runtime
            .list()
            .into_iter()
            .map(|p| PluginRow {
                name: p.name.to_string(),
                version: p.version,
                world: p.world,
            })
            .collect(),
    )
}

async fn admin_plugins(_: Admin, State(state): State<AppState>) -> Json<Vec<PluginStatus>> {
    Json(state.runtime.list())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivateRequest {
    version: semver::Version,
    /// When given, the registry's version must have exactly this digest.
    #[serde(default)]
    digest: Option<hangar_registry::Digest>,
}

async fn activate(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    body: Result<Json<ActivateRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let name = plugin_name(&name)?;
    let Json(request) = body?;
    let activated = state
        .deployer
        .activate_pinned(&name, &request.version, request.digest)
        .await?;
    Ok(Json(activated).into_response())
}

async fn rollback(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let name = plugin_name(&name)?;
    let (back, nodes) = state.deployer.rollback(&name).await?;
    let mut answer =
        json!({"name": name, "version": back.version.to_string(), "digest": back.digest});
    if !nodes.is_empty() {
        answer["nodes"] = json!(nodes);
    }
    Ok(Json(answer).into_response())
}

/// In a cluster, what each live node runs of each deployed plugin, against
/// the saved deployment; alone, no nodes.
async fn cluster_plugins(_: Admin, State(state): State<AppState>) -> Result<Response, ApiError> {
    let plugins = state.deployer.cluster_view().await?;
    Ok(Json(json!({"plugins": plugins})).into_response())
}

async fn set_enabled(state: &AppState, name: &str, enabled: bool) -> Result<StatusCode, ApiError> {
    state
        .deployer
        .set_enabled(&plugin_name(name)?, enabled)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn enable(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    set_enabled(&state, &name, true).await
}

async fn disable(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    set_enabled(&state, &name, false).await
}

async fn get_config(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let name = plugin_name(&name)?;
    let plugin = state
        .runtime
        .get(&name)
        .ok_or_else(|| ApiError::from(DeployError::UnknownPlugin(name.clone())))?;
    let config = plugin.config();
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        config.to_string(),
    )
        .into_response())
}

async fn set_config(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let name = plugin_name(&name)?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::from(DeployError::BadConfig("not UTF-8".into())))?;
    state.deployer.set_config(&name, text).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn chains(_: Admin, State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "chat-messages": state.runtime.chat_chain().order(),
        "uploads": state.runtime.upload_chain().order(),
    }))
}

async fn set_chain(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(hook): ApiPath<String>,
    body: Result<Json<Vec<PluginName>>, JsonRejection>,
) -> Result<StatusCode, ApiError> {
    let hook = Hook::from_name(&hook).ok_or_else(|| {
        ApiError::not_found(format!("no chain {hook:?}; chains: chat-messages, uploads"))
    })?;
    let Json(order) = body?;
    state.deployer.set_chain(hook, &order).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Limit {
    limit: Option<u32>,
}

async fn files(
    _: Admin,
    State(state): State<AppState>,
    query: Result<Query<Limit>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let files = state
        .uploads
        .index()
        .recent_files(query.limit.unwrap_or(50).clamp(1, 500))
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(files).into_response())
}

/// Hours an admin console session lasts.
const CONSOLE_SESSION_HOURS: u64 = 12;

/// A hub session with the admin role for the holder of the admin token:
/// the console receives live alerts over the same WebSocket as any admin.
async fn session(_: Admin, State(state): State<AppState>) -> Result<Response, ApiError> {
    let user: crate::history::UserId = "admin-console"
        .parse()
        .map_err(|err: crate::history::InvalidId| ApiError::bad_request(err.to_string()))?;
    let expires = crate::auth::unix_now() + CONSOLE_SESSION_HOURS * 3600;
    let token = state
        .hub
        .tokens
        .mint(&user, crate::auth::Role::Admin, expires)
        .map_err(ApiError::internal)?;
    Ok(Json(json!({"token": token, "user": user, "expires": expires})).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlertQuery {
    before: Option<i64>,
    limit: Option<u32>,
    severity: Option<Severity>,
}

async fn alerts(
    _: Admin,
    State(state): State<AppState>,
    query: Result<Query<AlertQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(query) = query?;
    let limit = query.limit.unwrap_or(50).clamp(1, 500);
    let alerts = state
        .alerts
        .list(query.before, limit, query.severity)
        .await
        .map_err(ApiError::internal)?;
    let next = (alerts.len() == limit as usize)
        .then(|| alerts.last().map(|a| a.id))
        .flatten();
    Ok(Json(json!({"alerts": alerts, "next_before": next})).into_response())
}
