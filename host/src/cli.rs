//! The command line. Every flag can also come from a `HANGAR_*`
//! environment variable and from `hangar.toml` (flag > environment > file >
//! default).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use hangar_registry::http::Publisher;
use hangar_registry::signature::PublisherKey;
use secrecy::SecretString;

/// Parses a secret: kept out of `Debug` output and logs.
fn secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value))
}

/// Hangar: a host for sandboxed WebAssembly plugins.
#[derive(Debug, Parser)]
#[command(name = "hangar", version, about)]
pub struct Cli {
    /// Log lines as human-readable text or as one JSON object per line
    /// (with each span's fields: a request's id, a connection's id).
    #[arg(long, global = true, env = "HANGAR_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// `hangar new`.
#[derive(Debug, Clone, Args)]
pub struct NewArgs {
    /// What the plugin is: `chat-plugin`, `upload-hook` or `material`.
    #[arg(value_parser = ["chat-plugin", "upload-hook", "material"])]
    pub world: String,
    /// The plugin's name (1-64 lowercase letters, digits and '-').
    pub name: String,
    /// The language of the project.
    #[arg(long, value_parser = ["rust", "python", "js"], default_value = "rust")]
    pub lang: String,
    /// Where to create it [default: ./NAME]; must not exist or be empty.
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// How log lines are written (to standard error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One line of text per event (coloured on a terminal).
    Text,
    /// One JSON object per event.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(Box<ServeArgs>),
    /// Mint a session token for a user (prints it).
    Token(TokenArgs),
    /// Upload a file to a server's upload store (resumes when run again).
    Upload(UploadArgs),
    /// Publish a component to a registry.
    Publish(PublishArgs),
    /// Manage a server's plugins through its admin API.
    Plugins(PluginsArgs),
    /// The plugin registry.
    #[command(subcommand)]
    Registry(RegistryCommand),
    /// Copy a stopped installation's embedded state (SQLite and the data
    /// directory's blobs) to PostgreSQL and, optionally, an object store.
    MigrateData(MigrateArgs),
    /// Start a plugin project from a template that builds, in Rust,
    /// Python or JavaScript.
    New(NewArgs),
    /// Call a plugin component without a server, under the runtime a
    /// server gives it; one JSON line per call.
    Test(Box<crate::commands::test::TestArgs>),
    /// Internal: compiles the component on standard input for a server
    /// (its child process), writing the artifact to standard output.
    #[command(hide = true)]
    CompileComponent {
        /// The server's engine settings, as JSON.
        #[arg(long)]
        engine: String,
    },
    /// The configuration `hangar serve` would run with (same flags,
    /// variables and file).
    #[command(subcommand)]
    Config(ConfigCommand),
}

/// `hangar config ...`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Validate: exit 0 with a summary, or 1 naming the refused value.
    Check(Box<ServeArgs>),
    /// Print the effective configuration (secrets shown as set or not).
    Show(Box<ServeArgs>),
}

/// `hangar migrate-data`.
#[derive(Debug, Clone, Args)]
pub struct MigrateArgs {
    /// The installation's data directory (its server must be stopped).
    #[arg(long, env = "HANGAR_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// The PostgreSQL database to copy into (`postgres://...`); its Hangar
    /// tables must be empty.
    #[arg(long, hide_env_values = true)]
    pub to_database_url: String,
    /// The object store to copy upload and registry blobs into
    /// (`file:///DIR` or `s3://BUCKET/PREFIX`, S3 settings from the AWS_*
    /// variables); without it, blobs stay in the data directory.
    #[arg(long)]
    pub to_object_store_url: Option<String>,
}

/// `hangar registry ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum RegistryCommand {
    /// Run a registry on its own (hosts fetch from it with --registry-url).
    Serve(RegistryArgs),
    /// Make a publisher signing key (for `hangar publish --sign`): writes
    /// the private key (PKCS#8 PEM, readable by you only) and prints the
    /// public key hosts list in `trusted_publishers`.
    Keygen(KeygenArgs),
}

/// `hangar registry keygen`.
#[derive(Debug, Clone, Args)]
pub struct KeygenArgs {
    /// Where to write the private key; an existing file is never replaced.
    pub out: PathBuf,
}

/// `hangar publish`.
#[derive(Debug, Clone, Args)]
pub struct PublishArgs {
    /// The component (`.wasm`).
    pub file: PathBuf,
    /// Package name.
    #[arg(long)]
    pub name: String,
    /// Semantic version.
    #[arg(long)]
    pub version: String,
    /// The registry (a host's embedded registry, or `hangar registry serve`).
    #[arg(
        long,
        env = "HANGAR_REGISTRY_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub registry: String,
    /// Publish token.
    #[arg(long, env = "HANGAR_PUBLISH_TOKEN", hide_env_values = true, value_parser = secret)]
    pub token: SecretString,
    /// Extra certificate authorities (a PEM file) trusted for an HTTPS
    /// registry, beside the system's.
    #[arg(long, env = "HANGAR_REGISTRY_CA")]
    pub registry_ca: Option<PathBuf>,
    /// Sign the name, version and digest with this ed25519 private key
    /// (PKCS#8 PEM, from `hangar registry keygen` or `openssl genpkey
    /// -algorithm ed25519`).
    #[arg(long, env = "HANGAR_SIGNING_KEY")]
    pub sign: Option<PathBuf>,
}

/// `hangar plugins`.
#[derive(Debug, Clone, Args)]
pub struct PluginsArgs {
    /// The server.
    #[arg(
        long,
        env = "HANGAR_SERVER",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub server: String,
    /// Admin token.
    #[arg(
        long,
        env = "HANGAR_ADMIN_TOKEN",
        hide_env_values = true,
        global = true,
        value_parser = secret
    )]
    pub admin_token: Option<SecretString>,
    /// What to do.
    #[command(subcommand)]
    pub action: PluginsAction,
}

/// `hangar plugins ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum PluginsAction {
    /// List plugins with version, state and call figures.
    List,
    /// Activate a version (fetched from the registry, then hot-swapped).
    Activate {
        /// Plugin.
        name: String,
        /// Version.
        version: String,
        /// How long the server waits before answering with a job to
        /// follow, ms [default: the server's, 10000].
        #[arg(long)]
        wait_ms: Option<u64>,
    },
    /// Swap back to the previous version.
    Rollback {
        /// Plugin.
        name: String,
    },
    /// Set the plugin's JSON configuration from a file (`-` for stdin).
    Config {
        /// Plugin.
        name: String,
        /// JSON file.
        file: PathBuf,
    },
    /// Let chains call the plugin again.
    Enable {
        /// Plugin.
        name: String,
    },
    /// Make chains skip the plugin.
    Disable {
        /// Plugin.
        name: String,
    },
    /// Show a plugin's runtime settings, or change some (the others keep
    /// their values; applied from its next call, on every node).
    Settings {
        /// Plugin.
        name: String,
        /// What to change.
        #[command(flatten)]
        change: SettingsChange,
    },
    /// Show the order of a chain, or set it.
    Chain {
        /// `chat-messages` or `uploads`.
        hook: String,
        /// The plugins in calling order; none: show the order.
        plugins: Vec<String>,
    },
}

/// Changes to one plugin's settings (`hangar plugins settings`).
#[derive(Debug, Clone, Default, Args)]
pub struct SettingsChange {
    /// Forget every earlier change first: back to the server's defaults.
    #[arg(long)]
    pub reset: bool,
    /// `per-call` (a fresh instance per call) or `pooled` (warm instances,
    /// with --max-uses and --max-idle).
    #[arg(long, value_parser = ["per-call", "pooled"])]
    pub isolation: Option<String>,
    /// Calls one pooled instance serves before it is dropped.
    #[arg(long)]
    pub max_uses: Option<u32>,
    /// Idle pooled instances kept.
    #[arg(long)]
    pub max_idle: Option<usize>,
    /// Guest time of one call, ms.
    #[arg(long)]
    pub deadline_ms: Option<u64>,
    /// Time one call may spend in host functions, ms.
    #[arg(long)]
    pub host_budget_ms: Option<u64>,
    /// Memory cap, MiB.
    #[arg(long)]
    pub memory_mib: Option<usize>,
    /// Key-value quota, bytes.
    #[arg(long)]
    pub kv_quota_bytes: Option<u64>,
    /// What answers when the plugin fails.
    #[arg(long, value_parser = ["fail-open", "fail-closed"])]
    pub failure_policy: Option<String>,
    /// Consecutive failures before quarantine.
    #[arg(long)]
    pub quarantine_after: Option<u32>,
}

/// `hangar registry serve`.
#[derive(Debug, Clone, Args)]
pub struct RegistryArgs {
    /// Address to listen on.
    #[arg(long, env = "HANGAR_LISTEN", default_value = "127.0.0.1:8081")]
    pub listen: SocketAddr,
    /// Directory for the registry's database and blobs.
    #[arg(long, env = "HANGAR_REGISTRY_DIR", default_value = "registry")]
    pub dir: PathBuf,
    /// Publish tokens, `NAME=TOKEN` (comma-separated).
    #[arg(
        long,
        env = "HANGAR_PUBLISH_TOKENS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    pub publish_tokens: Vec<Publisher>,
    /// Largest component accepted, bytes.
    #[arg(long, default_value_t = hangar_registry::store::DEFAULT_MAX_COMPONENT_BYTES)]
    pub max_component_bytes: usize,
    /// Serve HTTPS with this certificate chain (PEM, leaf first); needs
    /// `--tls-key`.
    #[arg(long, env = "HANGAR_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, env = "HANGAR_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// `hangar upload`.
#[derive(Debug, Clone, Args)]
pub struct UploadArgs {
    /// The file.
    pub file: PathBuf,
    /// The server's URL.
    #[arg(long, env = "HANGAR_SERVER", default_value = "http://127.0.0.1:8080")]
    pub server: String,
    /// Session token; without one, a demo server is asked for a session of `--user`.
    #[arg(long, env = "HANGAR_TOKEN", hide_env_values = true, value_parser = secret)]
    pub token: Option<SecretString>,
    /// User for a demo session (when no token is given).
    #[arg(long, default_value = "cli")]
    pub user: String,
    /// Chunks sent at once.
    #[arg(long, default_value_t = 4)]
    pub parallel: usize,
    /// Tries per chunk after the first.
    #[arg(long, default_value_t = 5)]
    pub retries: u32,
    /// Preferred chunk size in MiB (the server decides).
    #[arg(long)]
    pub chunk_mib: Option<u64>,
    /// Do not ask for instant upload.
    #[arg(long)]
    pub no_instant: bool,
    /// Where the hashes of unfinished uploads are kept, so an interrupted
    /// upload run again does not hash the file again [default:
    /// `$XDG_CACHE_HOME/hangar/hashes`, else `~/.cache/hangar/hashes`].
    #[arg(long, env = "HANGAR_HASH_CACHE")]
    pub hash_cache: Option<PathBuf>,
    /// Hash the file even if its hashes are cached, and keep none.
    #[arg(long)]
    pub no_hash_cache: bool,
    /// Print the stored file as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `hangar token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// The user id.
    #[arg(long)]
    pub user: String,
    /// `customer`, `agent` or `admin`.
    #[arg(long, default_value = "customer")]
    pub role: String,
    /// Seconds the token stays valid.
    #[arg(long, default_value_t = 3600)]
    pub ttl_secs: u64,
    /// The session signing key (at least 32 bytes).
    #[arg(long, env = "HANGAR_SESSION_KEY", hide_env_values = true, value_parser = secret)]
    pub session_key: SecretString,
}

/// `hangar serve`.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML); `./hangar.toml` is read when present.
    #[arg(long, env = "HANGAR_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Serve `/metrics` on this address only (e.g. an internal interface)
    /// instead of on the main listener [default: the main listener].
    #[arg(long)]
    pub metrics_listen: Option<SocketAddr>,
    /// Directory for the database and stored files [default: ./data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Database: `sqlite://PATH` or `postgres://USER@HOST/DB`
    /// [default: sqlite DATA_DIR/hangar.db].
    #[arg(long)]
    pub database_url: Option<crate::config::DatabaseUrl>,
    /// Object store for uploads and registry blobs: `file:///DIR` or
    /// `s3://BUCKET/PREFIX` (S3 settings from the usual AWS_* variables)
    /// [default: the data directory].
    #[arg(long)]
    pub object_store_url: Option<String>,
    /// Directory for compiled components [default: DATA_DIR/cache].
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Load and activate the example plugins.
    #[arg(long)]
    pub demo: bool,
    /// Folder with the example plugins' `demo.toml` [default: ./plugins].
    #[arg(long)]
    pub plugins_dir: Option<PathBuf>,
    /// Default deadline of one plugin call, in milliseconds [default: 200].
    #[arg(long)]
    pub plugin_deadline_ms: Option<u64>,
    /// Default memory cap of a plugin, in MiB [default: 128].
    #[arg(long)]
    pub plugin_memory_mib: Option<usize>,
    /// Default key-value quota of a plugin, in bytes [default: 1048576].
    #[arg(long)]
    pub plugin_kv_quota_bytes: Option<u64>,
    /// Consecutive failures before a plugin is quarantined [default: 5].
    #[arg(long)]
    pub quarantine_after: Option<u32>,
    /// Key that signs session tokens, at least 32 bytes [demo: generated].
    #[arg(long, value_parser = secret)]
    pub session_key: Option<SecretString>,
    /// URL clients reach this node at, for node discovery [default: from the Host header].
    #[arg(long)]
    pub public_url: Option<String>,
    /// Broker that joins this node to a cluster: `nats://HOST:PORT`. Needs a
    /// shared `--database-url` (PostgreSQL), `--object-store-url` and
    /// `--public-url` [default: none, the node is alone].
    #[arg(long)]
    pub broker: Option<String>,
    /// Prefix of the cluster's broker subjects; the nodes of one cluster
    /// share it [default: hangar].
    #[arg(long)]
    pub broker_prefix: Option<String>,
    /// This node's id in the cluster [default: generated once, kept in DATA_DIR/node-id].
    #[arg(long)]
    pub node_id: Option<String>,
    /// Origins allowed to open chat WebSockets, comma-separated [default: the server's own].
    #[arg(long, value_delimiter = ',')]
    pub allowed_origins: Option<Vec<String>>,
    /// Interval of the server's WebSocket pings, ms [default: 25000].
    #[arg(long)]
    pub heartbeat_ms: Option<u64>,
    /// Silence after which a connection is closed, ms [default: 60000].
    #[arg(long)]
    pub heartbeat_timeout_ms: Option<u64>,
    /// Window for merging outbound messages into one batch, ms [default: 20].
    #[arg(long)]
    pub batch_window_ms: Option<u64>,
    /// Registry to fetch plugins from [default: this server's embedded registry].
    #[arg(long)]
    pub registry_url: Option<String>,
    /// Extra certificate authorities (a PEM file) trusted for an HTTPS
    /// registry, beside the system's.
    #[arg(long)]
    pub registry_ca: Option<PathBuf>,
    /// Publisher keys whose signatures this host accepts
    /// (`ed25519:<base64>`, comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub trusted_publishers: Option<Vec<PublisherKey>>,
    /// Load only versions signed by a trusted publisher.
    #[arg(long)]
    pub require_signatures: bool,
    /// Token of the admin API (demo: generated and kept in the data directory).
    #[arg(long, value_parser = secret)]
    pub admin_token: Option<SecretString>,
    /// Publish tokens of the embedded registry, `NAME=TOKEN` (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = secret)]
    pub publish_tokens: Option<Vec<SecretString>>,
    /// Largest file accepted by the upload store, bytes [default: 50 GiB].
    #[arg(long)]
    pub max_upload_bytes: Option<u64>,
    /// Idle time after which an incomplete upload expires, ms [default: 86400000].
    #[arg(long)]
    pub upload_ttl_ms: Option<u64>,
    /// How often expired uploads are removed, ms [default: 60000].
    #[arg(long)]
    pub upload_sweep_ms: Option<u64>,
}
