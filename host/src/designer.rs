//! The page designer at `/designer`: a static page (HTML, CSS, plain
//! JavaScript in `host/web/designer`) compiled into the binary, over the
//! materials and pages APIs.

use axum::Router;
use axum::routing::get;

use crate::console::page;
use crate::server::AppState;

const INDEX: &str = include_str!("../web/designer/index.html");
const SCRIPT: &str = include_str!("../web/designer/designer.js");
const STYLE: &str = include_str!("../web/designer/designer.css");

/// The designer's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/designer", get(|| page("text/html; charset=utf-8", INDEX)))
        .route(
            "/designer/designer.js",
            get(|| page("text/javascript; charset=utf-8", SCRIPT)),
        )
        .route(
            "/designer/designer.css",
            get(|| page("text/css; charset=utf-8", STYLE)),
        )
}
