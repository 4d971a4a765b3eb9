//! The plugin's own key-value store.
//!
//! Every plugin has a private store that survives calls, restarts and
//! upgrades to new versions of the plugin. Keys and values count against a
//! byte quota the admin sets; a write past it is refused, never truncated.

use crate::bindings::hangar::plugin::host;
pub use crate::bindings::hangar::plugin::types::KvError as Error;

/// Reads the value stored under `key`.
pub fn get(key: &str) -> Option<Vec<u8>> {
    host::kv_get(key)
}

/// Reads the value stored under `key` as UTF-8 text; `None` when missing or
/// not text.
pub fn get_string(key: &str) -> Option<String> {
    get(key).and_then(|bytes| String::from_utf8(bytes).ok())
}

/// Stores `value` under `key`, replacing any previous value.
///
/// # Errors
/// [`Error::QuotaExceeded`] (with the quota in bytes) when the write would
/// exceed the plugin's quota, [`Error::InvalidKey`] for an empty or overlong
/// key, [`Error::Unavailable`] when the host's store failed.
pub fn set(key: &str, value: &[u8]) -> Result<(), Error> {
    host::kv_set(key, value)
}

/// Removes `key`; removing a missing key does nothing.
pub fn delete(key: &str) {
    host::kv_delete(key);
}
