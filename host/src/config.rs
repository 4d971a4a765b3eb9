//! Configuration of `hangar serve`, resolved from flags, `HANGAR_*`
//! environment variables (clap reads both) and a TOML file.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use crate::cli::ServeArgs;
use crate::hub::HubConfig;
use crate::materials::MaterialsConfig;
use crate::plugins::PluginSettings;
use crate::server::listener::HttpLimits;
use crate::upload::UploadConfig;
use crate::upload::sizing::{MAX_CHUNKS, MIN_CHUNK_BYTES};

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "hangar.toml";

/// Why the configuration is unusable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this configuration.
    #[error("invalid configuration file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line.
        message: String,
    },
    /// A value is out of range.
    #[error("invalid setting {name}: {message}")]
    Invalid {
        /// The setting.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// `hangar.toml`. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileConfig {
    /// Address to listen on.
    pub listen: Option<SocketAddr>,
    /// Where `/metrics` is served instead of the main listener.
    pub metrics_listen: Option<SocketAddr>,
    /// Data directory.
    pub data_dir: Option<PathBuf>,
    /// Database URL (`sqlite://...` or `postgres://...`).
    pub database_url: Option<String>,
    /// Object store URL (`file:///...` or `s3://bucket/prefix`).
    pub object_store_url: Option<String>,
    /// Compiled-component cache directory.
    pub cache_dir: Option<PathBuf>,
    /// Load the example plugins.
    pub demo: Option<bool>,
    /// Folder of the example plugins.
    pub plugins_dir: Option<PathBuf>,
    /// Defaults for every plugin.
    pub plugins: PluginDefaults,
    /// Session signing key.
    pub session_key: Option<SecretString>,
    /// URL clients reach this node at.
    pub public_url: Option<String>,
    /// Broker that joins the node to a cluster (`nats://...`).
    pub broker: Option<String>,
    /// Prefix of the cluster's broker subjects.
    pub broker_prefix: Option<String>,
    /// This node's id.
    pub node_id: Option<String>,
    /// Origins allowed to open chat WebSockets.
    pub allowed_origins: Option<Vec<String>>,
    /// Chat hub tuning.
    pub hub: HubFile,
    /// Upload store tuning.
    pub uploads: UploadsFile,
    /// Registry to fetch plugins from.
    pub registry_url: Option<String>,
    /// Extra certificate authorities (PEM) trusted for an HTTPS registry.
    pub registry_ca: Option<PathBuf>,
    /// Publisher keys whose signatures the host accepts.
    pub trusted_publishers: Option<Vec<hangar_registry::signature::PublisherKey>>,
    /// Load only versions a trusted publisher signed.
    pub require_signatures: Option<bool>,
    /// Admin API token.
    pub admin_token: Option<SecretString>,
    /// Publish tokens of the embedded registry, `NAME=TOKEN`.
    pub publish_tokens: Option<Vec<SecretString>>,
    /// Largest component the embedded registry accepts, bytes.
    pub max_component_bytes: Option<usize>,
    /// HTTP listener limits.
    pub http: HttpLimits,
    /// Material limits.
    pub materials: MaterialsConfig,
}

/// `[uploads]` in `hangar.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UploadsFile {
    /// Largest file, bytes.
    pub max_file_bytes: Option<u64>,
    /// Largest chunk, bytes.
    pub max_chunk_bytes: Option<u64>,
    /// Idle time before an incomplete upload expires, ms.
    pub ttl_ms: Option<u64>,
    /// Interval of the expiry sweep, ms.
    pub sweep_ms: Option<u64>,
    /// Chunk bodies in memory at once, bytes.
    pub body_budget_bytes: Option<usize>,
    /// Early chunks kept in memory for merging, bytes.
    pub merge_budget_bytes: Option<usize>,
    /// Validity of signed download links, seconds.
    pub link_ttl_secs: Option<u64>,
    /// Flush every stored chunk and object to disk before acknowledging it.
    pub fsync: Option<bool>,
}

/// `[hub]` in `hangar.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HubFile {
    /// Ping interval, ms.
    pub heartbeat_ms: Option<u64>,
    /// Silence before closing, ms.
    pub timeout_ms: Option<u64>,
    /// Batch window, ms.
    pub batch_window_ms: Option<u64>,
    /// Messages that flush a batch at once.
    pub batch_max_messages: Option<usize>,
    /// Outbound queue per connection.
    pub outbox_capacity: Option<usize>,
    /// Longest message text, bytes.
    pub max_text_bytes: Option<usize>,
    /// Largest frame, bytes.
    pub max_frame_bytes: Option<usize>,
    /// Sends per second per connection.
    pub send_rate_per_sec: Option<u32>,
    /// Burst of sends per connection.
    pub send_burst: Option<u32>,
    /// Most messages recovered on join.
    pub recovery_limit: Option<u64>,
}

/// `[plugins]` in `hangar.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginDefaults {
    /// Deadline of one call, in milliseconds.
    pub deadline_ms: Option<u64>,
    /// Time one call may spend in host functions, in milliseconds.
    pub host_budget_ms: Option<u64>,
    /// Memory cap, in MiB.
    pub memory_mib: Option<usize>,
    /// Key-value quota, in bytes.
    pub kv_quota_bytes: Option<u64>,
    /// Consecutive failures before quarantine.
    pub quarantine_after: Option<u32>,
}

/// The resolved configuration of `hangar serve`.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where `/metrics` is served; `None`: on the main listener.
    pub metrics_listen: Option<SocketAddr>,
    /// Database and stored files.
    pub data_dir: PathBuf,
    /// Where the host's and the embedded registry's metadata live:
    /// `sqlite://...` (default: `hangar.db` in the data directory) or
    /// `postgres://...`.
    pub database_url: String,
    /// Where upload and registry blobs live: `None` keeps them in the data
    /// directory (`blobs/`, `registry/blobs/`); a URL (`file:///DIR` or
    /// `s3://BUCKET/PREFIX`) keeps them in its `uploads/` and `registry/`.
    pub object_store_url: Option<hangar_storage::ObjectStoreUrl>,
    /// Compiled components.
    pub cache_dir: PathBuf,
    /// Whether to load the example plugins.
    pub demo: bool,
    /// Folder with `demo.toml`.
    pub plugins_dir: PathBuf,
    /// Settings every plugin starts with.
    pub plugin_defaults: PluginSettings,
    /// Session signing key; generated and kept in the data directory in demo mode.
    pub session_key: Option<SecretString>,
    /// URL clients reach this node at.
    pub public_url: Option<String>,
    /// The cluster this node joins; `None`: it is alone.
    pub cluster: Option<crate::cluster::ClusterConfig>,
    /// This node's id; `None`: the one kept in the data directory.
    pub node_id: Option<String>,
    /// Chat hub behaviour.
    pub hub: HubConfig,
    /// Upload store behaviour.
    pub uploads: UploadConfig,
    /// Flush uploaded bytes to disk before acknowledging them.
    pub uploads_fsync: bool,
    /// Registry to fetch plugins from; `None`: the embedded one.
    pub registry_url: Option<String>,
    /// Extra certificate authorities (PEM) trusted for an HTTPS registry,
    /// beside the system's.
    pub registry_ca: Option<PathBuf>,
    /// Which publisher signatures the host requires.
    pub trust: crate::deploy::TrustPolicy,
    /// Admin API token; `None` outside demo mode disables the admin API.
    pub admin_token: Option<SecretString>,
    /// Who may publish to the embedded registry.
    pub publishers: Vec<hangar_registry::http::Publisher>,
    /// Largest component the embedded registry accepts.
    pub max_component_bytes: usize,
    /// HTTP listener limits.
    pub http: HttpLimits,
    /// Material limits.
    pub materials: MaterialsConfig,
}

impl ServeConfig {
    /// Resolves flags and environment (already merged by clap) over the
    /// configuration file over the defaults.
    ///
    /// # Errors
    /// When the file cannot be read or parsed, or a value is out of range.
    pub fn resolve(args: &ServeArgs) -> Result<Self, ConfigError> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                read_file(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => FileConfig::default(),
        };
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("data"));
        let cache_dir = args
            .cache_dir
            .clone()
            .or(file.cache_dir)
            .unwrap_or_else(|| data_dir.join("cache"));
        let max_component_bytes = file
            .max_component_bytes
            .unwrap_or(hangar_registry::store::DEFAULT_MAX_COMPONENT_BYTES);
        // A published blob is renamed into place: on S3 a server-side copy,
        // which S3 limits to 5 GiB.
        if max_component_bytes as u64 > 5 << 30 {
            return Err(invalid(
                "max_component_bytes",
                "at most 5 GiB (a registry blob is copied into place on S3)",
            ));
        }
        let object_store_url = args
            .object_store_url
            .clone()
            .or(file.object_store_url)
            .map(|url| hangar_storage::ObjectStoreUrl::parse(&url))
            .transpose()
            .map_err(|err| invalid("object_store_url", &err.to_string()))?;
        let database_url = args
            .database_url
            .clone()
            .or(file.database_url)
            .unwrap_or_else(|| crate::store::Database::default_url(&data_dir));
        let public_url = args.public_url.clone().or(file.public_url);
        let cluster = match args.broker.clone().or(file.broker) {
            None => None,
            Some(broker) => {
                // Every node must see the same state: a node's own SQLite
                // file or data directory would split the cluster.
                if !database_url.starts_with("postgres") {
                    return Err(invalid(
                        "broker",
                        "a cluster shares one database: set database_url to postgres://...",
                    ));
                }
                if object_store_url.is_none() {
                    return Err(invalid(
                        "broker",
                        "a cluster shares one object store: set object_store_url (s3://...)",
                    ));
                }
                if public_url.is_none() {
                    return Err(invalid(
                        "broker",
                        "a node in a cluster is listed by its public_url: set it",
                    ));
                }
                if !broker.starts_with("nats://") && !broker.starts_with("tls://") {
                    return Err(invalid("broker", "expected nats://HOST:PORT"));
                }
                let prefix = args
                    .broker_prefix
                    .clone()
                    .or(file.broker_prefix)
                    .unwrap_or_else(|| crate::cluster::DEFAULT_PREFIX.to_owned());
                if prefix.is_empty()
                    || prefix.starts_with('.')
                    || prefix.ends_with('.')
                    || prefix.contains("..")
                    || !prefix
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                {
                    return Err(invalid(
                        "broker_prefix",
                        "use ASCII letters, digits, '-', '_' and inner dots",
                    ));
                }
                Some(crate::cluster::ClusterConfig { broker, prefix })
            }
        };
        let mut plugin_defaults = PluginSettings::default();
        let limits = &mut plugin_defaults.limits;
        if let Some(ms) = args.plugin_deadline_ms.or(file.plugins.deadline_ms) {
            if ms == 0 {
                return Err(invalid("plugin deadline_ms", "must be at least 1"));
            }
            limits.deadline = Duration::from_millis(ms);
        }
        if let Some(ms) = file.plugins.host_budget_ms {
            if ms == 0 {
                return Err(invalid("plugin host_budget_ms", "must be at least 1"));
            }
            limits.host_budget = Duration::from_millis(ms);
        }
        if let Some(mib) = args.plugin_memory_mib.or(file.plugins.memory_mib) {
            // The engine's pool reserves this much per instance: a plugin
            // can never be given more than its slots hold.
            let pool_mib = crate::plugins::engine::EngineSettings::default().max_memory_bytes >> 20;
            if !(1..=pool_mib).contains(&mib) {
                return Err(invalid(
                    "plugin memory_mib",
                    &format!("must be 1 to {pool_mib} (the engine pool's memory per instance)"),
                ));
            }
            limits.memory_bytes = mib << 20;
        }
        if let Some(bytes) = args.plugin_kv_quota_bytes.or(file.plugins.kv_quota_bytes) {
            limits.kv_quota_bytes = bytes;
        }
        if let Some(n) = args.quarantine_after.or(file.plugins.quarantine_after) {
            if n == 0 {
                return Err(invalid("quarantine_after", "must be at least 1"));
            }
            plugin_defaults.quarantine_after = n;
        }
        let mut hub = HubConfig::default();
        let ms =
            |name: &'static str, value: Option<u64>| -> Result<Option<Duration>, ConfigError> {
                match value {
                    Some(0) => Err(invalid(name, "must be at least 1")),
                    other => Ok(other.map(Duration::from_millis)),
                }
            };
        if let Some(d) = ms("heartbeat_ms", args.heartbeat_ms.or(file.hub.heartbeat_ms))? {
            hub.heartbeat = d;
        }
        if let Some(d) = ms(
            "heartbeat timeout_ms",
            args.heartbeat_timeout_ms.or(file.hub.timeout_ms),
        )? {
            hub.timeout = d;
        }
        // 0 turns merging off: every message goes out in its own batch.
        if let Some(ms) = args.batch_window_ms.or(file.hub.batch_window_ms) {
            hub.batch_window = Duration::from_millis(ms);
        }
        if hub.timeout <= hub.heartbeat {
            return Err(invalid(
                "heartbeat timeout",
                "must be longer than the heartbeat interval",
            ));
        }
        let positive = |name: &'static str, v: usize| {
            if v == 0 {
                Err(invalid(name, "must be at least 1"))
            } else {
                Ok(v)
            }
        };
        if let Some(v) = file.hub.batch_max_messages {
            hub.batch_max_messages = positive("batch_max_messages", v)?;
        }
        if let Some(v) = file.hub.outbox_capacity {
            hub.outbox_capacity = positive("outbox_capacity", v)?;
        }
        let limits = &mut hub.limits;
        if let Some(v) = file.hub.max_text_bytes {
            limits.max_text_bytes = positive("max_text_bytes", v)?;
        }
        if let Some(v) = file.hub.max_frame_bytes {
            limits.max_frame_bytes = positive("max_frame_bytes", v)?;
        }
        if let Some(v) = file.hub.send_rate_per_sec {
            limits.send_rate_per_sec =
                u32::try_from(positive("send_rate_per_sec", v as usize)?).unwrap_or(u32::MAX);
        }
        if let Some(v) = file.hub.send_burst {
            limits.send_burst =
                u32::try_from(positive("send_burst", v as usize)?).unwrap_or(u32::MAX);
        }
        if let Some(v) = file.hub.recovery_limit {
            limits.recovery_limit = v;
        }
        hub.allowed_origins = args
            .allowed_origins
            .clone()
            .or(file.allowed_origins)
            .unwrap_or_default()
            .into_iter()
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        let session_key = args.session_key.clone().or(file.session_key);
        if session_key
            .as_ref()
            .is_some_and(|key| key.expose_secret().len() < crate::auth::MIN_KEY_BYTES)
        {
            return Err(invalid("session_key", "must be at least 32 bytes"));
        }
        let uploads = resolve_uploads(args, &file.uploads)?;
        let admin_token = args.admin_token.clone().or(file.admin_token);
        if admin_token
            .as_ref()
            .is_some_and(|t| t.expose_secret().len() < 16)
        {
            return Err(invalid("admin_token", "must be at least 16 characters"));
        }
        let publishers = match (&args.publish_tokens, &file.publish_tokens) {
            (Some(parsed), _) => parsed.clone(),
            (None, Some(tokens)) => tokens
                .iter()
                .map(|t| t.expose_secret().parse())
                .collect::<Result<Vec<_>, String>>()
                .map_err(|message| invalid("publish_tokens", &message))?,
            (None, None) => Vec::new(),
        };
        if file.http.max_connections == 0 {
            return Err(invalid("http max_connections", "must be at least 1"));
        }
        if file.http.header_timeout_ms == 0 {
            return Err(invalid("http header_timeout_ms", "must be at least 1"));
        }
        if file.http.anonymous_rate_per_sec == 0 || file.http.anonymous_burst == 0 {
            return Err(invalid(
                "http anonymous_rate_per_sec, anonymous_burst",
                "must be at least 1",
            ));
        }
        file.materials
            .validate()
            .map_err(|(name, message)| invalid(name, message))?;
        let trust = crate::deploy::TrustPolicy {
            trusted: args
                .trusted_publishers
                .clone()
                .or(file.trusted_publishers)
                .unwrap_or_default(),
            require_signatures: args.require_signatures || file.require_signatures.unwrap_or(false),
        };
        if trust.require_signatures && trust.trusted.is_empty() {
            return Err(invalid(
                "require_signatures",
                "needs at least one key in trusted_publishers",
            ));
        }
        Ok(Self {
            http: file.http,
            materials: file.materials,
            registry_url: args.registry_url.clone().or(file.registry_url),
            registry_ca: args.registry_ca.clone().or(file.registry_ca),
            trust,
            admin_token,
            publishers,
            max_component_bytes,
            uploads,
            uploads_fsync: file.uploads.fsync.unwrap_or(true),
            session_key,
            public_url,
            cluster,
            node_id: args.node_id.clone().or(file.node_id),
            hub,
            listen: args
                .listen
                .or(file.listen)
                .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8080))),
            metrics_listen: args.metrics_listen.or(file.metrics_listen),
            database_url,
            object_store_url,
            data_dir,
            cache_dir,
            demo: args.demo || file.demo.unwrap_or(false),
            plugins_dir: args
                .plugins_dir
                .clone()
                .or(file.plugins_dir)
                .unwrap_or_else(|| PathBuf::from("plugins")),
            plugin_defaults,
        })
    }
}

fn resolve_uploads(args: &ServeArgs, file: &UploadsFile) -> Result<UploadConfig, ConfigError> {
    let mut uploads = UploadConfig::default();
    if let Some(v) = file.max_chunk_bytes {
        if v < MIN_CHUNK_BYTES {
            return Err(invalid("uploads max_chunk_bytes", "must be at least 5 MiB"));
        }
        // Chunk sizes are multiples of 64 KiB so that a file's MD5 and its
        // chunks' MD5s are computed in one pass; a cap off that grid would
        // cut some chunks off it and quietly double the hashing.
        if v % hangar_client::chunking::CHUNK_ALIGN != 0 {
            return Err(invalid(
                "uploads max_chunk_bytes",
                "must be a multiple of 65536 (64 KiB)",
            ));
        }
        uploads.limits.max_chunk_bytes = v;
    }
    if let Some(v) = args.max_upload_bytes.or(file.max_file_bytes) {
        uploads.limits.max_file_bytes = v;
    }
    if uploads.limits.max_file_bytes / MAX_CHUNKS > uploads.limits.max_chunk_bytes {
        return Err(invalid(
            "uploads max_file_bytes",
            "must fit in 10,000 chunks of max_chunk_bytes",
        ));
    }
    let positive_ms = |name: &'static str, v: Option<u64>| match v {
        Some(0) => Err(invalid(name, "must be at least 1")),
        other => Ok(other.map(Duration::from_millis)),
    };
    if let Some(d) = positive_ms("uploads ttl_ms", args.upload_ttl_ms.or(file.ttl_ms))? {
        uploads.ttl = d;
    }
    if let Some(d) = positive_ms("uploads sweep_ms", args.upload_sweep_ms.or(file.sweep_ms))? {
        uploads.sweep_interval = d;
    }
    if let Some(v) = file.body_budget_bytes {
        if (v as u64) < uploads.limits.max_chunk_bytes {
            return Err(invalid(
                "uploads body_budget_bytes",
                "must hold at least one chunk of max_chunk_bytes",
            ));
        }
        uploads.body_budget_bytes = v;
    }
    if let Some(v) = file.merge_budget_bytes {
        uploads.merge_budget_bytes = v;
    }
    if let Some(v) = file.link_ttl_secs {
        uploads.link_ttl = Duration::from_secs(v.max(1));
    }
    Ok(uploads)
}

fn invalid(name: &'static str, message: &str) -> ConfigError {
    ConfigError::Invalid {
        name,
        message: message.to_owned(),
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|err| ConfigError::Parse {
        path: path.to_path_buf(),
        message: err.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn args(argv: &[&str]) -> ServeArgs {
        match Cli::try_parse_from(argv).unwrap().command {
            Command::Serve(args) => *args,
            other => panic!("expected serve, got {other:?}"),
        }
    }

    #[test]
    fn flags_override_the_file_which_overrides_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hangar.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9999\"\ndata_dir = \"/srv/h\"\n[plugins]\ndeadline_ms = 50\nmemory_mib = 16\n",
        )
        .unwrap();
        let path = path.to_str().unwrap();
        let config = ServeConfig::resolve(&args(&["hangar", "serve", "--config", path])).unwrap();
        assert_eq!(config.listen.port(), 9999);
        assert_eq!(config.data_dir, PathBuf::from("/srv/h"));
        assert_eq!(config.cache_dir, PathBuf::from("/srv/h/cache"));
        assert_eq!(
            config.plugin_defaults.limits.deadline,
            Duration::from_millis(50)
        );
        assert_eq!(config.plugin_defaults.limits.memory_bytes, 16 << 20);

        let config = ServeConfig::resolve(&args(&[
            "hangar",
            "serve",
            "--config",
            path,
            "--listen",
            "127.0.0.1:7000",
            "--plugin-deadline-ms",
            "70",
        ]))
        .unwrap();
        assert_eq!(config.listen.port(), 7000);
        assert_eq!(
            config.plugin_defaults.limits.deadline,
            Duration::from_millis(70)
        );
        assert_eq!(config.data_dir, PathBuf::from("/srv/h"));
    }

    #[test]
    fn bad_files_and_values_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "listen = 5\n").unwrap();
        let err = ServeConfig::resolve(&args(&[
            "hangar",
            "serve",
            "--config",
            path.to_str().unwrap(),
        ]))
        .unwrap_err();
        assert!(matches!(err, ConfigError::Parse { .. }), "{err}");
        std::fs::write(&path, "lisen = \"127.0.0.1:1\"\n").unwrap();
        let err = ServeConfig::resolve(&args(&[
            "hangar",
            "serve",
            "--config",
            path.to_str().unwrap(),
        ]))
        .unwrap_err();
        assert!(err.to_string().contains("lisen"), "{err}");
        let err = ServeConfig::resolve(&args(&[
            "hangar",
            "serve",
            "--config",
            "/nonexistent/h.toml",
        ]))
        .unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }), "{err}");
        let err = ServeConfig::resolve(&args(&["hangar", "serve", "--plugin-memory-mib", "0"]))
            .unwrap_err();
        assert!(matches!(err, ConfigError::Invalid { .. }), "{err}");
        // Above what the engine pool reserves per instance: refused, saying so.
        let err = ServeConfig::resolve(&args(&["hangar", "serve", "--plugin-memory-mib", "1025"]))
            .unwrap_err();
        assert!(err.to_string().contains("engine pool"), "{err}");
        // A chunk cap off the 64 KiB grid is refused, naming the rule; one
        // on it is taken.
        for (cap, refused) in [(6 * 1024 * 1024 + 1000, true), (6 * 1024 * 1024, false)] {
            std::fs::write(&path, format!("[uploads]\nmax_chunk_bytes = {cap}\n")).unwrap();
            let result = ServeConfig::resolve(&args(&[
                "hangar",
                "serve",
                "--config",
                path.to_str().unwrap(),
            ]));
            match result {
                Err(err) if refused => {
                    assert!(err.to_string().contains("multiple of 65536"), "{err}");
                }
                Ok(config) if !refused => assert_eq!(config.uploads.limits.max_chunk_bytes, cap),
                other => panic!("max_chunk_bytes = {cap}: {other:?}"),
            }
        }
    }
}

#[cfg(test)]
mod secret_tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    #[test]
    fn secrets_never_show_in_debug_output() {
        let cli = Cli::try_parse_from([
            "hangar",
            "serve",
            "--session-key",
            "session-key-that-must-stay-secret-0123456789",
            "--admin-token",
            "admin-token-that-must-stay-secret",
            "--publish-tokens",
            "ci=publish-token-that-must-stay-secret",
        ])
        .unwrap();
        let Command::Serve(args) = &cli.command else {
            panic!("expected serve");
        };
        let config = ServeConfig::resolve(args).unwrap();
        for shown in [format!("{cli:?}"), format!("{config:?}")] {
            assert!(!shown.contains("must-stay-secret"), "{shown}");
        }
    }

    #[test]
    fn http_and_material_limits_are_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hangar.toml");
        let read = |text: &str| {
            std::fs::write(&path, text).unwrap();
            let cli = Cli::try_parse_from(["hangar", "serve", "--config", path.to_str().unwrap()])
                .unwrap();
            let Command::Serve(args) = cli.command else {
                panic!("expected serve");
            };
            ServeConfig::resolve(&args)
        };
        let config = read(
            "[http]\nmax_connections = 7\nheader_timeout_ms = 1500\n[materials]\nmax_html_bytes = 1000\n[plugins]\nhost_budget_ms = 40\n",
        )
        .unwrap();
        assert_eq!(config.http.max_connections, 7);
        assert_eq!(config.http.header_timeout_ms, 1500);
        assert_eq!(config.materials.max_html_bytes, 1000);
        assert_eq!(config.materials.max_html_depth, 64);
        assert_eq!(
            config.plugin_defaults.limits.host_budget,
            Duration::from_millis(40)
        );
        for bad in [
            "[http]\nmax_connections = 0\n",
            "[http]\nheader_timeout_ms = 0\n",
            "[materials]\nmax_html_depth = 0\n",
            "[plugins]\nhost_budget_ms = 0\n",
            "[http]\nmax_conections = 5\n",
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }
}
