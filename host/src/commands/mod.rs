//! Subcommands other than `serve`: clients of a running server or registry
//! (`upload`, `publish`, `plugins`), a registry on its own, moving an
//! installation's data (`migrate-data`), plugin projects (`new`), a
//! plugin called without a server (`test`).

pub mod config;
pub mod migrate;
pub mod new;
pub mod plugins;
pub mod publish;
pub mod registry;
pub mod test;
pub mod upload;

/// The readable message of an error answer (`{"error": {"message"}}`), or
/// the body itself when it is not one.
pub(crate) fn server_message(status: reqwest::StatusCode, body: &str) -> String {
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["error"]["message"].as_str().map(str::to_owned))
        .unwrap_or_else(|| body.trim().to_owned());
    format!("{message} ({status})")
}
