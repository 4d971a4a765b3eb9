//! The HTTP API's OpenAPI document, built from the handlers' own
//! annotations (`#[utoipa::path]`): every module registers its routes
//! through [`OpenApiRouter`], so a route is served only if it is described.
//! Served at `GET /api/openapi.json`.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use crate::error::ErrorBody;

/// The security schemes the operations name.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(description))
                    .build(),
            )
        };
        components.add_security_scheme(
            "session",
            bearer(
                "a session token (`POST /api/session` in demo mode, or minted with `hangar token`)",
            ),
        );
        components.add_security_scheme("admin", bearer("the admin token (`admin_token`)"));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hangar",
        description = "Plugin host, chat hub and upload store. Every error answer has the \
                       `Error` body; its `code` is one of the listed values.",
    ),
    components(schemas(ErrorBody)),
    modifiers(&Security),
)]
struct Base;

/// The document, once the router is assembled.
static DOCUMENT: OnceLock<String> = OnceLock::new();

/// This document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    responses((status = 200, description = "the OpenAPI 3.1 document", content_type = "application/json", body = Object)),
)]
async fn document() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.get().cloned().unwrap_or_default(),
    )
        .into_response()
}

/// An empty router carrying the base document (info, error schema,
/// security schemes) and the document's own route.
pub(super) fn base() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(Base::openapi()).routes(routes!(document))
}

/// Keeps `doc` for `GET /api/openapi.json`; the first router built wins
/// (every router of this binary describes the same routes).
pub(super) fn publish(doc: &utoipa::openapi::OpenApi) -> &'static str {
    DOCUMENT.get_or_init(|| doc.to_json().unwrap_or_default())
}

/// The refusals every operation may answer: a `4XX` or `5XX` status with
/// the [`ErrorBody`] (its `code` says which).
#[derive(Debug)]
pub struct Refusals;

impl utoipa::IntoResponses for Refusals {
    fn responses() -> std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
    > {
        hangar_registry::http::error_responses(
            "Error",
            &[
                (
                    "4XX",
                    "refused: the `code` says why (bad input, no such thing, not allowed, rate-limited, starting)",
                ),
                (
                    "5XX",
                    "the server failed (`internal`, with the request's id) or is overloaded or not ready",
                ),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    /// Routes are registered only through `routes!` (which documents
    /// them): a plain `.route(` in the host's sources is a route the
    /// document would miss. The static assets describe themselves
    /// (web.rs), and the metrics listener is not the API.
    #[test]
    fn no_route_is_registered_without_its_description() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let allowed = ["web.rs", "health.rs", "openapi.rs"];
        let mut found = Vec::new();
        visit(&root, &mut |path, text| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            // Test modules build routers of their own.
            let text = text.split("#[cfg(test)]").next().unwrap_or("");
            for (i, line) in text.lines().enumerate() {
                let plain = line.contains(".route(")
                    || (line.contains("Router::new()") && !line.contains("OpenApiRouter::new()"));
                if plain && !allowed.contains(&name) && !line.trim_start().starts_with("//") {
                    found.push(format!("{}:{}: {line}", path.display(), i + 1));
                }
            }
        });
        assert!(
            found.is_empty(),
            "undocumented routes:\n{}",
            found.join("\n")
        );
    }

    /// Every error code written in the sources is in the document's list.
    #[test]
    fn every_error_code_in_the_sources_is_listed() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut missing = Vec::new();
        visit(&root, &mut |path, text| {
            // The probes' own statuses are not error codes; this file
            // spells the patterns it looks for.
            if path.ends_with("server/health.rs") || path.ends_with("server/openapi.rs") {
                return;
            }
            let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
            // `let code = match … { X => "code", … }` picks a code apart from its status.
            for block in flat.split("let code = match").skip(1) {
                let arms = block.split('}').next().unwrap_or("");
                for arm in arms.split("=> \"").skip(1) {
                    let code = arm.split('"').next().unwrap_or("");
                    if !crate::error::ERROR_CODES.contains(&code) {
                        missing.push(format!("{}: {code}", path.display()));
                    }
                }
            }
            for piece in flat.split("StatusCode::").skip(1) {
                let Some((_, rest)) = piece.split_once(", \"") else {
                    continue;
                };
                let head = piece.split(", \"").next().unwrap_or("");
                if !head.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
                    continue;
                }
                let code = rest.split('"').next().unwrap_or("");
                if code.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                    && !crate::error::ERROR_CODES.contains(&code)
                {
                    missing.push(format!("{}: {code}", path.display()));
                }
            }
        });
        assert!(
            missing.is_empty(),
            "codes not in ERROR_CODES:\n{}",
            missing.join("\n")
        );
    }

    fn visit(dir: &std::path::Path, f: &mut dyn FnMut(&std::path::Path, &str)) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                visit(&path, f);
            } else if path.extension().is_some_and(|e| e == "rs") {
                f(&path, &std::fs::read_to_string(&path).unwrap());
            }
        }
    }
}
