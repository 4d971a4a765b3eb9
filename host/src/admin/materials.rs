//! Admin view of the loaded materials: their health, and lifting a
//! quarantine that failing renders (which anyone can cause) put on one.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Admin;
use crate::error::{ApiError, ApiPath};
use crate::materials::parse_reference;
use crate::plugins::PluginStatus;
use crate::server::AppState;

/// Routes of the material administration.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(enable))
}

/// Every loaded material version with its state and call figures.
#[utoipa::path(
    get,
    path = "/api/admin/materials",
    tag = "admin",
    security(("admin" = [])),
    responses((status = 200, description = "every loaded material version with its state and call figures", body = Vec<serde_json::Value>), crate::server::openapi::Refusals),
)]
async fn list(_: Admin, State(state): State<AppState>) -> Json<Vec<PluginStatus>> {
    Json(
        state
            .materials
            .loaded()
            .iter()
            .map(|loaded| loaded.plugin().status())
            .collect(),
    )
}

/// Lifts the quarantine of `name@version` (and clears its failure count).
#[utoipa::path(
    post,
    path = "/api/admin/materials/{reference}/enable",
    tag = "admin",
    params(("reference" = String, Path, description = "`NAME@VERSION`")),
    security(("admin" = [])),
    responses((status = 204, description = "the quarantine is lifted"), crate::server::openapi::Refusals),
)]
async fn enable(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(reference): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let (name, version) = parse_reference(&reference)?;
    let version =
        version.ok_or_else(|| ApiError::bad_request(format!("name the version: {name}@X.Y.Z")))?;
    let loaded = state
        .materials
        .loaded()
        .into_iter()
        .find(|l| l.info.name == name.as_str() && l.info.version == version.to_string())
        .ok_or_else(|| ApiError::not_found(format!("material {name}@{version} is not loaded")))?;
    loaded.plugin().reset_health();
    tracing::info!(material = %reference, "material re-enabled by an admin");
    Ok(StatusCode::NO_CONTENT)
}
