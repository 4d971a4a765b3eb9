//! A loaded plugin version: a compiled, pre-instantiated component of one
//! world, and how a call gets an instance of it.
//!
//! Isolation modes:
//! - `per-call` (default): every call instantiates afresh from the
//!   pre-instantiated component; nothing survives between calls.
//! - `pooled`: warm instances are reused for at most `max_uses` calls, one
//!   call at a time, and dropped after any failure.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hangar_registry::Digest;
use semver::Version;
use serde::{Deserialize, Serialize};
use wasmtime::component::{Component, Linker};
use wasmtime::{Engine, Store, Trap, UpdateDeadline};

use super::bindings::{chat, material, upload, v0_1, wit};
use super::limits::PluginLimits;
use super::name::PluginName;
use super::state::{CallState, PluginContext};

pub use hangar_registry::World;

/// How a plugin's calls get their instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "mode")]
pub enum Isolation {
    /// A fresh instance for every call.
    #[default]
    PerCall,
    /// Warm instances reused for at most `max_uses` calls each; at most
    /// `max_idle` are kept between calls. Guest memory survives between the
    /// calls an instance serves.
    Pooled {
        /// Calls one instance serves before it is dropped.
        max_uses: u32,
        /// Idle instances kept.
        max_idle: usize,
    },
}

/// Why a call did not produce an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallFailure {
    /// The call ran past its deadline and was interrupted.
    #[error("deadline of {0:?} exceeded")]
    Timeout(Duration),
    /// The guest tried to grow its memory past the cap.
    #[error("memory cap of {0} bytes exceeded")]
    OutOfMemory(usize),
    /// The call spent its budget of time in host functions.
    #[error("host-call budget of {0:?} exceeded")]
    HostBudget(Duration),
    /// The guest trapped (panic, abort, unreachable, bad memory access).
    #[error("trapped: {0}")]
    Trap(String),
    /// The answer broke an output budget (text, reason, replies, HTML).
    #[error("answer over budget: {0}")]
    OverBudget(String),
    /// The host answered for a world the plugin does not export.
    #[error("plugin exports {found}, not {wanted}")]
    WrongWorld {
        /// What it exports.
        found: World,
        /// What the caller needed.
        wanted: World,
    },
}

/// A pre-instantiated component, by world.
enum Pre {
    Chat(chat::ChatPluginPre<CallState>),
    Upload(upload::UploadHookPre<CallState>),
    Material(material::MaterialPre<CallState>),
    /// A material built against `hangar:plugin@0.1.0`.
    MaterialV0_1(v0_1::MaterialPre<CallState>),
}

/// An instance's exports, by world.
pub enum Exports {
    /// A `chat-plugin` instance.
    Chat(chat::ChatPlugin),
    /// An `upload-hook` instance.
    Upload(upload::UploadHook),
    /// A `material` instance.
    Material(material::Material),
    /// A `material` instance built against `hangar:plugin@0.1.0`.
    MaterialV0_1(v0_1::Material),
}

/// A material instance's calls, whichever contract version it was built
/// against; answers in 0.2.0's types.
pub enum MaterialCalls<'a> {
    /// `hangar:plugin@0.2.0`.
    Current(&'a material::Material),
    /// `hangar:plugin@0.1.0`: no `structure` export.
    V0_1(&'a v0_1::Material),
}

impl MaterialCalls<'_> {
    /// `describe`.
    ///
    /// # Errors
    /// The call trapped or ran out of time.
    pub fn call_describe(
        &self,
        store: &mut Store<CallState>,
    ) -> wasmtime::Result<wit::MaterialInfo> {
        match self {
            Self::Current(m) => m.call_describe(store),
            Self::V0_1(m) => {
                let info = m.call_describe(store)?;
                Ok(wit::MaterialInfo {
                    name: info.name,
                    title: info.title,
                    version: info.version,
                    category: info.category,
                    props_schema: info.props_schema,
                    default_props: info.default_props,
                })
            }
        }
    }

    /// `structure`; a 0.1.0 material is a leaf with no events.
    ///
    /// # Errors
    /// The call trapped or ran out of time.
    pub fn call_structure(
        &self,
        store: &mut Store<CallState>,
    ) -> wasmtime::Result<wit::MaterialStructure> {
        match self {
            Self::Current(m) => m.call_structure(store),
            Self::V0_1(_) => Ok(wit::MaterialStructure {
                role: wit::MaterialRole::Content,
                slots: Vec::new(),
                events: Vec::new(),
            }),
        }
    }

    /// `render`.
    ///
    /// # Errors
    /// The call trapped or ran out of time.
    pub fn call_render(
        &self,
        store: &mut Store<CallState>,
        props_json: &str,
    ) -> wasmtime::Result<Result<String, String>> {
        match self {
            Self::Current(m) => m.call_render(store, props_json),
            Self::V0_1(m) => m.call_render(store, props_json),
        }
    }

    /// The contract version it was built against.
    pub fn contract(&self) -> &'static str {
        match self {
            Self::Current(_) => "0.2.0",
            Self::V0_1(_) => "0.1.0",
        }
    }
}

impl CallFailure {
    /// What kind of failure, without details: safe to show to anyone (the
    /// details, such as a guest backtrace, go to the log).
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Timeout(_) | Self::HostBudget(_) => "timed out",
            Self::OutOfMemory(_) => "ran out of memory",
            Self::Trap(_) => "trapped",
            Self::OverBudget(_) => "answered over its output budget",
            Self::WrongWorld { .. } => "exports another world",
        }
    }

    /// The kind as a metric label (`hangar_plugin_calls_total`'s
    /// `outcome`): one word per variant.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Timeout(_) => "timeout",
            Self::HostBudget(_) => "host_budget",
            Self::OutOfMemory(_) => "out_of_memory",
            Self::Trap(_) => "trap",
            Self::OverBudget(_) => "over_budget",
            Self::WrongWorld { .. } => "wrong_world",
        }
    }
}

impl Exports {
    /// The chat exports, or the failure naming what this instance is.
    pub fn chat(&self) -> Result<&chat::ChatPlugin, CallFailure> {
        match self {
            Self::Chat(e) => Ok(e),
            other => Err(other.wrong(World::ChatPlugin)),
        }
    }

    /// The upload-hook exports.
    pub fn upload(&self) -> Result<&upload::UploadHook, CallFailure> {
        match self {
            Self::Upload(e) => Ok(e),
            other => Err(other.wrong(World::UploadHook)),
        }
    }

    /// The material exports.
    pub fn material(&self) -> Result<MaterialCalls<'_>, CallFailure> {
        match self {
            Self::Material(e) => Ok(MaterialCalls::Current(e)),
            Self::MaterialV0_1(e) => Ok(MaterialCalls::V0_1(e)),
            other => Err(other.wrong(World::Material)),
        }
    }

    fn wrong(&self, wanted: World) -> CallFailure {
        let found = match self {
            Self::Chat(_) => World::ChatPlugin,
            Self::Upload(_) => World::UploadHook,
            Self::Material(_) | Self::MaterialV0_1(_) => World::Material,
        };
        CallFailure::WrongWorld { found, wanted }
    }
}

struct Warm {
    store: Store<CallState>,
    exports: Exports,
    uses: u32,
}

/// Why a component cannot be used as a plugin.
#[derive(Debug, thiserror::Error)]
pub enum ComponentError {
    /// Not a WebAssembly component, or it does not compile.
    #[error("not a loadable WebAssembly component: {0}")]
    Compile(String),
    /// It exports none of the `hangar:plugin` worlds.
    #[error(
        "component exports [{0}], which is none of the hangar:plugin worlds \
         (chat-plugin exports on-message; upload-hook exports on-upload; material exports describe and render)"
    )]
    UnknownWorld(String),
    /// Its imports or exports do not match the world's types.
    #[error("component does not fit the hangar:plugin/{world} world: {reason}")]
    Mismatch {
        /// The world it looked like.
        world: World,
        /// What did not fit (an import the host does not provide, a type).
        reason: String,
    },
}

/// The world whose exports a component has.
pub fn detect_world(engine: &Engine, component: &Component) -> Result<World, ComponentError> {
    let exports: Vec<String> = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    World::from_exports(&exports).ok_or_else(|| ComponentError::UnknownWorld(exports.join(", ")))
}

fn has_export(engine: &Engine, component: &Component, name: &str) -> bool {
    component
        .component_type()
        .exports(engine)
        .any(|(export, _)| export == name)
}

/// One version of a plugin, compiled and ready to instantiate.
pub struct PluginVersion {
    /// The plugin it is a version of.
    pub name: PluginName,
    /// Its version.
    pub version: Version,
    /// SHA-256 of its component bytes.
    pub digest: Digest,
    /// Size of its component bytes.
    pub size: usize,
    /// The world it exports.
    pub world: World,
    /// Its call metrics (`hangar_plugin_call*` with its labels).
    pub calls: crate::metrics::PluginCallMetrics,
    pre: Pre,
    warm: Mutex<Vec<Warm>>,
}

impl std::fmt::Debug for PluginVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginVersion")
            .field("name", &self.name)
            .field("version", &self.version)
            .field("digest", &self.digest)
            .field("world", &self.world)
            .finish_non_exhaustive()
    }
}

/// Settings a call runs under, snapshotted when it starts.
pub struct CallSetup {
    /// The plugin's shared context.
    pub plugin: Arc<PluginContext>,
    /// Its configuration JSON.
    pub config: Arc<String>,
    /// Its limits.
    pub limits: PluginLimits,
    /// Its isolation mode.
    pub isolation: Isolation,
    /// How often the engine's epoch advances.
    pub epoch_tick: Duration,
}

impl CallSetup {
    /// The call deadline in epoch ticks.
    pub fn deadline_ticks(&self) -> u64 {
        ticks(self.limits.deadline, self.epoch_tick)
    }
}

impl PluginVersion {
    /// Checks `component` against its world and pre-instantiates it.
    ///
    /// # Errors
    /// When it exports no known world, or its imports or types do not fit.
    pub fn new(
        engine: &Engine,
        linker: &Linker<CallState>,
        component: &Component,
        name: PluginName,
        version: Version,
        digest: Digest,
        size: usize,
    ) -> Result<Self, ComponentError> {
        let world = detect_world(engine, component)?;
        let mismatch = |err: wasmtime::Error| ComponentError::Mismatch {
            world,
            reason: format!("{err:#}"),
        };
        let instance_pre = linker.instantiate_pre(component).map_err(mismatch)?;
        let pre = match world {
            World::ChatPlugin => {
                Pre::Chat(chat::ChatPluginPre::new(instance_pre).map_err(mismatch)?)
            }
            World::UploadHook => {
                Pre::Upload(upload::UploadHookPre::new(instance_pre).map_err(mismatch)?)
            }
            // Built against 0.2.0 when it exports `structure`, else 0.1.0.
            World::Material if has_export(engine, component, "structure") => {
                Pre::Material(material::MaterialPre::new(instance_pre).map_err(mismatch)?)
            }
            World::Material => {
                Pre::MaterialV0_1(v0_1::MaterialPre::new(instance_pre).map_err(mismatch)?)
            }
        };
        Ok(Self {
            calls: crate::metrics::PluginCallMetrics::new(name.as_str(), &version.to_string()),
            name,
            version,
            digest,
            size,
            world,
            pre,
            warm: Mutex::new(Vec::new()),
        })
    }

    fn instantiate(&self, store: &mut Store<CallState>) -> wasmtime::Result<Exports> {
        Ok(match &self.pre {
            Pre::Chat(pre) => Exports::Chat(pre.instantiate(store)?),
            Pre::Upload(pre) => Exports::Upload(pre.instantiate(store)?),
            Pre::Material(pre) => Exports::Material(pre.instantiate(store)?),
            Pre::MaterialV0_1(pre) => Exports::MaterialV0_1(pre.instantiate(store)?),
        })
    }

    fn new_store(&self, engine: &Engine, setup: &CallSetup) -> Store<CallState> {
        let state = CallState::new(setup.plugin.clone(), setup.config.clone(), &setup.limits);
        let mut store = Store::new(engine, state);
        store.limiter(|state| &mut state.limiter);
        // The epoch deadline fires on wall time; time the call spent blocked
        // in host functions is given back, so only guest time counts.
        let tick = setup.epoch_tick;
        store.epoch_deadline_callback(move |mut ctx| match ctx.data().guest_time_left() {
            Some(left) => Ok(UpdateDeadline::Continue(ticks(left, tick))),
            None => {
                ctx.data_mut().deadline_hit = true;
                Err(wasmtime::Error::from(Trap::Interrupt))
            }
        });
        store
    }

    /// Runs `f` on an instance under `setup`'s limits. Blocking: never call
    /// it on an async worker (see `Plugin::invoke`).
    ///
    /// # Errors
    /// The [`CallFailure`] when instantiation or the call fails.
    pub fn call<R>(
        &self,
        engine: &Engine,
        setup: &CallSetup,
        f: impl FnOnce(&Exports, &mut Store<CallState>) -> Result<wasmtime::Result<R>, CallFailure>,
    ) -> Result<R, CallFailure> {
        match setup.isolation {
            Isolation::PerCall => {
                let mut store = self.new_store(engine, setup);
                store.set_epoch_deadline(setup.deadline_ticks());
                let result = self
                    .instantiate(&mut store)
                    .map_err(|err| classify(&store, setup, err))
                    .and_then(|exports| {
                        f(&exports, &mut store)?.map_err(|err| classify(&store, setup, err))
                    });
                store.data_mut().flush_output();
                result
            }
            Isolation::Pooled { max_uses, max_idle } => {
                // An instance made for an older configuration is retired:
                // the contract promises one configuration per instance.
                let warm = self
                    .warm
                    .lock()
                    .ok()
                    .and_then(|mut pool| pool.pop())
                    .filter(|warm| warm.store.data().serves_config(&setup.config));
                let mut warm = match warm {
                    Some(mut warm) => {
                        warm.store.data_mut().begin_call(&setup.limits);
                        warm.store.set_epoch_deadline(setup.deadline_ticks());
                        warm
                    }
                    None => {
                        let mut store = self.new_store(engine, setup);
                        store.set_epoch_deadline(setup.deadline_ticks());
                        let exports = self
                            .instantiate(&mut store)
                            .map_err(|err| classify(&store, setup, err))?;
                        Warm {
                            store,
                            exports,
                            uses: 0,
                        }
                    }
                };
                let result = f(&warm.exports, &mut warm.store)
                    .and_then(|r| r.map_err(|err| classify(&warm.store, setup, err)));
                warm.store.data_mut().flush_output();
                warm.uses += 1;
                // After any failure the instance may be mid-way through
                // anything: drop it. Otherwise keep it while it has uses left.
                if result.is_ok()
                    && warm.uses < max_uses
                    && let Ok(mut pool) = self.warm.lock()
                    && pool.len() < max_idle
                {
                    pool.push(warm);
                }
                result
            }
        }
    }

    /// A long-lived instance under `setup`'s limits, outside any pool: for
    /// tools and benchmarks that call one instance many times. Reset the
    /// deadline (`Store::set_epoch_deadline`) before each call.
    ///
    /// # Errors
    /// When instantiation fails.
    pub fn instance(
        &self,
        engine: &Engine,
        setup: &CallSetup,
    ) -> Result<(Store<CallState>, Exports), CallFailure> {
        let mut store = self.new_store(engine, setup);
        store.set_epoch_deadline(setup.deadline_ticks());
        let exports = self
            .instantiate(&mut store)
            .map_err(|err| classify(&store, setup, err))?;
        Ok((store, exports))
    }

    /// Drops the warm instances (after a settings change, or on eviction).
    pub fn drain_pool(&self) {
        if let Ok(mut pool) = self.warm.lock() {
            pool.clear();
        }
    }
}

/// `budget` in epoch ticks, rounded up, plus one: the first tick may come at once.
fn ticks(budget: Duration, tick: Duration) -> u64 {
    let tick = tick.as_nanos().max(1);
    u64::try_from(budget.as_nanos().div_ceil(tick)).unwrap_or(u64::MAX / 2) + 1
}

fn classify(store: &Store<CallState>, setup: &CallSetup, err: wasmtime::Error) -> CallFailure {
    if store.data().limiter.memory_denied {
        return CallFailure::OutOfMemory(setup.limits.memory_bytes);
    }
    if store.data().host_budget_hit {
        return CallFailure::HostBudget(setup.limits.host_budget);
    }
    if store.data().deadline_hit || matches!(err.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
        return CallFailure::Timeout(setup.limits.deadline);
    }
    CallFailure::Trap(format!("{err:#}"))
}
