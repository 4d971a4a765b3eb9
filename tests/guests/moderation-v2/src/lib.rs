//! Test-only chat plugin standing in for keyword-moderation 0.2.0: it reads
//! the same configuration (the `reject` and `mask` word lists, matched
//! case-insensitively) and adds a rule version 0.1.0 lacks: runs of eight or
//! more digits (card and account numbers) are masked. A test activates it on
//! a live server and checks that the next message follows the new rule.

use hangar_sdk::{ChatMessage, ChatPlugin, Outcome};
use serde::Deserialize;

/// The parts of keyword-moderation's configuration this version reads.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Config {
    reject: Vec<String>,
    mask: Vec<String>,
}

/// Shortest digit run that is masked.
const MIN_DIGITS: usize = 8;

fn mask_digit_runs(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if run >= MIN_DIGITS {
            out.extend(std::iter::repeat_n('*', run));
            i += run;
        } else if run > 0 {
            out.extend(&chars[i..i + run]);
            i += run;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn mask_words(text: &str, words: &[String]) -> String {
    let mut out = text.to_owned();
    for word in words.iter().filter(|w| !w.is_empty()) {
        let lower = out.to_lowercase();
        if lower.len() != out.len() {
            continue;
        }
        let needle = word.to_lowercase();
        let mut masked = String::with_capacity(out.len());
        let mut at = 0;
        while let Some(found) = lower[at..].find(&needle) {
            let start = at + found;
            masked.push_str(&out[at..start]);
            masked.extend(std::iter::repeat_n('*', needle.chars().count()));
            at = start + needle.len();
        }
        masked.push_str(&out[at..]);
        out = masked;
    }
    out
}

struct ModerationV2;

impl ChatPlugin for ModerationV2 {
    fn on_message(msg: ChatMessage) -> Outcome {
        let config: Config = hangar_sdk::config::load_or_default();
        let lower = msg.text.to_lowercase();
        if config
            .reject
            .iter()
            .any(|w| !w.is_empty() && lower.contains(&w.to_lowercase()))
        {
            return Outcome::reject("message contains a blocked word");
        }
        let text = mask_digit_runs(&mask_words(&msg.text, &config.mask));
        if text == msg.text {
            Outcome::allow()
        } else {
            Outcome::rewrite(text)
        }
    }
}

hangar_sdk::chat_plugin!(ModerationV2);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_digit_runs_are_masked_short_ones_kept() {
        assert_eq!(
            mask_digit_runs("card 4111111111111111, room 12"),
            "card ****************, room 12"
        );
        assert_eq!(mask_digit_runs("1234567"), "1234567");
    }

    #[test]
    fn words_are_masked_case_insensitively() {
        assert_eq!(
            mask_words("You are Stupid", &["stupid".into()]),
            "You are ******"
        );
    }
}
