//! `hangar config check` and `hangar config show`: the configuration
//! `hangar serve` would run with, from the same flags, `HANGAR_*`
//! variables and file, read by the same code; refused exactly as the
//! server would refuse it. Secrets are never printed: a token or key shows
//! as set or not, a database URL without its password.

use std::fmt::Write as _;

use figment::value::Value;

use crate::cli::ServeArgs;
use crate::config::{self, ConfigError, Source};

/// Keys whose values are URLs that may carry a password.
const URLS: &[&str] = &["database_url", "object_store_url", "registry_url", "broker"];

/// Reads `args` as `hangar serve` would; a one-line summary when valid.
///
/// # Errors
/// The value that is refused, and why.
pub fn check(args: &ServeArgs) -> Result<String, ConfigError> {
    let config = config::load(args)?.config;
    let role = match &config.cluster {
        Some(cluster) => format!(
            "a node of cluster {:?} on {}",
            cluster.prefix, cluster.broker
        ),
        None => "alone".to_owned(),
    };
    Ok(format!(
        "configuration is valid: listens on {}, data in {}, {role}",
        config.listen,
        config.data_dir.display()
    ))
}

/// Every key with its effective value and where it came from, one
/// `key = value  # source` per line, in the file's syntax.
///
/// # Errors
/// As [`check`].
pub fn show(args: &ServeArgs) -> Result<String, ConfigError> {
    show_loaded(&config::load(args)?)
}

/// As [`show`], for a configuration already read.
///
/// # Errors
/// When the settings cannot be represented (never for valid settings).
pub fn show_loaded(loaded: &config::Loaded) -> Result<String, ConfigError> {
    let mut settings = loaded.settings.clone();
    // Show the values derived from others as the server uses them.
    settings.cache_dir = Some(loaded.config.cache_dir.clone());
    settings.database_url = Some(loaded.config.database_url.clone());
    let value = Value::serialize(&settings).map_err(|err| ConfigError::Value {
        key: String::new(),
        origin: Source::Default,
        message: err.to_string(),
    })?;
    let mut out = String::new();
    for (key, value) in config::leaves(&value) {
        let source = loaded.sources.get(&key).unwrap_or(&Source::Default);
        let shown = match value {
            Value::String(_, text) if URLS.contains(&key.as_str()) => {
                format!("{:?}", hangar_storage::db::redact(text))
            }
            other => render(other),
        };
        let _ = writeln!(out, "{key} = {shown}  # {source}");
    }
    Ok(out)
}

/// A value as TOML writes it; an unset value as a comment.
fn render(value: &Value) -> String {
    match value {
        Value::String(_, text) => format!("{text:?}"),
        Value::Char(_, c) => format!("{:?}", c.to_string()),
        Value::Bool(_, b) => b.to_string(),
        Value::Num(_, n) => n
            .to_u128()
            .map(|n| n.to_string())
            .or_else(|| n.to_i128().map(|n| n.to_string()))
            .or_else(|| n.to_f64().map(|n| n.to_string()))
            .unwrap_or_default(),
        Value::Empty(..) => "(unset)".to_owned(),
        Value::Array(_, items) => {
            let items: Vec<String> = items.iter().map(render).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Dict(_, dict) => {
            let fields: Vec<String> = dict
                .iter()
                .map(|(k, v)| format!("{k} = {}", render(v)))
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
    }
}
