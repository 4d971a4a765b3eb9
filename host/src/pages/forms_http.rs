//! Form submissions: `POST /api/pages/{id}/forms/{node}/submissions`
//! (anyone, rate-limited per client address), and for admins
//! `GET /api/admin/pages/{id}/submissions` and its CSV export.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Page;
use super::forms::{self, Submissions};
use super::http::{current, page_id};
use crate::admin::auth::Admin;
use crate::error::{ApiError, ApiPath};
use crate::materials::structure::valid_name;
use crate::server::AppState;
use crate::server::rate::{ClientAddr, Metered};
use crate::server::ready::Ready;

/// Largest submission body: the values of one form.
const MAX_SUBMISSION_BYTES: usize = 64 * 1024;

/// The submission routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit))
        .routes(routes!(list))
        .routes(routes!(export))
}

/// A submission: the form's values by field name.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmissionBody {
    /// Field name to the text entered.
    #[schema(value_type = Object)]
    pub values: Map<String, Value>,
}

#[utoipa::path(
    post,
    path = "/api/pages/{id}/forms/{node}/submissions",
    tag = "pages",
    params(("id" = String, Path, description = "page id"), ("node" = String, Path, description = "the form node's id")),
    request_body = SubmissionBody,
    responses(
        (status = 201, description = "stored: `{\"id\": N}`", body = Object),
        crate::server::openapi::Refusals,
    ),
)]
async fn submit(
    _: Ready,
    _: Metered,
    ClientAddr(client): ClientAddr,
    State(state): State<AppState>,
    ApiPath((id, node)): ApiPath<(String, String)>,
    body: Result<Json<SubmissionBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let id = page_id(&id)?;
    let unknown_form = |why: String| ApiError::new(StatusCode::NOT_FOUND, "unknown-form", why);
    if !valid_name(&node) {
        return Err(unknown_form(format!("no form {node:?} on page {id}")));
    }
    let Json(body) = body?;
    let size = serde_json::to_vec(&body.values).map_or(usize::MAX, |json| json.len());
    if size > MAX_SUBMISSION_BYTES {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!("a submission holds at most {MAX_SUBMISSION_BYTES} bytes of values"),
        ));
    }
    let saved = current(&state, id).await?;
    let page: Page = serde_json::from_str(&saved.schema).map_err(ApiError::internal)?;
    let form = forms::form_node(&state.materials, &page, &node)
        .await
        .map_err(unknown_form)?;
    let fields = forms::fields_of(&state.materials, form)
        .await
        .map_err(|why| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "form-unavailable", why))?;
    let values = forms::check(&fields, &body.values).map_err(|errors| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-submission",
            errors
                .iter()
                .map(|e| format!("{} {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
        )
        .with_details(json!({ "errors": errors }))
    })?;
    // Only what would be stored counts: a visitor correcting a refused
    // submission is not held back (refusals are metered as any request).
    if let Some(client) = client {
        state.submit_limiter.check(client)?;
    }
    let stored = Submissions::new(state.db.clone())
        .add(id, &node, saved.revision, &values)
        .await
        .map_err(ApiError::internal)?;
    tracing::info!(page = %id, form = %node, submission = stored, "form submitted");
    Ok((StatusCode::CREATED, Json(json!({"id": stored}))).into_response())
}

/// Which submissions to list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only this form node's.
    form: Option<String>,
    /// Only ids below this (the `next` of the previous answer).
    before: Option<i64>,
    /// At most this many (1-500, default 100).
    limit: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/api/admin/pages/{id}/submissions",
    tag = "admin",
    params(("id" = String, Path, description = "page id"), ListQuery),
    security(("admin" = [])),
    responses((status = 200, description = "`{\"submissions\": [...], \"next\": N|null}`, newest first", body = Object), crate::server::openapi::Refusals),
)]
async fn list(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let id = page_id(&id)?;
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let limit = query.limit.unwrap_or(100).clamp(1, forms::MAX_PAGE);
    let submissions = Submissions::new(state.db.clone())
        .list(id, query.form.as_deref(), query.before, limit)
        .await
        .map_err(ApiError::internal)?;
    let next = (submissions.len() as i64 == limit)
        .then(|| submissions.last().map(|s| s.id))
        .flatten();
    Ok(Json(json!({"page": id, "submissions": submissions, "next": next})).into_response())
}

/// Which submissions to export.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// Only this form node's.
    form: Option<String>,
}

/// Most submissions one export holds (the newest).
const MAX_EXPORT: usize = 100_000;

#[utoipa::path(
    get,
    path = "/api/admin/pages/{id}/submissions.csv",
    tag = "admin",
    params(("id" = String, Path, description = "page id"), ExportQuery),
    security(("admin" = [])),
    responses((status = 200, description = "the page's submissions as CSV, oldest first", content_type = "text/csv", body = String), crate::server::openapi::Refusals),
)]
async fn export(
    _: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let id = page_id(&id)?;
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let store = Submissions::new(state.db.clone());
    let mut all = Vec::new();
    let mut before = None;
    while all.len() < MAX_EXPORT {
        let page = store
            .list(id, query.form.as_deref(), before, forms::MAX_PAGE)
            .await
            .map_err(ApiError::internal)?;
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        let full = page.len() as i64 == forms::MAX_PAGE;
        all.extend(page);
        if !full {
            break;
        }
    }
    let csv = forms::csv(&all).map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}-submissions.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}
