//! Demo mode: on first start, publishes the example plugins listed in
//! `plugins/demo.toml` into the embedded registry, activates them through
//! the registry like an admin would, applies their demo configuration and
//! failure policy, and orders the chains. Later starts restore what was
//! deployed.
//!
//! The installation is idempotent and marked done only at its end: a start
//! interrupted anywhere in it (a crash, SIGTERM) leaves no mark, and the
//! next start completes it (publishing the same bytes again is a no-op; a
//! plugin already active at its demo version is not activated again).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use hangar_registry::store::{Registry, RegistryError};
use semver::Version;
use serde::Deserialize;

use crate::deploy::{DeployError, Deployer};
use crate::plugins::{FailurePolicy, Hook, PluginName};
use crate::store::{Database, StoreError};

/// The `meta` key set once the demo installation finished.
const INSTALLED: &str = "demo-installed";

/// Why the example plugins could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// `demo.toml` is missing or invalid.
    #[error("cannot read the demo manifest {path}: {message}")]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A plugin file is missing.
    #[error(
        "example plugin {name} not found at {path}: build the plugins first with \
         `cargo build --release --target wasm32-wasip2 --manifest-path plugins/Cargo.toml`"
    )]
    MissingPlugin {
        /// The plugin.
        name: PluginName,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A configuration file is missing or not JSON.
    #[error("demo configuration of {name} at {path}: {message}")]
    Config {
        /// The plugin.
        name: PluginName,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A plugin could not be published.
    #[error("publishing example plugin {name}: {source}")]
    Publish {
        /// The plugin.
        name: PluginName,
        /// Why.
        source: RegistryError,
    },
    /// A plugin could not be activated or configured.
    #[error("activating example plugin {name}: {source}")]
    Deploy {
        /// The plugin.
        name: PluginName,
        /// Why.
        source: DeployError,
    },
    /// A chain could not be ordered.
    #[error("ordering the demo chains: {0}")]
    Chain(DeployError),
    /// The database failed.
    #[error("recording the demo installation: {0}")]
    Store(#[from] StoreError),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    artifacts: PathBuf,
    #[serde(default)]
    chains: Chains,
    #[serde(rename = "plugin")]
    plugins: Vec<Entry>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Chains {
    #[serde(default)]
    chat_messages: Vec<PluginName>,
    #[serde(default)]
    uploads: Vec<PluginName>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: PluginName,
    version: Version,
    file: PathBuf,
    config: Option<PathBuf>,
    #[serde(rename = "failure-policy")]
    failure_policy: Option<FailurePolicy>,
}

/// Installs the example plugins unless a previous start finished doing so
/// (restore what was deployed first: this only completes what is missing).
///
/// # Errors
/// As [`install`].
pub async fn install_once(
    registry: &Registry,
    deployer: &Deployer,
    db: &Database,
    plugins_dir: &Path,
    publisher: &str,
) -> Result<(), DemoError> {
    if db.meta_get(INSTALLED).await?.is_some() {
        return Ok(());
    }
    // Installations made before the mark existed ordered the chains last.
    if !deployer.chains_saved().await.map_err(DemoError::Chain)? {
        install(registry, deployer, plugins_dir, publisher).await?;
    }
    db.meta_set(INSTALLED, "1").await?;
    Ok(())
}

/// Publishes (as `publisher`, who then owns them), activates and
/// configures the example plugins of `plugins_dir`, then orders the
/// chains. Returns the names installed.
///
/// # Errors
/// [`DemoError`] naming the file or plugin at fault and what to do.
pub async fn install(
    registry: &Registry,
    deployer: &Deployer,
    plugins_dir: &Path,
    publisher: &str,
) -> Result<Vec<PluginName>, DemoError> {
    let manifest_path = plugins_dir.join("demo.toml");
    let manifest_error = |message: String| DemoError::Manifest {
        path: manifest_path.clone(),
        message,
    };
    let text = tokio::fs::read_to_string(&manifest_path)
        .await
        .map_err(|err| manifest_error(err.to_string()))?;
    let manifest: Manifest =
        toml::from_str(&text).map_err(|err| manifest_error(err.to_string()))?;
    let artifacts = plugins_dir.join(&manifest.artifacts);
    let mut installed = Vec::new();
    for entry in manifest.plugins {
        let path = artifacts.join(&entry.file);
        let wasm = tokio::fs::read(&path)
            .await
            .map_err(|_| DemoError::MissingPlugin {
                name: entry.name.clone(),
                path: path.clone(),
            })?;
        let config = match &entry.config {
            Some(file) => {
                let path = plugins_dir.join(file);
                let config_error = |message: String| DemoError::Config {
                    name: entry.name.clone(),
                    path: path.clone(),
                    message,
                };
                let text = tokio::fs::read_to_string(&path)
                    .await
                    .map_err(|err| config_error(err.to_string()))?;
                let json: serde_json::Value =
                    serde_json::from_str(&text).map_err(|err| config_error(err.to_string()))?;
                Some(json.to_string())
            }
            None => None,
        };
        match registry
            .publish(
                entry.name.as_str(),
                &entry.version.to_string(),
                Bytes::from(wasm),
                publisher,
                None,
            )
            .await
        {
            Ok(_) => {}
            // A rebuilt example under an already published version: the
            // registry keeps the first bytes, as it does for anyone.
            Err(RegistryError::Immutable { existing, .. }) => {
                tracing::warn!(plugin = %entry.name, version = %entry.version, %existing, "example plugin already published with other bytes; using the published ones");
            }
            Err(source) => {
                return Err(DemoError::Publish {
                    name: entry.name,
                    source,
                });
            }
        }
        let deploy_error = |source| DemoError::Deploy {
            name: entry.name.clone(),
            source,
        };
        let active = deployer
            .runtime()
            .get(&entry.name)
            .is_some_and(|p| p.active().version == entry.version);
        if !active {
            deployer
                .activate(&entry.name, &entry.version)
                .await
                .map_err(deploy_error)?;
        }
        if let Some(policy) = entry.failure_policy {
            deployer
                .set_failure_policy(&entry.name, policy)
                .await
                .map_err(deploy_error)?;
        }
        if let Some(config) = config {
            deployer
                .set_config(&entry.name, &config)
                .await
                .map_err(deploy_error)?;
        }
        installed.push(entry.name);
    }
    deployer
        .set_chain(Hook::ChatMessages, &manifest.chains.chat_messages)
        .await
        .map_err(DemoError::Chain)?;
    deployer
        .set_chain(Hook::Uploads, &manifest.chains.uploads)
        .await
        .map_err(DemoError::Chain)?;
    Ok(installed)
}
