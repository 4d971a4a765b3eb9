//! A plugin slot: the active version behind an atomic swap, the admin's
//! settings, and the plugin's health (failure counts, quarantine).
//!
//! Hot swap: a call loads the active version once, when it starts, and runs
//! to the end on it; [`Plugin::activate`] swaps the pointer, so calls in
//! flight finish on the old version and every call that starts after the
//! swap returns runs on the new one. Nothing waits and nothing is dropped.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};
use tracing::Instrument as _;
use wasmtime::Store;

use super::component::{CallFailure, CallSetup, Exports, Isolation, PluginVersion, World};
use super::limits::PluginLimits;
use super::name::PluginName;
use super::runtime::Shared;
use super::state::{CallState, PluginContext};
use crate::store::alerts::{AlertKind, NewAlert, Severity};

/// Most previous versions kept for rollback.
const ROLLBACK_DEPTH: usize = 8;

/// What answers a call the plugin could not answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailurePolicy {
    /// Let the message or file through.
    #[default]
    FailOpen,
    /// Reject the message or file.
    FailClosed,
}

/// How the admin runs one plugin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginSettings {
    /// Fresh instance per call, or a warm pool.
    pub isolation: Isolation,
    /// Deadline, memory, key-value quota.
    pub limits: PluginLimits,
    /// What answers when the plugin fails.
    pub failure_policy: FailurePolicy,
    /// Consecutive failures after which the plugin is quarantined.
    pub quarantine_after: u32,
    /// Whether chains call it.
    pub enabled: bool,
}

impl PluginSettings {
    /// Refuses settings that cannot work or that the engine's pool cannot
    /// hold.
    ///
    /// # Errors
    /// The key and what is wrong with it.
    pub fn validate(
        &self,
        engine: &super::engine::EngineSettings,
    ) -> Result<(), crate::config::Invalid> {
        use crate::config::Invalid;
        self.limits.validate(engine)?;
        Invalid::positive("quarantine_after", u64::from(self.quarantine_after))?;
        if let super::Isolation::Pooled { max_uses, max_idle } = self.isolation {
            Invalid::positive("isolation.max_uses", u64::from(max_uses))?;
            Invalid::positive("isolation.max_idle", max_idle as u64)?;
        }
        Ok(())
    }
}

impl Default for PluginSettings {
    fn default() -> Self {
        Self {
            isolation: Isolation::PerCall,
            limits: PluginLimits::default(),
            failure_policy: FailurePolicy::FailOpen,
            quarantine_after: 5,
            enabled: true,
        }
    }
}

/// Which pool of call permits a plugin's calls wait in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Chat and upload hooks.
    Hooks,
    /// Materials (anyone may ask for a render).
    Materials,
}

/// Why a plugin gave no answer of its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unanswered {
    /// The admin disabled it.
    #[error("plugin {0} is disabled")]
    Disabled(PluginName),
    /// Quarantined after repeated failures.
    #[error("plugin {0} is quarantined after repeated failures")]
    Quarantined(PluginName),
    /// This call failed.
    #[error("plugin {plugin} failed: {failure}")]
    Failed {
        /// The plugin.
        plugin: PluginName,
        /// How.
        failure: CallFailure,
    },
    /// The host is shutting down.
    #[error("plugin {0} was not called: the host is shutting down")]
    ShuttingDown(PluginName),
    /// No turn came within the queue timeout: the host is overloaded.
    #[error("plugin {0} was not called: the host is overloaded")]
    Overloaded(PluginName),
    /// A chain names it but it could not be loaded.
    #[error("plugin {0} is not loaded")]
    Unavailable(PluginName),
}

/// Counters of one plugin.
#[derive(Debug, Default)]
struct Health {
    calls: AtomicU64,
    failures: AtomicU64,
    consecutive_failures: AtomicU32,
    quarantined: AtomicBool,
}

/// A snapshot of a plugin's state for listings.
#[derive(Debug, Clone, Serialize)]
pub struct PluginStatus {
    /// Name.
    pub name: PluginName,
    /// Active version.
    pub version: String,
    /// Digest of the active version.
    pub digest: String,
    /// World it exports.
    pub world: World,
    /// `active`, `disabled` or `quarantined`.
    pub state: &'static str,
    /// Calls made.
    pub calls: u64,
    /// Calls that failed.
    pub failures: u64,
    /// Median call time of the active version on this node since it was
    /// loaded, µs, as the caller waits for a call (its turn, the instance,
    /// the call); estimated from the `hangar_plugin_call_seconds`
    /// histogram's buckets.
    pub p50_us: Option<u32>,
    /// 99th percentile, likewise.
    pub p99_us: Option<u32>,
}

/// A plugin slot.
pub struct Plugin {
    context: Arc<PluginContext>,
    shared: Arc<Shared>,
    world: World,
    active: ArcSwap<PluginVersion>,
    previous: Mutex<Vec<Arc<PluginVersion>>>,
    settings: ArcSwap<PluginSettings>,
    config: ArcSwap<String>,
    health: Health,
    lane: Lane,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.context.name)
            .field("active", &self.active.load().version)
            .finish_non_exhaustive()
    }
}

/// Why a version cannot be activated in a slot.
#[derive(Debug, thiserror::Error)]
pub enum SwapError {
    /// The new version exports another world than the slot's.
    #[error("plugin {plugin} is a {slot} plugin; version {version} exports {found}")]
    WorldChanged {
        /// The plugin.
        plugin: PluginName,
        /// The slot's world.
        slot: World,
        /// The version that was offered.
        version: String,
        /// What it exports.
        found: World,
    },
    /// The version belongs to another plugin.
    #[error("version of {found} offered to plugin {plugin}")]
    OtherPlugin {
        /// The slot.
        plugin: PluginName,
        /// The version's plugin.
        found: PluginName,
    },
    /// Nothing to roll back to.
    #[error("plugin {0} has no previous version to roll back to")]
    NoPrevious(PluginName),
}

impl Plugin {
    pub(super) fn new(
        shared: Arc<Shared>,
        version: Arc<PluginVersion>,
        settings: PluginSettings,
        config: Arc<String>,
        lane: Lane,
    ) -> Self {
        let kv_namespace = match lane {
            Lane::Hooks => version.name.to_string(),
            Lane::Materials => format!("material/{}", version.name),
        };
        let context = Arc::new(PluginContext {
            name: version.name.clone(),
            kv_namespace,
            db: shared.db.clone(),
            handle: shared.handle.clone(),
        });
        Self {
            context,
            shared,
            world: version.world,
            active: ArcSwap::new(version),
            previous: Mutex::new(Vec::new()),
            settings: ArcSwap::from_pointee(settings),
            config: ArcSwap::new(config),
            health: Health::default(),
            lane,
        }
    }

    /// The plugin's name.
    pub fn name(&self) -> &PluginName {
        &self.context.name
    }

    /// The world its versions export.
    pub fn world(&self) -> World {
        self.world
    }

    /// The version calls use now.
    pub fn active(&self) -> Arc<PluginVersion> {
        self.active.load_full()
    }

    /// The current settings.
    pub fn settings(&self) -> Arc<PluginSettings> {
        self.settings.load_full()
    }

    /// The budgets its chat or upload answers must keep.
    pub fn output_limits(&self) -> super::chain::OutputLimits {
        self.shared.output
    }

    /// Replaces the settings; applies from the next call. Warm instances
    /// are dropped so that new limits apply to every later call.
    pub fn set_settings(&self, settings: PluginSettings) {
        self.settings.store(Arc::new(settings));
        self.active.load().drain_pool();
    }

    /// Replaces the configuration JSON; applies from the next call, which
    /// runs on a new instance (warm ones are dropped).
    pub fn set_config(&self, config: Arc<String>) {
        self.config.store(config);
        self.active.load().drain_pool();
    }

    /// The configuration JSON.
    pub fn config(&self) -> Arc<String> {
        self.config.load_full()
    }

    /// Makes `version` the active one. Calls in flight finish on the old
    /// version; every call starting after this returns uses the new one.
    /// A quarantine is lifted: the new version gets a fresh start.
    ///
    /// # Errors
    /// When `version` is of another plugin or exports another world.
    pub fn activate(&self, version: Arc<PluginVersion>) -> Result<(), SwapError> {
        if version.name != *self.name() {
            return Err(SwapError::OtherPlugin {
                plugin: self.name().clone(),
                found: version.name.clone(),
            });
        }
        if version.world != self.world {
            return Err(SwapError::WorldChanged {
                plugin: self.name().clone(),
                slot: self.world,
                version: version.version.to_string(),
                found: version.world,
            });
        }
        let old = self.active.swap(version);
        old.drain_pool();
        if let Ok(mut previous) = self.previous.lock() {
            previous.push(old);
            if previous.len() > ROLLBACK_DEPTH {
                previous.remove(0);
            }
        }
        self.reset_health();
        Ok(())
    }

    /// Swaps back to the version active before the last activation.
    ///
    /// # Errors
    /// When there is no previous version.
    pub fn rollback(&self) -> Result<Arc<PluginVersion>, SwapError> {
        let previous = self
            .previous
            .lock()
            .ok()
            .and_then(|mut previous| previous.pop())
            .ok_or_else(|| SwapError::NoPrevious(self.name().clone()))?;
        let old = self.active.swap(previous.clone());
        old.drain_pool();
        self.reset_health();
        Ok(previous)
    }

    /// Lifts a quarantine and clears the consecutive-failure count.
    pub fn reset_health(&self) {
        self.health.consecutive_failures.store(0, Ordering::Relaxed);
        self.health.quarantined.store(false, Ordering::Relaxed);
    }

    /// Whether the plugin is quarantined.
    pub fn is_quarantined(&self) -> bool {
        self.health.quarantined.load(Ordering::Relaxed)
    }

    /// A snapshot for listings.
    pub fn status(&self) -> PluginStatus {
        let active = self.active.load();
        let state = if self.is_quarantined() {
            "quarantined"
        } else if !self.settings.load().enabled {
            "disabled"
        } else {
            "active"
        };
        PluginStatus {
            name: self.name().clone(),
            version: active.version.to_string(),
            digest: active.digest.to_string(),
            world: active.world,
            state,
            calls: self.health.calls.load(Ordering::Relaxed),
            failures: self.health.failures.load(Ordering::Relaxed),
            p50_us: active.calls.quantile_us(0.50),
            p99_us: active.calls.quantile_us(0.99),
        }
    }

    /// What a call started now runs under, for `settings`.
    pub fn call_setup(&self, settings: &PluginSettings) -> CallSetup {
        CallSetup {
            plugin: self.context.clone(),
            config: self.config.load_full(),
            limits: settings.limits,
            isolation: settings.isolation,
            epoch_tick: self.shared.epoch_tick,
        }
    }

    /// Runs `f` on an instance of the active version, off the async
    /// workers (see [`run_blocking`]), and keeps the plugin's health.
    ///
    /// # Errors
    /// [`Unanswered`] when the plugin is disabled, quarantined, or the call failed.
    pub async fn invoke<R, F>(&self, f: F) -> Result<R, Unanswered>
    where
        R: Send + 'static,
        F: FnOnce(&Exports, &mut Store<CallState>) -> Result<wasmtime::Result<R>, CallFailure>
            + Send
            + 'static,
    {
        // Timed as its caller waits for it: the turn, the instance, the call.
        let started = Instant::now();
        let settings = self.settings.load_full();
        if !settings.enabled {
            return Err(Unanswered::Disabled(self.name().clone()));
        }
        if self.is_quarantined() {
            return Err(Unanswered::Quarantined(self.name().clone()));
        }
        let permits = match self.lane {
            Lane::Hooks => &self.shared.hook_permits,
            Lane::Materials => &self.shared.material_permits,
        };
        let _permit = match tokio::time::timeout(self.shared.queue_timeout, permits.acquire()).await
        {
            Ok(Ok(permit)) => permit,
            Ok(Err(_)) => return Err(Unanswered::ShuttingDown(self.name().clone())),
            Err(_) => {
                tracing::warn!(plugin = %self.name(), "no call permit within the queue timeout: overloaded");
                return Err(Unanswered::Overloaded(self.name().clone()));
            }
        };
        let version = self.active.load_full();
        let setup = self.call_setup(&settings);
        let shared = self.shared.clone();
        // A child of whatever called it (a request, a connection).
        let span =
            tracing::info_span!("plugin_call", plugin = %self.name(), version = %version.version);
        let called = version.clone();
        let joined = run_blocking(move || called.call(&shared.engine, &setup, f))
            .instrument(span)
            .await;
        let elapsed = started.elapsed();
        self.health.calls.fetch_add(1, Ordering::Relaxed);
        // A panic is a bug in a host function: the call failed.
        let result = joined.unwrap_or_else(|panic| {
            Err(CallFailure::Trap(format!(
                "host panicked during the call: {panic}"
            )))
        });
        version
            .calls
            .record(elapsed, result.as_ref().err().map(CallFailure::label));
        match result {
            Ok(value) => {
                self.health.consecutive_failures.store(0, Ordering::Relaxed);
                Ok(value)
            }
            Err(failure) => {
                self.record_failure(&failure, settings.quarantine_after)
                    .await;
                Err(Unanswered::Failed {
                    plugin: self.name().clone(),
                    failure,
                })
            }
        }
    }

    async fn record_failure(&self, failure: &CallFailure, quarantine_after: u32) {
        self.health.failures.fetch_add(1, Ordering::Relaxed);
        let consecutive = self
            .health
            .consecutive_failures
            .fetch_add(1, Ordering::Relaxed)
            + 1;
        tracing::warn!(plugin = %self.name(), %failure, consecutive, "plugin call failed");
        if consecutive < quarantine_after.max(1) {
            return;
        }
        // Only the call that flips the flag raises the alert.
        if self.health.quarantined.swap(true, Ordering::Relaxed) {
            return;
        }
        crate::metrics::metrics()
            .plugin_quarantines
            .with_label_values(&[self.name().as_str()])
            .inc();
        let version = self.active.load();
        let reason = format!(
            "plugin {} {} quarantined after {consecutive} consecutive failures; last: {failure}",
            self.name(),
            version.version
        );
        tracing::error!(plugin = %self.name(), "{reason}");
        let alert = NewAlert {
            severity: Severity::Critical,
            kind: AlertKind::Quarantine,
            source: self.name().to_string(),
            reason,
            room: None,
            message_id: None,
        };
        if let Err(err) = self.shared.alerts.raise(alert).await {
            tracing::error!(plugin = %self.name(), error = %err, "quarantine alert not stored");
        }
    }
}

/// Runs the blocking `call` without blocking the async runtime's workers,
/// on the cheapest path the runtime offers.
///
/// On a multi-threaded runtime the call runs in place, on the current
/// thread, after the worker hands its other tasks to another thread
/// (`block_in_place`): no hop to a pool thread and back, which cost more
/// than a fresh instance and the call together. Only the calling task
/// waits, so callers that drive several things in one task (a chat
/// connection) spawn a task per call. A current-thread runtime (tests,
/// tools) has no worker to hand off: the call goes to the blocking pool.
///
/// A panic in the call is caught and returned as its message.
async fn run_blocking<R: Send + 'static>(
    call: impl FnOnce() -> R + Send + 'static,
) -> Result<R, String> {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let in_place = Handle::try_current()
        .is_ok_and(|handle| handle.runtime_flavor() == RuntimeFlavor::MultiThread);
    if in_place {
        tokio::task::block_in_place(|| {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).map_err(panic_message)
        })
    } else {
        tokio::task::spawn_blocking(call)
            .await
            .map_err(|err| err.to_string())
    }
}

fn panic_message(panic: Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned())
}
