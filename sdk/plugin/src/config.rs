//! The plugin's configuration: JSON set by the admin, typed with serde.
//!
//! The host hands the configuration in on every call, so a change the admin
//! makes applies from the next message on, without redeploying the plugin.

use std::any::Any;
use std::cell::RefCell;
use std::rc::Rc;

use serde::de::DeserializeOwned;

use crate::bindings::hangar::plugin::host;

/// Why the configuration could not be loaded.
#[derive(Debug)]
pub struct ConfigError {
    message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid plugin configuration: {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// The raw configuration JSON (`{}` when the admin has set none).
pub fn raw() -> String {
    host::config()
}

/// Parses the configuration into `T`.
///
/// # Errors
/// When the JSON does not match `T`; the message names the field.
pub fn load<T: DeserializeOwned>() -> Result<T, ConfigError> {
    parse(&raw())
}

/// Parses the configuration into `T`, falling back to `T::default()` (and
/// logging a warning through the host) when it does not match.
///
/// Use `#[serde(default)]` on `T` so that a partial configuration keeps the
/// defaults of the fields it leaves out.
pub fn load_or_default<T: DeserializeOwned + Default>() -> T {
    parse_or_default(&raw())
}

/// `json` parsed into `T`, or `T::default()` with a warning through the host.
fn parse_or_default<T: DeserializeOwned + Default>(json: &str) -> T {
    parse(json).unwrap_or_else(|err| {
        crate::log::warn(
            "configuration ignored, using defaults",
            &[("error", &err.to_string())],
        );
        T::default()
    })
}

/// The configuration parsed into `T` (defaults when it does not match, as
/// [`load_or_default`]), read and parsed once per instance.
///
/// The host never changes an instance's configuration (a new one goes to
/// new instances), so in the `pooled` isolation mode, where an instance
/// serves many calls, this skips the host call and the parsing (and
/// whatever `T`'s `Deserialize` precomputes, such as folded word lists) on
/// every call after the first. In the default per-call mode every call
/// starts afresh and this is [`load_or_default`].
pub fn cached<T: DeserializeOwned + Default + 'static>() -> Rc<T> {
    thread_local! {
        static CACHE: RefCell<Option<Rc<dyn Any>>> = const { RefCell::new(None) };
    }
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(value) = cache.as_ref()
            && let Ok(value) = value.clone().downcast::<T>()
        {
            return value;
        }
        let value = Rc::new(parse_or_default::<T>(&raw()));
        *cache = Some(value.clone());
        value
    })
}

/// Parses configuration JSON into `T`; [`load`] without the host call, for
/// unit tests of a plugin's configuration handling.
///
/// # Errors
/// When the JSON does not match `T`.
pub fn parse<T: DeserializeOwned>(json: &str) -> Result<T, ConfigError> {
    let json = if json.trim().is_empty() { "{}" } else { json };
    serde_json::from_str(json).map_err(|err| ConfigError {
        message: err.to_string(),
    })
}
