//! The admin console at `/admin`: a static page (HTML, CSS, plain
//! JavaScript in `host/web/admin`) compiled into the binary, talking to the
//! admin API and the hub like any other client.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::server::AppState;

const INDEX: &str = include_str!("../web/admin/index.html");
const SCRIPT: &str = include_str!("../web/admin/console.js");
const STYLE: &str = include_str!("../web/admin/console.css");

/// The page's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(|| page("text/html; charset=utf-8", INDEX)))
        .route(
            "/admin/console.js",
            get(|| page("text/javascript; charset=utf-8", SCRIPT)),
        )
        .route(
            "/admin/console.css",
            get(|| page("text/css; charset=utf-8", STYLE)),
        )
}

/// A static asset of a page, never sniffed, revalidated on each load.
pub(crate) async fn page(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
}
