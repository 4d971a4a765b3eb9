//! The persisted deployments and chain orders.

use std::str::FromStr;

use hangar_registry::signature::Signed;
use hangar_registry::{Digest, PluginName};

use serde::{Deserialize, Serialize};

use super::DeployError;
use crate::plugins::{FailurePolicy, Hook, Isolation, PluginSettings};
use crate::store::{Database, now_ms};

/// One plugin as deployed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deployment {
    /// Plugin.
    pub name: PluginName,
    /// Active version.
    pub version: String,
    /// Its digest.
    pub digest: Digest,
    /// Its size.
    pub size: u64,
    /// Whether chains call it.
    pub enabled: bool,
    /// Its JSON configuration.
    pub config: String,
    /// Settings set for this plugin over the server's defaults.
    pub overrides: Overrides,
    /// The publisher's signature of this version, when it was signed.
    pub signed: Option<Signed>,
}

/// Settings of one plugin that differ from the server's defaults; what is
/// not set here follows the defaults (which the configuration may change).
/// The same form is the body of `PUT /api/admin/plugins/{name}/settings`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Overrides {
    /// Fresh instance per call, or a warm pool (`{"mode": "pooled",
    /// "max_uses": N, "max_idle": N}`).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub isolation: Option<Isolation>,
    /// Guest time of one call, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// Time one call may spend in host functions, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_budget_ms: Option<u64>,
    /// Cap on linear memory, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_bytes: Option<usize>,
    /// Key-value quota, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kv_quota_bytes: Option<u64>,
    /// What answers when the plugin cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub failure_policy: Option<FailurePolicy>,
    /// Consecutive failures before quarantine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quarantine_after: Option<u32>,
}

impl Overrides {
    /// What of `settings` differs from `defaults`.
    pub fn of(settings: &PluginSettings, defaults: &PluginSettings) -> Self {
        fn differs<T: PartialEq + Copy>(mine: T, default: T) -> Option<T> {
            (mine != default).then_some(mine)
        }
        let (l, d) = (&settings.limits, &defaults.limits);
        let ms = |d: std::time::Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Self {
            isolation: differs(settings.isolation, defaults.isolation),
            deadline_ms: differs(ms(l.deadline), ms(d.deadline)),
            host_budget_ms: differs(ms(l.host_budget), ms(d.host_budget)),
            memory_bytes: differs(l.memory_bytes, d.memory_bytes),
            kv_quota_bytes: differs(l.kv_quota_bytes, d.kv_quota_bytes),
            failure_policy: differs(settings.failure_policy, defaults.failure_policy),
            quarantine_after: differs(settings.quarantine_after, defaults.quarantine_after),
        }
    }

    /// `defaults` with these overrides applied.
    pub fn apply(&self, defaults: &PluginSettings) -> PluginSettings {
        let mut settings = defaults.clone();
        let limits = &mut settings.limits;
        if let Some(isolation) = self.isolation {
            settings.isolation = isolation;
        }
        if let Some(ms) = self.deadline_ms {
            limits.deadline = std::time::Duration::from_millis(ms);
        }
        if let Some(ms) = self.host_budget_ms {
            limits.host_budget = std::time::Duration::from_millis(ms);
        }
        if let Some(bytes) = self.memory_bytes {
            limits.memory_bytes = bytes;
        }
        if let Some(bytes) = self.kv_quota_bytes {
            limits.kv_quota_bytes = bytes;
        }
        if let Some(policy) = self.failure_policy {
            settings.failure_policy = policy;
        }
        if let Some(n) = self.quarantine_after {
            settings.quarantine_after = n;
        }
        settings
    }
}

pub(super) async fn save(db: &Database, d: &Deployment) -> Result<(), DeployError> {
    sqlx::query(
        "INSERT INTO deployments (name, version, digest, size, enabled, config, settings, updated_ms, signed) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (name) DO UPDATE SET version = excluded.version, \
         digest = excluded.digest, size = excluded.size, enabled = excluded.enabled, \
         config = excluded.config, settings = excluded.settings, updated_ms = excluded.updated_ms, \
         signed = excluded.signed",
    )
    .bind(d.name.as_str())
    .bind(&d.version)
    .bind(d.digest.to_string())
    .bind(i64::try_from(d.size).unwrap_or(i64::MAX))
    .bind(i64::from(d.enabled))
    .bind(&d.config)
    .bind(serde_json::to_string(&d.overrides).unwrap_or_else(|_| "{}".into()))
    .bind(now_ms())
    .bind(
        d.signed
            .as_ref()
            .and_then(|signed| serde_json::to_string(signed).ok()),
    )
    .execute(db.pool())
    .await?;
    Ok(())
}

pub(super) async fn load_all(db: &Database) -> Result<Vec<Deployment>, DeployError> {
    type Row = (
        String,
        String,
        String,
        i64,
        i64,
        String,
        String,
        Option<String>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT name, version, digest, size, enabled, config, settings, signed FROM deployments ORDER BY name",
    )
    .fetch_all(db.pool())
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(name, version, digest, size, enabled, config, settings, signed)| {
            let parsed = PluginName::from_str(&name)
                .ok()
                .zip(Digest::from_str(&digest).ok());
            if parsed.is_none() {
                tracing::error!(plugin = %name, "unreadable saved deployment; skipped");
            }
            parsed.map(|(name, digest)| {
                let overrides = serde_json::from_str(&settings).unwrap_or_else(|err| {
                    tracing::error!(plugin = %name, error = %err, "unreadable saved settings; using the defaults");
                    Overrides::default()
                });
                Deployment {
                name,
                version,
                digest,
                size: u64::try_from(size).unwrap_or(0),
                enabled: enabled != 0,
                config,
                overrides,
                // Unreadable counts as unsigned: a host requiring
                // signatures then refuses it rather than trusting it.
                signed: signed.and_then(|text| serde_json::from_str(&text).ok()),
            }})
        })
        .collect())
}

pub(super) async fn save_chain(
    db: &Database,
    hook: Hook,
    order: &[PluginName],
) -> Result<(), DeployError> {
    let names: Vec<&str> = order.iter().map(PluginName::as_str).collect();
    let json = serde_json::to_string(&names).unwrap_or_else(|_| "[]".into());
    sqlx::query(
        "INSERT INTO chains (hook, plugins) VALUES ($1, $2) \
         ON CONFLICT (hook) DO UPDATE SET plugins = excluded.plugins",
    )
    .bind(hook.as_str())
    .bind(json)
    .execute(db.pool())
    .await?;
    Ok(())
}

pub(super) async fn load_chains(
    db: &Database,
) -> Result<Vec<(Hook, Vec<PluginName>)>, DeployError> {
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT hook, plugins FROM chains")
        .fetch_all(db.pool())
        .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(hook, plugins)| {
            let hook = Hook::from_name(&hook)?;
            let names: Vec<String> = serde_json::from_str(&plugins).ok()?;
            Some((hook, names.iter().filter_map(|n| n.parse().ok()).collect()))
        })
        .collect())
}
