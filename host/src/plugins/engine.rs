//! The process-wide `wasmtime::Engine` and the ticker that drives its epochs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ProfilingStrategy,
};

/// Sizing of the engine's instance pool (`[runtime.engine]` in
/// `hangar.toml`). Each slot is reserved for the largest plugin allowed:
/// plugin limits are checked against these at configuration.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct EngineSettings {
    /// How often the epoch advances; call deadlines are counted in ticks.
    #[serde(rename = "epoch_tick_ms", with = "crate::config::values::millis")]
    pub epoch_tick: Duration,
    /// Component instances alive at once (per-call stores plus warm pools).
    pub total_component_instances: u32,
    /// Largest linear memory any plugin may be given, in bytes; the
    /// per-plugin cap (`PluginLimits::memory_bytes`) is enforced below it.
    pub max_memory_bytes: usize,
    /// Most elements of any table; the per-plugin cap
    /// (`PluginLimits::table_elements`) is enforced below it.
    pub max_table_elements: usize,
    /// Bytes at the start of each linear memory reset with `memset` when
    /// an instance ends, instead of being returned to the kernel: the next
    /// instance in that slot touches them without page faults.
    #[serde(rename = "memory_keep_resident_bytes")]
    pub memory_keep_resident: usize,
    /// Released slots whose memory is returned to the kernel in one batch
    /// (one TLB flush for many instances).
    pub decommit_batch_size: usize,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            epoch_tick: Duration::from_millis(5),
            total_component_instances: 1000,
            max_memory_bytes: 1 << 30,
            // Python guests carry large tables and instance state.
            max_table_elements: 100_000,
            memory_keep_resident: 512 << 10,
            decommit_batch_size: 16,
        }
    }
}

impl EngineSettings {
    /// Refuses values that cannot work.
    ///
    /// # Errors
    /// The key (within `engine`) and what is wrong with it.
    pub fn validate(&self) -> Result<(), crate::config::Invalid> {
        use crate::config::Invalid;
        let tick = self.epoch_tick.as_millis();
        if !(1..=1000).contains(&tick) {
            return Err(Invalid::new("engine.epoch_tick_ms", "must be 1 to 1000"));
        }
        Invalid::positive(
            "engine.total_component_instances",
            u64::from(self.total_component_instances),
        )?;
        // Linear memory grows in 64 KiB pages.
        if self.max_memory_bytes < 1 << 20 || !self.max_memory_bytes.is_multiple_of(64 << 10) {
            return Err(Invalid::new(
                "engine.max_memory_bytes",
                "must be at least 1 MiB and a multiple of 65536 (the WebAssembly page)",
            ));
        }
        Invalid::positive("engine.max_table_elements", self.max_table_elements as u64)?;
        if self.memory_keep_resident > self.max_memory_bytes {
            return Err(Invalid::new(
                "engine.memory_keep_resident_bytes",
                "must be at most max_memory_bytes",
            ));
        }
        Invalid::positive(
            "engine.decommit_batch_size",
            self.decommit_batch_size as u64,
        )?;
        Ok(())
    }
}

/// Builds the engine: component model, epoch interruption, pooling allocator
/// with copy-on-write memory images (instantiation maps the initial memory
/// instead of copying it).
///
/// # Errors
/// When wasmtime rejects the configuration (e.g. not enough address space
/// for the pool).
pub fn build(settings: &EngineSettings) -> wasmtime::Result<Engine> {
    let instances = settings.total_component_instances;
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(instances)
        // Guests from other toolchains (componentize-py) hold a dozen or more
        // core instances and several memories and tables per component.
        .max_core_instances_per_component(64)
        .max_memories_per_component(16)
        .max_tables_per_component(32)
        .total_core_instances(instances.saturating_mul(4))
        .total_memories(instances.saturating_mul(2))
        .total_tables(instances.saturating_mul(4))
        .max_memory_size(settings.max_memory_bytes)
        .table_elements(settings.max_table_elements)
        .max_core_instance_size(4 << 20)
        .max_component_instance_size(4 << 20)
        .linear_memory_keep_resident(settings.memory_keep_resident)
        .table_keep_resident(16 << 10)
        .decommit_batch_size(settings.decommit_batch_size);
    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .memory_init_cow(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    // `perf record` can name the functions of compiled plugins when the
    // engine writes /tmp/perf-PID.map (HANGAR_PERFMAP=1).
    if std::env::var_os("HANGAR_PERFMAP").is_some_and(|v| v != "0") {
        config.profiler(ProfilingStrategy::PerfMap);
    }
    Engine::new(&config)
}

/// A thread that advances the engine's epoch every tick, so that a call
/// past its deadline traps even if it never yields. Stops when dropped.
#[derive(Debug)]
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    /// Starts ticking `engine` every `tick`.
    ///
    /// # Errors
    /// When the thread cannot be spawned.
    pub fn start(engine: Engine, tick: Duration) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = std::thread::Builder::new()
            .name("hangar-epoch".into())
            .spawn({
                let stop = stop.clone();
                move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        engine.increment_epoch();
                    }
                }
            })?;
        Ok(Self {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
