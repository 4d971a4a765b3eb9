//! FAQ bot: answers configured questions with a bot reply, otherwise silent.
//!
//! A question matches when the message contains one of its keywords
//! (case-insensitive). The bot answers a question at most once per room
//! within `cooldown_secs`, remembered in the plugin's key-value store, so a
//! customer repeating "refund" is not flooded with the same answer.
//!
//! Configuration:
//! ```json
//! {
//!   "entries": [
//!     {"keywords": ["退款", "refund"], "answer": "Refunds reach your account within 3-5 working days."},
//!     {"keywords": ["发货", "shipping"], "answer": "Orders ship within 24 hours."}
//!   ],
//!   "cooldown_secs": 60
//! }
//! ```

use hangar_sdk::{ChatMessage, ChatPlugin, Outcome};
use serde::Deserialize;

/// The plugin's configuration.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Questions and their answers, tried in order; the first match answers.
    pub entries: Vec<Entry>,
    /// Seconds during which a room does not get the same answer twice.
    pub cooldown_secs: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
            cooldown_secs: 60,
        }
    }
}

/// One question: any keyword triggers the answer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Words or phrases that ask the question.
    pub keywords: Vec<String>,
    /// The bot's reply.
    pub answer: String,
}

/// The index of the first entry whose keyword appears in `text`.
pub fn find_entry(config: &Config, text: &str) -> Option<usize> {
    let text = text.to_lowercase();
    config.entries.iter().position(|entry| {
        entry
            .keywords
            .iter()
            .any(|k| !k.is_empty() && text.contains(&k.to_lowercase()))
    })
}

struct FaqBot;

impl ChatPlugin for FaqBot {
    fn on_message(msg: ChatMessage) -> Outcome {
        let config: Config = hangar_sdk::config::load_or_default();
        let Some(index) = find_entry(&config, &msg.text) else {
            return Outcome::allow();
        };
        // The host hands in the message time; the plugin has no clock.
        let key = format!("answered/{}/{index}", msg.room);
        let last = hangar_sdk::kv::get_string(&key).and_then(|t| t.parse::<i64>().ok());
        let cooldown_ms =
            i64::try_from(config.cooldown_secs.saturating_mul(1000)).unwrap_or(i64::MAX);
        if last.is_some_and(|t| msg.time_ms.saturating_sub(t) < cooldown_ms) {
            return Outcome::allow();
        }
        if let Err(err) = hangar_sdk::kv::set(&key, msg.time_ms.to_string().as_bytes()) {
            // Answering is still right; only the cooldown is lost.
            hangar_sdk::log::warn("cooldown not saved", &[("error", &err.to_string())]);
        }
        Outcome::allow().with_reply(config.entries[index].answer.clone())
    }
}

hangar_sdk::chat_plugin!(FaqBot);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_chinese_and_mixed_case_keywords() {
        let config: Config = hangar_sdk::config::parse(
            r#"{"entries": [{"keywords": ["退款", "refund"], "answer": "a"},
                            {"keywords": ["发货"], "answer": "b"}]}"#,
        )
        .unwrap();
        assert_eq!(find_entry(&config, "我要退款"), Some(0));
        assert_eq!(find_entry(&config, "How do I get a REFUND?"), Some(0));
        assert_eq!(find_entry(&config, "什么时候发货"), Some(1));
        assert_eq!(find_entry(&config, "hello"), None);
    }
}
