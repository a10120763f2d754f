//! Re-indenting added lines of a hunk that matched only after ignoring
//! leading whitespace.
//!
//! A model that gets a hunk's indentation wrong usually gets it wrong by the
//! same amount on every line (it dropped or added one nesting level). When
//! every non-blank matched line differs from the file by one and the same
//! leading-whitespace prefix, we shift the added lines by that prefix too, so
//! they line up with the surrounding code instead of being written at the
//! model's guessed depth. Anything less consistent is left alone.

use std::borrow::Cow;

/// How to move added lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Shift {
    /// Prepend this whitespace (the patch was under-indented).
    Add(String),
    /// Remove this leading whitespace (the patch was over-indented).
    Remove(String),
}

impl Shift {
    /// Applies the shift to one added line; blank lines stay as written.
    pub(crate) fn apply<'a>(&self, line: &'a str) -> Cow<'a, str> {
        if line.trim().is_empty() {
            return Cow::Borrowed(line);
        }
        match self {
            Shift::Add(prefix) => Cow::Owned(format!("{prefix}{line}")),
            Shift::Remove(prefix) => {
                Cow::Borrowed(line.strip_prefix(prefix.as_str()).unwrap_or(line))
            }
        }
    }
}

fn indent(s: &str) -> &str {
    &s[..s.len() - s.trim_start().len()]
}

/// The one consistent shift from `pattern` lines to the `file` lines they
/// matched, if there is one and it is not empty.
pub(crate) fn detect(file: &[&str], pattern: &[String]) -> Option<Shift> {
    let mut shift: Option<Shift> = None;
    for (f, p) in file.iter().zip(pattern) {
        if f.trim().is_empty() || p.trim().is_empty() {
            continue;
        }
        let (fi, pi) = (indent(f), indent(p));
        let this = if let Some(extra) = fi.strip_suffix(pi) {
            Shift::Add(extra.to_string())
        } else if let Some(extra) = pi.strip_suffix(fi) {
            Shift::Remove(extra.to_string())
        } else {
            return None;
        };
        match &shift {
            None => shift = Some(this),
            Some(s) if *s == this => {}
            Some(_) => return None,
        }
    }
    match shift {
        Some(Shift::Add(p) | Shift::Remove(p)) if p.is_empty() => None,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn consistent_under_indentation_is_added() {
        let shift = detect(
            &["    def f():", "        x = 1"],
            &v(&["def f():", "    x = 1"]),
        );
        assert_eq!(shift, Some(Shift::Add("    ".into())));
        assert_eq!(shift.unwrap().apply("    y = 2"), "        y = 2");
    }

    #[test]
    fn consistent_over_indentation_is_removed() {
        let shift = detect(&["x", "  y"], &v(&["\tx", "\t  y"])).unwrap();
        assert_eq!(shift, Shift::Remove("\t".into()));
        assert_eq!(shift.apply("\tz"), "z");
        assert_eq!(shift.apply("w"), "w");
    }

    #[test]
    fn inconsistent_or_zero_shift_is_ignored() {
        assert_eq!(detect(&["a", "    b"], &v(&["a", "b"])), None);
        assert_eq!(detect(&["  a"], &v(&["  a"])), None);
        assert_eq!(detect(&["\ta"], &v(&["    a"])), None);
    }

    #[test]
    fn blank_lines_are_skipped() {
        assert_eq!(
            detect(&["", "  a"], &v(&["    ", "a"])),
            Some(Shift::Add("  ".into()))
        );
        assert_eq!(Shift::Add("  ".into()).apply(""), "");
    }
}
