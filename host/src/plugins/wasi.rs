//! The WASI a plugin gets, and why it cannot wait.
//!
//! Toolchains import WASI from their standard libraries (Rust's
//! `wasm32-wasip2` std, componentize-py, ComponentizeJS), so the host links
//! the WASI 0.2 interfaces a component may import; `instantiate_pre` only
//! wires the ones it actually imports, and one that imports anything else
//! (e.g. `wasi:http`) is refused at load. What they can do:
//!
//! - no preopened directories, no environment, no arguments, no stdin;
//! - sockets and name lookup denied;
//! - stdout and stderr captured in memory (4 KiB) and logged, never printed;
//! - random numbers;
//! - clocks frozen at zero, and **no waiting**: a pollable from
//!   `monotonic-clock.subscribe-duration` or `subscribe-instant` is ready at
//!   once, so `pollable.block` and `poll` never sleep. A plugin cannot
//!   observe time passing anyway (the clock reads zero), and the epoch
//!   deadline only interrupts guest code, so a real sleep would hold a call,
//!   its thread and its permit past any deadline. A guest that spins waiting
//!   for time to pass is guest code, and the deadline stops it.

use std::time::Duration;

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::clocks::monotonic_clock;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::p2::{DynPollable, Pollable, subscribe};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, WasiCtx};

use super::state::CallState;

/// Most bytes of captured stdout/stderr kept per instance.
pub const OUTPUT_CAPTURE_BYTES: usize = 4096;

/// Links WASI into `linker` with the monotonic clock replaced by one whose
/// timers are ready at once.
///
/// # Errors
/// When wasmtime refuses a definition (a bug, not an input).
pub fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    linker.allow_shadowing(true);
    let result = monotonic_clock::add_to_linker::<CallState, Sleepless>(linker, |state| {
        SleeplessClock(state.table())
    });
    linker.allow_shadowing(false);
    result
}

/// The context of one instance: nothing to read, nowhere to connect, frozen
/// clocks, output into `output`.
pub fn context(output: &MemoryOutputPipe) -> WasiCtx {
    let mut builder = WasiCtx::builder();
    builder
        .stdout(output.clone())
        .stderr(output.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .wall_clock(FrozenClock)
        .monotonic_clock(FrozenClock);
    builder.build()
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

struct Sleepless;

impl HasData for Sleepless {
    type Data<'a> = SleeplessClock<'a>;
}

/// `wasi:clocks/monotonic-clock` reading zero, with timers that have
/// already fired.
struct SleeplessClock<'a>(&'a mut ResourceTable);

/// A timer that has already fired.
struct Fired;

#[async_trait::async_trait]
impl Pollable for Fired {
    async fn ready(&mut self) {}
}

impl SleeplessClock<'_> {
    fn fired(&mut self) -> wasmtime::Result<Resource<DynPollable>> {
        let timer = self.0.push(Fired)?;
        subscribe(self.0, timer)
    }
}

impl monotonic_clock::Host for SleeplessClock<'_> {
    fn now(&mut self) -> wasmtime::Result<monotonic_clock::Instant> {
        Ok(HostMonotonicClock::now(&FrozenClock))
    }

    fn resolution(&mut self) -> wasmtime::Result<monotonic_clock::Duration> {
        Ok(HostMonotonicClock::resolution(&FrozenClock))
    }

    fn subscribe_instant(
        &mut self,
        _when: monotonic_clock::Instant,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        self.fired()
    }

    fn subscribe_duration(
        &mut self,
        _duration: monotonic_clock::Duration,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        self.fired()
    }
}
