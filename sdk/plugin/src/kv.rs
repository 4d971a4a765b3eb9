//! The plugin's own key-value store.
//!
//! Every plugin has a private store that survives calls, restarts and
//! upgrades to new versions of the plugin. Keys and values count against a
//! byte quota the admin sets; a write past it is refused, never truncated.

use crate::bindings::hangar::plugin::host;
use crate::bindings::hangar::plugin::types::KvError;

/// Why a write was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The write would take the plugin past its quota (in bytes).
    QuotaExceeded {
        /// The plugin's quota in bytes.
        quota: u64,
    },
    /// The key is empty or longer than the host allows (256 bytes).
    InvalidKey,
    /// The host's store failed; the write did not happen.
    Unavailable(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::QuotaExceeded { quota } => write!(f, "key-value quota of {quota} bytes exceeded"),
            Self::InvalidKey => f.write_str("invalid key: must be 1 to 256 bytes"),
            Self::Unavailable(reason) => write!(f, "key-value store unavailable: {reason}"),
        }
    }
}

impl std::error::Error for Error {}

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
/// [`Error::QuotaExceeded`] when the write would exceed the plugin's quota,
/// [`Error::InvalidKey`] for an empty or overlong key, [`Error::Unavailable`]
/// when the host's store failed.
pub fn set(key: &str, value: &[u8]) -> Result<(), Error> {
    host::kv_set(key, value).map_err(|err| match err {
        KvError::QuotaExceeded(quota) => Error::QuotaExceeded { quota },
        KvError::InvalidKey => Error::InvalidKey,
        KvError::Unavailable(reason) => Error::Unavailable(reason),
    })
}

/// Removes `key`; removing a missing key does nothing.
pub fn delete(key: &str) {
    host::kv_delete(key);
}
