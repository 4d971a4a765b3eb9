//! The static pages the host serves, compiled into the binary: the admin
//! console (`/admin`), the page designer (`/designer`), the chat page
//! (`/chat`), and the browser SDK they use (`/sdk/js/hangar-client.js`, the
//! bundled ES module of `sdk/js`, and its hashing worker, for any page).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::server::AppState;

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Every asset: path, content type, body.
const ASSETS: &[(&str, &str, &str)] = &[
    ("/admin", HTML, include_str!("../web/admin/index.html")),
    (
        "/admin/console.js",
        JS,
        include_str!("../web/admin/console.js"),
    ),
    (
        "/admin/console.css",
        CSS,
        include_str!("../web/admin/console.css"),
    ),
    (
        "/designer",
        HTML,
        include_str!("../web/designer/index.html"),
    ),
    (
        "/designer/designer.js",
        JS,
        include_str!("../web/designer/designer.js"),
    ),
    (
        "/designer/designer.css",
        CSS,
        include_str!("../web/designer/designer.css"),
    ),
    ("/chat", HTML, include_str!("../web/chat/index.html")),
    ("/chat/chat.js", JS, include_str!("../web/chat/chat.js")),
    (
        "/chat/attachments.js",
        JS,
        include_str!("../web/chat/attachments.js"),
    ),
    ("/chat/chat.css", CSS, include_str!("../web/chat/chat.css")),
    ("/materials.css", CSS, include_str!("../web/materials.css")),
    (
        "/sdk/js/hangar-client.js",
        JS,
        include_str!("../../sdk/js/dist/hangar-client.js"),
    ),
    (
        "/sdk/js/hash-worker.js",
        JS,
        include_str!("../../sdk/js/dist/hash-worker.js"),
    ),
];

/// The routes of every static asset.
pub fn routes() -> Router<AppState> {
    ASSETS
        .iter()
        .fold(Router::new(), |router, &(path, content_type, body)| {
            router.route(path, get(move || asset(content_type, body)))
        })
}

/// The policy of the served pages: scripts, styles and workers from this
/// server only, no inline script; style attributes allowed (the designer
/// previews material HTML, whose style values the sanitiser checks); never
/// framed.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     style-src-attr 'unsafe-inline'; img-src 'self' blob:; connect-src 'self'; \
     worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";

/// One asset: never sniffed, revalidated on each load, never framed.
async fn asset(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::CONTENT_SECURITY_POLICY, PAGE_CSP),
            (header::X_FRAME_OPTIONS, "DENY"),
            (header::REFERRER_POLICY, "same-origin"),
        ],
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::ASSETS;

    #[test]
    fn every_bundle_of_the_browser_sdk_is_served() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk/js/dist");
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let path = format!("/sdk/js/{name}");
            assert!(
                ASSETS.iter().any(|(served, _, _)| *served == path),
                "{path} is not served"
            );
        }
    }
}
