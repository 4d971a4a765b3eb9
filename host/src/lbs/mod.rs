//! Node discovery (LBS): which WebSocket URLs a client should use, best
//! first, with each node's load and how long the answer stays valid.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::server::AppState;

/// How long clients may cache the list.
pub const TTL_SECS: u64 = 30;

/// Routes of node discovery.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(nodes))
}

/// One node.
#[derive(Debug, Serialize)]
pub struct Node {
    /// WebSocket URL to connect to (append `?v=1&token=...`).
    pub url: String,
    /// Open connections on the node.
    pub connections: usize,
}

/// The answer of `GET /api/lbs`.
#[derive(Debug, Serialize)]
pub struct NodeList {
    /// Nodes, least loaded first.
    pub nodes: Vec<Node>,
    /// Seconds the list stays valid.
    pub ttl_secs: u64,
}

/// The WebSocket URL of a node reached at `base` (`http(s)://HOST[:PORT]`).
pub fn websocket_url(base: &str) -> String {
    let ws = base
        .trim_end_matches('/')
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    format!("{ws}/ws")
}

#[utoipa::path(
    get,
    path = "/api/lbs",
    tag = "chat",
    responses((status = 200, description = "`{\"nodes\": [{\"url\", \"connections\"}], \"ttl_secs\"}`: nodes to connect to, least loaded first", body = Object), crate::server::openapi::Refusals),
)]
async fn nodes(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<NodeList>, ApiError> {
    // In a cluster: the live nodes of the shared list.
    if let Some(list) = &state.nodes {
        let live = list.live().await.map_err(ApiError::internal)?;
        let mut nodes: Vec<Node> = live
            .into_iter()
            .map(|node| Node {
                url: node.url,
                connections: usize::try_from(node.connections).unwrap_or(usize::MAX),
            })
            .collect();
        if nodes.is_empty() {
            // Not listed yet (starting) or the list lags: this node serves.
            nodes.push(Node {
                url: state
                    .public_url
                    .as_deref()
                    .map_or_else(String::new, websocket_url),
                connections: state.hub.rooms.connection_count(),
            });
        }
        return Ok(Json(NodeList {
            nodes,
            ttl_secs: TTL_SECS,
        }));
    }
    let base = match &state.public_url {
        Some(url) => url.clone(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1");
            format!("http://{host}")
        }
    };
    Ok(Json(NodeList {
        nodes: vec![Node {
            url: websocket_url(&base),
            connections: state.hub.rooms.connection_count(),
        }],
        ttl_secs: TTL_SECS,
    }))
}
