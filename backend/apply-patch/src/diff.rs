//! Unified diffs of planned changes.
//!
//! The planner already knows exactly which lines each hunk replaced, so we
//! render the diff from those edits instead of re-diffing whole files: a full
//! Myers diff of a 20,000-line file costs milliseconds, rendering known edits
//! costs microseconds. A generic line diff ([`edits_between`]) is only used
//! when a whole file is replaced (an Add over an existing file).

use std::fmt::Write as _;
use std::ops::Range;

use similar::{Algorithm, DiffOp, capture_diff_slices};

/// Lines of context around each change, as `diff -u` and git use.
const CONTEXT: usize = 3;

/// One changed region: `old` lines are replaced by `new` lines. Everything
/// between edits is unchanged, line for line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edit {
    pub old: Range<usize>,
    pub new: Range<usize>,
}

/// One side of a diff.
pub(crate) struct Side<'a> {
    /// Header path (`a/` or `b/` is prefixed to relative ones); `None` for
    /// `/dev/null`.
    pub path: Option<&'a str>,
    /// Line contents, without terminators.
    pub lines: &'a [&'a str],
    /// Whether the last line ends with a newline (ignored with no lines).
    pub final_newline: bool,
}

impl Side<'_> {
    /// Index of a last line lacking its newline, if any.
    fn unterminated_last(&self) -> Option<usize> {
        (!self.final_newline && !self.lines.is_empty()).then(|| self.lines.len() - 1)
    }
}

/// Line-level edits turning `old` into `new`, by Myers diff.
pub(crate) fn edits_between(old: &[&str], new: &[&str]) -> Vec<Edit> {
    capture_diff_slices(Algorithm::Myers, old, new)
        .into_iter()
        .filter(|op| !matches!(op, DiffOp::Equal { .. }))
        .map(|op| Edit {
            old: op.old_range(),
            new: op.new_range(),
        })
        .collect()
}

/// Renders a unified diff. `edits` must be sorted and non-overlapping;
/// adjacent ones are merged. `note`, if any, is written first as a
/// `note: ...` line (patch tools skip text before `---`).
pub(crate) fn unified(
    old: &Side<'_>,
    new: &Side<'_>,
    edits: Vec<Edit>,
    note: Option<&str>,
) -> String {
    let edits = with_newline_edits(old, new, edits);
    let mut out = String::new();
    if let Some(note) = note {
        let _ = writeln!(out, "note: {note}");
    }
    let _ = writeln!(out, "--- {}", header(old.path, "a/"));
    let _ = writeln!(out, "+++ {}", header(new.path, "b/"));

    let mut i = 0;
    while i < edits.len() {
        // Group edits whose unchanged gap is small enough to share context.
        let mut j = i;
        while j + 1 < edits.len() && edits[j + 1].old.start - edits[j].old.end <= 2 * CONTEXT {
            j += 1;
        }
        render_hunk(&mut out, old, new, &edits[i..=j]);
        i = j + 1;
    }
    out
}

fn header(path: Option<&str>, prefix: &str) -> String {
    match path {
        None => "/dev/null".to_string(),
        Some(p) if p.starts_with('/') => p.to_string(),
        Some(p) => format!("{prefix}{p}"),
    }
}

fn render_hunk(out: &mut String, old: &Side<'_>, new: &Side<'_>, group: &[Edit]) {
    let first = &group[0];
    let last = &group[group.len() - 1];
    let old_lo = first.old.start.saturating_sub(CONTEXT);
    let old_hi = (last.old.end + CONTEXT).min(old.lines.len());
    let new_lo = first.new.start - (first.old.start - old_lo);
    let new_hi = last.new.end + (old_hi - last.old.end);
    let _ = writeln!(
        out,
        "@@ -{} +{} @@",
        range(old_lo, old_hi - old_lo),
        range(new_lo, new_hi - new_lo)
    );
    let old_open = old.unterminated_last();
    let new_open = new.unterminated_last();
    let mut o = old_lo;
    for edit in group {
        for k in o..edit.old.start {
            line(out, ' ', old.lines[k], old_open == Some(k));
        }
        for k in edit.old.clone() {
            line(out, '-', old.lines[k], old_open == Some(k));
        }
        for k in edit.new.clone() {
            line(out, '+', new.lines[k], new_open == Some(k));
        }
        o = edit.old.end;
    }
    for k in o..old_hi {
        line(out, ' ', old.lines[k], old_open == Some(k));
    }
}

fn line(out: &mut String, sign: char, text: &str, unterminated: bool) {
    out.push(sign);
    out.push_str(text);
    out.push('\n');
    if unterminated {
        out.push_str("\\ No newline at end of file\n");
    }
}

/// `start,len` in unified-diff convention (1-based; an empty range names the
/// line before it; `,1` is omitted).
fn range(lo: usize, len: usize) -> String {
    match len {
        0 => format!("{lo},0"),
        1 => format!("{}", lo + 1),
        _ => format!("{},{len}", lo + 1),
    }
}

/// A line counts as unchanged only if its newline state is unchanged too. The
/// planner's edits compare contents, so add edits where a last line without
/// a newline gained one (or the reverse), then sort and merge.
fn with_newline_edits(old: &Side<'_>, new: &Side<'_>, mut edits: Vec<Edit>) -> Vec<Edit> {
    let old_open = old.unterminated_last();
    let new_open = new.unterminated_last();
    let mut extra = Vec::new();
    if let Some(a) = old_open
        && !edits.iter().any(|e| e.old.contains(&a))
    {
        let b = old_to_new(&edits, a);
        if new_open != Some(b) {
            extra.push(Edit {
                old: a..a + 1,
                new: b..b + 1,
            });
        }
    }
    if let Some(b) = new_open
        && !edits.iter().any(|e| e.new.contains(&b))
    {
        let a = new_to_old(&edits, b);
        if old_open != Some(a) {
            extra.push(Edit {
                old: a..a + 1,
                new: b..b + 1,
            });
        }
    }
    if extra.is_empty() {
        return merge(edits);
    }
    edits.extend(extra);
    edits.sort_by_key(|e| (e.old.start, e.new.start));
    merge(edits)
}

/// Where unchanged old line `a` sits in the new file.
fn old_to_new(edits: &[Edit], a: usize) -> usize {
    let shift: isize = edits
        .iter()
        .filter(|e| e.old.end <= a)
        .map(|e| e.new.len() as isize - e.old.len() as isize)
        .sum();
    (a as isize + shift) as usize
}

/// Where unchanged new line `b` sat in the old file.
fn new_to_old(edits: &[Edit], b: usize) -> usize {
    let shift: isize = edits
        .iter()
        .filter(|e| e.new.end <= b)
        .map(|e| e.old.len() as isize - e.new.len() as isize)
        .sum();
    (b as isize + shift) as usize
}

/// Merges touching or overlapping edits and drops empty ones.
fn merge(edits: Vec<Edit>) -> Vec<Edit> {
    let mut out: Vec<Edit> = Vec::with_capacity(edits.len());
    for e in edits {
        if e.old.is_empty() && e.new.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(prev) if e.old.start <= prev.old.end && e.new.start <= prev.new.end => {
                prev.old.end = prev.old.end.max(e.old.end);
                prev.new.end = prev.new.end.max(e.new.end);
            }
            _ => out.push(e),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side<'a>(path: &'a str, lines: &'a [&'a str], final_newline: bool) -> Side<'a> {
        Side {
            path: Some(path),
            lines,
            final_newline,
        }
    }

    #[test]
    fn renders_one_hunk_with_context() {
        let old = ["1", "2", "3", "4", "5", "6", "7", "8"];
        let new = ["1", "2", "3", "4", "five", "6", "7", "8"];
        let d = unified(
            &side("f", &old, true),
            &side("f", &new, true),
            vec![Edit {
                old: 4..5,
                new: 4..5,
            }],
            None,
        );
        assert_eq!(
            d,
            "--- a/f\n+++ b/f\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
        );
    }

    #[test]
    fn far_apart_edits_make_two_hunks() {
        let old: Vec<String> = (1..=20).map(|i| i.to_string()).collect();
        let old: Vec<&str> = old.iter().map(String::as_str).collect();
        let mut new = old.clone();
        new[1] = "two";
        new[18] = "nineteen";
        let edits = edits_between(&old, &new);
        let d = unified(&side("f", &old, true), &side("f", &new, true), edits, None);
        assert_eq!(d.matches("\n@@ ").count(), 2, "{d}");
        assert!(d.contains("@@ -1,5 +1,5 @@\n 1\n-2\n+two\n"), "{d}");
        assert!(d.contains("@@ -16,5 +16,5 @@\n"), "{d}");
    }

    #[test]
    fn added_file_from_dev_null() {
        let d = unified(
            &Side {
                path: None,
                lines: &[],
                final_newline: true,
            },
            &side("n.txt", &["a", "b"], true),
            vec![Edit {
                old: 0..0,
                new: 0..2,
            }],
            None,
        );
        assert_eq!(d, "--- /dev/null\n+++ b/n.txt\n@@ -0,0 +1,2 @@\n+a\n+b\n");
    }

    #[test]
    fn appending_after_unterminated_last_line_shows_it_changed() {
        // "a\nb" -> "a\nb\nc" (still without a final newline): b gains one.
        let d = unified(
            &side("f", &["a", "b"], false),
            &side("f", &["a", "b", "c"], false),
            vec![Edit {
                old: 2..2,
                new: 2..3,
            }],
            None,
        );
        assert_eq!(
            d,
            "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+b\n+c\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn unchanged_unterminated_last_line_is_context_with_marker() {
        let d = unified(
            &side("f", &["a", "b"], false),
            &side("f", &["x", "b"], false),
            vec![Edit {
                old: 0..1,
                new: 0..1,
            }],
            None,
        );
        assert_eq!(
            d,
            "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-a\n+x\n b\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn note_and_absolute_paths() {
        let d = unified(
            &side("/abs/f", &["a"], true),
            &side("/abs/f", &["b"], true),
            vec![Edit {
                old: 0..1,
                new: 0..1,
            }],
            Some("hello"),
        );
        assert!(
            d.starts_with("note: hello\n--- /abs/f\n+++ /abs/f\n@@ -1 +1 @@\n-a\n+b\n"),
            "{d}"
        );
    }
}
