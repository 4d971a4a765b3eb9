//! `/api/pages/{id}` (schemas, revisions: staff only) and `/p/{id}` (the
//! rendered page, for anyone).

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::render::escape;
use super::{Page, PageStore, SaveError, Saved, valid_page_id};
use crate::auth::Session;
use crate::auth::extract::Authenticated;
use crate::error::{ApiError, ApiPath};
use crate::server::AppState;
use crate::server::rate::Metered;
use crate::server::ready::Ready;

/// The policy of a published page: nothing runs, nothing loads from
/// elsewhere, nothing frames it; inline style attributes (values checked by
/// the sanitiser) and nothing else inline.
pub const PAGE_CSP: &str = "default-src 'none'; style-src 'self'; style-src-attr 'unsafe-inline'; \
     img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The policy of a published page with actions or forms: as [`PAGE_CSP`],
/// plus the page runtime (`/sdk/js/page-runtime.js`, from this server; no
/// inline script, no eval) and its requests to this server.
pub const PAGE_CSP_WITH_RUNTIME: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self'; connect-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The page routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(load, save))
        .routes(routes!(revisions))
        .routes(routes!(revision))
        .routes(routes!(published))
        .merge(super::forms_http::routes())
}

pub(super) fn page_id(id: &str) -> Result<&str, ApiError> {
    if valid_page_id(id) {
        Ok(id)
    } else {
        Err(ApiError::bad_request(format!(
            "invalid page id {id:?}: use 1-64 lowercase letters, digits and '-'"
        )))
    }
}

fn etag(revision: i64) -> String {
    format!("\"r{revision}\"")
}

/// A stored revision of a page, as answered.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct SavedPage<'a> {
    /// Page id.
    id: &'a str,
    /// Revision, from 1 (also the `ETag`).
    revision: i64,
    /// The page schema.
    #[schema(value_type = Page)]
    page: Value,
    /// Last saved, ms since the epoch.
    updated_ms: i64,
    /// Who saved it.
    updated_by: &'a str,
}

fn answer(saved: &Saved, status: StatusCode) -> Response {
    let page: Value = serde_json::from_str(&saved.schema).unwrap_or(Value::Null);
    let mut response = (
        status,
        Json(SavedPage {
            id: &saved.id,
            revision: saved.revision,
            page,
            updated_ms: saved.updated_ms,
            updated_by: &saved.updated_by,
        }),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&etag(saved.revision)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

pub(super) fn pages(state: &AppState) -> PageStore {
    PageStore::new(state.db.clone())
}

/// The current revision of page `id`, or 404.
pub(super) async fn current(state: &AppState, id: &str) -> Result<Saved, ApiError> {
    pages(state)
        .get(id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("no page {id}")))
}

fn staff(session: &Session, what: &str) -> Result<(), ApiError> {
    if session.role.is_staff() {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("only agents and admins {what}"),
        ))
    }
}

#[utoipa::path(
    get,
    path = "/api/pages/{id}",
    tag = "pages",
    params(("id" = String, Path, description = "page id")),
    security(("session" = [])),
    responses((status = 200, description = "the page schema, its revision in `ETag`", body = SavedPage), crate::server::openapi::Refusals),
)]
async fn load(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    staff(&session, "read page schemas")?;
    let id = page_id(&id)?;
    let saved = current(&state, id).await?;
    Ok(answer(&saved, StatusCode::OK))
}

#[utoipa::path(
    get,
    path = "/api/pages/{id}/revisions",
    tag = "pages",
    params(("id" = String, Path, description = "page id")),
    security(("session" = [])),
    responses((status = 200, description = "the page's revisions, newest first", body = Object), crate::server::openapi::Refusals),
)]
async fn revisions(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    staff(&session, "read page history")?;
    let id = page_id(&id)?;
    let list = pages(&state)
        .revisions(id)
        .await
        .map_err(ApiError::internal)?;
    if list.is_empty() {
        return Err(ApiError::not_found(format!("no page {id}")));
    }
    let list: Vec<Value> = list
        .into_iter()
        .map(|(revision, saved_ms, saved_by)| json!({"revision": revision, "saved_ms": saved_ms, "saved_by": saved_by}))
        .collect();
    Ok(Json(json!({"id": id, "revisions": list})).into_response())
}

#[utoipa::path(
    get,
    path = "/api/pages/{id}/revisions/{revision}",
    tag = "pages",
    params(("id" = String, Path, description = "page id"), ("revision" = i64, Path, description = "revision number")),
    security(("session" = [])),
    responses((status = 200, description = "that revision", body = SavedPage), crate::server::openapi::Refusals),
)]
async fn revision(
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath((id, revision)): ApiPath<(String, i64)>,
) -> Result<Response, ApiError> {
    staff(&session, "read page history")?;
    let id = page_id(&id)?;
    let saved = pages(&state)
        .revision(id, revision)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::not_found(format!("no revision {revision} of page {id}")))?;
    Ok(answer(&saved, StatusCode::OK))
}

#[utoipa::path(
    put,
    path = "/api/pages/{id}",
    tag = "pages",
    params(("id" = String, Path, description = "page id"), ("If-Match" = Option<String>, Header, description = "the revision the edit is based on; required to replace an existing page")),
    request_body = Page,
    security(("session" = [])),
    responses((status = 200, description = "a new revision of the page", body = SavedPage), (status = 201, description = "the page's first revision", body = SavedPage), crate::server::openapi::Refusals),
)]
async fn save(
    _: Ready,
    State(state): State<AppState>,
    Authenticated(session): Authenticated,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Result<Json<Page>, JsonRejection>,
) -> Result<Response, ApiError> {
    let id = page_id(&id)?;
    staff(&session, "edit pages")?;
    let Json(page) = body?;
    super::validate::validate(&state.materials, &page).await?;
    let expected = match headers.get(header::IF_MATCH).and_then(|v| v.to_str().ok()) {
        None => None,
        Some(tag) => Some(
            tag.trim()
                .trim_matches('"')
                .strip_prefix('r')
                .and_then(|n| n.parse::<i64>().ok())
                .ok_or_else(|| {
                    ApiError::new(
                        StatusCode::PRECONDITION_FAILED,
                        "stale-page",
                        format!("If-Match {tag:?} is not an ETag of this page"),
                    )
                })?,
        ),
    };
    let schema = serde_json::to_string(&page).map_err(ApiError::internal)?;
    let saved = pages(&state)
        .save(id, expected, &schema, session.user.as_str())
        .await
        .map_err(|err| match err {
            SaveError::Conflict { .. } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "stale-page",
                err.to_string(),
            ),
            SaveError::PreconditionRequired(_) => ApiError::new(
                StatusCode::PRECONDITION_REQUIRED,
                "if-match-required",
                err.to_string(),
            ),
            SaveError::Db(err) => ApiError::internal(err),
        })?;
    let status = if saved.revision == 1 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(answer(&saved, status))
}

#[utoipa::path(
    get,
    path = "/p/{id}",
    tag = "pages",
    params(("id" = String, Path, description = "page id")),
    responses((status = 200, description = "the page, rendered on the server", content_type = "text/html", body = String), crate::server::openapi::Refusals),
)]
async fn published(
    _: Ready,
    _: Metered,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let id = page_id(&id)?;
    let saved = current(&state, id).await?;
    let page: Page = serde_json::from_str(&saved.schema).map_err(ApiError::internal)?;
    let body = state
        .page_cache
        .body(&state.materials, id, saved.revision, &page.nodes)
        .await;
    let title = escape(if page.title.is_empty() {
        id
    } else {
        &page.title
    });
    // Actions and forms need the runtime (the render marked their nodes);
    // a page without them runs nothing.
    let runtime = body.marked;
    let script = if runtime {
        let events: serde_json::Map<String, Value> = page
            .walk()
            .into_iter()
            .filter(|(_, node, _)| !node.events.is_empty())
            .filter_map(|(_, node, _)| Some((node.id.clone()?, json!(node.events))))
            .collect();
        // A data block, never run; `<` escaped so no value can end it.
        let actions = json!({"page": id, "revision": saved.revision, "events": events})
            .to_string()
            .replace('<', "\\u003c");
        format!(
            "<script type=\"application/json\" id=\"hangar-page-actions\">{actions}</script>\n\
             <script type=\"module\" src=\"/sdk/js/page-runtime.js\"></script>\n"
        )
    } else {
        String::new()
    };
    let document = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<link rel=\"stylesheet\" href=\"/materials.css\">\n</head>\n\
         <body>\n<main class=\"hm-page\" data-page=\"{id}\" data-revision=\"{}\">{}</main>\n{script}</body>\n</html>\n",
        saved.revision, body.html
    );
    let mut response = Html(document).into_response();
    // Sanitised already; the policy is a second wall: no script runs here.
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(if runtime {
            PAGE_CSP_WITH_RUNTIME
        } else {
            PAGE_CSP
        }),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    Ok(response)
}
