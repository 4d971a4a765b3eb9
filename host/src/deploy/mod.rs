//! Deploying plugins from a registry on a live server: activate a version
//! (fetch, verify, compile, validate, then hot swap), roll back, enable,
//! configure, order the chains, and persist all of it so a restarted host
//! comes back the same, from its compiled cache when the registry is down.

pub mod cluster;
pub mod fetch;
mod saved;
pub mod trust;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use hangar_registry::signature::Signed;
use hangar_registry::{Digest, PluginName};
use semver::Version;
use serde::Serialize;

use crate::plugins::{
    ChainError, FailurePolicy, Hook, InstallError, LoadError, PluginSettings, PluginVersion,
    Runtime, SwapError,
};
use crate::store::{Database, StoreError};
use fetch::{FetchError, Fetcher};
pub use saved::{Deployment, Overrides};
pub use trust::{TrustPolicy, Untrusted};

/// Why a deployment step failed; nothing active changed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// The registry has no such version, or could not be reached.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The component did not load (digest, compile, world, imports).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The plugin's slot refused it (another world).
    #[error(transparent)]
    Install(#[from] InstallError),
    /// Nothing to roll back to.
    #[error(transparent)]
    Swap(#[from] SwapError),
    /// No such plugin installed.
    #[error("no plugin {0} is installed")]
    UnknownPlugin(PluginName),
    /// A chain order is not acceptable.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The registry's version is not the digest the admin pinned.
    #[error(transparent)]
    PinMismatch(Box<PinMismatch>),
    /// The host's trust policy refused the version.
    #[error(transparent)]
    Untrusted(#[from] Untrusted),
    /// The configuration is not JSON.
    #[error("configuration is not valid JSON: {0}")]
    BadConfig(String),
    /// Settings that cannot work, or that the engine pool cannot hold.
    #[error("invalid setting {key}: {message}")]
    BadSettings {
        /// The setting.
        key: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for DeployError {
    fn from(err: sqlx::Error) -> Self {
        Self::Store(StoreError::from(err))
    }
}

/// A registry version that is not the digest an admin pinned.
#[derive(Debug, thiserror::Error)]
#[error("{name} {version} in the registry is {found}, not the pinned {pinned}; nothing was loaded")]
pub struct PinMismatch {
    /// Plugin.
    pub name: PluginName,
    /// Version.
    pub version: String,
    /// The digest asked for.
    pub pinned: Digest,
    /// The registry's.
    pub found: Digest,
}

/// What an activation did.
#[derive(Debug, Clone, Serialize)]
pub struct Activated {
    /// Plugin.
    pub name: PluginName,
    /// Version now active.
    pub version: String,
    /// Its digest.
    pub digest: Digest,
    /// Whether the compiled cache had it (no fetch, no compile).
    pub cached: bool,
    /// From the request to the new version answering, ms.
    pub elapsed_ms: f64,
    /// In a cluster: what each live node runs once they applied it, or
    /// when [`cluster::APPLY_WAIT`] passed (a node with `current: false`
    /// lags or failed, with its `error`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<cluster::NodePlugin>,
}

/// Deploys plugins into a runtime from a registry.
#[derive(Debug, Clone)]
pub struct Deployer {
    runtime: Arc<Runtime>,
    db: Database,
    fetcher: Fetcher,
    defaults: PluginSettings,
    trust: Arc<TrustPolicy>,
    /// This node's cluster; `None`: alone.
    cluster: Option<cluster::ClusterLink>,
    /// Convergence runs one at a time.
    converging: Arc<tokio::sync::Mutex<()>>,
}

impl Deployer {
    /// A deployer fetching from `fetcher`'s registry, loading only what
    /// `trust` accepts.
    pub fn new(
        runtime: Arc<Runtime>,
        db: Database,
        fetcher: Fetcher,
        defaults: PluginSettings,
        trust: TrustPolicy,
    ) -> Self {
        Self {
            runtime,
            db,
            fetcher,
            defaults,
            trust: Arc::new(trust),
            cluster: None,
            converging: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// This deployer in a cluster: admin changes made here are signalled to
    /// the other nodes, and it follows theirs ([`Deployer::follow_cluster`]).
    #[must_use]
    pub fn in_cluster(mut self, link: cluster::ClusterLink) -> Self {
        self.cluster = Some(link);
        self
    }

    /// The registry client.
    pub fn fetcher(&self) -> &Fetcher {
        &self.fetcher
    }

    /// The runtime.
    pub fn runtime(&self) -> &Arc<Runtime> {
        &self.runtime
    }

    /// The settings new plugins start with.
    pub fn defaults(&self) -> &PluginSettings {
        &self.defaults
    }

    /// Loads the version `info` (the registry's metadata, already fetched)
    /// describes. Returns whether the compiled cache had it.
    ///
    /// # Errors
    /// [`DeployError`] saying which step failed.
    pub async fn load_version(
        &self,
        info: &hangar_registry::store::VersionInfo,
    ) -> Result<(Arc<PluginVersion>, bool), DeployError> {
        // Before the cache too: a policy tightened since the version was
        // compiled applies to it.
        self.trust.check(info)?;
        let size = usize::try_from(info.size).unwrap_or(usize::MAX);
        self.load(&info.name, &info.version, info.digest, size)
            .await
    }

    /// Loads a version: from the compiled cache when it holds the digest,
    /// else fetched (verified) and compiled.
    async fn load(
        &self,
        name: &PluginName,
        version: &Version,
        digest: Digest,
        size: usize,
    ) -> Result<(Arc<PluginVersion>, bool), DeployError> {
        match self
            .runtime
            .load_cached(name.clone(), version.clone(), digest, size)
            .await
        {
            Ok(loaded) => return Ok((loaded, true)),
            Err(LoadError::NotCached(_)) => {}
            Err(err) => return Err(err.into()),
        }
        // The fetch verified the bytes against the digest.
        let bytes = self.fetcher.blob(digest).await?;
        let loaded = self
            .runtime
            .load_verified(name.clone(), version.clone(), Arc::from(&bytes[..]), digest)
            .await?;
        Ok((loaded, false))
    }

    /// Activates `version` of `name`: a new plugin is installed (disabled
    /// until its config is set only if asked), an installed one hot-swapped.
    /// Any failure leaves the current version active.
    ///
    /// # Errors
    /// [`DeployError`] saying which step failed.
    pub async fn activate(
        &self,
        name: &PluginName,
        version: &Version,
    ) -> Result<Activated, DeployError> {
        self.activate_pinned(name, version, None).await
    }

    /// As [`activate`](Self::activate); with `pinned`, the registry's
    /// version must have exactly that digest, checked before anything is
    /// fetched or compiled (whoever controls the registry or the path to it
    /// cannot swap the component).
    ///
    /// # Errors
    /// [`DeployError`] saying which step failed.
    pub async fn activate_pinned(
        &self,
        name: &PluginName,
        version: &Version,
        pinned: Option<Digest>,
    ) -> Result<Activated, DeployError> {
        let started = Instant::now();
        // One metadata fetch: the pin is checked against it before anything
        // is fetched or compiled, and the blob is verified against it.
        let info = self.fetcher.version(name, version).await?;
        if let Some(pinned) = pinned.filter(|p| *p != info.digest) {
            return Err(DeployError::PinMismatch(Box::new(PinMismatch {
                name: name.clone(),
                version: version.to_string(),
                pinned,
                found: info.digest,
            })));
        }
        let (loaded, cached) = self.load_version(&info).await?;
        let existing = self.runtime.get(name);
        let (settings, config) = match &existing {
            Some(plugin) => ((*plugin.settings()).clone(), plugin.config()),
            None => (self.defaults.clone(), Arc::new("{}".to_owned())),
        };
        self.runtime
            .install(loaded, settings.clone(), config.clone())?;
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        saved::save(
            &self.db,
            &Deployment {
                name: name.clone(),
                version: version.to_string(),
                digest: info.digest,
                size: info.size,
                enabled: settings.enabled,
                config: config.to_string(),
                overrides: Overrides::of(&settings, &self.defaults),
                signed: info.signed.clone(),
            },
        )
        .await?;
        tracing::info!(plugin = %name, %version, digest = %info.digest, cached, elapsed_ms, "activated");
        let nodes = self.spread(name, info.digest).await?;
        Ok(Activated {
            name: name.clone(),
            version: version.to_string(),
            digest: info.digest,
            cached,
            elapsed_ms,
            nodes,
        })
    }

    fn plugin(&self, name: &PluginName) -> Result<Arc<crate::plugins::Plugin>, DeployError> {
        self.runtime
            .get(name)
            .ok_or_else(|| DeployError::UnknownPlugin(name.clone()))
    }

    /// Persists the plugin's current version, state and config.
    async fn persist(&self, name: &PluginName) -> Result<(), DeployError> {
        let plugin = self.plugin(name)?;
        let active = plugin.active();
        let settings = plugin.settings();
        let signed = self
            .signature_of(name, &active.version, active.digest)
            .await?;
        saved::save(
            &self.db,
            &Deployment {
                name: name.clone(),
                version: active.version.to_string(),
                digest: active.digest,
                size: active.size as u64,
                enabled: settings.enabled,
                config: plugin.config().to_string(),
                overrides: Overrides::of(&settings, &self.defaults),
                signed,
            },
        )
        .await
    }

    /// The signature of `version` (with `digest`) of `name`: the saved
    /// deployment's when it is that version, else the registry's (after a
    /// rollback). A registry that cannot be asked leaves it unrecorded:
    /// hosts that require signatures then ask it when they load.
    async fn signature_of(
        &self,
        name: &PluginName,
        version: &Version,
        digest: Digest,
    ) -> Result<Option<Signed>, DeployError> {
        let saved = saved::load_all(&self.db).await?;
        if let Some(d) = saved.iter().find(|d| &d.name == name && d.digest == digest) {
            return Ok(d.signed.clone());
        }
        match self.registry_signature(name, version, digest).await {
            Ok(signed) => Ok(signed),
            Err(err) => {
                tracing::warn!(plugin = %name, %version, error = %err, "signature not recorded: registry not reachable");
                Ok(None)
            }
        }
    }

    /// The registry's signature of `version` of `name`, if it is signed and
    /// the registry's version still has `digest`.
    async fn registry_signature(
        &self,
        name: &PluginName,
        version: &Version,
        digest: Digest,
    ) -> Result<Option<Signed>, FetchError> {
        let info = self.fetcher.version(name, version).await?;
        Ok(info.signed.filter(|_| info.digest == digest))
    }

    /// Swaps back to the version active before the last activation.
    ///
    /// # Errors
    /// Unknown plugin, or nothing to roll back to.
    pub async fn rollback(
        &self,
        name: &PluginName,
    ) -> Result<(Arc<PluginVersion>, Vec<cluster::NodePlugin>), DeployError> {
        let back = self.plugin(name)?.rollback()?;
        self.persist(name).await?;
        tracing::info!(plugin = %name, version = %back.version, "rolled back");
        let nodes = self.spread(name, back.digest).await?;
        Ok((back, nodes))
    }

    /// In a cluster, after a version change saved here: signals the other
    /// nodes and waits for them to run `digest` (see
    /// [`cluster::APPLY_WAIT`]).
    async fn spread(
        &self,
        name: &PluginName,
        digest: Digest,
    ) -> Result<Vec<cluster::NodePlugin>, DeployError> {
        if self.cluster.is_none() {
            return Ok(Vec::new());
        }
        let since = crate::store::now_ms();
        self.changed().await;
        self.await_nodes(name, digest, since).await
    }

    /// Enables or disables a plugin (chains skip a disabled one).
    ///
    /// # Errors
    /// Unknown plugin.
    pub async fn set_enabled(&self, name: &PluginName, enabled: bool) -> Result<(), DeployError> {
        let plugin = self.plugin(name)?;
        let mut settings = (*plugin.settings()).clone();
        settings.enabled = enabled;
        plugin.set_settings(settings);
        if enabled {
            plugin.reset_health();
        }
        self.persist(name).await?;
        self.changed().await;
        Ok(())
    }

    /// Sets what answers for the plugin when it cannot (persisted).
    ///
    /// # Errors
    /// Unknown plugin.
    pub async fn set_failure_policy(
        &self,
        name: &PluginName,
        policy: FailurePolicy,
    ) -> Result<(), DeployError> {
        let plugin = self.plugin(name)?;
        let mut settings = (*plugin.settings()).clone();
        settings.failure_policy = policy;
        plugin.set_settings(settings);
        self.persist(name).await?;
        self.changed().await;
        Ok(())
    }

    /// The settings of `name` that differ from the server's defaults, and
    /// the settings it runs with.
    ///
    /// # Errors
    /// Unknown plugin.
    pub fn settings(&self, name: &PluginName) -> Result<(Overrides, PluginSettings), DeployError> {
        let settings = (*self.plugin(name)?.settings()).clone();
        Ok((Overrides::of(&settings, &self.defaults), settings))
    }

    /// Replaces the overrides of `name` (what is not given follows the
    /// server's defaults), applied from its next call on every node
    /// (persisted).
    ///
    /// # Errors
    /// Unknown plugin, or settings that cannot work or that the engine
    /// pool cannot hold (naming the setting).
    pub async fn set_settings(
        &self,
        name: &PluginName,
        overrides: &Overrides,
    ) -> Result<PluginSettings, DeployError> {
        let plugin = self.plugin(name)?;
        let settings = PluginSettings {
            enabled: plugin.settings().enabled,
            ..overrides.apply(&self.defaults)
        };
        settings
            .validate(self.runtime.engine_settings())
            .map_err(|invalid| DeployError::BadSettings {
                key: invalid.key,
                message: invalid.message,
            })?;
        plugin.set_settings(settings.clone());
        self.persist(name).await?;
        self.changed().await;
        Ok(settings)
    }

    /// Sets a plugin's JSON configuration, applied from the next call.
    ///
    /// # Errors
    /// Unknown plugin, or not JSON.
    pub async fn set_config(&self, name: &PluginName, config: &str) -> Result<(), DeployError> {
        let value: serde_json::Value =
            serde_json::from_str(config).map_err(|e| DeployError::BadConfig(e.to_string()))?;
        self.plugin(name)?.set_config(Arc::new(value.to_string()));
        self.persist(name).await?;
        self.changed().await;
        Ok(())
    }

    /// Sets the order of a chain.
    ///
    /// # Errors
    /// A name is not an installed plugin of the chain's world.
    pub async fn set_chain(&self, hook: Hook, order: &[PluginName]) -> Result<(), DeployError> {
        self.runtime.set_chain(hook, order)?;
        saved::save_chain(&self.db, hook, order).await?;
        self.changed().await;
        Ok(())
    }

    /// Whether any chain order was ever saved here.
    ///
    /// # Errors
    /// The database failed.
    pub async fn chains_saved(&self) -> Result<bool, DeployError> {
        Ok(!saved::load_chains(&self.db).await?.is_empty())
    }

    /// Reinstalls every saved deployment (from the compiled cache, or
    /// fetched when not cached) and the chain orders. A plugin that cannot
    /// be restored keeps its place in its chain, answered by its failure
    /// policy (`fail-closed` rejects), and is retried in the background
    /// with backoff until it loads. Returns the names restored.
    ///
    /// # Errors
    /// The database failed.
    pub async fn restore(&self) -> Result<Vec<PluginName>, DeployError> {
        let mut restored = Vec::new();
        let mut policies = std::collections::HashMap::new();
        for saved in saved::load_all(&self.db).await? {
            let settings = self.settings_of(&saved);
            policies.insert(saved.name.clone(), settings.failure_policy);
            match self.restore_one(&saved, settings.clone()).await {
                Ok(()) => restored.push(saved.name),
                Err(err) => {
                    tracing::error!(plugin = %saved.name, version = %saved.version, error = %err, "could not restore plugin; its chains apply its failure policy until it loads");
                    tokio::spawn(self.clone().retry_restore(saved, settings));
                }
            }
        }
        self.restore_chains(&policies, false).await?;
        Ok(restored)
    }

    /// The settings a saved deployment runs with: the server's defaults,
    /// its overrides, and whether it is enabled.
    fn settings_of(&self, saved: &Deployment) -> PluginSettings {
        PluginSettings {
            enabled: saved.enabled,
            ..saved.overrides.apply(&self.defaults)
        }
    }

    /// Sets every saved chain order (with `changed_only`, only those that
    /// differ from the running one). A named plugin that is not installed
    /// is answered by its failure policy in `policies`, else the default.
    ///
    /// # Errors
    /// The database failed.
    async fn restore_chains(
        &self,
        policies: &std::collections::HashMap<PluginName, FailurePolicy>,
        changed_only: bool,
    ) -> Result<(), DeployError> {
        for (hook, order) in saved::load_chains(&self.db).await? {
            if changed_only && self.runtime.chain_order(hook) == order {
                continue;
            }
            let policy = |name: &PluginName| {
                policies
                    .get(name)
                    .copied()
                    .unwrap_or(self.defaults.failure_policy)
            };
            if let Err(err) = self.runtime.restore_chain(hook, &order, policy) {
                tracing::error!(hook = hook.as_str(), error = %err, "could not restore chain order");
            }
        }
        Ok(())
    }

    async fn restore_one(
        &self,
        saved: &Deployment,
        settings: PluginSettings,
    ) -> Result<(), DeployError> {
        let version = Version::from_str(&saved.version).map_err(|_| {
            DeployError::BadConfig(format!("saved version {:?} is not semver", saved.version))
        })?;
        // This host's own policy, whoever saved the deployment (another
        // node of a cluster may trust less). A deployment saved before
        // signatures were recorded is checked against the registry's.
        let signed = match &saved.signed {
            None if self.trust.require_signatures => {
                self.registry_signature(&saved.name, &version, saved.digest)
                    .await?
            }
            signed => signed.clone(),
        };
        self.trust
            .check_signed(&saved.name, &version, &saved.digest, signed.as_ref())?;
        let size = usize::try_from(saved.size).unwrap_or(usize::MAX);
        let (loaded, cached) = self.load(&saved.name, &version, saved.digest, size).await?;
        self.runtime
            .install(loaded, settings, Arc::new(saved.config.clone()))?;
        tracing::info!(plugin = %saved.name, %version, cached, "restored");
        Ok(())
    }

    /// Keeps trying to restore a plugin that could not be loaded at start
    /// (registry down, not in the cache), until it loads or an admin
    /// installs another version.
    async fn retry_restore(self, saved: Deployment, settings: PluginSettings) {
        let backoff = hangar_client::Backoff {
            initial: std::time::Duration::from_secs(1),
            max: std::time::Duration::from_secs(60),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            tokio::time::sleep(backoff.delay(attempt)).await;
            if self.runtime.get(&saved.name).is_some() {
                return;
            }
            match self.restore_one(&saved, settings.clone()).await {
                Ok(()) => return,
                Err(err) => {
                    tracing::warn!(plugin = %saved.name, attempt, error = %err, "plugin still not restored");
                }
            }
        }
    }
}
