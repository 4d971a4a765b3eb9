//! Configuration of `hangar serve`: one model, [`Settings`], whose
//! sections are the real configuration types of the parts they configure
//! (hub, uploads, plugins, runtime, HTTP listener, materials). Each value
//! comes from the first of: a flag, a `HANGAR_*` environment variable
//! (`HANGAR_HUB__HEARTBEAT_MS` for `hub.heartbeat_ms`), `hangar.toml`,
//! the default. Each section validates itself; a refused value names its
//! key. [`ServeConfig`] is the model resolved: defaults that depend on
//! other values filled in, URLs parsed.

mod flags;
mod layers;
pub mod values;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use hangar_registry::http::Publisher;
use hangar_registry::signature::PublisherKey;
use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};

pub use layers::{ENV_PREFIX, Given, Source, env_name, leaves};

use crate::cli::ServeArgs;
use crate::hub::HubConfig;
use crate::materials::MaterialsConfig;
use crate::plugins::{PluginSettings, RuntimeConfig};
use crate::server::listener::HttpLimits;
use crate::upload::UploadConfig;

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
    /// The file is not valid TOML.
    #[error("invalid configuration file {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line.
        message: String,
    },
    /// A key the model does not have.
    #[error("unknown setting {key} ({origin})")]
    Unknown {
        /// The key.
        key: String,
        /// Where it was set.
        origin: Source,
    },
    /// A value of the wrong type or form.
    #[error("invalid setting {key} ({origin}): {message}")]
    Value {
        /// The key.
        key: String,
        /// Where it was set.
        origin: Source,
        /// What is wrong.
        message: String,
    },
    /// An environment variable that cannot be used.
    #[error("environment variable {name}: {message}")]
    Env {
        /// The variable.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// A value out of range, or values that contradict each other.
    #[error("invalid setting {key}: {message}")]
    Invalid {
        /// The key.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// A value a section refuses: its key within the section, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The key, relative to the section.
    pub key: &'static str,
    /// What is wrong.
    pub message: String,
}

impl Invalid {
    /// `key` is refused because of `message`.
    pub fn new(key: &'static str, message: impl Into<String>) -> Self {
        Self {
            key,
            message: message.into(),
        }
    }

    /// Refuses `key` unless `value` is at least 1.
    ///
    /// # Errors
    /// When `value` is 0.
    pub fn positive(key: &'static str, value: u64) -> Result<(), Self> {
        if value == 0 {
            Err(Self::new(key, "must be at least 1"))
        } else {
            Ok(())
        }
    }

    fn within(self, section: &str) -> ConfigError {
        ConfigError::Invalid {
            key: if section.is_empty() {
                self.key.to_owned()
            } else {
                format!("{section}.{}", self.key)
            },
            message: self.message,
        }
    }
}

/// Everything `hangar serve` can be told, with its defaults: the shape of
/// `hangar.toml`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where `/metrics` is served; none: on the main listener.
    pub metrics_listen: Option<SocketAddr>,
    /// Database and stored files.
    pub data_dir: PathBuf,
    /// Compiled components; none: `cache` in the data directory.
    pub cache_dir: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://...`; none: `hangar.db` in the data
    /// directory.
    pub database_url: Option<DatabaseUrl>,
    /// `file:///DIR` or `s3://BUCKET/PREFIX`; none: the data directory.
    pub object_store_url: Option<String>,
    /// Publish and activate the example plugins.
    #[serde(deserialize_with = "values::flag")]
    pub demo: bool,
    /// Folder with the example plugins' `demo.toml`.
    pub plugins_dir: PathBuf,
    /// Key that signs session tokens (at least 32 bytes); generated in demo mode.
    #[serde(with = "values::secret")]
    pub session_key: Option<SecretString>,
    /// Token of the admin API (at least 16 characters); none outside demo
    /// mode turns the admin API off.
    #[serde(with = "values::secret")]
    pub admin_token: Option<SecretString>,
    /// Publish tokens of the embedded registry, `NAME[:ACTIONS[:PACKAGES]]=TOKEN`.
    #[serde(deserialize_with = "values::list", serialize_with = "publishers_out")]
    pub publish_tokens: Vec<Publisher>,
    /// URL clients reach this node at.
    pub public_url: Option<String>,
    /// This node's id; none: generated once and kept in the data directory.
    pub node_id: Option<String>,
    /// Origins allowed to open chat WebSockets; empty: the server's own.
    #[serde(deserialize_with = "values::list", serialize_with = "values::list_out")]
    pub allowed_origins: Vec<String>,
    /// Broker that joins the node to a cluster (`nats://HOST:PORT`).
    pub broker: Option<String>,
    /// Prefix of the cluster's broker subjects.
    pub broker_prefix: String,
    /// Registry to fetch plugins from; none: the embedded one.
    pub registry_url: Option<String>,
    /// Extra certificate authorities (PEM) trusted for an HTTPS registry.
    pub registry_ca: Option<PathBuf>,
    /// Publisher keys whose signatures the host accepts (`ed25519:BASE64`).
    #[serde(deserialize_with = "values::list", serialize_with = "values::list_out")]
    pub trusted_publishers: Vec<PublisherKey>,
    /// Load only versions a trusted publisher signed.
    #[serde(deserialize_with = "values::flag")]
    pub require_signatures: bool,
    /// Largest component the embedded registry accepts, bytes.
    pub max_component_bytes: usize,
    /// Chat hub.
    pub hub: HubConfig,
    /// Upload store.
    pub uploads: UploadConfig,
    /// The settings every plugin starts with (the same form as one
    /// plugin's settings in the admin API).
    pub plugins: PluginSettings,
    /// Plugin runtime: call concurrency, output budgets, engine pool.
    pub runtime: RuntimeConfig,
    /// HTTP listener limits.
    pub http: HttpLimits,
    /// Material limits.
    pub materials: MaterialsConfig,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            metrics_listen: None,
            data_dir: PathBuf::from("data"),
            cache_dir: None,
            database_url: None,
            object_store_url: None,
            demo: false,
            plugins_dir: PathBuf::from("plugins"),
            session_key: None,
            admin_token: None,
            publish_tokens: Vec::new(),
            public_url: None,
            node_id: None,
            allowed_origins: Vec::new(),
            broker: None,
            broker_prefix: crate::cluster::DEFAULT_PREFIX.to_owned(),
            registry_url: None,
            registry_ca: None,
            trusted_publishers: Vec::new(),
            require_signatures: false,
            max_component_bytes: hangar_registry::store::DEFAULT_MAX_COMPONENT_BYTES,
            hub: HubConfig::default(),
            uploads: UploadConfig::default(),
            plugins: PluginSettings::default(),
            runtime: RuntimeConfig::default(),
            http: HttpLimits::default(),
            materials: MaterialsConfig::default(),
        }
    }
}

/// A database URL: shown everywhere (debug output, `config show`) with its
/// password masked.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl DatabaseUrl {
    /// The URL, password included, for connecting.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hangar_storage::db::redact(&self.0))
    }
}

fn publishers_out<S: serde::Serializer>(items: &[Publisher], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(items.iter().map(|p| format!("{}=(set)", p.name)))
}

impl Settings {
    /// Refuses values that cannot work, naming the first.
    ///
    /// # Errors
    /// [`ConfigError::Invalid`] with the key.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.hub.validate().map_err(|e| e.within("hub"))?;
        self.uploads.validate().map_err(|e| e.within("uploads"))?;
        self.runtime.validate().map_err(|e| e.within("runtime"))?;
        // A plugin can never be given more than the engine pool's slots hold.
        self.plugins
            .validate(&self.runtime.engine)
            .map_err(|e| e.within("plugins"))?;
        self.http.validate().map_err(|e| e.within("http"))?;
        self.materials
            .validate()
            .map_err(|e| e.within("materials"))?;
        self.validate_top().map_err(|e| e.within(""))
    }

    fn validate_top(&self) -> Result<(), Invalid> {
        // A published blob is renamed into place: on S3 a server-side copy,
        // which S3 limits to 5 GiB.
        if self.max_component_bytes as u64 > 5 << 30 {
            return Err(Invalid::new(
                "max_component_bytes",
                "at most 5 GiB (a registry blob is copied into place on S3)",
            ));
        }
        Invalid::positive("max_component_bytes", self.max_component_bytes as u64)?;
        if let Some(url) = &self.object_store_url {
            hangar_storage::ObjectStoreUrl::parse(url)
                .map_err(|err| Invalid::new("object_store_url", err.to_string()))?;
        }
        if self
            .session_key
            .as_ref()
            .is_some_and(|key| key.expose_secret().len() < crate::auth::MIN_KEY_BYTES)
        {
            return Err(Invalid::new("session_key", "must be at least 32 bytes"));
        }
        if self
            .admin_token
            .as_ref()
            .is_some_and(|t| t.expose_secret().len() < 16)
        {
            return Err(Invalid::new(
                "admin_token",
                "must be at least 16 characters",
            ));
        }
        if self.require_signatures && self.trusted_publishers.is_empty() {
            return Err(Invalid::new(
                "require_signatures",
                "needs at least one key in trusted_publishers",
            ));
        }
        let prefix = &self.broker_prefix;
        if prefix.is_empty()
            || prefix.starts_with('.')
            || prefix.ends_with('.')
            || prefix.contains("..")
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(Invalid::new(
                "broker_prefix",
                "use ASCII letters, digits, '-', '_' and inner dots",
            ));
        }
        if let Some(broker) = &self.broker {
            // Every node must see the same state: a node's own SQLite
            // file or data directory would split the cluster.
            if !self
                .database_url
                .as_ref()
                .is_some_and(|url| url.as_str().starts_with("postgres"))
            {
                return Err(Invalid::new(
                    "broker",
                    "a cluster shares one database: set database_url to postgres://...",
                ));
            }
            if self.object_store_url.is_none() {
                return Err(Invalid::new(
                    "broker",
                    "a cluster shares one object store: set object_store_url (s3://...)",
                ));
            }
            if self.public_url.is_none() {
                return Err(Invalid::new(
                    "broker",
                    "a node in a cluster is listed by its public_url: set it",
                ));
            }
            if !broker.starts_with("nats://") && !broker.starts_with("tls://") {
                return Err(Invalid::new("broker", "expected nats://HOST:PORT"));
            }
        }
        Ok(())
    }
}

/// The configuration as read: the model, where each value came from, and
/// the model resolved for the server.
#[derive(Debug)]
pub struct Loaded {
    /// The values, validated.
    pub settings: Settings,
    /// Where each key's value came from.
    pub sources: BTreeMap<String, Source>,
    /// The values the server runs with.
    pub config: ServeConfig,
}

/// Reads the configuration from the file, this process's environment and
/// the flags in `args`.
///
/// # Errors
/// The first value refused, naming its key and where it was set.
pub fn load(args: &ServeArgs) -> Result<Loaded, ConfigError> {
    load_from(args, std::env::vars())
}

/// As [`load`], with the environment given.
///
/// # Errors
/// As [`load`].
pub fn load_from(
    args: &ServeArgs,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Loaded, ConfigError> {
    let known = layers::known_keys()?;
    // `--config` (or HANGAR_CONFIG) names the file; else ./hangar.toml if any.
    let file = args.config.clone().or_else(|| {
        Path::new(DEFAULT_CONFIG_FILE)
            .exists()
            .then(|| PathBuf::from(DEFAULT_CONFIG_FILE))
    });
    let env = layers::from_env(env, &known)?;
    let (settings, mut sources) = layers::load(file.as_deref(), env, args.given()?, &known)?;
    settings.validate()?;
    let config = ServeConfig::resolve(&settings);
    if settings.cache_dir.is_none() {
        sources.insert("cache_dir".into(), Source::Derived("data_dir"));
    }
    if settings.database_url.is_none() {
        sources.insert("database_url".into(), Source::Derived("data_dir"));
    }
    Ok(Loaded {
        settings,
        sources,
        config,
    })
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
    pub database_url: DatabaseUrl,
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
    /// Plugin runtime sizing (its cache directory is `cache_dir`).
    pub runtime: RuntimeConfig,
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
    pub publishers: Vec<Publisher>,
    /// Largest component the embedded registry accepts.
    pub max_component_bytes: usize,
    /// HTTP listener limits.
    pub http: HttpLimits,
    /// Material limits.
    pub materials: MaterialsConfig,
}

impl ServeConfig {
    /// Resolves flags, environment and file over the defaults, and
    /// validates the result.
    ///
    /// # Errors
    /// As [`load`].
    pub fn from_args(args: &ServeArgs) -> Result<Self, ConfigError> {
        load(args).map(|loaded| loaded.config)
    }

    /// The validated model, with the defaults that depend on other values
    /// filled in.
    fn resolve(s: &Settings) -> Self {
        let data_dir = s.data_dir.clone();
        let mut hub = s.hub.clone();
        hub.allowed_origins = s
            .allowed_origins
            .iter()
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        let mut runtime = s.runtime.clone();
        let cache_dir = s
            .cache_dir
            .clone()
            .unwrap_or_else(|| data_dir.join("cache"));
        runtime.cache_dir.clone_from(&cache_dir);
        // Rewritten texts and bot replies obey the hub's own text limit.
        runtime.output.max_text_bytes = hub.limits.max_text_bytes;
        Self {
            listen: s.listen,
            metrics_listen: s.metrics_listen,
            database_url: s
                .database_url
                .clone()
                .unwrap_or_else(|| DatabaseUrl(crate::store::Database::default_url(&data_dir))),
            object_store_url: s
                .object_store_url
                .as_deref()
                .and_then(|url| hangar_storage::ObjectStoreUrl::parse(url).ok()),
            cache_dir,
            demo: s.demo,
            plugins_dir: s.plugins_dir.clone(),
            plugin_defaults: s.plugins.clone(),
            runtime,
            session_key: s.session_key.clone(),
            public_url: s.public_url.clone(),
            cluster: s
                .broker
                .clone()
                .map(|broker| crate::cluster::ClusterConfig {
                    broker,
                    prefix: s.broker_prefix.clone(),
                }),
            node_id: s.node_id.clone(),
            hub,
            uploads: s.uploads.clone(),
            registry_url: s.registry_url.clone(),
            registry_ca: s.registry_ca.clone(),
            trust: crate::deploy::TrustPolicy {
                trusted: s.trusted_publishers.clone(),
                require_signatures: s.require_signatures,
            },
            admin_token: s.admin_token.clone(),
            publishers: s.publish_tokens.clone(),
            max_component_bytes: s.max_component_bytes,
            http: s.http,
            materials: s.materials,
            data_dir,
        }
    }
}

#[cfg(test)]
mod tests;
