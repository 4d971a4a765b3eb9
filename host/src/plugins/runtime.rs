//! The plugin runtime: one engine, one linker, the compiled cache, and the
//! installed plugins with the chains that call them.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hangar_registry::Digest;
use semver::Version;
use tokio::sync::Semaphore;
use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker};

use super::bindings::chat::ChatPlugin;
use super::cache::{CacheCounts, CompiledCache};
use super::chain::{Chain, ChainError, Hook, OutputLimits};
use super::compile::Compiler;
use super::component::{ComponentError, PluginVersion};
use super::engine::{self, EngineSettings, EpochTicker};
use super::name::PluginName;
use super::plugin::{FailurePolicy, Lane, Plugin, PluginSettings, PluginStatus, SwapError};
use super::state::CallState;
use crate::store::Database;
use crate::store::alerts::Alerts;

/// How the runtime is set up (`[runtime]` in `hangar.toml`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RuntimeConfig {
    /// Where compiled components are cached (the top-level `cache_dir`).
    #[serde(skip)]
    pub cache_dir: PathBuf,
    /// Engine and pool sizing.
    pub engine: EngineSettings,
    /// Chat and upload hook calls running at once; more wait their turn.
    pub max_concurrent_calls: usize,
    /// Material calls (describe, render) running at once: a lane of their
    /// own, so renders anyone can ask for never hold up moderation.
    pub max_concurrent_material_calls: usize,
    /// Longest a call waits for its turn; then it is answered by the
    /// plugin's failure policy (the host is overloaded).
    #[serde(rename = "queue_timeout_ms", with = "crate::config::values::millis")]
    pub queue_timeout: Duration,
    /// Budgets on what chat and upload plugins answer.
    pub output: OutputLimits,
    /// Where components are compiled: `hangar serve` compiles in a child
    /// process (see [`super::compile`]).
    #[serde(skip)]
    pub compiler: Compiler,
}

impl RuntimeConfig {
    /// Defaults with the cache in `cache_dir`.
    pub fn new(cache_dir: PathBuf) -> Self {
        Self {
            cache_dir,
            engine: EngineSettings::default(),
            max_concurrent_calls: 64,
            max_concurrent_material_calls: 16,
            queue_timeout: Duration::from_secs(1),
            output: OutputLimits::default(),
            compiler: Compiler::InProcess,
        }
    }

    /// Refuses values that cannot work.
    ///
    /// # Errors
    /// The key and what is wrong with it.
    pub fn validate(&self) -> Result<(), crate::config::Invalid> {
        use crate::config::Invalid;
        Invalid::positive("max_concurrent_calls", self.max_concurrent_calls as u64)?;
        Invalid::positive(
            "max_concurrent_material_calls",
            self.max_concurrent_material_calls as u64,
        )?;
        Invalid::positive(
            "queue_timeout_ms",
            u64::try_from(self.queue_timeout.as_millis()).unwrap_or(u64::MAX),
        )?;
        Invalid::positive(
            "output.max_reason_bytes",
            self.output.max_reason_bytes as u64,
        )?;
        self.engine.validate()
    }
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self::new(PathBuf::new())
    }
}

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The engine configuration was refused.
    #[error("cannot create the WebAssembly engine: {0}")]
    Engine(String),
    /// The cache directory or ticker thread could not be created.
    #[error("cannot start the plugin runtime: {0}")]
    Io(#[from] std::io::Error),
}

/// Why a component could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not the ones that were asked for.
    #[error("component bytes hash to {actual}, expected {expected}; refusing to load")]
    DigestMismatch {
        /// The digest that was asked for.
        expected: Digest,
        /// The digest of the bytes received.
        actual: Digest,
    },
    /// The component is not usable as a plugin.
    #[error(transparent)]
    Component(#[from] ComponentError),
    /// A cached artifact was asked for and there is none.
    #[error("no compiled artifact of {0} in the cache")]
    NotCached(Digest),
    /// The host is shutting down.
    #[error("the host is shutting down")]
    ShuttingDown,
}

/// Why a plugin could not be installed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// The slot refused the version.
    #[error(transparent)]
    Swap(#[from] SwapError),
}

/// What all plugins share.
pub(super) struct Shared {
    pub engine: Engine,
    pub linker: Linker<CallState>,
    pub cache: CompiledCache,
    pub db: Database,
    pub alerts: Alerts,
    pub handle: tokio::runtime::Handle,
    pub hook_permits: Semaphore,
    pub material_permits: Semaphore,
    pub queue_timeout: Duration,
    pub output: OutputLimits,
    pub epoch_tick: Duration,
    pub engine_settings: EngineSettings,
    _ticker: EpochTicker,
}

/// The plugin runtime. Cheap to share behind an `Arc`.
pub struct Runtime {
    shared: Arc<Shared>,
    plugins: RwLock<BTreeMap<PluginName, Arc<Plugin>>>,
    chat: Chain,
    uploads: Chain,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

impl Runtime {
    /// Starts the engine and its epoch ticker. Must be called inside a tokio
    /// runtime: host functions run their queries on it.
    ///
    /// # Errors
    /// When the engine, cache directory or ticker cannot be set up.
    pub fn start(config: RuntimeConfig, db: Database, alerts: Alerts) -> Result<Self, StartError> {
        let engine =
            engine::build(&config.engine).map_err(|err| StartError::Engine(format!("{err:#}")))?;
        let mut linker = Linker::new(&engine);
        super::wasi::add_to_linker(&mut linker)
            .map_err(|err| StartError::Engine(format!("{err:#}")))?;
        ChatPlugin::add_to_linker::<CallState, HasSelf<CallState>>(&mut linker, |state| state)
            .map_err(|err| StartError::Engine(format!("{err:#}")))?;
        // Plugins built against hangar:plugin@0.1.0 import its host interface.
        super::bindings::v0_1::Material::add_to_linker::<CallState, HasSelf<CallState>>(
            &mut linker,
            |state| state,
        )
        .map_err(|err| StartError::Engine(format!("{err:#}")))?;
        let cache = CompiledCache::new(&config.cache_dir, &engine)?
            .compiling_with(config.compiler.clone(), config.engine.clone());
        let ticker = EpochTicker::start(engine.clone(), config.engine.epoch_tick)?;
        let shared = Arc::new(Shared {
            engine,
            linker,
            cache,
            db,
            alerts,
            handle: tokio::runtime::Handle::current(),
            hook_permits: Semaphore::new(config.max_concurrent_calls),
            material_permits: Semaphore::new(config.max_concurrent_material_calls),
            queue_timeout: config.queue_timeout,
            output: config.output,
            epoch_tick: config.engine.epoch_tick,
            engine_settings: config.engine.clone(),
            _ticker: ticker,
        });
        Ok(Self {
            shared,
            plugins: RwLock::new(BTreeMap::new()),
            chat: Chain::new(Hook::ChatMessages),
            uploads: Chain::new(Hook::Uploads),
        })
    }

    /// What the compiled cache has done.
    pub fn cache_counts(&self) -> CacheCounts {
        self.shared.cache.counts()
    }

    /// The engine, for tools that inspect components.
    pub fn engine(&self) -> &Engine {
        &self.shared.engine
    }

    /// Verifies `wasm` against `expected` (when given), compiles it (or
    /// loads it from the cache) off the async runtime, and checks it
    /// exports a `hangar:plugin` world with the host's imports.
    ///
    /// # Errors
    /// [`LoadError`] saying what is wrong with the component.
    pub async fn load(
        &self,
        name: PluginName,
        version: Version,
        wasm: Arc<[u8]>,
        expected: Option<Digest>,
    ) -> Result<Arc<PluginVersion>, LoadError> {
        self.load_checked(name, version, wasm, Integrity::Hash(expected))
            .await
    }

    /// As [`Runtime::load`] for bytes a registry fetch already verified
    /// against `digest`: they are not hashed again.
    ///
    /// # Errors
    /// [`LoadError`] saying what is wrong with the component.
    pub async fn load_verified(
        &self,
        name: PluginName,
        version: Version,
        wasm: Arc<[u8]>,
        digest: Digest,
    ) -> Result<Arc<PluginVersion>, LoadError> {
        self.load_checked(name, version, wasm, Integrity::Verified(digest))
            .await
    }

    async fn load_checked(
        &self,
        name: PluginName,
        version: Version,
        wasm: Arc<[u8]>,
        integrity: Integrity,
    ) -> Result<Arc<PluginVersion>, LoadError> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            let digest = match integrity {
                Integrity::Verified(digest) => digest,
                Integrity::Hash(expected) => {
                    let digest = Digest::of(&wasm);
                    if let Some(expected) = expected.filter(|e| *e != digest) {
                        return Err(LoadError::DigestMismatch {
                            expected,
                            actual: digest,
                        });
                    }
                    digest
                }
            };
            let component = shared
                .cache
                .load_or_compile(&shared.engine, &digest, &wasm)
                .map_err(|err| ComponentError::Compile(format!("{err:#}")))?;
            let version = PluginVersion::new(
                &shared.engine,
                &shared.linker,
                &component,
                name,
                version,
                digest,
                wasm.len(),
            )?;
            Ok(Arc::new(version))
        })
        .await
        .map_err(|_| LoadError::ShuttingDown)?
    }

    /// The engine pool's sizes: the ceiling of any plugin's limits.
    pub fn engine_settings(&self) -> &EngineSettings {
        &self.shared.engine_settings
    }

    /// Whether the host links every import of `wasm`: the link step of a
    /// load alone, whatever the component exports. The registry's list of
    /// what a plugin may import (`hangar_registry::imports`) is checked
    /// against this.
    ///
    /// # Errors
    /// Why the component does not compile or link.
    pub fn links(&self, wasm: &[u8]) -> Result<(), String> {
        let component = wasmtime::component::Component::new(&self.shared.engine, wasm)
            .map_err(|err| format!("{err:#}"))?;
        self.shared
            .linker
            .instantiate_pre(&component)
            .map(drop)
            .map_err(|err| format!("{err:#}"))
    }

    /// Loads a version from the compiled cache alone (the registry is
    /// unreachable).
    ///
    /// # Errors
    /// [`LoadError::NotCached`] when the cache has no valid artifact.
    pub async fn load_cached(
        &self,
        name: PluginName,
        version: Version,
        digest: Digest,
        size: usize,
    ) -> Result<Arc<PluginVersion>, LoadError> {
        let shared = self.shared.clone();
        tokio::task::spawn_blocking(move || {
            let component = shared
                .cache
                .load(&shared.engine, &digest)
                .ok_or(LoadError::NotCached(digest))?;
            let version = PluginVersion::new(
                &shared.engine,
                &shared.linker,
                &component,
                name,
                version,
                digest,
                size,
            )?;
            Ok(Arc::new(version))
        })
        .await
        .map_err(|_| LoadError::ShuttingDown)?
    }

    /// Installs `version`: creates the plugin's slot with `settings` and
    /// `config`, or, when the plugin exists, hot-swaps it to `version`
    /// (keeping its settings and configuration).
    ///
    /// # Errors
    /// When an existing slot refuses the version (other world).
    pub fn install(
        &self,
        version: Arc<PluginVersion>,
        settings: PluginSettings,
        config: Arc<String>,
    ) -> Result<Arc<Plugin>, InstallError> {
        let mut plugins = self
            .plugins
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(plugin) = plugins.get(&version.name) {
            plugin.activate(version)?;
            return Ok(plugin.clone());
        }
        let name = version.name.clone();
        let plugin = Arc::new(Plugin::new(
            self.shared.clone(),
            version,
            settings,
            config,
            Lane::Hooks,
        ));
        plugins.insert(name, plugin.clone());
        drop(plugins);
        // A chain that waited for this plugin (it could not be restored at
        // start) calls it from now on.
        self.chat.relink(&plugin);
        self.uploads.relink(&plugin);
        Ok(plugin)
    }

    /// A plugin slot for `version` that no chain or listing knows: for
    /// components called on demand (materials), with the same sandbox,
    /// limits, failure counting and quarantine as installed plugins.
    pub fn detached(&self, version: Arc<PluginVersion>, settings: PluginSettings) -> Arc<Plugin> {
        Arc::new(Plugin::new(
            self.shared.clone(),
            version,
            settings,
            Arc::new("{}".to_owned()),
            Lane::Materials,
        ))
    }

    /// The installed plugin called `name`.
    pub fn get(&self, name: &PluginName) -> Option<Arc<Plugin>> {
        self.plugins
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(name)
            .cloned()
    }

    /// How many plugins are installed (without computing their statuses).
    pub fn count(&self) -> usize {
        self.plugins
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Every installed plugin's status, by name.
    pub fn list(&self) -> Vec<PluginStatus> {
        self.plugins
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .values()
            .map(|p| p.status())
            .collect()
    }

    /// The chain run on every chat message.
    pub fn chat_chain(&self) -> &Chain {
        &self.chat
    }

    /// The chain run on every completed upload.
    pub fn upload_chain(&self) -> &Chain {
        &self.uploads
    }

    /// Sets the order of a chain; every name must be an installed plugin of
    /// the chain's world.
    ///
    /// # Errors
    /// [`ChainError`] naming the plugin that does not fit.
    pub fn set_chain(&self, hook: Hook, order: &[PluginName]) -> Result<(), ChainError> {
        let plugins = order
            .iter()
            .map(|name| {
                self.get(name)
                    .ok_or_else(|| ChainError::Unknown(name.clone()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.chain(hook).set(plugins)
    }

    /// The running order of a chain.
    pub fn chain_order(&self, hook: Hook) -> Vec<PluginName> {
        self.chain(hook).order()
    }

    fn chain(&self, hook: Hook) -> &Chain {
        match hook {
            Hook::ChatMessages => &self.chat,
            Hook::Uploads => &self.uploads,
        }
    }

    /// Restores a saved chain order. A named plugin that is not installed
    /// (it could not be loaded) stays in the chain as unavailable and is
    /// answered by `policy` of it until it is installed; it is never
    /// silently dropped from the chain.
    ///
    /// # Errors
    /// [`ChainError`] when an installed plugin does not fit the chain.
    pub fn restore_chain(
        &self,
        hook: Hook,
        order: &[PluginName],
        policy: impl Fn(&PluginName) -> FailurePolicy,
    ) -> Result<(), ChainError> {
        let links = order
            .iter()
            .map(|name| match self.get(name) {
                Some(plugin) => Ok(plugin),
                None => Err((name.clone(), policy(name))),
            })
            .collect();
        self.chain(hook).set_links(links)
    }

    /// Names in the chains with no installed plugin behind them.
    pub fn unavailable(&self) -> Vec<PluginName> {
        let mut names = self.chat.unavailable();
        names.extend(self.uploads.unavailable());
        names.sort();
        names.dedup();
        names
    }

    /// Stops taking calls: calls waiting for a turn are answered by their
    /// plugin's failure policy. Calls already running finish.
    pub fn close(&self) {
        self.shared.hook_permits.close();
        self.shared.material_permits.close();
    }
}

/// What [`Runtime::load_checked`] knows of the bytes' digest.
enum Integrity {
    /// Already verified against this digest.
    Verified(Digest),
    /// To be hashed (and compared with the digest, when given).
    Hash(Option<Digest>),
}
