//! The layers of the configuration, lowest first: the defaults of the
//! model itself, `hangar.toml`, `HANGAR_*` environment variables, flags.
//! Every value keeps the layer it came from, for `hangar config show` and
//! for errors that name where a bad value was set.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use figment::providers::{Format as _, Serialized, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};

use super::{ConfigError, Settings};

/// Prefix of the environment variables that set configuration keys.
pub const ENV_PREFIX: &str = "HANGAR_";

/// Keys whose value is a tagged form (an enum) rather than a section: the
/// keys inside them are the form's, not settings of their own.
const OPAQUE: &[&str] = &["plugins.isolation"];

/// Variables of earlier releases, with the variable that replaced them: set
/// one and the server refuses to start rather than ignore it.
const RENAMED: &[(&str, &str)] = &[
    (
        "HANGAR_PLUGIN_DEADLINE_MS",
        "HANGAR_PLUGINS__LIMITS__DEADLINE_MS",
    ),
    (
        "HANGAR_PLUGIN_MEMORY_MIB",
        "HANGAR_PLUGINS__LIMITS__MEMORY_BYTES",
    ),
    (
        "HANGAR_PLUGIN_KV_QUOTA_BYTES",
        "HANGAR_PLUGINS__LIMITS__KV_QUOTA_BYTES",
    ),
    (
        "HANGAR_QUARANTINE_AFTER",
        "HANGAR_PLUGINS__QUARANTINE_AFTER",
    ),
    ("HANGAR_HEARTBEAT_MS", "HANGAR_HUB__HEARTBEAT_MS"),
    ("HANGAR_HEARTBEAT_TIMEOUT_MS", "HANGAR_HUB__TIMEOUT_MS"),
    ("HANGAR_BATCH_WINDOW_MS", "HANGAR_HUB__BATCH_WINDOW_MS"),
    ("HANGAR_MAX_UPLOAD_BYTES", "HANGAR_UPLOADS__MAX_FILE_BYTES"),
    ("HANGAR_UPLOAD_TTL_MS", "HANGAR_UPLOADS__TTL_MS"),
    ("HANGAR_UPLOAD_SWEEP_MS", "HANGAR_UPLOADS__SWEEP_MS"),
];

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// A configuration file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag(String),
    /// Computed from another setting (e.g. the cache inside the data directory).
    Derived(&'static str),
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::File(path) => write!(f, "file {}", path.display()),
            Self::Env(name) => write!(f, "env {name}"),
            Self::Flag(flag) => write!(f, "flag {flag}"),
            Self::Derived(from) => write!(f, "derived from {from}"),
        }
    }
}

/// One value given outside the file: a flag or an environment variable.
#[derive(Debug)]
pub struct Given {
    /// Its key, `section.name`.
    pub key: String,
    /// The value.
    pub value: Value,
    /// The flag or variable that gave it.
    pub source: Source,
}

/// A layer of single values, each tagged with the flag or variable it came
/// from.
struct Single(Given);

impl Provider for Single {
    fn metadata(&self) -> Metadata {
        let (name, label) = match &self.0.source {
            Source::Env(name) => ("environment variable", name.clone()),
            Source::Flag(flag) => ("command-line flag", flag.clone()),
            other => ("value", other.to_string()),
        };
        Metadata::named(name).source(figment::Source::Custom(label))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        match figment::util::nest(&self.0.key, self.0.value.clone()) {
            Value::Dict(_, dict) => Ok(Profile::Default.collect(dict)),
            _ => Err(figment::Error::from(format!(
                "empty key for {}",
                self.0.source
            ))),
        }
    }
}

/// The model's keys: every leaf of its defaults.
pub fn known_keys() -> Result<BTreeSet<String>, ConfigError> {
    let value = Value::serialize(Settings::default()).map_err(internal)?;
    Ok(leaves(&value).into_iter().map(|(key, _)| key).collect())
}

/// The leaves of `value` with their dotted keys, in key order; a tagged
/// form (an enum, see `OPAQUE`) is one leaf.
pub fn leaves(value: &Value) -> Vec<(String, &Value)> {
    fn walk<'v>(value: &'v Value, prefix: String, out: &mut Vec<(String, &'v Value)>) {
        match value {
            Value::Dict(_, dict) if !OPAQUE.contains(&prefix.as_str()) => {
                for (key, inner) in dict {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(inner, path, out);
                }
            }
            _ => out.push((prefix, value)),
        }
    }
    let mut out = Vec::new();
    walk(value, String::new(), &mut out);
    out
}

/// The environment variable that sets `key`: `hub.heartbeat_ms` is
/// `HANGAR_HUB__HEARTBEAT_MS`.
pub fn env_name(key: &str) -> String {
    format!(
        "{ENV_PREFIX}{}",
        key.replace('.', "__").to_ascii_uppercase()
    )
}

/// The configuration values among `vars`: every `HANGAR_*` variable named
/// after a key. A variable of an earlier release, or one with a section
/// (`__`) that names no key, is refused.
///
/// # Errors
/// [`ConfigError::Env`] naming the variable.
pub fn from_env(
    vars: impl IntoIterator<Item = (String, String)>,
    known: &BTreeSet<String>,
) -> Result<Vec<Given>, ConfigError> {
    let by_name: BTreeMap<String, &String> = known.iter().map(|k| (env_name(k), k)).collect();
    let mut given = Vec::new();
    for (name, text) in vars {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        if let Some((_, new)) = RENAMED.iter().find(|(old, _)| *old == name) {
            return Err(ConfigError::Env {
                name,
                message: format!("renamed: set {new}"),
            });
        }
        match by_name.get(&name) {
            Some(key) => given.push(Given {
                key: (*key).clone(),
                // Numbers, booleans and `[a, b]` lists parse as such; the
                // rest stays text.
                value: text.parse().unwrap_or_else(|never| match never {}),
                source: Source::Env(name),
            }),
            // Only sectioned names are certainly meant as settings; other
            // HANGAR_* variables belong to other commands and tools.
            None if rest.contains("__") => {
                return Err(ConfigError::Env {
                    name,
                    message: "names no setting (see `hangar config show` for the keys)".into(),
                });
            }
            None => {}
        }
    }
    Ok(given)
}

/// Merges the layers and reads the model from them; also returns where
/// each key's value came from.
///
/// # Errors
/// An unreadable or invalid file, an unknown key, a value of the wrong type.
pub fn load(
    file: Option<&Path>,
    env: Vec<Given>,
    flags: Vec<Given>,
    known: &BTreeSet<String>,
) -> Result<(Settings, BTreeMap<String, Source>), ConfigError> {
    let mut figment = Figment::from(Serialized::defaults(Settings::default()));
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        // Parsed here first so that a syntax error names the file and line.
        toml::from_str::<toml::Table>(&text).map_err(|err| ConfigError::Parse {
            path: path.to_path_buf(),
            message: err.to_string(),
        })?;
        figment = figment.merge(Toml::file_exact(path));
    }
    for given in env.into_iter().chain(flags) {
        figment = figment.merge(Single(given));
    }
    let merged = figment
        .data()
        .map_err(value_error)?
        .remove(&Profile::Default)
        .unwrap_or_default();
    let merged = Value::from(merged);
    let present: Vec<String> = leaves(&merged).into_iter().map(|(key, _)| key).collect();
    let mut sources = BTreeMap::new();
    for key in &present {
        let source = source_of(figment.find_metadata(key));
        if !known.contains(key) {
            return Err(ConfigError::Unknown {
                key: key.clone(),
                origin: source,
            });
        }
        sources.insert(key.clone(), source);
    }
    let settings = figment.extract::<Settings>().map_err(value_error)?;
    Ok((settings, sources))
}

fn source_of(metadata: Option<&Metadata>) -> Source {
    let Some(metadata) = metadata else {
        return Source::Default;
    };
    match &metadata.source {
        Some(figment::Source::File(path)) => Source::File(path.clone()),
        Some(figment::Source::Custom(label)) if metadata.name == "environment variable" => {
            Source::Env(label.clone())
        }
        Some(figment::Source::Custom(label)) => Source::Flag(label.clone()),
        _ => Source::Default,
    }
}

fn value_error(err: figment::Error) -> ConfigError {
    ConfigError::Value {
        key: err.path.join("."),
        origin: source_of(err.metadata.as_ref()),
        message: err.kind.to_string(),
    }
}

fn internal(err: figment::Error) -> ConfigError {
    ConfigError::Value {
        key: String::new(),
        origin: Source::Default,
        message: err.to_string(),
    }
}
