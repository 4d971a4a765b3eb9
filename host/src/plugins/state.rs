//! What a plugin's store holds during a call, and the host functions a
//! plugin may import (`hangar:plugin/host`).
//!
//! WASI is linked only because the Rust toolchain (and others) import parts
//! of it from the standard library. The context has no preopened
//! directories, no environment, no arguments, no network, and frozen
//! clocks; it is built lazily, on the first WASI call, so a guest that never
//! touches WASI never pays for it. Whatever a guest writes to stdout or
//! stderr (a panic message, say) is captured and logged, never printed.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx, WasiCtxView, WasiView};

use super::bindings::{host_interface, wit};
use super::limits::{Limiter, PluginLimits};
use super::name::PluginName;
use crate::store::Database;
use crate::store::kv::KvError as StoreKvError;

/// Most bytes of captured stdout/stderr kept per instance.
const OUTPUT_CAPTURE_BYTES: usize = 4096;
/// Most log events one call may write; more are dropped.
const MAX_LOG_EVENTS_PER_CALL: u32 = 100;
/// Longest log message kept, in bytes.
const MAX_LOG_MESSAGE_BYTES: usize = 4096;

/// What every call of one plugin shares: its name and its key-value store.
#[derive(Debug)]
pub struct PluginContext {
    /// The plugin.
    pub name: PluginName,
    /// Where its key-value store lives.
    pub db: Database,
    /// Runtime the blocking host functions run their queries on.
    pub handle: tokio::runtime::Handle,
}

/// The store's data for one instance.
pub struct CallState {
    plugin: Arc<PluginContext>,
    config: Arc<String>,
    kv_quota: u64,
    /// Enforces the memory and table caps.
    pub limiter: Limiter,
    /// When the current call started.
    call_started: Instant,
    /// Time the current call spent blocked in host functions (key-value
    /// queries): not counted against the plugin's deadline.
    host_time: Duration,
    /// The plugin's budget of guest time per call.
    deadline: Duration,
    /// Set when the deadline callback stopped the call.
    pub deadline_hit: bool,
    log_events: u32,
    wasi: Option<WasiCtx>,
    table: ResourceTable,
    output: Option<MemoryOutputPipe>,
    output_logged: usize,
}

impl CallState {
    /// Fresh state for an instance of `plugin` under `limits`.
    pub fn new(plugin: Arc<PluginContext>, config: Arc<String>, limits: &PluginLimits) -> Self {
        Self {
            plugin,
            config,
            kv_quota: limits.kv_quota_bytes,
            limiter: Limiter::new(*limits),
            call_started: Instant::now(),
            host_time: Duration::ZERO,
            deadline: limits.deadline,
            deadline_hit: false,
            log_events: 0,
            wasi: None,
            table: ResourceTable::new(),
            output: None,
            output_logged: 0,
        }
    }

    /// Whether this instance was made for `config` (an instance keeps one
    /// configuration for its whole life, so guests may cache what they
    /// derive from it).
    pub fn serves_config(&self, config: &Arc<String>) -> bool {
        Arc::ptr_eq(&self.config, config)
    }

    /// Prepares a warm instance's state for its next call: the current
    /// quota and fresh per-call counters.
    pub fn begin_call(&mut self, limits: &PluginLimits) {
        self.kv_quota = limits.kv_quota_bytes;
        self.limiter.memory_denied = false;
        self.log_events = 0;
        self.call_started = Instant::now();
        self.host_time = Duration::ZERO;
        self.deadline = limits.deadline;
        self.deadline_hit = false;
    }

    /// Guest time left in the current call: wall time since the call
    /// started, minus time blocked in host functions, against the deadline.
    pub fn guest_time_left(&self) -> Option<Duration> {
        let used = self.call_started.elapsed().saturating_sub(self.host_time);
        self.deadline
            .checked_sub(used)
            .filter(|left| !left.is_zero())
    }

    /// Runs a blocking host operation, keeping its time off the plugin's clock.
    fn host_io<R>(&mut self, io: impl FnOnce(&PluginContext) -> R) -> R {
        let started = Instant::now();
        let result = io(&self.plugin);
        self.host_time += started.elapsed();
        result
    }

    /// Logs what the guest wrote to stdout/stderr since the last flush.
    pub fn flush_output(&mut self) {
        let Some(output) = &self.output else { return };
        let contents = output.contents();
        if contents.len() > self.output_logged {
            let text = String::from_utf8_lossy(&contents[self.output_logged..]);
            tracing::warn!(plugin = %self.plugin.name, output = %text.trim_end(), "plugin wrote to stdout/stderr");
            self.output_logged = contents.len();
        }
    }

    fn build_wasi(&mut self) -> WasiCtx {
        let output = MemoryOutputPipe::new(OUTPUT_CAPTURE_BYTES);
        self.output = Some(output.clone());
        let mut builder = WasiCtx::builder();
        builder
            .stdout(output.clone())
            .stderr(output)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .wall_clock(FrozenClock)
            .monotonic_clock(FrozenClock);
        builder.build()
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        if self.wasi.is_none() {
            let ctx = self.build_wasi();
            self.wasi = Some(ctx);
        }
        match &mut self.wasi {
            Some(ctx) => WasiCtxView {
                ctx,
                table: &mut self.table,
            },
            None => unreachable!("the WASI context was just built"),
        }
    }
}

/// Clocks that always read zero: a plugin learns the time only from what
/// the host hands in (a message's `time-ms`), which keeps calls
/// reproducible and closes a timing side channel.
struct FrozenClock;

impl HostWallClock for FrozenClock {
    fn resolution(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn now(&self) -> Duration {
        Duration::ZERO
    }
}

impl HostMonotonicClock for FrozenClock {
    fn resolution(&self) -> u64 {
        1_000_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

impl wit::Host for CallState {}

impl host_interface::Host for CallState {
    fn log(&mut self, level: wit::LogLevel, message: String, fields: Vec<(String, String)>) {
        self.log_events += 1;
        if self.log_events > MAX_LOG_EVENTS_PER_CALL {
            return;
        }
        let mut message = message;
        if message.len() > MAX_LOG_MESSAGE_BYTES {
            let mut end = MAX_LOG_MESSAGE_BYTES;
            while !message.is_char_boundary(end) {
                end -= 1;
            }
            message.truncate(end);
        }
        let fields = fields
            .iter()
            .take(32)
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(" ");
        let plugin = &self.plugin.name;
        match level {
            wit::LogLevel::Trace => tracing::trace!(%plugin, %fields, "{message}"),
            wit::LogLevel::Debug => tracing::debug!(%plugin, %fields, "{message}"),
            wit::LogLevel::Info => tracing::info!(%plugin, %fields, "{message}"),
            wit::LogLevel::Warn => tracing::warn!(%plugin, %fields, "{message}"),
            wit::LogLevel::Error => tracing::error!(%plugin, %fields, "{message}"),
        }
    }

    fn config(&mut self) -> String {
        self.config.to_string()
    }

    // The key-value functions run on the blocking pool (plugin calls never
    // run on the async workers), so blocking on the query is safe here.
    fn kv_get(&mut self, key: String) -> Option<Vec<u8>> {
        let result =
            self.host_io(|ctx| ctx.handle.block_on(ctx.db.kv_get(ctx.name.as_str(), &key)));
        match result {
            Ok(value) => value,
            Err(err) => {
                tracing::warn!(plugin = %self.plugin.name, error = %err, "plugin kv-get failed");
                None
            }
        }
    }

    fn kv_set(&mut self, key: String, value: Vec<u8>) -> Result<(), wit::KvError> {
        let quota = self.kv_quota;
        let result = self.host_io(|ctx| {
            ctx.handle
                .block_on(ctx.db.kv_set(ctx.name.as_str(), &key, &value, quota))
        });
        result.map_err(|err| match err {
            StoreKvError::QuotaExceeded { quota } => wit::KvError::QuotaExceeded(quota),
            StoreKvError::InvalidKey => wit::KvError::InvalidKey,
            StoreKvError::Store(err) => {
                tracing::warn!(plugin = %self.plugin.name, error = %err, "plugin kv-set failed");
                wit::KvError::Unavailable(err.to_string())
            }
        })
    }

    fn kv_delete(&mut self, key: String) {
        let result = self.host_io(|ctx| {
            ctx.handle
                .block_on(ctx.db.kv_delete(ctx.name.as_str(), &key))
        });
        if let Err(err) = result {
            tracing::warn!(plugin = %self.plugin.name, error = %err, "plugin kv-delete failed");
        }
    }
}
