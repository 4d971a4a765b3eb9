//! Plugin names.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A plugin's name: 1 to 64 characters of lowercase ASCII letters, digits
/// and `-`, starting with a letter (`keyword-moderation`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PluginName(String);

/// A string that is not a valid plugin name.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid plugin name {0:?}: use 1-64 lowercase letters, digits and '-', starting with a letter"
)]
pub struct InvalidPluginName(String);

impl PluginName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for PluginName {
    type Err = InvalidPluginName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let valid = (1..=64).contains(&s.len())
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if valid {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidPluginName(s.chars().take(80).collect()))
        }
    }
}

impl TryFrom<String> for PluginName {
    type Error = InvalidPluginName;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<PluginName> for String {
    fn from(name: PluginName) -> Self {
        name.0
    }
}

impl fmt::Display for PluginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::PluginName;

    #[test]
    fn accepts_kebab_case_only() {
        assert!("keyword-moderation".parse::<PluginName>().is_ok());
        assert!("a1".parse::<PluginName>().is_ok());
        for bad in ["", "Upper", "1abc", "a_b", "a/b", "../x", &"a".repeat(65)] {
            assert!(bad.parse::<PluginName>().is_err(), "{bad}");
        }
    }
}
