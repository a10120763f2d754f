//! Finding a hunk's lines in a file: the fuzziness ladder.
//!
//! Models reproduce context imperfectly: trailing spaces vanish, indentation
//! drifts, typographic dashes and quotes become ASCII. We try, in order, for
//! the whole remaining file each time (so an exact match further down beats a
//! fuzzy one nearby, as in Codex):
//!
//! 1. exact;
//! 2. ignoring trailing whitespace;
//! 3. ignoring leading and trailing whitespace;
//! 4. after Unicode normalisation: NFKC (which folds NBSP and odd spaces,
//!    full-width forms, ligatures, `…`) plus dashes and curly quotes to ASCII,
//!    and zero-width characters dropped.
//!
//! Cost: levels 1–3 compare borrowed slices and never allocate. Level 4 needs
//! normalised file lines; they are computed once per file, only for the part
//! of the file a level-4 search actually scans, and ASCII lines (most code)
//! are borrowed instead of copied. Searches start after the previous hunk, so
//! a patch with many hunks scans the file about once.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;

/// How loosely a match was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Level {
    Exact,
    TrimEnd,
    Trim,
    Normalized,
}

const LEVELS: [Level; 4] = [Level::Exact, Level::TrimEnd, Level::Trim, Level::Normalized];

/// The lines of one file version, with a lazily filled normalisation cache.
pub(crate) struct Haystack<'a> {
    lines: &'a [&'a str],
    /// `normalized[i]` is line `i` at level 4, once computed.
    normalized: Vec<Option<Cow<'a, str>>>,
}

impl<'a> Haystack<'a> {
    pub(crate) fn new(lines: &'a [&'a str]) -> Self {
        Haystack {
            lines,
            normalized: Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.lines.len()
    }

    /// Finds `pattern` starting at index `start` or later.
    ///
    /// With `eof`, a match ending exactly at the last line is preferred (at any
    /// level) before searching forward from `start`. Returns the index of the
    /// first matching line and the level used. An empty pattern matches at
    /// `start`.
    pub(crate) fn seek(
        &mut self,
        pattern: &[String],
        start: usize,
        eof: bool,
    ) -> Option<(usize, Level)> {
        let n = self.lines.len();
        let m = pattern.len();
        if m == 0 {
            return Some((start.min(n), Level::Exact));
        }
        if start > n || m > n - start {
            return None;
        }
        let last = n - m;
        let mut normalized_pattern: Vec<Cow<'_, str>> = Vec::new();
        if eof {
            for level in LEVELS {
                if level == Level::Normalized {
                    self.prepare_normalized(last);
                    normalized_pattern = pattern.iter().map(|p| normalize(p)).collect();
                }
                if self.matches_at(last, pattern, &normalized_pattern, level) {
                    return Some((last, level));
                }
            }
        }
        for level in LEVELS {
            if level == Level::Normalized {
                self.prepare_normalized(start);
                if normalized_pattern.is_empty() {
                    normalized_pattern = pattern.iter().map(|p| normalize(p)).collect();
                }
            }
            for i in start..=last {
                if self.matches_at(i, pattern, &normalized_pattern, level) {
                    return Some((i, level));
                }
            }
        }
        None
    }

    /// True if `pattern` matches at `i` at `level`. Level 4 requires the cache
    /// to be prepared from `i` on and `normalized_pattern` to be filled.
    fn matches_at(
        &self,
        i: usize,
        pattern: &[String],
        normalized_pattern: &[Cow<'_, str>],
        level: Level,
    ) -> bool {
        let window = &self.lines[i..i + pattern.len()];
        match level {
            Level::Exact => window.iter().zip(pattern).all(|(a, b)| *a == b.as_str()),
            Level::TrimEnd => window
                .iter()
                .zip(pattern)
                .all(|(a, b)| a.trim_end() == b.trim_end()),
            Level::Trim => window
                .iter()
                .zip(pattern)
                .all(|(a, b)| a.trim() == b.trim()),
            Level::Normalized => self.normalized[i..i + pattern.len()]
                .iter()
                .zip(normalized_pattern)
                .all(|(a, b)| a.as_deref() == Some(b.as_ref())),
        }
    }

    /// Fills the level-4 cache for lines `from..`.
    fn prepare_normalized(&mut self, from: usize) {
        if self.normalized.is_empty() {
            self.normalized = vec![None; self.lines.len()];
        }
        for i in from..self.lines.len() {
            if self.normalized[i].is_none() {
                self.normalized[i] = Some(normalize(self.lines[i]));
            }
        }
    }

    /// The region most similar to `pattern`, for error messages: the start
    /// index with the most lines equal after trimming (counting only lines
    /// with at least 3 visible characters, so `}` alone proves nothing).
    /// Ties go to the first region at or after `prefer_from`. Only used on the
    /// error path, so a plain O(n·m) scan is fine.
    pub(crate) fn closest(&self, pattern: &[String], prefer_from: usize) -> Option<usize> {
        let n = self.lines.len();
        let mut best: Option<(usize, bool, usize)> = None;
        for i in 0..n {
            let score = pattern
                .iter()
                .zip(&self.lines[i..])
                .filter(|(p, l)| {
                    let p = p.trim();
                    p.chars().count() >= 3 && p == l.trim()
                })
                .count();
            if score == 0 {
                continue;
            }
            let key = (score, i >= prefer_from);
            if best.is_none_or(|(s, after, _)| key > (s, after)) {
                best = Some((score, key.1, i));
            }
        }
        best.map(|(_, _, i)| i)
    }

    /// Line `i` of the file, for messages.
    pub(crate) fn line(&self, i: usize) -> &'a str {
        self.lines[i]
    }
}

/// Level-4 form of a line: trimmed, NFKC, typographic punctuation to ASCII.
/// Pure-ASCII lines only need trimming, so they are borrowed.
pub(crate) fn normalize(s: &str) -> Cow<'_, str> {
    let trimmed = s.trim();
    if trimmed.is_ascii() {
        return Cow::Borrowed(trimmed);
    }
    let mut out = String::with_capacity(trimmed.len());
    for c in trimmed.nfkc() {
        match c {
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => {
                out.push('-')
            }
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' => out.push('\''),
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
            | '\u{00BB}' => out.push('"'),
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => {}
            c if c.is_whitespace() => out.push(' '),
            c => out.push(c),
        }
    }
    // NFKC can turn edge characters into spaces (e.g. U+3000), so trim again.
    let trimmed_len = out.trim_end().len();
    out.truncate(trimmed_len);
    let lead = out.len() - out.trim_start().len();
    out.drain(..lead);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn seek(file: &[&str], pattern: &[&str], start: usize, eof: bool) -> Option<(usize, Level)> {
        Haystack::new(file).seek(&lines(pattern), start, eof)
    }

    #[test]
    fn exact_match() {
        assert_eq!(
            seek(&["a", "b", "c"], &["b", "c"], 0, false),
            Some((1, Level::Exact))
        );
    }

    #[test]
    fn trailing_whitespace_is_ignored_second() {
        assert_eq!(
            seek(&["a  ", "b\t"], &["a", "b"], 0, false),
            Some((0, Level::TrimEnd))
        );
    }

    #[test]
    fn leading_whitespace_is_ignored_third() {
        assert_eq!(
            seek(&["    a", "\tb  "], &["a", "b"], 0, false),
            Some((0, Level::Trim))
        );
    }

    #[test]
    fn unicode_punctuation_is_normalised_last() {
        let file = [
            "let s = \u{201C}hi\u{201D}; // a \u{2014} b",
            "x\u{00A0}=\u{2009}1",
        ];
        assert_eq!(
            seek(&file, &["let s = \"hi\"; // a - b", "x = 1"], 0, false),
            Some((0, Level::Normalized))
        );
    }

    #[test]
    fn normalisation_works_in_both_directions_and_drops_zero_width() {
        let file = ["it's \"done\" \u{2026}", "a\u{200B}b"];
        assert_eq!(
            seek(
                &file,
                &["it\u{2019}s \u{201C}done\u{201D} ...", "ab"],
                0,
                false
            ),
            Some((0, Level::Normalized))
        );
    }

    #[test]
    fn exact_match_further_down_beats_fuzzy_match_nearby() {
        assert_eq!(
            seek(&["x ", "x"], &["x"], 0, false),
            Some((1, Level::Exact))
        );
    }

    #[test]
    fn search_starts_at_start() {
        assert_eq!(
            seek(&["x", "y", "x"], &["x"], 1, false),
            Some((2, Level::Exact))
        );
        assert_eq!(seek(&["x", "y"], &["x"], 1, false), None);
    }

    #[test]
    fn eof_prefers_the_last_occurrence() {
        assert_eq!(
            seek(&["end", "mid", "end"], &["end"], 0, true),
            Some((2, Level::Exact))
        );
        // Even a fuzzy match at the end wins over an exact one earlier.
        assert_eq!(
            seek(&["end", "mid", "end "], &["end"], 0, true),
            Some((2, Level::TrimEnd))
        );
    }

    #[test]
    fn eof_falls_back_to_forward_search() {
        assert_eq!(
            seek(&["a", "b", "c"], &["a"], 0, true),
            Some((0, Level::Exact))
        );
    }

    #[test]
    fn pattern_longer_than_file_is_not_found() {
        assert_eq!(seek(&["a"], &["a", "b"], 0, false), None);
        assert_eq!(seek(&["a", "b"], &["b"], 3, false), None);
    }

    #[test]
    fn empty_pattern_matches_at_start() {
        assert_eq!(seek(&["a"], &[], 1, false), Some((1, Level::Exact)));
    }

    #[test]
    fn mismatched_content_is_not_found() {
        assert_eq!(
            seek(&["alpha", "beta"], &["alpha", "gamma"], 0, false),
            None
        );
    }

    #[test]
    fn closest_prefers_best_score_then_after_cursor() {
        let file = ["fn a() {", "  one();", "}", "fn a() {", "  one();", "}"];
        let hay = Haystack::new(&file);
        let pattern = lines(&["fn a() {", "  two();", "}"]);
        assert_eq!(hay.closest(&pattern, 0), Some(0));
        assert_eq!(hay.closest(&pattern, 2), Some(3));
        assert_eq!(hay.closest(&lines(&["}"]), 0), None);
    }

    #[test]
    fn normalize_borrows_ascii() {
        assert!(matches!(normalize("  ab  "), Cow::Borrowed("ab")));
        assert_eq!(normalize("\u{3000}a\u{2013}b\u{3000}"), "a-b");
    }
}
