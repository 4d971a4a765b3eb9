//! The static pages the host serves, compiled into the binary: the admin
//! console (`/admin`), the page designer (`/designer`), the chat page
//! (`/chat`), and the browser SDK they use (`/sdk/js/hangar-client.js`, the
//! bundled ES module of `sdk/js`, its hashing worker, and
//! `/sdk/js/hangar-materials.js`, the material loader, for any page).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa_axum::router::OpenApiRouter;

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
        "/designer/model.js",
        JS,
        include_str!("../web/designer/model.js"),
    ),
    (
        "/designer/canvas.js",
        JS,
        include_str!("../web/designer/canvas.js"),
    ),
    (
        "/designer/panels.js",
        JS,
        include_str!("../web/designer/panels.js"),
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
        "/sdk/js/hangar-materials.js",
        JS,
        include_str!("../../sdk/js/dist/hangar-materials.js"),
    ),
    (
        "/sdk/js/material-worker.js",
        JS,
        include_str!("../../sdk/js/dist/material-worker.js"),
    ),
    (
        "/sdk/js/page-runtime.js",
        JS,
        include_str!("../../sdk/js/dist/page-runtime.js"),
    ),
    (
        "/sdk/js/hash-worker.js",
        JS,
        include_str!("../../sdk/js/dist/hash-worker.js"),
    ),
];

/// The routes of every static asset, each described in the OpenAPI
/// document as a `GET` answering its content type.
pub fn routes() -> OpenApiRouter<AppState> {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder};
    use utoipa::openapi::{ContentBuilder, ObjectBuilder, ResponseBuilder, ResponsesBuilder};
    ASSETS.iter().fold(
        OpenApiRouter::new(),
        |router, &(path, content_type, body)| {
            let media = content_type.split(';').next().unwrap_or(content_type);
            let answer = ResponseBuilder::new()
                .description("the asset, revalidated on each load")
                .content(
                    media,
                    ContentBuilder::new()
                        .schema(Some(
                            ObjectBuilder::new().schema_type(utoipa::openapi::schema::Type::String),
                        ))
                        .build(),
                )
                .build();
            let operation = OperationBuilder::new()
                .tag("web")
                .responses(ResponsesBuilder::new().response("200", answer).build())
                .build();
            let mut router = router.route(
                path,
                get(move |State(state): State<AppState>| {
                    asset(
                        content_type,
                        body,
                        page_csp(&state.hub.config.allowed_origins),
                    )
                }),
            );
            router.get_openapi_mut().paths.add_path_operation(
                path,
                vec![HttpMethod::Get],
                operation,
            );
            router
        },
    )
}

/// The policy of the served pages: scripts, styles and workers from this
/// server only, no inline script (WebAssembly may be compiled: the
/// designer renders materials in the page); style attributes allowed (the designer
/// previews material HTML, whose style values the sanitiser checks); never
/// framed. Pages connect to this server and to the allowed origins (the
/// other nodes of a cluster, where a page's socket fails over to), over
/// HTTP and WebSocket; `*` allows sockets from any page, not connections
/// to anywhere.
pub fn page_csp(allowed_origins: &[String]) -> String {
    let mut connect = String::from("'self'");
    for origin in allowed_origins.iter().filter(|o| *o != "*") {
        let socket = origin
            .strip_prefix("https://")
            .map(|rest| format!("wss://{rest}"))
            .or_else(|| {
                origin
                    .strip_prefix("http://")
                    .map(|rest| format!("ws://{rest}"))
            });
        for source in std::iter::once(origin.clone()).chain(socket) {
            // A configured value goes into a header: nothing that could end
            // the directive or the header.
            if source
                .bytes()
                .all(|b| b.is_ascii_graphic() && b != b';' && b != b',')
            {
                connect.push(' ');
                connect.push_str(&source);
            }
        }
    }
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
         style-src-attr 'unsafe-inline'; img-src 'self' blob:; connect-src {connect}; \
         worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    )
}

/// One asset: never sniffed, revalidated on each load, never framed.
async fn asset(content_type: &'static str, body: &'static str, csp: String) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
            (header::CACHE_CONTROL, "no-cache".to_owned()),
            (header::CONTENT_SECURITY_POLICY, csp),
            (header::X_FRAME_OPTIONS, "DENY".to_owned()),
            (header::REFERRER_POLICY, "same-origin".to_owned()),
        ],
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::{ASSETS, page_csp};

    #[test]
    fn pages_connect_to_this_server_and_the_allowed_origins_only() {
        let connect = |allowed: &[&str]| {
            let allowed: Vec<String> = allowed.iter().map(|s| (*s).to_owned()).collect();
            let csp = page_csp(&allowed);
            csp.split(';')
                .map(str::trim)
                .find(|d| d.starts_with("connect-src"))
                .unwrap()
                .to_owned()
        };
        assert_eq!(connect(&[]), "connect-src 'self'");
        assert_eq!(connect(&["*"]), "connect-src 'self'");
        assert_eq!(
            connect(&["http://127.0.0.1:8082", "https://chat.example"]),
            "connect-src 'self' http://127.0.0.1:8082 ws://127.0.0.1:8082 https://chat.example wss://chat.example"
        );
        // Nothing that would end the directive gets in.
        assert_eq!(connect(&["http://a; script-src *"]), "connect-src 'self'");
    }

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
