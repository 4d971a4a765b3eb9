//! Case- and width-insensitive matching that maps back to the original text.

use unicode_normalization::UnicodeNormalization;

/// A text folded for matching (NFKC, lowercase), with the original character
/// each folded byte came from, so matches can be masked in the original.
pub struct Normalized<'a> {
    original: &'a str,
    folded: String,
    /// For each byte of `folded`, the index of the original character;
    /// `None` for ASCII text, where byte `i` comes from character `i`.
    origin: Option<Vec<u32>>,
}

impl<'a> Normalized<'a> {
    /// Folds `text`.
    pub fn new(text: &'a str) -> Self {
        if text.is_ascii() {
            return Self {
                original: text,
                folded: text.to_ascii_lowercase(),
                origin: None,
            };
        }
        let mut folded = String::with_capacity(text.len());
        let mut origin = Vec::with_capacity(text.len());
        for (index, c) in text.chars().enumerate() {
            let start = folded.len();
            fold_char(c, &mut folded);
            let index = u32::try_from(index).unwrap_or(u32::MAX);
            origin.resize(origin.len() + (folded.len() - start), index);
        }
        Self {
            original: text,
            folded,
            origin: Some(origin),
        }
    }

    /// Whether the folded text contains `word`, already folded with [`fold`].
    pub fn contains_folded(&self, word: &str) -> bool {
        !word.is_empty() && self.folded.contains(word)
    }

    /// The original text with every character of every match of `words`
    /// (already folded) replaced by `mask`; `None` when nothing matched.
    pub fn mask_folded(&self, words: &[String], mask: char) -> Option<String> {
        let chars = self.original.chars().count();
        let mut masked = vec![false; chars];
        for word in words.iter().filter(|w| !w.is_empty()) {
            for (start, hit) in self.folded.match_indices(word.as_str()) {
                match &self.origin {
                    None => masked[start..start + hit.len()].fill(true),
                    Some(origin) => {
                        for &index in &origin[start..start + hit.len()] {
                            masked[index as usize] = true;
                        }
                    }
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

/// `word` folded for matching (NFKC, lowercase).
pub fn fold(word: &str) -> String {
    let mut folded = String::with_capacity(word.len());
    for c in word.chars() {
        fold_char(c, &mut folded);
    }
    folded
}

/// Appends the NFKC lowercase form of `c`. The common cases NFKC leaves
/// alone or maps by a fixed offset are answered without its tables:
/// ASCII, full-width ASCII (`Ａ` is `A`), the ideographic space, and CJK
/// ideographs.
fn fold_char(c: char, out: &mut String) {
    match c {
        c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
        '\u{FF01}'..='\u{FF5E}' => {
            let ascii = char::from_u32(c as u32 - 0xFEE0).unwrap_or(c);
            out.push(ascii.to_ascii_lowercase());
        }
        '\u{3000}' => out.push(' '),
        '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' => out.push(c),
        c => out.extend(std::iter::once(c).nfkc().flat_map(char::to_lowercase)),
    }
}

#[cfg(test)]
mod tests {
    use unicode_normalization::UnicodeNormalization;

    use super::fold_char;

    #[test]
    fn fast_paths_agree_with_nfkc() {
        let samples = ('\u{20}'..='\u{7E}').chain('\u{FF01}'..='\u{FF5E}').chain([
            '\u{3000}', '傻', '瓜', '投', '诉', '\u{3400}', 'é', 'ﬁ', '①', 'Å',
        ]);
        for c in samples {
            let mut fast = String::new();
            fold_char(c, &mut fast);
            let slow: String = std::iter::once(c)
                .nfkc()
                .flat_map(char::to_lowercase)
                .collect();
            assert_eq!(fast, slow, "{c:?}");
        }
    }
}
