//! {{name}}: a Hangar chat plugin. Rejects messages with a configured word
//! and answers "ping" with "pong".
//!
//! Configuration (JSON, set by an admin): `{"banned": ["word", ...]}`.

use std::sync::OnceLock;

use serde::Deserialize;

wit_bindgen::generate!({ path: "wit", world: "chat-plugin" });

use hangar::plugin::host;
use hangar::plugin::types::{BotReply, LogLevel, Verdict};

/// The configuration; unknown keys are warned about, not refused.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Config {
    banned: Vec<String>,
}

/// Parsed once per instance: an instance's configuration never changes.
fn config() -> &'static Config {
    static CONFIG: OnceLock<Config> = OnceLock::new();
    CONFIG.get_or_init(|| {
        let text = host::config();
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        for key in value.as_object().into_iter().flat_map(|o| o.keys()) {
            if key != "banned" {
                host::log(LogLevel::Warn, "unknown configuration key", &[("key".into(), key.clone())]);
            }
        }
        serde_json::from_value(value).unwrap_or_else(|err| {
            host::log(LogLevel::Error, "invalid configuration", &[("error".into(), err.to_string())]);
            Config::default()
        })
    })
}

struct Plugin;

impl Guest for Plugin {
    fn on_message(msg: ChatMessage) -> Outcome {
        let text = msg.text.to_lowercase();
        if let Some(word) = config().banned.iter().find(|w| text.contains(&w.to_lowercase())) {
            host::log(LogLevel::Info, "rejected a message", &[("word".into(), word.clone())]);
            return Outcome { verdict: Verdict::Reject("this word is not allowed here".into()), replies: Vec::new() };
        }
        let replies = if text.trim() == "ping" {
            vec![BotReply { text: "pong".into() }]
        } else {
            Vec::new()
        };
        Outcome { verdict: Verdict::Allow, replies }
    }
}

export!(Plugin);
