//! The HTTP server: shared state, the router, start-up and shutdown.

use std::future::Future;
use std::sync::Arc;

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tokio::net::TcpListener;

use crate::auth::TokenKeys;
use crate::config::ServeConfig;
use crate::deploy::fetch::Fetcher;
use crate::deploy::{DeployError, Deployer};
use crate::error::ApiError;
use crate::history::HistoryStore;
use crate::history::sqlite::SqliteHistory;
use crate::hub::Hub;
use crate::plugins::{Runtime, RuntimeConfig, StartError};
use crate::store::alerts::Alerts;
use crate::store::{Database, StoreError};
use crate::upload::UploadStore;
use crate::upload::blobs::Blobs;
use crate::upload::index::SqliteIndex;
use hangar_registry::http::{Publisher, RegistryApi};
use hangar_registry::store::{Registry, RegistryError};

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
    /// The upload store.
    pub uploads: Arc<UploadStore>,
    /// Activates, rolls back and configures plugins from the registry.
    pub deployer: Deployer,
    /// The admin API's token; `None` turns the admin API off.
    pub admin_token: Option<Arc<str>>,
    /// UI materials, loaded on demand.
    pub materials: crate::materials::Materials,
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
    /// The blob directory could not be opened.
    #[error("cannot open the blob store in {path}: {source}")]
    Blobs {
        /// The directory.
        path: String,
        /// Why.
        source: object_store::Error,
    },
    /// The embedded registry could not be opened.
    #[error("embedded registry: {0}")]
    Registry(#[from] RegistryError),
    /// Saved plugins could not be restored.
    #[error("restoring plugins: {0}")]
    Deploy(#[from] DeployError),
    /// Serving failed.
    #[error("server error: {0}")]
    Io(#[from] std::io::Error),
}

/// The router of every route the server answers.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(crate::admin::routes())
        .merge(crate::web::routes())
        .merge(crate::materials::http::routes())
        .merge(crate::pages::http::routes())
        .merge(crate::hub::http::routes())
        .merge(crate::history::http::routes())
        .merge(crate::lbs::routes())
        .merge(crate::upload::http::routes())
        .fallback(not_found)
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no route for {}", uri.path()))
}

async fn healthz(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({"status": "ok", "plugins": state.runtime.list().len()}))
}

/// Opens the data directory and database, starts the plugin runtime
/// (loading the example plugins in demo mode), binds, and serves until
/// `shutdown` completes. Prints `listening on http://ADDR` once `/healthz`
/// answers.
///
/// # Errors
/// [`ServeError`] saying what could not be set up.
pub async fn serve(
    config: ServeConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    // Every WebSocket is a file descriptor: use all the process may have.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open-file limit"),
        Err(err) => tracing::warn!(error = %err, "could not raise the open-file limit"),
    }
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ServeError::DataDir {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    let db = Database::open(&config.data_dir).await?;
    let alerts = Alerts::new(db.clone());
    let runtime = Arc::new(Runtime::start(
        RuntimeConfig::new(config.cache_dir.clone()),
        db.clone(),
        alerts.clone(),
    )?);
    let session_key = match &config.session_key {
        Some(key) => key.clone(),
        None if config.demo => demo_secret(&config.data_dir, "demo-session.key")?,
        None => return Err(ServeError::NoSessionKey),
    };
    let admin_token: Option<Arc<str>> = match &config.admin_token {
        Some(token) => Some(token.as_str().into()),
        None if config.demo => Some(demo_secret(&config.data_dir, "admin.token")?.into()),
        None => None,
    };
    let mut publishers = config.publishers.clone();
    if publishers.is_empty() && config.demo {
        publishers.push(Publisher {
            name: "demo".into(),
            token: demo_secret(&config.data_dir, "publish.token")?,
        });
    }
    let registry = Registry::open(
        &config.data_dir.join("registry"),
        config.max_component_bytes,
    )
    .await?;
    let tokens = TokenKeys::new(session_key.as_bytes())?;
    let uploads = Arc::new(UploadStore::new(
        config.uploads.clone(),
        Arc::new(SqliteIndex::new(db.clone())),
        open_blobs(&config)?,
        runtime.clone(),
        alerts.clone(),
        session_key.as_bytes(),
    ));
    let sweeper = crate::upload::sweep::spawn(uploads.clone());
    let history: Arc<dyn HistoryStore> = Arc::new(SqliteHistory::new(db.clone()));
    let hub = Arc::new(Hub::new(
        config.hub.clone(),
        history,
        runtime.clone(),
        alerts.clone(),
        tokens,
        uploads.clone(),
    ));
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.listen,
            source,
        })?;
    let addr = listener.local_addr()?;
    // The host fetches over HTTP even from its own embedded registry.
    let registry_url = config
        .registry_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let deployer = Deployer::new(
        runtime.clone(),
        db.clone(),
        Fetcher::new(&registry_url),
        config.plugin_defaults.clone(),
    );
    let state = AppState {
        runtime: runtime.clone(),
        db,
        alerts,
        hub: hub.clone(),
        demo: config.demo,
        public_url: config.public_url.clone(),
        uploads,
        materials: crate::materials::Materials::new(deployer.clone()),
        deployer: deployer.clone(),
        admin_token: admin_token.clone(),
    };
    let router = app(state).merge(RegistryApi::new(registry.clone(), publishers.clone()).router());
    let closing = hub.clone();
    let shutdown = async move {
        shutdown.await;
        // WebSockets never finish on their own: tell them to go away.
        closing.shut_down();
    };
    let serving = tokio::spawn(
        axum::serve(listener, router)
            .with_graceful_shutdown(shutdown)
            .into_future(),
    );
    // Plugins come back before the server says it is listening.
    if config.demo && !deployer.has_deployments().await? {
        crate::demo::install(&registry, &deployer, &config.plugins_dir).await?;
    } else {
        deployer.restore().await?;
    }
    tracing::info!(%addr, registry = %registry_url, "hangar is serving");
    println!("listening on http://{addr}");
    if config.demo {
        println!("  plugins:  http://{addr}/api/plugins");
        println!(
            "  sessions: POST http://{addr}/api/session {{\"user\": \"alice\", \"role\": \"customer\"}}"
        );
        println!("  chat:     ws://{addr}/ws?v=1&token=TOKEN");
        if let Some(token) = &admin_token {
            println!("  admin token (HANGAR_ADMIN_TOKEN):     {token}");
        }
        for publisher in &publishers {
            println!(
                "  publish token (HANGAR_PUBLISH_TOKEN): {} (publisher {})",
                publisher.token, publisher.name
            );
        }
    }
    let served = serving.await.map_err(std::io::Error::other)?;
    sweeper.abort();
    runtime.close();
    Ok(served?)
}

/// Upload blobs live in `DATA_DIR/blobs`.
fn open_blobs(config: &ServeConfig) -> Result<Blobs, ServeError> {
    let dir = config.data_dir.join("blobs");
    let path = dir.display().to_string();
    std::fs::create_dir_all(&dir).map_err(|source| ServeError::DataDir {
        path: path.clone(),
        source,
    })?;
    let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)
        .map_err(|source| ServeError::Blobs {
            path: path.clone(),
            source,
        })?
        .with_fsync(config.uploads_fsync)
        .with_automatic_cleanup(true);
    let blobs = Blobs::local(Arc::new(store), dir, config.uploads_fsync);
    let cleared = blobs
        .clear_staging()
        .map_err(|source| ServeError::DataDir {
            path: format!("{path}/staging"),
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
/// directory so it survives a restart, generated on first start.
fn demo_secret(data_dir: &std::path::Path, file: &str) -> Result<String, ServeError> {
    let path = data_dir.join(file);
    if let Ok(key) = std::fs::read_to_string(&path)
        && key.trim().len() >= crate::auth::MIN_KEY_BYTES
    {
        return Ok(key.trim().to_owned());
    }
    let key = hex::encode(rand::random::<[u8; 32]>());
    std::fs::write(&path, &key)?;
    tracing::warn!(path = %path.display(), "demo mode: generated a secret");
    Ok(key)
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
pub fn init_tracing() {
    use std::io::IsTerminal as _;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(colour)
        .init();
}
