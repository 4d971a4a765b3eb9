//! `/api/materials`: list, describe and render materials (`docs/materials.md`).

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{MaterialError, parse_reference};
use crate::error::{ApiError, ApiPath};
use crate::server::AppState;
use crate::server::rate::Metered;
use crate::server::ready::Ready;

/// The material routes.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(describe))
        .routes(routes!(render))
        .routes(routes!(module_file))
}

impl From<MaterialError> for ApiError {
    fn from(err: MaterialError) -> Self {
        let message = err.to_string();
        match err {
            MaterialError::NotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "unknown-material", message)
            }
            MaterialError::NotAMaterial(..) => {
                ApiError::new(StatusCode::NOT_FOUND, "not-a-material", message)
            }
            MaterialError::BadReference(_) => ApiError::bad_request(message),
            MaterialError::InvalidProps { errors, .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid-props", message)
                    .with_details(json!({ "errors": errors }))
            }
            MaterialError::Loading(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "material-loading", message)
                    .with_retry_after(2)
            }
            MaterialError::RegistryUnavailable => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "registry-unavailable",
                message,
            )
            .with_retry_after(5),
            MaterialError::Load(_)
            | MaterialError::BadSchema { .. }
            | MaterialError::BadStructure { .. }
            | MaterialError::Failed { .. } => {
                ApiError::new(StatusCode::BAD_GATEWAY, "material-failed", message)
            }
        }
    }
}

#[utoipa::path(
    get,
    path = "/api/materials",
    tag = "materials",
    responses((status = 200, description = "the published materials with their versions", body = Vec<serde_json::Value>), crate::server::openapi::Refusals),
)]
async fn list(_: Metered, State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(Json(state.materials.list().await?).into_response())
}

#[utoipa::path(
    get,
    path = "/api/materials/{reference}",
    tag = "materials",
    params(("reference" = String, Path, description = "`NAME@VERSION`")),
    responses((status = 200, description = "the material's description: props schema, events", body = Object), crate::server::openapi::Refusals),
)]
async fn describe(
    _: Ready,
    _: Metered,
    State(state): State<AppState>,
    ApiPath(reference): ApiPath<String>,
) -> Result<Response, ApiError> {
    let (name, version) = parse_reference(&reference)?;
    let version = state.materials.resolve(&name, version).await?;
    let loaded = state.materials.load(&name, &version).await?;
    Ok(Json(&loaded.info).into_response())
}

#[utoipa::path(
    post,
    path = "/api/materials/{reference}/render",
    tag = "materials",
    params(("reference" = String, Path, description = "`NAME@VERSION`")),
    request_body = Object,
    responses((status = 200, description = "`{\"html\": ...}`: the sanitised HTML", body = Object), crate::server::openapi::Refusals),
)]
async fn render(
    _: Ready,
    _: Metered,
    State(state): State<AppState>,
    ApiPath(reference): ApiPath<String>,
    body: Result<Json<Value>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(props) = body?;
    let (name, version) = parse_reference(&reference)?;
    let version = state.materials.resolve(&name, version).await?;
    let loaded = state.materials.load(&name, &version).await?;
    let started = std::time::Instant::now();
    let html = state.materials.render(&loaded, &props).await?;
    // Validation, the sandboxed call and sanitising, for clients and benchmarks.
    let timing = format!("render;dur={:.3}", started.elapsed().as_secs_f64() * 1000.0);
    let mut response =
        Json(json!({"name": name, "version": version.to_string(), "html": html})).into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&timing) {
        response.headers_mut().insert("server-timing", value);
    }
    Ok(response)
}

#[utoipa::path(
    get,
    path = "/materials/js/{reference}/{digest}/{file}",
    tag = "materials",
    params(
        ("reference" = String, Path, description = "`NAME@VERSION`"),
        ("digest" = String, Path, description = "the version's component digest: 64 hex digits"),
        ("file" = String, Path, description = "`material.js` or one of the core modules it names"),
    ),
    responses(
        (status = 200, description = "the file; immutable (the digest names the component)", content(
            (String = "text/javascript"),
            (Vec<u8> = "application/wasm"),
        )),
        crate::server::openapi::Refusals,
    ),
)]
async fn module_file(
    _: Ready,
    _: Metered,
    State(state): State<AppState>,
    ApiPath((reference, digest, file)): ApiPath<(String, String, String)>,
) -> Result<Response, ApiError> {
    use axum::http::header;
    let digest: hangar_registry::Digest = format!("sha256:{digest}")
        .parse()
        .map_err(|_| ApiError::bad_request("the digest must be 64 lowercase hex digits"))?;
    let (name, version) = parse_reference(&reference)?;
    let version = version.ok_or_else(|| ApiError::bad_request("name the version: NAME@VERSION"))?;
    let loaded = state.materials.load(&name, &version).await?;
    let unknown = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown-material",
            format!(
                "{name}@{version} has no file {file:?} under this digest; ask /api/materials/{name}@{version} for its module"
            ),
        )
    };
    if loaded.digest() != Some(digest) {
        return Err(unknown());
    }
    let bundle = state.materials.bundle(digest).await.map_err(|err| {
        tracing::error!(%digest, error = %err, "material bundle failed");
        ApiError::new(StatusCode::BAD_GATEWAY, "material-failed", err.to_string())
    })?;
    let (content_type, body) = bundle.file(&file).ok_or_else(unknown)?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response())
}
