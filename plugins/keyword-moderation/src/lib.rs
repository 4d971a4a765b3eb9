//! Keyword moderation: masks, rejects or flags chat messages by word lists.
//!
//! Matching is case-insensitive and folds compatibility forms (NFKC), so
//! `ＢＡＤ`, `Bad` and `bad` are one word; Chinese words match as written.
//! When several lists match, reject wins over flag, and flag over mask (a
//! flagged message is delivered as written so that admins see what was said).
//!
//! Configuration (all lists optional):
//! ```json
//! {
//!   "mask": ["darn", "傻瓜"],
//!   "reject": ["scam-link.example"],
//!   "flag": [{"words": ["lawyer", "投诉"], "severity": "warning"}],
//!   "mask_char": "*"
//! }
//! ```

use hangar_sdk::{ChatMessage, ChatPlugin, Outcome, Severity};
use serde::Deserialize;

mod matcher;

pub use matcher::{Hit, Normalized, WordSet};

/// The plugin's configuration.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Words replaced by `mask_char`, one per character.
    pub mask: Vec<String>,
    /// Words that make the message be rejected.
    pub reject: Vec<String>,
    /// Groups of words that flag the message with a severity.
    pub flag: Vec<FlagRule>,
    /// Character that replaces each character of a masked word.
    pub mask_char: char,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            mask: Vec::new(),
            reject: Vec::new(),
            flag: Vec::new(),
            mask_char: '*',
        }
    }
}

/// Words that raise an alert of one severity.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlagRule {
    /// The words.
    pub words: Vec<String>,
    /// `info`, `warning` or `critical`.
    #[serde(default = "default_severity")]
    pub severity: SeverityName,
}

/// A severity as written in the configuration.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum SeverityName {
    /// Informational.
    Info,
    /// Worth a look.
    Warning,
    /// Needs action now.
    Critical,
}

fn default_severity() -> SeverityName {
    SeverityName::Warning
}

impl From<SeverityName> for Severity {
    fn from(s: SeverityName) -> Self {
        match s {
            SeverityName::Info => Severity::Info,
            SeverityName::Warning => Severity::Warning,
            SeverityName::Critical => Severity::Critical,
        }
    }
}

/// The configuration with every word folded once, ready to match.
#[derive(Debug, Deserialize)]
#[serde(from = "Config")]
pub struct Rules {
    words: matcher::WordSet,
    mask_char: char,
}

impl Default for Rules {
    fn default() -> Self {
        Config::default().into()
    }
}

/// What matching a word means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Mask it.
    Mask,
    /// Reject the message.
    Reject,
    /// Flag the message with this severity.
    Flag(SeverityName),
}

impl From<Config> for Rules {
    fn from(config: Config) -> Self {
        let reject = config.reject.iter().map(|w| (w.as_str(), Action::Reject));
        let flag = config.flag.iter().flat_map(|rule| {
            rule.words
                .iter()
                .map(|w| (w.as_str(), Action::Flag(rule.severity)))
        });
        let mask = config.mask.iter().map(|w| (w.as_str(), Action::Mask));
        let words = matcher::WordSet::new(reject.chain(flag).chain(mask));
        Self {
            words,
            mask_char: config.mask_char,
        }
    }
}

/// What the word lists say about one text.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// No list matched.
    Allow,
    /// A reject word matched.
    Reject,
    /// Flag words matched: the highest severity and the words.
    Flag(SeverityName, Vec<String>),
    /// Mask words matched: the masked text.
    Mask(String),
}

/// Applies the rules to a text.
pub fn decide(rules: &Rules, text: &str) -> Decision {
    let normalized = Normalized::new(text);
    let hits = rules.words.find_all(normalized.folded());
    if hits.iter().any(|hit| hit.action == Action::Reject) {
        return Decision::Reject;
    }
    let mut flagged: Option<(SeverityName, Vec<String>)> = None;
    for hit in &hits {
        if let Action::Flag(severity) = hit.action {
            let entry = flagged.get_or_insert((severity, Vec::new()));
            entry.0 = entry.0.max(severity);
            if !entry.1.iter().any(|w| w == hit.word) {
                entry.1.push(hit.word.to_owned());
            }
        }
    }
    if let Some((severity, words)) = flagged {
        return Decision::Flag(severity, words);
    }
    let masked: Vec<(usize, usize)> = hits
        .iter()
        .filter(|hit| hit.action == Action::Mask)
        .map(|hit| (hit.start, hit.word.len()))
        .collect();
    match normalized.mask_ranges(&masked, rules.mask_char) {
        Some(masked) => Decision::Mask(masked),
        None => Decision::Allow,
    }
}

struct KeywordModeration;

impl ChatPlugin for KeywordModeration {
    fn on_message(msg: ChatMessage) -> Outcome {
        let rules = hangar_sdk::config::cached::<Rules>();
        match decide(&rules, &msg.text) {
            Decision::Allow => Outcome::allow(),
            Decision::Reject => Outcome::reject("message contains a blocked word"),
            Decision::Flag(severity, words) => Outcome::flag(
                severity.into(),
                format!("flagged words: {}", words.join(", ")),
            ),
            Decision::Mask(text) => Outcome::rewrite(text),
        }
    }
}

hangar_sdk::chat_plugin!(KeywordModeration);

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: &str) -> Rules {
        hangar_sdk::config::parse(json).unwrap()
    }

    #[test]
    fn masks_mixed_case_and_full_width() {
        let c = config(r#"{"mask": ["bad"]}"#);
        assert_eq!(decide(&c, "so BAD!"), Decision::Mask("so ***!".into()));
        assert_eq!(decide(&c, "ＢＡＤ day"), Decision::Mask("*** day".into()));
        assert_eq!(decide(&c, "fine"), Decision::Allow);
    }

    #[test]
    fn masks_chinese_words() {
        let c = config(r#"{"mask": ["傻瓜"]}"#);
        assert_eq!(
            decide(&c, "你这个傻瓜！"),
            Decision::Mask("你这个**！".into())
        );
    }

    #[test]
    fn reject_beats_flag_beats_mask() {
        let c = config(
            r#"{"mask": ["darn"], "reject": ["scam"],
                "flag": [{"words": ["lawyer"], "severity": "info"},
                         {"words": ["投诉"], "severity": "critical"}]}"#,
        );
        assert_eq!(decide(&c, "darn SCAM"), Decision::Reject);
        assert_eq!(
            decide(&c, "darn, my lawyer will 投诉"),
            Decision::Flag(SeverityName::Critical, vec!["lawyer".into(), "投诉".into()])
        );
    }

    #[test]
    fn unknown_config_fields_are_errors() {
        assert!(hangar_sdk::config::parse::<Rules>(r#"{"maks": []}"#).is_err());
    }
}
