//! The HTTP server: shared state, the router, start-up and shutdown.
//!
//! - [`ready`]: readiness, and the guard of routes plugins protect;
//! - [`listener`]: the connection loop and its limits;
//! - [`rate`]: per-client rate limits of anonymous routes.

mod health;
pub mod listener;
pub mod memory;
pub mod openapi;
pub mod rate;
pub mod ready;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use secrecy::{ExposeSecret as _, SecretString};
use tokio::net::TcpListener;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, TraceLayer};

use crate::auth::TokenKeys;
use crate::config::ServeConfig;
use crate::deploy::fetch::Fetcher;
use crate::deploy::{DeployError, Deployer};
use crate::error::ApiError;
use crate::history::HistoryStore;
use crate::history::sql::SqlHistory;
use crate::hub::Hub;
use crate::metrics::objects::Instrumented;
use crate::plugins::{Runtime, StartError};
use crate::store::alerts::Alerts;
use crate::store::{Database, StoreError};
use crate::upload::UploadStore;
use crate::upload::blobs::Blobs;
use crate::upload::index::SqlIndex;
use hangar_registry::http::{Action, Publisher, RegistryApi, Scope};
use hangar_registry::store::{Registry, RegistryError};
use hangar_storage::{Area, ObjectStoreUrl};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The plugin runtime.
    pub runtime: Arc<Runtime>,
    /// The database.
    pub db: Database,
    /// Alerts, stored and live.
    pub alerts: Alerts,
    /// The chat hub.
    pub hub: Arc<Hub>,
    /// Demo mode (sessions for anyone at `POST /api/session`).
    pub demo: bool,
    /// URL clients reach this node at.
    pub public_url: Option<String>,
    /// The cluster's node list; `None`: this node is alone.
    pub nodes: Option<crate::cluster::nodes::Nodes>,
    /// The upload store.
    pub uploads: Arc<UploadStore>,
    /// Activates, rolls back and configures plugins from the registry.
    pub deployer: Deployer,
    /// The admin API's token; `None` turns the admin API off.
    pub admin_token: Option<Arc<SecretString>>,
    /// UI materials, loaded on demand.
    pub materials: crate::materials::Materials,
    /// Whether the deployed plugins are restored and guarded routes serve.
    pub ready: ready::Readiness,
    /// Per-client limits of anonymous routes.
    pub limiter: rate::ClientLimiter,
    /// Per-client limits of stored form submissions.
    pub submit_limiter: rate::ClientLimiter,
    /// Rendered pages, per revision.
    pub page_cache: crate::pages::render::PageCache,
    /// Whether the main listener serves `/metrics` (not when it has a
    /// listener of its own).
    pub metrics_here: bool,
    /// Admin operations that outlast their request (activations).
    pub jobs: Arc<crate::admin::jobs::Jobs>,
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The plugin runtime could not start.
    #[error(transparent)]
    Runtime(#[from] StartError),
    /// The example plugins could not be loaded.
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
    /// No session signing key outside demo mode.
    #[error(
        "no session signing key: set HANGAR_SESSION_KEY (or --session-key, or session_key in hangar.toml) \
         to a secret of at least 32 bytes shared with the application that mints tokens"
    )]
    NoSessionKey,
    /// The key is unusable.
    #[error("session signing key: {0}")]
    SessionKey(#[from] crate::auth::TokenError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The object store could not be opened.
    #[error("{0}")]
    Objects(#[from] hangar_storage::ObjectStoreError),
    /// The embedded registry could not be opened.
    #[error("embedded registry: {0}")]
    Registry(#[from] RegistryError),
    /// The registry client could not be built.
    #[error("cannot build the registry client: {0}")]
    HttpClient(String),
    /// Saved plugins could not be restored.
    #[error("restoring plugins: {0}")]
    Deploy(#[from] DeployError),
    /// The node id is unusable.
    #[error(transparent)]
    NodeId(#[from] crate::cluster::NodeIdError),
    /// The broker could not be reached.
    #[error(transparent)]
    Broker(#[from] crate::cluster::broker::BrokerError),
    /// Serving failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// The router of every route the server answers, with `extra` routes
/// (the embedded registry) merged in, routes and OpenAPI document alike, each request in a span with its
/// request id (`x-request-id`, taken from the request or generated, and
/// returned in the answer).
pub fn app(state: AppState, extra: utoipa_axum::router::OpenApiRouter<AppState>) -> Router {
    let (router, doc) = api_router()
        .merge(crate::upload::tus::http::routes(
            &state.hub.config.allowed_origins,
        ))
        .merge(extra)
        .split_for_parts();
    openapi::publish(&doc);
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state)
        .layer(axum::middleware::from_fn(crate::error::with_request_id))
        .layer(
            TraceLayer::new_for_http()
                // Failures are logged where they happen, with their reason.
                .on_failure(DefaultOnFailure::new().level(tracing::Level::DEBUG))
                .make_span_with(|request: &axum::http::Request<_>| {
                let id = request
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), id)
            }),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
}

/// Every route of the host, with the OpenAPI document describing them.
fn api_router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    openapi::base()
        .merge(health::routes())
        .merge(crate::admin::routes())
        .merge(crate::web::routes())
        .merge(crate::materials::http::routes())
        .merge(crate::pages::http::routes())
        .merge(crate::hub::http::routes())
        .merge(crate::history::http::routes())
        .merge(crate::lbs::routes())
        .merge(crate::upload::http::routes())
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        format!("{} does not answer {method}", uri.path()),
    )
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}

/// A server set up but not listening: its state and router (every route,
/// the embedded registry's included), ready to be served or called
/// in-process (`tower::ServiceExt::oneshot`). Its plugins are not restored
/// yet: guarded routes answer `503 starting` until [`Built::restore`].
pub struct Built {
    /// The state every route shares.
    pub state: AppState,
    /// Every route.
    pub router: Router,
    registry: Registry,
    publishers: Vec<Publisher>,
    registry_url: String,
    sweeper: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for Built {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Built")
            .field("registry_url", &self.registry_url)
            .finish_non_exhaustive()
    }
}

/// Opens the data directory, the database, the object stores and the
/// registry, starts the plugin runtime and the hub, and builds the router:
/// everything but the listener.
///
/// # Errors
/// [`ServeError`] saying what could not be set up.
pub async fn build(config: &ServeConfig) -> Result<Built, ServeError> {
    // Every WebSocket is a file descriptor: use all the process may have.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open-file limit"),
        Err(err) => tracing::warn!(error = %err, "could not raise the open-file limit"),
    }
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ServeError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let db = Database::connect(config.database_url.as_str()).await?;
    let alerts = Alerts::new(db.clone());
    let runtime = Arc::new(Runtime::start(
        config.runtime.clone(),
        db.clone(),
        alerts.clone(),
    )?);
    let session_key = match &config.session_key {
        Some(key) => key.clone(),
        None if config.demo => demo_secret(&config.data_dir, "demo-session.key")?,
        None => return Err(ServeError::NoSessionKey),
    };
    let admin_token: Option<Arc<SecretString>> = match &config.admin_token {
        Some(token) => Some(Arc::new(token.clone())),
        None if config.demo => Some(Arc::new(demo_secret(&config.data_dir, "admin.token")?)),
        None => None,
    };
    let mut publishers = config.publishers.clone();
    if publishers.is_empty() && config.demo {
        publishers.push(Publisher {
            name: "demo".into(),
            token: demo_secret(&config.data_dir, "publish.token")?
                .expose_secret()
                .to_owned(),
            // The demo's one publisher is its registry's admin too.
            scope: Scope {
                actions: vec![Action::Publish, Action::Yank, Action::Owners, Action::Admin],
                packages: Vec::new(),
            },
        });
    }
    // On PostgreSQL the embedded registry shares the host's database; on
    // SQLite it keeps its own file beside its blobs.
    let registry_db = match db.db().dialect() {
        hangar_storage::Dialect::Postgres => Some(config.database_url.as_str()),
        hangar_storage::Dialect::Sqlite => None,
    };
    let (upload_area, registry_area) = open_areas(config).await?;
    let registry = Registry::open(
        &config.data_dir.join("registry"),
        registry_db,
        registry_area.store,
        config.max_component_bytes,
    )
    .await?;
    let tokens = TokenKeys::new(session_key.expose_secret().as_bytes())?;
    let node_id = crate::cluster::node_id(&config.data_dir, config.node_id.as_deref())?;
    let uploads = Arc::new(
        UploadStore::new(
            config.uploads.clone(),
            Arc::new(SqlIndex::new(db.clone())),
            open_blobs(upload_area, config.uploads.fsync)?,
            runtime.clone(),
            alerts.clone(),
            session_key.expose_secret().as_bytes(),
        )
        .with_merge_leases(crate::upload::lease::MergeLeases::new(
            db.clone(),
            node_id.clone(),
        )),
    );
    let sweeper = crate::upload::sweep::spawn(uploads.clone());
    let history: Arc<dyn HistoryStore> = Arc::new(SqlHistory::new(db.clone()));
    let broker = match &config.cluster {
        Some(cluster) => Some(
            crate::cluster::broker::Broker::connect(&cluster.broker, &cluster.prefix, &node_id)
                .await?,
        ),
        None => None,
    };
    if let Some(broker) = &broker {
        alerts.join_cluster(broker.clone()).await?;
    }
    let hub = Arc::new(Hub::new(
        config.hub.clone(),
        history,
        runtime.clone(),
        alerts.clone(),
        tokens,
        uploads.clone(),
        broker.clone(),
    ));
    // A remote registry is asked over HTTP(S); the embedded one in-process.
    let fetcher = match &config.registry_url {
        Some(url) => {
            let registry_ca = match &config.registry_ca {
                Some(path) => Some(std::fs::read(path).map_err(|err| {
                    ServeError::HttpClient(format!(
                        "cannot read the registry CA bundle {}: {err}",
                        path.display()
                    ))
                })?),
                None => None,
            };
            Fetcher::new(url, registry_ca.as_deref())
                .map_err(|err| ServeError::HttpClient(crate::deploy::fetch::error_chain(&err)))?
        }
        None => Fetcher::local(registry.clone()),
    };
    let registry_url = fetcher.base().to_owned();
    let nodes = match (&config.cluster, &config.public_url) {
        (Some(_), Some(url)) => Some(crate::cluster::nodes::Nodes::new(
            db.clone(),
            node_id.clone(),
            crate::lbs::websocket_url(url),
        )),
        _ => None,
    };
    let mut deployer = Deployer::new(
        runtime.clone(),
        db.clone(),
        fetcher,
        config.plugin_defaults.clone(),
        config.trust.clone(),
    );
    if let (Some(broker), Some(nodes)) = (&broker, &nodes) {
        deployer = deployer.in_cluster(crate::deploy::cluster::ClusterLink {
            broker: broker.clone(),
            nodes: nodes.clone(),
        });
    }
    let ready = ready::Readiness::new();
    let materials = crate::materials::Materials::new(deployer.clone(), config.materials);
    let state = AppState {
        runtime: runtime.clone(),
        db: db.clone(),
        alerts,
        hub: hub.clone(),
        demo: config.demo,
        public_url: config.public_url.clone(),
        nodes: nodes.clone(),
        uploads,
        materials: materials.clone(),
        deployer: deployer.clone(),
        admin_token: admin_token.clone(),
        ready: ready.clone(),
        page_cache: crate::pages::render::PageCache::new(config.materials.page_cache_bytes),
        metrics_here: config.metrics_listen.is_none(),
        jobs: Arc::default(),
        limiter: rate::ClientLimiter::new(
            config.http.anonymous_rate_per_sec,
            config.http.anonymous_burst,
        ),
        submit_limiter: rate::ClientLimiter::per_minute(
            crate::pages::forms::SUBMITS_PER_MINUTE,
            crate::pages::forms::SUBMIT_BURST,
        ),
    };
    let router = app(
        state.clone(),
        RegistryApi::new(registry.clone(), publishers.clone()).router(),
    );
    Ok(Built {
        state,
        router,
        registry,
        publishers,
        registry_url,
        sweeper,
    })
}

impl Built {
    /// Restores the deployed plugins (in demo mode, installs the example
    /// plugins once), follows the cluster's changes, and opens the guarded
    /// routes.
    ///
    /// # Errors
    /// The saved deployments could not be read, or the demo could not be
    /// installed.
    pub async fn restore(&self, config: &ServeConfig) -> Result<(), ServeError> {
        let deployer = &self.state.deployer;
        deployer.restore().await?;
        if config.demo {
            // The demo's packages belong to the first publisher, so the
            // token an operator configured can publish their next versions.
            let owner = self.publishers.first().map_or("demo", |p| p.name.as_str());
            crate::demo::install_once(
                &self.registry,
                deployer,
                &self.state.db,
                &config.plugins_dir,
                owner,
            )
            .await?;
        }
        // From here on, admin changes made on other nodes apply here too.
        deployer.follow_cluster();
        self.state.ready.set_ready();
        Ok(())
    }
}

/// Builds the server ([`build`]), binds, and serves until `shutdown`
/// completes; restores the plugins meanwhile. Prints `starting on
/// http://ADDR` once it listens and `listening on http://ADDR` once it
/// serves everything.
///
/// # Errors
/// [`ServeError`] saying what could not be set up.
pub async fn serve(
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let built = build(&config).await?;
    let Built {
        state,
        router,
        publishers,
        registry_url,
        ..
    } = &built;
    let (hub, nodes, runtime, materials) = (
        state.hub.clone(),
        state.nodes.clone(),
        state.runtime.clone(),
        state.materials.clone(),
    );
    let admin_token = state.admin_token.clone();
    let router = router.clone();
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    // Served until this function returns.
    let metrics_server = health::serve_metrics(config.metrics_listen, state.clone()).await?;
    let closing = hub.clone();
    let leaving = nodes.clone();
    let shutdown = async move {
        shutdown.await;
        // Out of the node list first, so that the clients told to go away
        // find the other nodes.
        if let Some(nodes) = &leaving
            && let Err(err) = nodes.leave().await
        {
            tracing::warn!(error = %err, "could not leave the node list; it drops out by its TTL");
        }
        // WebSockets never finish on their own: tell them to go away.
        closing.shut_down();
    };
    // The listener opens at once, so `/healthz` can say the server is
    // starting, but guarded routes refuse until the plugins are back.
    let serving = tokio::spawn(listener::serve(
        listener,
        router,
        config.http,
        None,
        shutdown,
    ));
    tracing::info!(%addr, "restoring plugins before serving");
    // Scripts that poll readiness can find the address at once.
    println!("starting on http://{addr}");
    built.restore(&config).await?;
    // Listed only once ready: clients sent here are served.
    let refresher = nodes.map(|nodes| {
        let hub = hub.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(crate::cluster::nodes::REFRESH);
            for round in 0u64.. {
                tick.tick().await;
                if let Err(err) = nodes.refresh(hub.rooms.connection_count()).await {
                    tracing::warn!(error = %err, "node list not refreshed");
                }
                // About once a minute: every node does it, any one suffices.
                if round % 30 == 0
                    && let Err(err) = nodes.forget_departed().await
                {
                    tracing::warn!(error = %err, "departed nodes not forgotten");
                }
            }
        })
    });
    // Load the materials in the background, now and as versions are
    // published, so that requests find them compiled and described.
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(crate::materials::WARM_EVERY);
        // A registry that stays down is said once, not every round.
        let mut failing = false;
        loop {
            tick.tick().await;
            match materials.warm().await {
                Ok(_) if failing => {
                    failing = false;
                    tracing::info!("materials preloading again: the registry answers");
                }
                Ok(_) => {}
                Err(err) if !failing => {
                    failing = true;
                    tracing::warn!(error = %err, "materials not preloaded; retried every round");
                }
                Err(err) => tracing::debug!(error = %err, "materials still not preloaded"),
            }
        }
    });
    tracing::info!(%addr, registry = %registry_url, "hangar is serving");
    println!("listening on http://{addr}");
    if config.demo {
        println!("  plugins:  http://{addr}/api/plugins");
        println!(
            "  sessions: POST http://{addr}/api/session {{\"user\": \"alice\", \"role\": \"customer\"}}"
        );
        println!("  chat:     ws://{addr}/ws?v=1&token=TOKEN");
        if let Some(token) = &admin_token {
            println!(
                "  admin token (HANGAR_ADMIN_TOKEN):     {}",
                token.expose_secret()
            );
        }
        for publisher in publishers {
            println!(
                "  publish token (HANGAR_PUBLISH_TOKEN): {} (publisher {})",
                publisher.token, publisher.name
            );
        }
    }
    let served = serving.await.map_err(std::io::Error::other)?;
    // The sockets were told to go away when the stop began: let them finish
    // their closing handshakes (bounded by their grace, plus a margin).
    let grace = crate::hub::connection::CLOSE_GRACE + std::time::Duration::from_secs(1);
    if !hub.connections_closed(grace).await {
        tracing::warn!(
            open = hub.rooms.connection_count(),
            "connections still closing at exit"
        );
    }
    drop(metrics_server);
    if let Some(refresher) = refresher {
        refresher.abort();
    }
    built.sweeper.abort();
    runtime.close();
    Ok(served?)
}

/// The object store areas of uploads and of the embedded registry: by
/// default `DATA_DIR/blobs` and `DATA_DIR/registry/blobs` (where they have
/// always been), else `uploads/` and `registry/` under the configured URL.
async fn open_areas(config: &ServeConfig) -> Result<(Area, Area), ServeError> {
    let fsync = config.uploads.fsync;
    let (mut uploads, mut registry) = match &config.object_store_url {
        Some(url) => (
            url.open("uploads", fsync).await?,
            url.open("registry", true).await?,
        ),
        None => (
            ObjectStoreUrl::file(&config.data_dir)
                .open("blobs", fsync)
                .await?,
            ObjectStoreUrl::file(&config.data_dir.join("registry"))
                .open("blobs", true)
                .await?,
        ),
    };
    // Timed and counted whatever the backend (docs/metrics.md).
    uploads.store = Instrumented::wrap(uploads.store, "uploads");
    registry.store = Instrumented::wrap(registry.store, "registry");
    Ok((uploads, registry))
}

/// The upload store's blobs; on a local store, what a killed process left
/// half-written is removed first.
fn open_blobs(area: Area, fsync: bool) -> Result<Blobs, ServeError> {
    let Some(root) = area.local_root else {
        return Ok(Blobs::new(area.store));
    };
    let blobs = Blobs::local(area.store, root.clone(), fsync);
    let cleared = blobs
        .clear_partial()
        .map_err(|source| ServeError::DataDir {
            path: root.display().to_string(),
            source,
        })?;
    if cleared > 0 {
        tracing::info!(
            files = cleared,
            "removed merge files left by a previous run"
        );
    }
    Ok(blobs)
}

/// A demo secret (session key, admin or publish token): kept in the data
/// directory so it survives a restart, generated on first start, readable
/// by the server's user only (0600).
fn demo_secret(data_dir: &std::path::Path, file: &str) -> Result<SecretString, ServeError> {
    let path = data_dir.join(file);
    if let Ok(key) = std::fs::read_to_string(&path)
        && key.trim().len() >= crate::auth::MIN_KEY_BYTES
    {
        restrict_to_owner(&path)?;
        return Ok(SecretString::from(key.trim()));
    }
    let key = hex::encode(rand::random::<[u8; 32]>());
    write_private(&path, &key)?;
    tracing::warn!(path = %path.display(), "demo mode: generated a secret");
    Ok(SecretString::from(key))
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())?;
    // A file created earlier with wider permissions keeps them: narrow them.
    restrict_to_owner(path)
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// Makes a secret file readable and writable by its owner only.
#[cfg(unix)]
fn restrict_to_owner(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict_to_owner(_path: &std::path::Path) -> std::io::Result<()> {
    Ok(())
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`); in colour only
/// on a terminal (and without `NO_COLOR`), so log files and pipes get plain
/// text.
pub fn init_tracing(format: crate::cli::LogFormat) {
    use std::io::IsTerminal as _;
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let fmt = match format {
        crate::cli::LogFormat::Json => fmt
            .json()
            .with_current_span(true)
            .with_filter(filter)
            .boxed(),
        crate::cli::LogFormat::Text => {
            let colour = std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            fmt.with_ansi(colour).with_filter(filter).boxed()
        }
    };
    // Statement timings reach the metrics whatever the log filter says.
    let statements = crate::metrics::database::StatementTimes.with_filter(
        tracing_subscriber::filter::Targets::new()
            .with_target(crate::metrics::database::TARGET, tracing::Level::DEBUG),
    );
    tracing_subscriber::registry()
        .with(fmt)
        .with(statements)
        .init();
}
