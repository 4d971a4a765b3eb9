//! Structured logging through the host.
//!
//! Events land in the host's log tagged with the plugin's name; fields are
//! key-value pairs. A plugin cannot write to the host's console otherwise.

use crate::bindings::hangar::plugin::host;
pub use crate::bindings::hangar::plugin::types::LogLevel as Level;

/// Writes one event at `level` with `fields`.
pub fn event(level: Level, message: &str, fields: &[(&str, &str)]) {
    let fields: Vec<(String, String)> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    host::log(level, message, &fields);
}

/// Writes a debug event.
pub fn debug(message: &str, fields: &[(&str, &str)]) {
    event(Level::Debug, message, fields);
}

/// Writes an info event.
pub fn info(message: &str, fields: &[(&str, &str)]) {
    event(Level::Info, message, fields);
}

/// Writes a warning.
pub fn warn(message: &str, fields: &[(&str, &str)]) {
    event(Level::Warn, message, fields);
}

/// Writes an error event.
pub fn error(message: &str, fields: &[(&str, &str)]) {
    event(Level::Error, message, fields);
}
