//! Plugin names: defined by the registry, which names packages the same way.

pub use hangar_registry::{InvalidPluginName, PluginName};
