//! `hangar config check` and `hangar config show`: the configuration
//! `hangar serve` would run with, from the same flags, `HANGAR_*`
//! variables and file, resolved by the same code; refused exactly as the
//! server would refuse it. Secrets are never printed: a token or key shows
//! as set or not, a database URL without its password.

use std::fmt::Write as _;

use crate::cli::ServeArgs;
use crate::config::{ConfigError, ServeConfig};

/// Resolves `args` as `hangar serve` would; a one-line summary when valid.
///
/// # Errors
/// The value that is refused, and why.
pub fn check(args: &ServeArgs) -> Result<String, ConfigError> {
    let config = ServeConfig::resolve(args)?;
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

/// The effective configuration, one `key = value` per line.
///
/// # Errors
/// As [`check`].
pub fn show(args: &ServeArgs) -> Result<String, ConfigError> {
    let c = ServeConfig::resolve(args)?;
    let set = |present: bool| if present { "(set)" } else { "(none)" };
    let mut out = String::new();
    let mut line = |key: &str, value: String| {
        let _ = writeln!(out, "{key} = {value}");
    };
    line("listen", c.listen.to_string());
    line(
        "metrics_listen",
        c.metrics_listen
            .map_or_else(|| "(the main listener)".to_owned(), |a| a.to_string()),
    );
    line("data_dir", c.data_dir.display().to_string());
    line("cache_dir", c.cache_dir.display().to_string());
    line("database_url", hangar_storage::db::redact(&c.database_url));
    line(
        "object_store_url",
        c.object_store_url
            .as_ref()
            .map_or_else(|| "(the data directory)".to_owned(), ToString::to_string),
    );
    line(
        "registry_url",
        c.registry_url
            .clone()
            .unwrap_or_else(|| "(embedded)".to_owned()),
    );
    line(
        "public_url",
        c.public_url.clone().unwrap_or_else(|| "(none)".to_owned()),
    );
    match &c.cluster {
        Some(cluster) => {
            line("broker", cluster.broker.clone());
            line("broker_prefix", cluster.prefix.clone());
        }
        None => line("broker", "(none: the node is alone)".to_owned()),
    }
    line("demo", c.demo.to_string());
    line("session_key", set(c.session_key.is_some()).to_owned());
    line("admin_token", set(c.admin_token.is_some()).to_owned());
    let publishers: Vec<String> = c
        .publishers
        .iter()
        .map(|p| format!("{}=(set)", p.name))
        .collect();
    line(
        "publish_tokens",
        if publishers.is_empty() {
            "(none)".to_owned()
        } else {
            publishers.join(",")
        },
    );
    line("require_signatures", c.trust.require_signatures.to_string());
    line("trusted_publishers", c.trust.trusted.len().to_string());
    let limits = &c.plugin_defaults.limits;
    line(
        "plugins.deadline_ms",
        limits.deadline.as_millis().to_string(),
    );
    line(
        "plugins.host_budget_ms",
        limits.host_budget.as_millis().to_string(),
    );
    line(
        "plugins.memory_mib",
        (limits.memory_bytes >> 20).to_string(),
    );
    line("plugins.kv_quota_bytes", limits.kv_quota_bytes.to_string());
    line(
        "plugins.quarantine_after",
        c.plugin_defaults.quarantine_after.to_string(),
    );
    line(
        "uploads.max_file_bytes",
        c.uploads.limits.max_file_bytes.to_string(),
    );
    line(
        "uploads.max_chunk_bytes",
        c.uploads.limits.max_chunk_bytes.to_string(),
    );
    line("uploads.ttl_ms", c.uploads.ttl.as_millis().to_string());
    line("uploads.fsync", c.uploads_fsync.to_string());
    line("hub.heartbeat_ms", c.hub.heartbeat.as_millis().to_string());
    line("hub.timeout_ms", c.hub.timeout.as_millis().to_string());
    line(
        "hub.batch_window_ms",
        c.hub.batch_window.as_millis().to_string(),
    );
    line(
        "hub.send_rate_per_sec",
        c.hub.limits.send_rate_per_sec.to_string(),
    );
    line(
        "allowed_origins",
        if c.hub.allowed_origins.is_empty() {
            "(the server's own origin)".to_owned()
        } else {
            c.hub.allowed_origins.join(",")
        },
    );
    Ok(out)
}
