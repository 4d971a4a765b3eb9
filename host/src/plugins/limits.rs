//! Per-plugin resource limits and the store limiter that enforces them.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use wasmtime::ResourceLimiter;

/// Limits applied to every call of one plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PluginLimits {
    /// Budget of guest time of one call, instantiation included (wall
    /// clock, less the time spent in host functions).
    #[serde(with = "crate::config::values::millis", rename = "deadline_ms")]
    pub deadline: Duration,
    /// Budget of time one call may spend blocked in host functions
    /// (key-value queries). A call never runs longer than `deadline` plus
    /// this, in wall-clock time.
    #[serde(with = "crate::config::values::millis", rename = "host_budget_ms")]
    pub host_budget: Duration,
    /// Cap on each linear memory, in bytes.
    pub memory_bytes: usize,
    /// Cap on instances, tables and memories created by one instantiation.
    pub instances: usize,
    /// Cap on the elements of one table.
    pub table_elements: usize,
    /// Bytes of keys plus values the plugin may keep in its key-value store.
    pub kv_quota_bytes: u64,
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self {
            deadline: Duration::from_millis(200),
            host_budget: Duration::from_millis(100),
            // Enough for a Python guest (~12 MiB at start) to work.
            memory_bytes: 128 << 20,
            instances: 100,
            table_elements: 100_000,
            kv_quota_bytes: 1 << 20,
        }
    }
}

impl PluginLimits {
    /// Refuses limits that cannot work or that the engine's pool cannot
    /// hold.
    ///
    /// # Errors
    /// The key (within `limits`) and what is wrong with it.
    pub fn validate(
        &self,
        engine: &super::engine::EngineSettings,
    ) -> Result<(), crate::config::Invalid> {
        use crate::config::Invalid;
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Invalid::positive("limits.deadline_ms", ms(self.deadline))?;
        Invalid::positive("limits.host_budget_ms", ms(self.host_budget))?;
        if !(1..=engine.max_memory_bytes).contains(&self.memory_bytes) {
            return Err(Invalid::new(
                "limits.memory_bytes",
                format!(
                    "must be 1 to {} (runtime.engine.max_memory_bytes, the engine pool's \
                     memory per instance)",
                    engine.max_memory_bytes
                ),
            ));
        }
        Invalid::positive("limits.instances", self.instances as u64)?;
        if !(1..=engine.max_table_elements).contains(&self.table_elements) {
            return Err(Invalid::new(
                "limits.table_elements",
                format!(
                    "must be 1 to {} (runtime.engine.max_table_elements)",
                    engine.max_table_elements
                ),
            ));
        }
        Ok(())
    }
}

/// The memory cap was hit.
#[derive(Debug, thiserror::Error)]
#[error("linear memory would grow to {desired} bytes; the plugin's cap is {cap} bytes")]
pub struct MemoryCapExceeded {
    desired: usize,
    cap: usize,
}

/// A `ResourceLimiter` that records whether the memory cap was hit, so a
/// failed call can be reported as out-of-memory whatever error the guest's
/// allocator turned it into.
#[derive(Debug)]
pub struct Limiter {
    limits: PluginLimits,
    /// Set when a memory growth was refused during the current call.
    pub memory_denied: bool,
}

impl Limiter {
    /// A limiter enforcing `limits`.
    pub fn new(limits: PluginLimits) -> Self {
        Self {
            limits,
            memory_denied: false,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.limits.memory_bytes {
            self.memory_denied = true;
            // An error (not `Ok(false)`) traps at once instead of letting the
            // guest's allocator limp on.
            return Err(MemoryCapExceeded {
                desired,
                cap: self.limits.memory_bytes,
            }
            .into());
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= self.limits.table_elements)
    }

    fn instances(&self) -> usize {
        self.limits.instances
    }

    fn tables(&self) -> usize {
        self.limits.instances
    }

    fn memories(&self) -> usize {
        self.limits.instances
    }
}
