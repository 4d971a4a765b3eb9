//! The administration API. So far: the list of installed plugins.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::plugins::World;
use crate::server::AppState;

/// Routes under `/api/plugins`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/plugins", get(list_plugins))
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
