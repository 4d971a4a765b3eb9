//! The plugin runtime: sandboxed WebAssembly components, hot-swapped in
//! place and run in chains.
//!
//! - [`engine`]: the process-wide engine (pooling allocator, epochs) and its ticker;
//! - [`bindings`]: host bindings generated from `wit/`;
//! - [`state`]: a store's data and the host functions a plugin may import;
//! - [`wasi`]: the WASI a plugin gets (no files, network or waiting);
//! - [`limits`]: per-plugin limits and the limiter enforcing them;
//! - [`cache`]: the on-disk cache of compiled components;
//! - [`compile`]: compiling in a child process, which returns its memory;
//! - [`component`]: one compiled version and how calls get instances of it;
//! - [`plugin`]: a plugin slot (hot swap, settings, health, quarantine);
//! - [`chain`]: ordered plugins per hook point;
//! - [`runtime`]: ties them together.

pub mod bindings;
pub mod cache;
pub mod chain;
pub mod compile;
pub mod component;
pub mod engine;
pub mod limits;
pub mod name;
pub mod plugin;
pub mod runtime;
pub mod state;
pub mod wasi;

pub use bindings::wit;
pub use chain::{Chain, ChainError, Hook, MessageDecision, OutputLimits, UploadDecision};
pub use component::{CallFailure, ComponentError, Isolation, PluginVersion, World};
pub use limits::PluginLimits;
pub use name::PluginName;
pub use plugin::{
    FailurePolicy, Lane, Plugin, PluginSettings, PluginStatus, SwapError, Unanswered,
};
pub use runtime::{InstallError, LoadError, Runtime, RuntimeConfig, StartError};
