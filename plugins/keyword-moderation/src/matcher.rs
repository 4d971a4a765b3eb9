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
        let Some(origin) = &self.origin else {
            // ASCII: folded byte i is original byte i.
            if mask.is_ascii() {
                let mut bytes = self.original.as_bytes().to_vec();
                for &(start, len) in ranges {
                    bytes[start..start + len].fill(mask as u8);
                }
                return String::from_utf8(bytes).ok();
            }
            let mut masked = vec![false; self.original.len()];
            for &(start, len) in ranges {
                masked[start..start + len].fill(true);
            }
            return Some(
                self.original
                    .chars()
                    .zip(masked)
                    .map(|(c, m)| if m { mask } else { c })
                    .collect(),
            );
        };
        let chars = self.original.chars().count();
        let mut masked = vec![false; chars];
        for &(start, len) in ranges {
            for &index in &origin[start..start + len] {
                masked[index as usize] = true;
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hit<'w> {
    /// The (folded) word.
    pub word: &'w str,
    /// What it means.
    pub action: crate::Action,
    /// Byte offset in the folded text.
    pub start: usize,
}

/// Folded words, searched in one pass over a text: a table indexed by a
/// text byte gives the words starting with it (none for most bytes), so a
/// position costs one lookup and only candidate words are compared.
#[derive(Debug)]
pub struct WordSet {
    /// (folded word, action), sorted by first byte.
    words: Vec<(String, crate::Action)>,
    /// Words starting with byte `b` are `words[starts[b]..starts[b + 1]]`.
    starts: Box<[u16; 257]>,
}

impl WordSet {
    /// The set of `words` (folded here) with their actions; empty words are
    /// ignored.
    pub fn new<'a>(words: impl IntoIterator<Item = (&'a str, crate::Action)>) -> Self {
        let mut words: Vec<(String, crate::Action)> = words
            .into_iter()
            .map(|(word, action)| (fold(word), action))
            .filter(|(word, _)| !word.is_empty())
            .collect();
        // Stable: words with the same first byte keep their given order.
        words.sort_by_key(|(word, _)| word.as_bytes()[0]);
        let mut starts = Box::new([0u16; 257]);
        let mut next = 0;
        for (b, start) in starts.iter_mut().enumerate() {
            *start = u16::try_from(next).unwrap_or(u16::MAX);
            while next < words.len() && usize::from(words[next].0.as_bytes()[0]) == b {
                next += 1;
            }
        }
        Self { words, starts }
    }

    /// Every occurrence of every word in `folded`, left to right.
    pub fn find_all(&self, folded: &str) -> Vec<Hit<'_>> {
        let bytes = folded.as_bytes();
        let mut hits = Vec::new();
        for (start, &b) in bytes.iter().enumerate() {
            let from = usize::from(self.starts[usize::from(b)]);
            let to = usize::from(self.starts[usize::from(b) + 1]);
            for (word, action) in &self.words[from..to] {
                if bytes[start..].starts_with(word.as_bytes()) {
                    hits.push(Hit {
                        word,
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
