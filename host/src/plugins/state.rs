//! What a plugin's store holds during a call, and the host functions a
//! plugin may import (`hangar:plugin/host`).
//!
//! Every host function is bounded: key-value queries spend a per-call
//! budget of host time (a call that exhausts it is stopped and fails as a
//! timeout), and logging spends a per-call budget of events and bytes. WASI
//! (see [`super::wasi`]) is built lazily, on the first WASI call, so a guest
//! that never touches WASI never pays for it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{host_interface, wit};
use super::limits::{Limiter, PluginLimits};
use super::name::PluginName;
use super::wasi;
use crate::store::Database;
use crate::store::kv::KvError as StoreKvError;

/// Most log events one call may write; more are dropped (and counted).
pub const MAX_LOG_EVENTS_PER_CALL: u32 = 100;
/// Most bytes (messages, keys and values) one call may log; more are dropped.
pub const MAX_LOG_BYTES_PER_CALL: usize = 16 * 1024;
/// Longest log message kept, in bytes; longer ones are cut and marked `…`.
pub const MAX_LOG_MESSAGE_BYTES: usize = 4096;
/// Most fields of one log event; more are dropped.
pub const MAX_LOG_FIELDS: usize = 16;
/// Longest field key kept, in bytes.
pub const MAX_LOG_KEY_BYTES: usize = 64;
/// Longest field value kept, in bytes.
pub const MAX_LOG_VALUE_BYTES: usize = 512;

/// What every call of one plugin shares: its name and its key-value store.
#[derive(Debug)]
pub struct PluginContext {
    /// The plugin.
    pub name: PluginName,
    /// Whose key-value data its instances reach: the installed plugin's
    /// name, or `material/NAME` for a material (a name no installed plugin
    /// can have), so a render never touches a plugin's data.
    pub kv_namespace: String,
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
    /// queries): not counted against the guest deadline, but against
    /// `host_budget`.
    host_time: Duration,
    /// The plugin's budget of guest time per call.
    deadline: Duration,
    /// The plugin's budget of host-function time per call.
    host_budget: Duration,
    /// Set when the deadline callback stopped the call.
    pub deadline_hit: bool,
    /// Set when a host function stopped the call: its host budget ran out.
    pub host_budget_hit: bool,
    log_events: u32,
    log_bytes: usize,
    logs_dropped: u32,
    wasi: Option<WasiCtx>,
    table: ResourceTable,
    output: Option<MemoryOutputPipe>,
    output_logged: usize,
}

/// Why a host function stopped a call.
#[derive(Debug, thiserror::Error)]
#[error("the call spent its host-call budget of {0:?} (key-value queries)")]
pub struct HostBudgetSpent(pub Duration);

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
            host_budget: limits.host_budget,
            deadline_hit: false,
            host_budget_hit: false,
            log_events: 0,
            log_bytes: 0,
            logs_dropped: 0,
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
        self.log_bytes = 0;
        self.logs_dropped = 0;
        self.call_started = Instant::now();
        self.host_time = Duration::ZERO;
        self.deadline = limits.deadline;
        self.host_budget = limits.host_budget;
        self.deadline_hit = false;
        self.host_budget_hit = false;
    }

    /// Guest time left in the current call: wall time since the call
    /// started, minus time blocked in host functions, against the deadline.
    pub fn guest_time_left(&self) -> Option<Duration> {
        let used = self.call_started.elapsed().saturating_sub(self.host_time);
        self.deadline
            .checked_sub(used)
            .filter(|left| !left.is_zero())
    }

    /// The resource table WASI resources live in.
    pub fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// Runs a host query within what is left of the call's host budget.
    /// Its time is kept off the guest deadline; when the budget is spent
    /// (before or during the query) the call is stopped with a trap.
    fn host_io<R, F>(&mut self, io: impl FnOnce(Arc<PluginContext>) -> F) -> wasmtime::Result<R>
    where
        F: std::future::Future<Output = R>,
    {
        let left = self.host_budget.saturating_sub(self.host_time);
        if left.is_zero() {
            self.host_budget_hit = true;
            return Err(HostBudgetSpent(self.host_budget).into());
        }
        let started = Instant::now();
        let context = self.plugin.clone();
        let handle = context.handle.clone();
        let result = handle.block_on(tokio::time::timeout(left, io(context)));
        self.host_time += started.elapsed();
        result.map_err(|_| {
            self.host_budget_hit = true;
            HostBudgetSpent(self.host_budget).into()
        })
    }

    /// Logs what the guest wrote to stdout/stderr since the last flush, and
    /// how many log events the call's budget dropped.
    pub fn flush_output(&mut self) {
        if self.logs_dropped > 0 {
            tracing::warn!(
                plugin = %self.plugin.name,
                dropped = self.logs_dropped,
                "plugin log events dropped: over the per-call budget of {MAX_LOG_EVENTS_PER_CALL} events or {MAX_LOG_BYTES_PER_CALL} bytes"
            );
            self.logs_dropped = 0;
        }
        let Some(output) = &self.output else { return };
        let contents = output.contents();
        if contents.len() > self.output_logged {
            let text = String::from_utf8_lossy(&contents[self.output_logged..]);
            tracing::warn!(plugin = %self.plugin.name, output = %text.trim_end(), "plugin wrote to stdout/stderr");
            self.output_logged = contents.len();
        }
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        let ctx = self.wasi.get_or_insert_with(|| {
            let output = MemoryOutputPipe::new(wasi::OUTPUT_CAPTURE_BYTES);
            let ctx = wasi::context(&output);
            self.output = Some(output);
            ctx
        });
        WasiCtxView {
            ctx,
            table: &mut self.table,
        }
    }
}

/// `text` cut to at most `max` bytes on a character boundary, marked `…`
/// when cut.
fn capped(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return text.into();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end]).into()
}

impl wit::Host for CallState {}

impl host_interface::Host for CallState {
    fn log(
        &mut self,
        level: wit::LogLevel,
        message: String,
        fields: Vec<(String, String)>,
    ) -> wasmtime::Result<()> {
        self.log_events += 1;
        let message = capped(&message, MAX_LOG_MESSAGE_BYTES);
        let fields = fields
            .iter()
            .take(MAX_LOG_FIELDS)
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    capped(k, MAX_LOG_KEY_BYTES),
                    capped(v, MAX_LOG_VALUE_BYTES)
                )
            })
            .collect::<Vec<_>>()
            .join(" ");
        let bytes = message.len() + fields.len();
        if self.log_events > MAX_LOG_EVENTS_PER_CALL
            || self.log_bytes + bytes > MAX_LOG_BYTES_PER_CALL
        {
            self.logs_dropped += 1;
            return Ok(());
        }
        self.log_bytes += bytes;
        let plugin = &self.plugin.name;
        match level {
            wit::LogLevel::Trace => tracing::trace!(%plugin, %fields, "{message}"),
            wit::LogLevel::Debug => tracing::debug!(%plugin, %fields, "{message}"),
            wit::LogLevel::Info => tracing::info!(%plugin, %fields, "{message}"),
            wit::LogLevel::Warn => tracing::warn!(%plugin, %fields, "{message}"),
            wit::LogLevel::Error => tracing::error!(%plugin, %fields, "{message}"),
        }
        Ok(())
    }

    fn config(&mut self) -> wasmtime::Result<String> {
        Ok(self.config.to_string())
    }

    // Plugin calls never run on an async worker (a thread out of the
    // workers after `block_in_place`, or the blocking pool), so blocking
    // on the query is safe here.
    fn kv_get(&mut self, key: String) -> wasmtime::Result<Option<Vec<u8>>> {
        let result = self
            .host_io(|ctx| async move { ctx.db.kv_get(ctx.kv_namespace.as_str(), &key).await })?;
        Ok(match result {
            Ok(value) => value,
            Err(err) => {
                tracing::warn!(plugin = %self.plugin.name, error = %err, "plugin kv-get failed");
                None
            }
        })
    }

    fn kv_set(
        &mut self,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), wit::KvError>> {
        let quota = self.kv_quota;
        let result = self.host_io(|ctx| async move {
            ctx.db
                .kv_set(ctx.kv_namespace.as_str(), &key, &value, quota)
                .await
        })?;
        Ok(result.map_err(|err| match err {
            StoreKvError::QuotaExceeded { quota } => wit::KvError::QuotaExceeded(quota),
            StoreKvError::InvalidKey => wit::KvError::InvalidKey,
            StoreKvError::Store(err) => {
                tracing::warn!(plugin = %self.plugin.name, error = %err, "plugin kv-set failed");
                wit::KvError::Unavailable(
                    "the key-value store failed; the write did not happen".into(),
                )
            }
        }))
    }

    fn kv_delete(&mut self, key: String) -> wasmtime::Result<()> {
        let result =
            self.host_io(
                |ctx| async move { ctx.db.kv_delete(ctx.kv_namespace.as_str(), &key).await },
            )?;
        if let Err(err) = result {
            tracing::warn!(plugin = %self.plugin.name, error = %err, "plugin kv-delete failed");
        }
        Ok(())
    }
}

/// `hangar:plugin/host@0.1.0`, for plugins built against 0.1.0: the same
/// functions as 0.2.0's, over types of the same shape.
mod v0_1_host {
    use super::CallState;
    use crate::plugins::bindings::v0_1::hangar::plugin::{host, types};
    use crate::plugins::bindings::{host_interface, wit};

    impl types::Host for CallState {}

    impl host::Host for CallState {
        fn log(
            &mut self,
            level: types::LogLevel,
            message: String,
            fields: Vec<(String, String)>,
        ) -> wasmtime::Result<()> {
            let level = match level {
                types::LogLevel::Trace => wit::LogLevel::Trace,
                types::LogLevel::Debug => wit::LogLevel::Debug,
                types::LogLevel::Info => wit::LogLevel::Info,
                types::LogLevel::Warn => wit::LogLevel::Warn,
                types::LogLevel::Error => wit::LogLevel::Error,
            };
            host_interface::Host::log(self, level, message, fields)
        }

        fn config(&mut self) -> wasmtime::Result<String> {
            host_interface::Host::config(self)
        }

        fn kv_get(&mut self, key: String) -> wasmtime::Result<Option<Vec<u8>>> {
            host_interface::Host::kv_get(self, key)
        }

        fn kv_set(
            &mut self,
            key: String,
            value: Vec<u8>,
        ) -> wasmtime::Result<Result<(), types::KvError>> {
            Ok(
                host_interface::Host::kv_set(self, key, value)?.map_err(|err| match err {
                    wit::KvError::QuotaExceeded(quota) => types::KvError::QuotaExceeded(quota),
                    wit::KvError::InvalidKey => types::KvError::InvalidKey,
                    wit::KvError::Unavailable(why) => types::KvError::Unavailable(why),
                }),
            )
        }

        fn kv_delete(&mut self, key: String) -> wasmtime::Result<()> {
            host_interface::Host::kv_delete(self, key)
        }
    }
}
