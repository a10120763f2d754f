//! Unified diffs of planned changes.
//!
//! The planner already knows exactly which lines each hunk replaced, so we
//! render the diff from those edits instead of re-diffing whole files: a full
//! Myers diff of a 20,000-line file costs milliseconds, rendering known edits
//! costs microseconds. A generic line diff ([`edits_between`]) is only used
//! when a whole file is replaced (an Add over an existing file).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::ops::Range;

use similar::{Algorithm, DiffOp, capture_diff_slices};

/// Lines of context around each change, as `diff -u` and git use.
const CONTEXT: usize = 3;

/// One changed region: old lines `old` are replaced by `added`, which start
/// at line `new_start` of the new file. Everything between edits is
/// unchanged, line for line, so the new side never has to be split into
/// lines as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Edit<'a> {
    pub old: Range<usize>,
    pub new_start: usize,
    pub added: Vec<Cow<'a, str>>,
}

impl Edit<'_> {
    fn new_range(&self) -> Range<usize> {
        self.new_start..self.new_start + self.added.len()
    }
}

/// One side of a diff.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Side<'a> {
    /// Header path (`a/` or `b/` is prefixed to relative ones); `None` for
    /// `/dev/null`.
    pub path: Option<&'a str>,
    /// Number of lines.
    pub len: usize,
    /// Whether the last line ends with a newline (ignored with no lines).
    pub final_newline: bool,
}

impl Side<'_> {
    /// Index of a last line lacking its newline, if any.
    fn unterminated_last(&self) -> Option<usize> {
        (!self.final_newline && self.len > 0).then(|| self.len - 1)
    }
}

/// Line-level edits turning `old` into `new`, by Myers diff.
pub(crate) fn edits_between<'a>(old: &[&str], new: &[&'a str]) -> Vec<Edit<'a>> {
    capture_diff_slices(Algorithm::Myers, old, new)
        .into_iter()
        .filter(|op| !matches!(op, DiffOp::Equal { .. }))
        .map(|op| Edit {
            old: op.old_range(),
            new_start: op.new_range().start,
            added: new[op.new_range()]
                .iter()
                .map(|s| Cow::Borrowed(*s))
                .collect(),
        })
        .collect()
}

/// Renders a unified diff of `old_lines` (the old side's lines) changed by
/// `edits`, which must be sorted and non-overlapping; touching ones are
/// merged. `note`, if any, is written first as a `note: ...` line (patch
/// tools skip text before `---`).
pub(crate) fn unified(
    old: &Side<'_>,
    old_lines: &[&str],
    new: &Side<'_>,
    edits: Vec<Edit<'_>>,
    note: Option<&str>,
) -> String {
    let edits = with_newline_edits(old, old_lines, new, edits);
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
        render_hunk(&mut out, old, old_lines, new, &edits[i..=j]);
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

fn render_hunk(
    out: &mut String,
    old: &Side<'_>,
    old_lines: &[&str],
    new: &Side<'_>,
    group: &[Edit<'_>],
) {
    let first = &group[0];
    let last = &group[group.len() - 1];
    let old_lo = first.old.start.saturating_sub(CONTEXT);
    let old_hi = (last.old.end + CONTEXT).min(old.len);
    let new_lo = first.new_start - (first.old.start - old_lo);
    let new_hi = last.new_range().end + (old_hi - last.old.end);
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
        for (k, text) in old_lines.iter().enumerate().take(edit.old.start).skip(o) {
            line(out, ' ', text, old_open == Some(k));
        }
        for k in edit.old.clone() {
            line(out, '-', old_lines[k], old_open == Some(k));
        }
        for (k, text) in edit.new_range().zip(&edit.added) {
            line(out, '+', text, new_open == Some(k));
        }
        o = edit.old.end;
    }
    for (k, text) in old_lines.iter().enumerate().take(old_hi).skip(o) {
        line(out, ' ', text, old_open == Some(k));
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
fn with_newline_edits<'a>(
    old: &Side<'_>,
    old_lines: &[&'a str],
    new: &Side<'_>,
    mut edits: Vec<Edit<'a>>,
) -> Vec<Edit<'a>> {
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
                new_start: b,
                added: vec![Cow::Borrowed(old_lines[a])],
            });
        }
    }
    if let Some(b) = new_open
        && !edits.iter().any(|e| e.new_range().contains(&b))
    {
        let a = new_to_old(&edits, b);
        if old_open != Some(a) {
            extra.push(Edit {
                old: a..a + 1,
                new_start: b,
                added: vec![Cow::Borrowed(old_lines[a])],
            });
        }
    }
    if !extra.is_empty() {
        edits.extend(extra);
        edits.sort_by_key(|e| (e.old.start, e.new_start));
    }
    merge(edits)
}

/// Where unchanged old line `a` sits in the new file.
fn old_to_new(edits: &[Edit<'_>], a: usize) -> usize {
    let shift: isize = edits
        .iter()
        .filter(|e| e.old.end <= a)
        .map(|e| e.added.len() as isize - e.old.len() as isize)
        .sum();
    (a as isize + shift) as usize
}

/// Where unchanged new line `b` sat in the old file.
fn new_to_old(edits: &[Edit<'_>], b: usize) -> usize {
    let shift: isize = edits
        .iter()
        .filter(|e| e.new_range().end <= b)
        .map(|e| e.old.len() as isize - e.added.len() as isize)
        .sum();
    (b as isize + shift) as usize
}

/// Merges touching edits (no unchanged line between them) and drops empty
/// ones.
fn merge(edits: Vec<Edit<'_>>) -> Vec<Edit<'_>> {
    let mut out: Vec<Edit<'_>> = Vec::with_capacity(edits.len());
    for e in edits {
        if e.old.is_empty() && e.added.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(prev) if e.old.start <= prev.old.end && e.new_start <= prev.new_range().end => {
                prev.old.end = prev.old.end.max(e.old.end);
                prev.added.extend(e.added);
            }
            _ => out.push(e),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(path: &str, len: usize, final_newline: bool) -> Side<'_> {
        Side {
            path: Some(path),
            len,
            final_newline,
        }
    }

    /// Diff of two line lists via `edits_between`.
    fn diff(old: &[&str], old_nl: bool, new: &[&str], new_nl: bool) -> String {
        unified(
            &side("f", old.len(), old_nl),
            old,
            &side("f", new.len(), new_nl),
            edits_between(old, new),
            None,
        )
    }

    #[test]
    fn renders_one_hunk_with_context() {
        let old = ["1", "2", "3", "4", "5", "6", "7", "8"];
        let new = ["1", "2", "3", "4", "five", "6", "7", "8"];
        assert_eq!(
            diff(&old, true, &new, true),
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
        let d = diff(&old, true, &new, true);
        assert_eq!(d.matches("\n@@ ").count(), 2, "{d}");
        assert!(d.contains("@@ -1,5 +1,5 @@\n 1\n-2\n+two\n"), "{d}");
        assert!(d.contains("@@ -16,5 +16,5 @@\n"), "{d}");
    }

    #[test]
    fn near_edits_share_one_hunk() {
        let old = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10"];
        let new = ["one", "2", "3", "4", "5", "6", "7", "eight", "9", "10"];
        let d = diff(&old, true, &new, true);
        assert!(d.contains("@@ -1,10 +1,10 @@\n-1\n+one\n 2\n"), "{d}");
    }

    #[test]
    fn added_file_from_dev_null() {
        let d = unified(
            &Side {
                path: None,
                len: 0,
                final_newline: true,
            },
            &[],
            &side("n.txt", 2, true),
            vec![Edit {
                old: 0..0,
                new_start: 0,
                added: vec!["a".into(), "b".into()],
            }],
            None,
        );
        assert_eq!(d, "--- /dev/null\n+++ b/n.txt\n@@ -0,0 +1,2 @@\n+a\n+b\n");
    }

    #[test]
    fn appending_after_unterminated_last_line_shows_it_changed() {
        // "a\nb" -> "a\nb\nc" (still without a final newline): b gains one.
        assert_eq!(
            diff(&["a", "b"], false, &["a", "b", "c"], false),
            "--- a/f\n+++ b/f\n@@ -1,2 +1,3 @@\n a\n-b\n\\ No newline at end of file\n+b\n+c\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn removing_the_last_line_shows_the_new_last_line_losing_its_newline() {
        // "a\nb" -> "a" (no final newline either way).
        assert_eq!(
            diff(&["a", "b"], false, &["a"], false),
            "--- a/f\n+++ b/f\n@@ -1,2 +1 @@\n-a\n-b\n\\ No newline at end of file\n+a\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn unchanged_unterminated_last_line_is_context_with_marker() {
        assert_eq!(
            diff(&["a", "b"], false, &["x", "b"], false),
            "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n-a\n+x\n b\n\\ No newline at end of file\n"
        );
    }

    #[test]
    fn note_and_absolute_paths() {
        let d = unified(
            &side("/abs/f", 1, true),
            &["a"],
            &side("/abs/f", 1, true),
            edits_between(&["a"], &["b"]),
            Some("hello"),
        );
        assert_eq!(
            d,
            "note: hello\n--- /abs/f\n+++ /abs/f\n@@ -1 +1 @@\n-a\n+b\n"
        );
    }
}
