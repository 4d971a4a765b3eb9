//! Case- and width-insensitive matching that maps back to the original text.

use unicode_normalization::UnicodeNormalization;

/// A text folded for matching (NFKC, lowercase), with the original character
/// each folded byte came from, so matches can be masked in the original.
pub struct Normalized<'a> {
    original: &'a str,
    folded: String,
    /// For each byte of `folded`, the index of the original character.
    origin: Vec<usize>,
}

impl<'a> Normalized<'a> {
    /// Folds `text`.
    pub fn new(text: &'a str) -> Self {
        let mut folded = String::with_capacity(text.len());
        let mut origin = Vec::with_capacity(text.len());
        for (index, c) in text.chars().enumerate() {
            let start = folded.len();
            for n in std::iter::once(c).nfkc().flat_map(char::to_lowercase) {
                folded.push(n);
            }
            origin.resize(origin.len() + (folded.len() - start), index);
        }
        Self {
            original: text,
            folded,
            origin,
        }
    }

    /// Whether the folded text contains the folded `word`.
    pub fn contains(&self, word: &str) -> bool {
        let word = fold(word);
        !word.is_empty() && self.folded.contains(&word)
    }

    /// The original text with every character of every match of `words`
    /// replaced by `mask`; `None` when nothing matched.
    pub fn mask(&self, words: &[String], mask: char) -> Option<String> {
        let chars = self.original.chars().count();
        let mut masked = vec![false; chars];
        for word in words.iter().map(|w| fold(w)).filter(|w| !w.is_empty()) {
            for (start, hit) in self.folded.match_indices(&word) {
                for &index in &self.origin[start..start + hit.len()] {
                    masked[index] = true;
                }
            }
        }
        if !masked.contains(&true) {
            return None;
        }
        Some(
            self.original
                .chars()
                .zip(masked)
                .map(|(c, m)| if m { mask } else { c })
                .collect(),
        )
    }
}

fn fold(word: &str) -> String {
    word.nfkc().flat_map(char::to_lowercase).collect()
}
