//! What operators probe and scrape: `/healthz` (the plugins' view),
//! `/livez`, `/readyz` and `/metrics` (docs/metrics.md).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AppState, ready};
use crate::error::ApiError;

/// The probes, and `/metrics` unless it has a listener of its own.
pub(super) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(livez))
        .routes(routes!(readyz))
        .routes(routes!(metrics_here))
}

/// With `--metrics-listen`, `/metrics` alone on that address (an internal
/// interface), served until the handle is dropped.
pub(super) async fn serve_metrics(
    addr: Option<std::net::SocketAddr>,
    state: AppState,
) -> Result<Option<tokio_util::task::AbortOnDropHandle<()>>, super::ServeError> {
    let Some(addr) = addr else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| super::ServeError::Bind { addr, source })?;
    let bound = listener.local_addr()?;
    println!("metrics on http://{bound}/metrics");
    let router = Router::new()
        .route("/metrics", get(metrics_text))
        .with_state(state);
    Ok(Some(tokio_util::task::AbortOnDropHandle::new(
        tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, router).await {
                tracing::error!(error = %err, "the metrics listener failed");
            }
        }),
    )))
}

/// `starting` (503) until the deployed plugins are restored; then `ok`,
/// or `degraded` when a chain names a plugin that could not be loaded (its
/// failure policy answers for it meanwhile).
#[utoipa::path(get, path = "/healthz", tag = "health", responses(
    (status = 200, description = "`{\"status\": \"ok\"|\"degraded\", \"plugins\": N, \"unavailable\": [...]}`", body = Object),
    (status = 503, description = "`{\"status\": \"starting\", \"plugins\": N}` while the plugins are restored", body = Object),
))]
async fn healthz(State(state): State<AppState>) -> Response {
    let plugins = state.runtime.count();
    if !state.ready.is_ready() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", ready::RETRY_AFTER_SECS.to_string())],
            Json(json!({"status": "starting", "plugins": plugins})),
        )
            .into_response();
    }
    let unavailable = state.runtime.unavailable();
    if unavailable.is_empty() {
        Json(json!({"status": "ok", "plugins": plugins})).into_response()
    } else {
        Json(json!({"status": "degraded", "plugins": plugins, "unavailable": unavailable}))
            .into_response()
    }
}

/// The process serves HTTP: nothing else is checked (a restart is the
/// answer to a failed liveness probe, and a slow database is no reason).
#[utoipa::path(get, path = "/livez", tag = "health", responses(
    (status = 200, description = "`{\"status\": \"live\"}`", body = Object),
))]
async fn livez() -> Json<serde_json::Value> {
    Json(json!({"status": "live"}))
}

/// How long each readiness check may take.
const READY_PROBE: std::time::Duration = std::time::Duration::from_secs(2);

/// Whether `check` answers within [`READY_PROBE`]; why not otherwise.
async fn probe<T, E: std::fmt::Display>(
    check: impl std::future::Future<Output = Result<T, E>>,
) -> Result<(), String> {
    match tokio::time::timeout(READY_PROBE, check).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(err)) => Err(err.to_string()),
        Err(_) => Err(format!("no answer within {READY_PROBE:?}")),
    }
}

/// `ready` (200) when this node can serve everything: the database and
/// the object store answer, the broker is connected (in a cluster), and
/// every deployed plugin is loaded; else `not-ready` (503). `checks` says
/// each one's state.
#[utoipa::path(get, path = "/readyz", tag = "health", responses(
    (status = 200, description = "`{\"status\": \"ready\", \"checks\": {...}}`", body = Object),
    (status = 503, description = "`{\"status\": \"not-ready\", \"checks\": {...}}`, each failed check with its reason", body = Object),
))]
async fn readyz(State(state): State<AppState>) -> Response {
    let database = probe(sqlx::query("SELECT 1").execute(state.db.pool())).await;
    let object_store = probe(
        state
            .uploads
            .blobs()
            .exists(&object_store::path::Path::from("readyz-probe")),
    )
    .await;
    let plugins = if !state.ready.is_ready() {
        Err("restoring the deployed plugins".to_owned())
    } else {
        let unavailable = state.runtime.unavailable();
        if unavailable.is_empty() {
            Ok(())
        } else {
            let names: Vec<String> = unavailable.iter().map(ToString::to_string).collect();
            Err(format!("not loaded: {}", names.join(", ")))
        }
    };
    let mut checks = serde_json::Map::new();
    let mut ready = true;
    let mut note = |name: &str, result: Result<(), String>| {
        ready &= result.is_ok();
        checks.insert(
            name.to_owned(),
            json!(result.err().unwrap_or_else(|| "ok".into())),
        );
    };
    note("database", database);
    note("object_store", object_store);
    if let Some(connected) = state.hub.relay.broker_connected() {
        note(
            "broker",
            if connected {
                Ok(())
            } else {
                Err("disconnected; reconnecting".to_owned())
            },
        );
    }
    note("plugins", plugins);
    let (status, word) = if ready {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not-ready")
    };
    (status, Json(json!({"status": word, "checks": checks}))).into_response()
}

/// `/metrics` on the main listener, unless it has its own.
#[utoipa::path(get, path = "/metrics", tag = "health", responses(
    (status = 200, description = "Prometheus text format (docs/metrics.md)", content_type = "text/plain", body = String),
    (status = 404, description = "served on the metrics listener instead (`metrics_listen`)", body = crate::error::ErrorBody),
))]
async fn metrics_here(State(state): State<AppState>) -> Response {
    if state.metrics_here {
        metrics_text(State(state)).await
    } else {
        ApiError::not_found("/metrics is served on the metrics listener (--metrics-listen)")
            .into_response()
    }
}

/// The process's metrics in the Prometheus text format. The hub's gauges
/// are read from the hub's own counts at each scrape, not kept twice.
async fn metrics_text(State(state): State<AppState>) -> Response {
    let metrics = crate::metrics::metrics();
    let gauge = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
    metrics
        .hub_connections
        .set(gauge(state.hub.rooms.connection_count()));
    metrics
        .hub_rooms
        .set(gauge(state.hub.relay.watched_count()));
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::metrics().render(),
    )
        .into_response()
}
