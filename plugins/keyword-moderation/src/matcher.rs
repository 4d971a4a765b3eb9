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

    /// The folded text.
    pub fn folded(&self) -> &str {
        &self.folded
    }

    /// The original text with the characters behind each folded byte range
    /// `(start, len)` replaced by `mask`; `None` when there are none.
    pub fn mask_ranges(&self, ranges: &[(usize, usize)], mask: char) -> Option<String> {
        if ranges.is_empty() {
            return None;
        }
        let chars = self.original.chars().count();
        let mut masked = vec![false; chars];
        for &(start, len) in ranges {
            match &self.origin {
                None => masked[start..start + len].fill(true),
                Some(origin) => {
                    for &index in &origin[start..start + len] {
                        masked[index as usize] = true;
                    }
                }
            }
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

/// A match of a word in a folded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The (folded) word.
    pub word: String,
    /// What it means.
    pub action: crate::Action,
    /// Byte offset in the folded text.
    pub start: usize,
}

/// Folded words, searched in one pass over a text: a 256-bit set of the
/// words' first bytes skips most positions with one lookup, and only at a
/// position whose byte starts some word are those words compared.
#[derive(Debug, Default)]
pub struct WordSet {
    first_bytes: [u64; 4],
    /// (folded word, action), sorted by first byte.
    words: Vec<(String, crate::Action)>,
}

impl WordSet {
    /// Adds `word` (folded here) with its action; empty words are ignored.
    pub fn insert(&mut self, word: &str, action: crate::Action) {
        let word = fold(word);
        let Some(&first) = word.as_bytes().first() else {
            return;
        };
        self.first_bytes[usize::from(first >> 6)] |= 1 << (first & 63);
        let at = self
            .words
            .partition_point(|(w, _)| w.as_bytes()[0] <= first);
        self.words.insert(at, (word, action));
    }

    /// Every occurrence of every word in `folded`, left to right.
    pub fn find_all(&self, folded: &str) -> Vec<Hit> {
        let bytes = folded.as_bytes();
        let mut hits = Vec::new();
        for (start, &b) in bytes.iter().enumerate() {
            if self.first_bytes[usize::from(b >> 6)] & (1 << (b & 63)) == 0 {
                continue;
            }
            let from = self.words.partition_point(|(w, _)| w.as_bytes()[0] < b);
            for (word, action) in self.words[from..]
                .iter()
                .take_while(|(w, _)| w.as_bytes()[0] == b)
            {
                if bytes[start..].starts_with(word.as_bytes()) {
                    hits.push(Hit {
                        word: word.clone(),
                        action: *action,
                        start,
                    });
                }
            }
        }
        hits
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
