//! Node discovery (LBS): which WebSocket URLs a client should use, best
//! first, with each node's load and how long the answer stays valid.

use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::server::AppState;

/// How long clients may cache the list.
pub const TTL_SECS: u64 = 30;

/// Routes of node discovery.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/lbs", get(nodes))
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

async fn nodes(State(state): State<AppState>, headers: HeaderMap) -> Json<NodeList> {
    let base = match &state.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("127.0.0.1");
            format!("http://{host}")
        }
    };
    let ws = base
        .replacen("https://", "wss://", 1)
        .replacen("http://", "ws://", 1);
    // A single node lists itself; scale-out adds the live peers here.
    let mut nodes = vec![Node {
        url: format!("{ws}/ws"),
        connections: state.hub.rooms.connection_count(),
    }];
    nodes.sort_by_key(|n| n.connections);
    Json(NodeList {
        nodes,
        ttl_secs: TTL_SECS,
    })
}
