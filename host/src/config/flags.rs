//! The flags of `hangar serve`, as the highest layer of the configuration:
//! each flag given sets one key.

use figment::value::Value;
use secrecy::ExposeSecret as _;
use serde::Serialize;

use super::{ConfigError, Given, Source};
use crate::cli::ServeArgs;

/// The values of the flags given, in order.
#[derive(Default)]
struct Flags(Vec<Given>);

impl Flags {
    fn put<T: Serialize>(
        &mut self,
        key: &str,
        flag: &str,
        value: Option<T>,
    ) -> Result<(), ConfigError> {
        let Some(value) = value else {
            return Ok(());
        };
        let source = Source::Flag(flag.to_owned());
        let value = Value::serialize(value).map_err(|err| ConfigError::Value {
            key: key.to_owned(),
            origin: source.clone(),
            message: err.to_string(),
        })?;
        self.0.push(Given {
            key: key.to_owned(),
            value,
            source,
        });
        Ok(())
    }
}

impl ServeArgs {
    /// The keys the flags on this command line set.
    ///
    /// # Errors
    /// When a value cannot be represented (never for the flags' types).
    pub fn given(&self) -> Result<Vec<Given>, ConfigError> {
        let secret = |s: &secrecy::SecretString| s.expose_secret().to_owned();
        let mut f = Flags::default();
        f.put("listen", "--listen", self.listen)?;
        f.put("metrics_listen", "--metrics-listen", self.metrics_listen)?;
        f.put("data_dir", "--data-dir", self.data_dir.as_ref())?;
        f.put("database_url", "--database-url", self.database_url.as_ref())?;
        f.put(
            "object_store_url",
            "--object-store-url",
            self.object_store_url.as_ref(),
        )?;
        f.put("cache_dir", "--cache-dir", self.cache_dir.as_ref())?;
        f.put("demo", "--demo", self.demo.then_some(true))?;
        f.put("plugins_dir", "--plugins-dir", self.plugins_dir.as_ref())?;
        f.put(
            "plugins.limits.deadline_ms",
            "--plugin-deadline-ms",
            self.plugin_deadline_ms,
        )?;
        f.put(
            "plugins.limits.memory_bytes",
            "--plugin-memory-mib",
            self.plugin_memory_mib
                .map(|mib| mib.saturating_mul(1 << 20)),
        )?;
        f.put(
            "plugins.limits.kv_quota_bytes",
            "--plugin-kv-quota-bytes",
            self.plugin_kv_quota_bytes,
        )?;
        f.put(
            "plugins.quarantine_after",
            "--quarantine-after",
            self.quarantine_after,
        )?;
        f.put(
            "session_key",
            "--session-key",
            self.session_key.as_ref().map(secret),
        )?;
        f.put("public_url", "--public-url", self.public_url.as_ref())?;
        f.put("broker", "--broker", self.broker.as_ref())?;
        f.put(
            "broker_prefix",
            "--broker-prefix",
            self.broker_prefix.as_ref(),
        )?;
        f.put("node_id", "--node-id", self.node_id.as_ref())?;
        f.put(
            "allowed_origins",
            "--allowed-origins",
            self.allowed_origins.as_ref(),
        )?;
        f.put("hub.heartbeat_ms", "--heartbeat-ms", self.heartbeat_ms)?;
        f.put(
            "hub.timeout_ms",
            "--heartbeat-timeout-ms",
            self.heartbeat_timeout_ms,
        )?;
        f.put(
            "hub.batch_window_ms",
            "--batch-window-ms",
            self.batch_window_ms,
        )?;
        f.put("registry_url", "--registry-url", self.registry_url.as_ref())?;
        f.put("registry_ca", "--registry-ca", self.registry_ca.as_ref())?;
        f.put(
            "trusted_publishers",
            "--trusted-publishers",
            self.trusted_publishers
                .as_ref()
                .map(|keys| keys.iter().map(ToString::to_string).collect::<Vec<_>>()),
        )?;
        f.put(
            "require_signatures",
            "--require-signatures",
            self.require_signatures.then_some(true),
        )?;
        f.put(
            "admin_token",
            "--admin-token",
            self.admin_token.as_ref().map(secret),
        )?;
        f.put(
            "publish_tokens",
            "--publish-tokens",
            self.publish_tokens
                .as_ref()
                .map(|tokens| tokens.iter().map(secret).collect::<Vec<_>>()),
        )?;
        f.put(
            "uploads.max_file_bytes",
            "--max-upload-bytes",
            self.max_upload_bytes,
        )?;
        f.put("uploads.ttl_ms", "--upload-ttl-ms", self.upload_ttl_ms)?;
        f.put(
            "uploads.sweep_ms",
            "--upload-sweep-ms",
            self.upload_sweep_ms,
        )?;
        Ok(f.0)
    }
}
