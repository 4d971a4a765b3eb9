//! {{name}}: a Hangar upload hook. Rejects files over a configured size and
//! files whose first bytes say they are Windows executables.
//!
//! Configuration (JSON, set by an admin): `{"max_bytes": 10485760}`.

use std::sync::OnceLock;

use serde::Deserialize;

wit_bindgen::generate!({ path: "wit", world: "upload-hook" });

use hangar::plugin::host;
use hangar::plugin::types::LogLevel;

#[derive(Debug, Deserialize)]
#[serde(default)]
struct Config {
    max_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self { max_bytes: 10 << 20 }
    }
}

/// Parsed once per instance: an instance's configuration never changes.
fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        serde_json::from_str(&host::config()).unwrap_or_else(|err| {
            host::log(LogLevel::Error, "invalid configuration", &[("error".into(), err.to_string())]);
            Config::default()
        })
    })
}

struct Plugin;

impl Guest for Plugin {
    fn on_upload(file: FileInfo, head: Vec<u8>) -> Verdict {
        if file.size > config().max_bytes {
            return Verdict::Reject(format!("files are limited to {} bytes", config().max_bytes));
        }
        if head.starts_with(b"MZ") {
            return Verdict::Reject("executables are not accepted".into());
        }
        Verdict::Allow
    }
}

export!(Plugin);
