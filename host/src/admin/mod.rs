//! The administration API (`/api/admin/...`, admin bearer token; see
//! `docs/admin.md`), and the public plugin list (`GET /api/plugins`).

pub mod auth;
pub mod jobs;
mod materials;

use std::str::FromStr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use auth::Admin;

use crate::deploy::DeployError;
use crate::error::{ApiError, ApiPath};
use crate::plugins::{Hook, PluginName, PluginStatus, World};
use crate::server::AppState;
use crate::store::alerts::Severity;

/// Routes of the admin API and the public plugin list.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_plugins))
        .routes(routes!(admin_plugins))
        .routes(routes!(activate))
        .routes(routes!(jobs::job))
        .routes(routes!(rollback))
        .routes(routes!(cluster_plugins))
        .routes(routes!(enable))
        .routes(routes!(disable))
        .routes(routes!(set_config, get_config))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(chains))
        .routes(routes!(set_chain))
        .routes(routes!(alerts))
        .routes(routes!(files))
        .routes(routes!(session))
        .routes(routes!(runtime_counts))
        .routes(routes!(import_history))
        .merge(materials::routes())
}

/// Most messages one import request carries.
const MAX_IMPORT: usize = 10_000;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
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
#[utoipa::path(
    post,
    path = "/api/admin/rooms/{room}/import",
    tag = "admin",
    params(("room" = String, Path, description = "conversation id")),
    request_body = Vec<Imported>,
    security(("admin" = [])),
    responses((status = 200, description = "`{\"stored\": N}`", body = Object), crate::server::openapi::Refusals),
)]
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
#[utoipa::path(
    get,
    path = "/api/admin/runtime",
    tag = "admin",
    security(("admin" = [])),
    responses((status = 200, description = "registry downloads and compiled-component cache counts", body = Object), crate::server::openapi::Refusals),
)]
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
            DeployError::BadSettings { .. } => (StatusCode::BAD_REQUEST, "bad-settings"),
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
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PluginRow {
    /// Plugin name.
    pub name: String,
    /// Active version.
    pub version: String,
    /// Exported world.
    #[schema(value_type = String)]
    pub world: World,
}

#[utoipa::path(
    get,
    path = "/api/plugins",
    tag = "plugins",
    responses((status = 200, description = "the active plugins", body = Vec<PluginRow>), crate::server::openapi::Refusals),
)]
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

#[utoipa::path(
    get,
    path = "/api/admin/plugins",
    tag = "admin",
    security(("admin" = [])),
    responses((status = 200, description = "every installed plugin version with its state and call figures", body = Vec<serde_json::Value>), crate::server::openapi::Refusals),
)]
async fn admin_plugins(_: Admin, State(state): State<AppState>) -> Json<Vec<PluginStatus>> {
    Json(state.runtime.list())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ActivateRequest {
    #[schema(value_type = String, example = "1.2.0")]
    version: semver::Version,
    /// When given, the registry's version must have exactly this digest.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    digest: Option<hangar_registry::Digest>,
    /// How long to wait for the activation, ms (0 to 60000, default 10000);
    /// past it the answer is `202` with a job to follow.
    #[serde(default)]
    #[schema(maximum = 60000)]
    wait_ms: Option<u64>,
}

/// How long an activation request waits for its job by default, ms.
const ACTIVATE_WAIT_MS: u64 = 10_000;
/// The longest an activation request may ask to wait, ms.
const MAX_WAIT_MS: u64 = 60_000;

#[utoipa::path(
    post,
    path = "/api/admin/plugins/{name}/activate",
    tag = "admin",
    params(("name" = String, Path, description = "plugin name", pattern = "^[a-z][a-z0-9-]{0,63}$")),
    request_body = ActivateRequest,
    security(("admin" = [])),
    responses(
        (status = 200, description = "the version activated, on every node", body = Object),
        (status = 202, description = "still fetching or compiling after `wait_ms`: the job to follow (`Location`)", body = jobs::JobView),
        crate::server::openapi::Refusals,
    ),
)]
async fn activate(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    body: Result<Json<ActivateRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let name = plugin_name(&name)?;
    let Json(request) = body?;
    let wait_ms = request.wait_ms.unwrap_or(ACTIVATE_WAIT_MS);
    if wait_ms > MAX_WAIT_MS {
        return Err(ApiError::bad_request(format!(
            "wait_ms must be 0 to {MAX_WAIT_MS}, not {wait_ms}"
        )));
    }
    let deployer = state.deployer.clone();
    let version = request.version;
    let job = state.jobs.start(
        "activate",
        name.to_string(),
        version.to_string(),
        async move {
            let activated = deployer
                .activate_pinned(&name, &version, request.digest)
                .await?;
            Ok(json!(activated))
        },
    );
    jobs::answer(&job, std::time::Duration::from_millis(wait_ms)).await
}

#[utoipa::path(
    post,
    path = "/api/admin/plugins/{name}/rollback",
    tag = "admin",
    params(("name" = String, Path, description = "plugin name", pattern = "^[a-z][a-z0-9-]{0,63}$")),
    security(("admin" = [])),
    responses((status = 200, description = "the previous version, active again", body = Object), crate::server::openapi::Refusals),
)]
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
#[utoipa::path(
    get,
    path = "/api/admin/cluster/plugins",
    tag = "admin",
    security(("admin" = [])),
    responses((status = 200, description = "`{\"plugins\": [...]}`: each plugin's version on each node", body = Object), crate::server::openapi::Refusals),
)]
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

#[utoipa::path(
    post,
    path = "/api/admin/plugins/{name}/enable",
    tag = "admin",
    params(("name" = String, Path, description = "plugin name", pattern = "^[a-z][a-z0-9-]{0,63}$")),
    security(("admin" = [])),
    responses((status = 204, description = "enabled"), crate::server::openapi::Refusals),
)]
async fn enable(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    set_enabled(&state, &name, true).await
}

#[utoipa::path(
    post,
    path = "/api/admin/plugins/{name}/disable",
    tag = "admin",
    params(("name" = String, Path, description = "plugin name", pattern = "^[a-z][a-z0-9-]{0,63}$")),
    security(("admin" = [])),
    responses((status = 204, description = "disabled: chains skip it"), crate::server::openapi::Refusals),
)]
async fn disable(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    set_enabled(&state, &name, false).await
}

#[utoipa::path(
    get,
    path = "/api/admin/plugins/{name}/config",
    tag = "admin",
    params(("name" = String, Path, description = "plugin name", pattern = "^[a-z][a-z0-9-]{0,63}$")),
    security(("admin" = [])),
    responses((status = 200, description = "the plugin's configuration: any JSON value (`{}` when unset)", body = serde_json::Value), crate::server::openapi::Refusals),
)]
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

#[utoipa::path(
    put,
    path = "/api/admin/plugins/{name}/config",
    tag = "admin",
    params(("name" = String, Path, description = "plugin name", pattern = "^[a-z][a-z0-9-]{0,63}$")),
    request_body = serde_json::Value,
    security(("admin" = [])),
    responses((status = 204, description = "stored; the plugin reads it from its next instance"), crate::server::openapi::Refusals),
)]
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

#[utoipa::path(
    get,
    path = "/api/admin/plugins/{name}/settings",
    tag = "admin",
    params(("name" = String, Path, description = "plugin name", pattern = "^[a-z][a-z0-9-]{0,63}$")),
    security(("admin" = [])),
    responses((status = 200, description = "`{\"overrides\": {...}, \"settings\": {...}}`: what differs from the server's defaults, and the settings the plugin runs with", body = Object), crate::server::openapi::Refusals),
)]
async fn get_settings(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
) -> Result<Response, ApiError> {
    let (overrides, settings) = state.deployer.settings(&plugin_name(&name)?)?;
    Ok(Json(json!({"overrides": overrides, "settings": settings})).into_response())
}

#[utoipa::path(
    put,
    path = "/api/admin/plugins/{name}/settings",
    tag = "admin",
    params(("name" = String, Path, description = "plugin name", pattern = "^[a-z][a-z0-9-]{0,63}$")),
    request_body = crate::deploy::Overrides,
    security(("admin" = [])),
    responses((status = 200, description = "the settings the plugin now runs with, on every node", body = Object), crate::server::openapi::Refusals),
)]
async fn put_settings(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(name): ApiPath<String>,
    body: Result<Json<crate::deploy::Overrides>, JsonRejection>,
) -> Result<Response, ApiError> {
    let name = plugin_name(&name)?;
    let Json(overrides) = body?;
    let settings = state.deployer.set_settings(&name, &overrides).await?;
    Ok(Json(json!({"settings": settings})).into_response())
}

#[utoipa::path(
    get,
    path = "/api/admin/chains",
    tag = "admin",
    security(("admin" = [])),
    responses((status = 200, description = "`{\"chat-messages\": [...], \"uploads\": [...]}`", body = Object), crate::server::openapi::Refusals),
)]
async fn chains(_: Admin, State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "chat-messages": state.runtime.chat_chain().order(),
        "uploads": state.runtime.upload_chain().order(),
    }))
}

#[utoipa::path(
    put,
    path = "/api/admin/chains/{hook}",
    tag = "admin",
    params(("hook" = String, Path, description = "`chat-messages` or `uploads`", pattern = "^(chat-messages|uploads)$")),
    request_body = Vec<String>,
    security(("admin" = [])),
    responses((status = 204, description = "the chain's new order"), crate::server::openapi::Refusals),
)]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct Limit {
    limit: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/api/admin/files",
    tag = "admin",
    params(Limit),
    security(("admin" = [])),
    responses((status = 200, description = "the newest files", body = Vec<serde_json::Value>), crate::server::openapi::Refusals),
)]
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
#[utoipa::path(
    post,
    path = "/api/admin/session",
    tag = "admin",
    security(("admin" = [])),
    responses((status = 200, description = "`{\"token\", \"user\", \"expires\"}`: a chat session with the admin role", body = Object), crate::server::openapi::Refusals),
)]
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct AlertQuery {
    before: Option<i64>,
    limit: Option<u32>,
    #[param(value_type = Option<String>)]
    severity: Option<Severity>,
}

#[utoipa::path(
    get,
    path = "/api/admin/alerts",
    tag = "admin",
    params(AlertQuery),
    security(("admin" = [])),
    responses((status = 200, description = "`{\"alerts\": [...], \"next_before\": N}`, newest first", body = Object), crate::server::openapi::Refusals),
)]
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
