//! The registry's HTTP API under `/registry/v1` (see `docs/registry.md`).

use std::str::FromStr;
use std::sync::Arc;

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use semver::Version;
use serde_json::json;
use utoipa::OpenApi as _;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::signature::Signed;
use crate::store::{Published, Registry, RegistryError};
use crate::{Digest, PluginName};

/// What a publish token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Publish new versions of packages its publisher owns (or new packages).
    Publish,
    /// Yank and un-yank versions of packages its publisher owns.
    Yank,
    /// Add owners to packages its publisher owns.
    Owners,
    /// Transfer any package to another publisher (a registry admin).
    Admin,
}

impl Action {
    fn as_str(self) -> &'static str {
        match self {
            Self::Publish => "publish",
            Self::Yank => "yank",
            Self::Owners => "owners",
            Self::Admin => "admin",
        }
    }
}

/// Which actions on which packages a token is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    /// Actions allowed.
    pub actions: Vec<Action>,
    /// Package names, or prefixes ending in `*`; empty: every package.
    pub packages: Vec<String>,
}

impl Default for Scope {
    /// An owner's rights on every package: publish, yank, add owners.
    fn default() -> Self {
        Self {
            actions: vec![Action::Publish, Action::Yank, Action::Owners],
            packages: Vec::new(),
        }
    }
}

impl Scope {
    /// Whether `action` on `package` is within the scope.
    pub fn allows(&self, action: Action, package: &PluginName) -> bool {
        self.actions.contains(&action)
            && (self.packages.is_empty()
                || self.packages.iter().any(|p| match p.strip_suffix('*') {
                    Some(prefix) => package.as_str().starts_with(prefix),
                    None => package.as_str() == p,
                }))
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let actions: Vec<&str> = self.actions.iter().map(|a| a.as_str()).collect();
        let packages = if self.packages.is_empty() {
            "every package".to_owned()
        } else {
            self.packages.join(", ")
        };
        write!(f, "{} on {packages}", actions.join("+"))
    }
}

impl FromStr for Scope {
    type Err = String;

    /// `ACTIONS[:PACKAGES]`: actions `+`-joined from `publish`, `yank`,
    /// `owners`, `admin` (`all` is the first three); packages `+`-joined
    /// names or prefixes ending in `*`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (actions, packages) = s.split_once(':').unwrap_or((s, ""));
        let mut scope = Self {
            actions: Vec::new(),
            packages: Vec::new(),
        };
        for action in actions.split('+') {
            match action {
                "publish" => scope.actions.push(Action::Publish),
                "yank" => scope.actions.push(Action::Yank),
                "owners" => scope.actions.push(Action::Owners),
                "admin" => scope.actions.push(Action::Admin),
                "all" => scope.actions.extend(Self::default().actions),
                other => {
                    return Err(format!(
                        "unknown token action {other:?}: use publish, yank, owners, admin or all, joined with +"
                    ));
                }
            }
        }
        for package in packages.split('+').filter(|p| !p.is_empty()) {
            let name = package.strip_suffix('*').unwrap_or(package);
            // A prefix need not be a whole name, but must be made of what
            // names are made of.
            let valid = name.is_empty()
                || PluginName::from_str(name).is_ok()
                || PluginName::from_str(&format!("{name}x")).is_ok();
            if !valid {
                return Err(format!("{package:?} is not a package name or prefix"));
            }
            scope.packages.push(package.to_owned());
        }
        Ok(scope)
    }
}

/// A publisher: a name recorded with what it publishes, its token, and
/// what the token may do.
#[derive(Clone)]
pub struct Publisher {
    /// Recorded as the publisher of each version.
    pub name: String,
    /// Bearer token.
    pub token: String,
    /// What the token may do.
    pub scope: Scope,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("name", &self.name)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl FromStr for Publisher {
    type Err = String;

    /// `NAME[:ACTIONS[:PACKAGES]]=TOKEN` (see [`Scope`]), or a bare token
    /// (publisher `publisher`, the default scope).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (who, token) = s.split_once('=').unwrap_or(("publisher", s));
        if token.len() < 16 {
            return Err("a publish token needs at least 16 characters".into());
        }
        let (name, scope) = match who.split_once(':') {
            Some((name, scope)) => (name, scope.parse()?),
            None => (who, Scope::default()),
        };
        if name.is_empty() {
            return Err("a publish token needs a publisher name: NAME=TOKEN".into());
        }
        Ok(Self {
            name: name.to_owned(),
            token: token.to_owned(),
            scope,
        })
    }
}

/// `axum::extract::Path` whose refusals (a segment that is not UTF-8) are
/// answered as a [`Failure`], in JSON like every other error.
#[derive(Debug)]
struct Path<T>(T);

impl<T, S> axum::extract::FromRequestParts<S> for Path<T>
where
    T: serde::de::DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Failure;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|rejection| {
                Failure::new(
                    StatusCode::BAD_REQUEST,
                    "bad-request",
                    rejection.body_text(),
                )
            })
    }
}

/// The registry's OpenAPI document: its routes, the error body and the
/// publish token.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "Hangar registry", description = "Publish, list and fetch plugin components."),
    components(schemas(ErrorBody)),
    modifiers(&PublisherToken),
)]
struct Document;

struct PublisherToken;

impl utoipa::Modify for PublisherToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "publisher",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .description(Some("a publish token (`publish_tokens`)"))
                        .build(),
                ),
            );
    }
}

/// The body of every error answer.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = RegistryError)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorObject,
}

/// The error object.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
#[schema(as = RegistryErrorObject)]
pub struct ErrorObject {
    /// Stable code clients match on.
    pub code: String,
    /// What happened and what to do.
    pub message: String,
}

/// The refusals every operation may answer: a `4XX` or `5XX` status with
/// the error body.
#[derive(Debug)]
struct Refusals;

impl utoipa::IntoResponses for Refusals {
    fn responses() -> std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
    > {
        let why = "refused or failed: the `code` says why";
        error_responses("RegistryError", &[("4XX", why), ("5XX", why)])
    }
}

/// OpenAPI answers with the error body `schema`, one per `(status,
/// description)`: the refusals an API's operations share.
pub fn error_responses(
    schema: &str,
    statuses: &[(&str, &str)],
) -> std::collections::BTreeMap<String, utoipa::openapi::RefOr<utoipa::openapi::response::Response>>
{
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    statuses
        .iter()
        .map(|(status, description)| {
            let response = ResponseBuilder::new()
                .description(*description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name(schema)))
                        .build(),
                )
                .build();
            ((*status).to_owned(), response.into())
        })
        .collect()
}

/// What the routes share.
#[derive(Debug, Clone)]
pub struct RegistryApi {
    registry: Registry,
    publishers: Arc<Vec<Publisher>>,
}

/// Equal-length byte strings compared without an early exit.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// An error answer: `{"error": {"code", "message"}}` with a status.
#[derive(Debug)]
pub struct Failure {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl Failure {
    fn new(status: StatusCode, code: &'static str, message: impl std::fmt::Display) -> Self {
        Self {
            status,
            code,
            message: message.to_string(),
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

impl From<RegistryError> for Failure {
    fn from(err: RegistryError) -> Self {
        let (status, code) = match &err {
            RegistryError::Name(_) => (StatusCode::BAD_REQUEST, "bad-name"),
            RegistryError::Version(_) => (StatusCode::BAD_REQUEST, "bad-version"),
            RegistryError::Component(_) => (StatusCode::UNPROCESSABLE_ENTITY, "not-a-plugin"),
            RegistryError::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too-large"),
            RegistryError::Immutable { .. } => (StatusCode::CONFLICT, "immutable"),
            RegistryError::BuildMetadata(_) => (StatusCode::BAD_REQUEST, "bad-version"),
            RegistryError::WorldChanged { .. } => (StatusCode::CONFLICT, "world-mismatch"),
            RegistryError::NotOwner { .. } => (StatusCode::FORBIDDEN, "not-an-owner"),
            RegistryError::Signature(_) => (StatusCode::BAD_REQUEST, "bad-signature"),
            RegistryError::Body(_) => (StatusCode::BAD_REQUEST, "bad-body"),
            RegistryError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found"),
            RegistryError::Db(_)
            | RegistryError::Open(_)
            | RegistryError::Dir { .. }
            | RegistryError::Blob(_) => {
                // The detail (paths, database errors) stays in the log.
                tracing::error!(error = %err, "registry failure");
                return Self::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "the registry failed; retry (the server log has the reason)",
                );
            }
        };
        Self::new(status, code, err)
    }
}

type Answer = Result<Response, Failure>;

impl RegistryApi {
    /// The API of `registry`, accepting publishes from `publishers`.
    pub fn new(registry: Registry, publishers: Vec<Publisher>) -> Self {
        Self {
            registry,
            publishers: Arc::new(publishers),
        }
    }

    /// The routes, with their state; merge into any router.
    pub fn router<S: Clone + Send + Sync + 'static>(self) -> OpenApiRouter<S> {
        // The publish handler reads the body itself, after the token,
        // within the component limit.
        let (schemas, paths, published) = routes!(version, publish);
        OpenApiRouter::with_openapi(Document::openapi())
            .routes(routes!(packages))
            .routes(routes!(versions))
            .routes((schemas, paths, published.layer(DefaultBodyLimit::disable())))
            .routes(routes!(yank, unyank))
            .routes(routes!(owners))
            .routes(routes!(add_owner))
            .routes(routes!(transfer))
            .routes(routes!(blob))
            .with_state(self)
    }

    /// The publisher whose token `headers` carry, if the token's scope
    /// allows `action` on `package`.
    fn authorize(
        &self,
        headers: &HeaderMap,
        action: Action,
        package: &PluginName,
    ) -> Result<&Publisher, Failure> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let Some(token) = token else {
            return Err(Failure::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "send a publish token as `Authorization: Bearer <token>`",
            ));
        };
        // Every token is compared, so timing says nothing about which matched.
        let mut found = None;
        for publisher in self.publishers.iter() {
            if constant_time_eq(publisher.token.as_bytes(), token.as_bytes()) {
                found = Some(publisher);
            }
        }
        let publisher = found.ok_or_else(|| {
            Failure::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this token may not publish",
            )
        })?;
        if !publisher.scope.allows(action, package) {
            return Err(Failure::new(
                StatusCode::FORBIDDEN,
                "out-of-scope",
                format!(
                    "the token of {} may not {} {package}: its scope is {}",
                    publisher.name,
                    action.as_str(),
                    publisher.scope
                ),
            ));
        }
        Ok(publisher)
    }
}

fn parse_name(name: &str) -> Result<PluginName, Failure> {
    Ok(PluginName::from_str(name).map_err(RegistryError::Name)?)
}

fn parse_version(version: &str) -> Result<Version, Failure> {
    Ok(Version::parse(version).map_err(|_| RegistryError::Version(version.to_owned()))?)
}

#[utoipa::path(
    get,
    path = "/registry/v1/packages",
    tag = "registry",
    responses((status = 200, description = "every package with its versions", body = Vec<serde_json::Value>), Refusals),
)]
async fn packages(State(api): State<RegistryApi>) -> Answer {
    Ok(Json(api.registry.packages().await?).into_response())
}

#[utoipa::path(
    get,
    path = "/registry/v1/packages/{name}",
    tag = "registry",
    params(("name" = String, Path, description = "package name")),
    responses((status = 200, description = "`{\"name\", \"versions\": [...]}`", body = Object), Refusals),
)]
async fn versions(State(api): State<RegistryApi>, Path(name): Path<String>) -> Answer {
    let name = parse_name(&name)?;
    let list = api.registry.versions(&name).await?;
    if list.is_empty() {
        return Err(RegistryError::NotFound(name.to_string()).into());
    }
    Ok(Json(json!({"name": name, "versions": list})).into_response())
}

#[utoipa::path(
    get,
    path = "/registry/v1/packages/{name}/{version}",
    tag = "registry",
    params(("name" = String, Path, description = "package name"), ("version" = String, Path, description = "semantic version")),
    responses((status = 200, description = "the version: digest, world, size, publisher, signature, yanked", body = Object), Refusals),
)]
async fn version(
    State(api): State<RegistryApi>,
    Path((name, version)): Path<(String, String)>,
) -> Answer {
    let (name, version) = (parse_name(&name)?, parse_version(&version)?);
    match api.registry.version(&name, &version).await? {
        Some(info) => Ok(Json(info).into_response()),
        None => Err(RegistryError::NotFound(format!("{name} {version}")).into()),
    }
}

/// Publishes the body. The token is checked before a byte of the body is
/// read; a declared length over twice the limit is refused before reading
/// too; the body streams to storage and is refused once past the limit.
#[utoipa::path(
    put,
    path = "/registry/v1/packages/{name}/{version}",
    tag = "registry",
    params(("name" = String, Path, description = "package name"), ("version" = String, Path, description = "semantic version"), ("x-hangar-signature-key" = Option<String>, Header, description = "the publisher key that signed the component (`ed25519:BASE64`), with `x-hangar-signature`"), ("x-hangar-signature" = Option<String>, Header, description = "the signature of the component's digest")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "the component (a WebAssembly component binary); any content type is read as its bytes"),
    security(("publisher" = [])),
    responses((status = 201, description = "published", body = Object), (status = 200, description = "the same bytes were already published under this version", body = Object), Refusals),
)]
async fn publish(
    State(api): State<RegistryApi>,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Answer {
    let package = parse_name(&name)?;
    let publisher = api
        .authorize(&headers, Action::Publish, &package)?
        .name
        .clone();
    let signed = signed(&headers)?;
    let limit = api.registry.max_component_bytes();
    let too_large = |size: usize| Failure::from(RegistryError::TooLarge { size, limit });
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(size) = declared.filter(|size| *size > limit) {
        // A publisher's body up to twice the limit is read and dropped (not
        // kept), so a client that sends it whole reads the answer; a larger
        // one is refused unread.
        if size <= limit.saturating_mul(2) {
            let mut chunks = body.into_data_stream();
            while let Some(Ok(_)) = futures_util::StreamExt::next(&mut chunks).await {}
        }
        return Err(too_large(size));
    }
    // Streamed to storage as it arrives, within the limit.
    Ok(
        match api
            .registry
            .publish_stream(&name, &version, body.into_data_stream(), &publisher, signed)
            .await?
        {
            Published::Created(info) => (StatusCode::CREATED, Json(info)).into_response(),
            Published::Unchanged(info) => (StatusCode::OK, Json(info)).into_response(),
        },
    )
}

/// Header naming the publisher key a publish is signed with.
pub const SIGNER_HEADER: &str = "hangar-signer";
/// Header carrying the signature (see [`crate::signature`]).
pub const SIGNATURE_HEADER: &str = "hangar-signature";

/// The signature a publish carries, if any: both headers or neither.
fn signed(headers: &HeaderMap) -> Result<Option<Signed>, Failure> {
    let get = |name| {
        headers
            .get(name)
            .map(|v| v.to_str().unwrap_or_default().trim())
    };
    match (get(SIGNER_HEADER), get(SIGNATURE_HEADER)) {
        (None, None) => Ok(None),
        (Some(signer), Some(signature)) => Ok(Some(Signed {
            signer: signer.parse().map_err(RegistryError::Signature)?,
            signature: signature.to_owned(),
        })),
        _ => Err(Failure::new(
            StatusCode::BAD_REQUEST,
            "bad-signature",
            format!("send both `{SIGNER_HEADER}` and `{SIGNATURE_HEADER}`, or neither"),
        )),
    }
}

async fn set_yanked(
    api: &RegistryApi,
    headers: &HeaderMap,
    name: &str,
    version: &str,
    yanked: bool,
) -> Answer {
    let (name, version) = (parse_name(name)?, parse_version(version)?);
    let by = api.authorize(headers, Action::Yank, &name)?.name.clone();
    Ok(Json(
        api.registry
            .set_yanked(&name, &version, yanked, &by)
            .await?,
    )
    .into_response())
}

#[utoipa::path(
    post,
    path = "/registry/v1/packages/{name}/{version}/yank",
    tag = "registry",
    params(("name" = String, Path, description = "package name"), ("version" = String, Path, description = "semantic version")),
    security(("publisher" = [])),
    responses((status = 200, description = "yanked: not activated any more, still fetched by digest", body = Object), Refusals),
)]
async fn yank(
    State(api): State<RegistryApi>,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    set_yanked(&api, &headers, &name, &version, true).await
}

#[utoipa::path(
    delete,
    path = "/registry/v1/packages/{name}/{version}/yank",
    tag = "registry",
    params(("name" = String, Path, description = "package name"), ("version" = String, Path, description = "semantic version")),
    security(("publisher" = [])),
    responses((status = 200, description = "un-yanked", body = Object), Refusals),
)]
async fn unyank(
    State(api): State<RegistryApi>,
    Path((name, version)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    set_yanked(&api, &headers, &name, &version, false).await
}

#[utoipa::path(
    get,
    path = "/registry/v1/packages/{name}/owners",
    tag = "registry",
    params(("name" = String, Path, description = "package name")),
    responses((status = 200, description = "`{\"name\", \"owners\": [...]}`", body = Object), Refusals),
)]
async fn owners(State(api): State<RegistryApi>, Path(name): Path<String>) -> Answer {
    let name = parse_name(&name)?;
    let owners = api.registry.owners(&name).await?;
    if owners.is_empty() {
        return Err(RegistryError::NotFound(name.to_string()).into());
    }
    Ok(Json(json!({"name": name, "owners": owners})).into_response())
}

#[utoipa::path(
    put,
    path = "/registry/v1/packages/{name}/owners/{publisher}",
    tag = "registry",
    params(("name" = String, Path, description = "package name"), ("publisher" = String, Path, description = "the publisher to add")),
    security(("publisher" = [])),
    responses((status = 200, description = "`{\"name\", \"owners\": [...]}`", body = Object), Refusals),
)]
async fn add_owner(
    State(api): State<RegistryApi>,
    Path((name, owner)): Path<(String, String)>,
    headers: HeaderMap,
) -> Answer {
    let name = parse_name(&name)?;
    let by = api.authorize(&headers, Action::Owners, &name)?.name.clone();
    api.known_publisher(&owner)?;
    let owners = api.registry.add_owner(&name, &owner, &by).await?;
    Ok(Json(json!({"name": name, "owners": owners})).into_response())
}

/// `{"to": PUBLISHER}`: the body of a transfer.
#[derive(Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Transfer {
    to: String,
}

/// Makes `to` the package's only owner: a registry admin's token only.
#[utoipa::path(
    post,
    path = "/registry/v1/packages/{name}/transfer",
    tag = "registry",
    params(("name" = String, Path, description = "package name")),
    request_body = Transfer,
    security(("publisher" = [])),
    responses((status = 200, description = "`{\"name\", \"owners\": [PUBLISHER]}`", body = Object), Refusals),
)]
async fn transfer(
    State(api): State<RegistryApi>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Result<Json<Transfer>, axum::extract::rejection::JsonRejection>,
) -> Answer {
    let name = parse_name(&name)?;
    let by = api.authorize(&headers, Action::Admin, &name)?.name.clone();
    let Json(Transfer { to }) = body.map_err(|err| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "bad-body",
            format!("send {{\"to\": \"PUBLISHER\"}}: {}", err.body_text()),
        )
    })?;
    api.known_publisher(&to)?;
    let owners = api.registry.transfer(&name, &to, &by).await?;
    Ok(Json(json!({"name": name, "owners": owners})).into_response())
}

impl RegistryApi {
    /// Refuses a publisher name that has no token here.
    fn known_publisher(&self, name: &str) -> Result<(), Failure> {
        if self.publishers.iter().any(|p| p.name == name) {
            Ok(())
        } else {
            Err(Failure::new(
                StatusCode::NOT_FOUND,
                "unknown-publisher",
                format!("no publisher named {name:?} has a token here"),
            ))
        }
    }
}

#[utoipa::path(
    get,
    path = "/registry/v1/blobs/{digest}",
    tag = "registry",
    params(("digest" = String, Path, description = "`sha256:<64 lowercase hex>`"), ("If-None-Match" = Option<String>, Header, description = "the digest's ETag")),
    responses((status = 200, description = "the component, verified as it streams", content_type = "application/wasm", body = Vec<u8>), (status = 304, description = "not modified"), Refusals),
)]
async fn blob(
    State(api): State<RegistryApi>,
    Path(digest): Path<String>,
    headers: HeaderMap,
) -> Answer {
    let digest = Digest::from_str(&digest).map_err(|_| {
        Failure::new(
            StatusCode::BAD_REQUEST,
            "bad-digest",
            format!("{digest:?} is not a digest; use sha256:<64 lowercase hex>"),
        )
    })?;
    let etag = format!("\"{digest}\"");
    let cache = [
        (header::ETAG, etag.clone()),
        (
            header::CACHE_CONTROL,
            "public, max-age=31536000, immutable".to_owned(),
        ),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag))
    {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    // Streamed, verified as it passes: memory stays bounded however large
    // the blob and however many read it at once.
    let (size, stream) = api.registry.blob_stream(&digest).await?;
    let mut response = (cache, axum::body::Body::from_stream(stream)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/wasm"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    Ok(response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn name(s: &str) -> PluginName {
        s.parse().unwrap()
    }

    #[test]
    fn token_scopes_parse_and_match_names_and_prefixes() {
        let full: Publisher = "alice=token-0123456789abcdef".parse().unwrap();
        assert_eq!(full.scope, Scope::default());
        assert!(full.scope.allows(Action::Publish, &name("anything")));
        assert!(!full.scope.allows(Action::Admin, &name("anything")));

        let ci: Publisher = "ci:publish+yank:acme-*+tagger=token-0123456789abcdef"
            .parse()
            .unwrap();
        assert_eq!(ci.name, "ci");
        assert!(ci.scope.allows(Action::Publish, &name("acme-bot")));
        assert!(ci.scope.allows(Action::Yank, &name("tagger")));
        assert!(!ci.scope.allows(Action::Publish, &name("tagger-2")));
        assert!(!ci.scope.allows(Action::Owners, &name("acme-bot")));
        assert!(!ci.scope.allows(Action::Publish, &name("bot")));

        let ops: Publisher = "ops:admin=token-0123456789abcdef".parse().unwrap();
        assert_eq!(ops.scope.actions, [Action::Admin]);
        let all: Publisher = "x:all+admin=token-0123456789abcdef".parse().unwrap();
        assert_eq!(all.scope.actions.len(), 4);

        for bad in [
            "x:fly=token-0123456789abcdef",
            "x:publish:Bad Name=token-0123456789abcdef",
            ":publish=token-0123456789abcdef",
            "x=short",
        ] {
            assert!(bad.parse::<Publisher>().is_err(), "{bad}");
        }
    }
}
