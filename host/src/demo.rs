//! Demo mode: loads the example plugins listed in `plugins/demo.toml`,
//! applies their demo configuration, activates them and orders the chains.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use semver::Version;
use serde::Deserialize;

use crate::plugins::{
    ChainError, Hook, InstallError, LoadError, PluginName, PluginSettings, Runtime,
};

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
    /// A plugin did not load.
    #[error("example plugin {name}: {source}")]
    Load {
        /// The plugin.
        name: PluginName,
        /// Why.
        source: LoadError,
    },
    /// A plugin did not install.
    #[error(transparent)]
    Install(#[from] InstallError),
    /// A chain could not be ordered.
    #[error(transparent)]
    Chain(#[from] ChainError),
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
}

/// Loads, configures and activates the example plugins of `plugins_dir`,
/// then orders the chains. Returns the names installed.
///
/// # Errors
/// [`DemoError`] naming the file or plugin at fault and what to do.
pub async fn install(
    runtime: &Runtime,
    plugins_dir: &Path,
    defaults: &PluginSettings,
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
        let wasm: Arc<[u8]> = tokio::fs::read(&path)
            .await
            .map_err(|_| DemoError::MissingPlugin {
                name: entry.name.clone(),
                path: path.clone(),
            })?
            .into();
        let config: Arc<String> = match &entry.config {
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
                Arc::new(json.to_string())
            }
            None => Arc::new("{}".to_owned()),
        };
        let version = runtime
            .load(entry.name.clone(), entry.version, wasm, None)
            .await
            .map_err(|source| DemoError::Load {
                name: entry.name.clone(),
                source,
            })?;
        tracing::info!(plugin = %entry.name, version = %version.version, world = %version.world, digest = %version.digest, "example plugin active");
        runtime.install(version, defaults.clone(), config)?;
        installed.push(entry.name);
    }
    runtime.set_chain(Hook::ChatMessages, &manifest.chains.chat_messages)?;
    runtime.set_chain(Hook::Uploads, &manifest.chains.uploads)?;
    Ok(installed)
}
