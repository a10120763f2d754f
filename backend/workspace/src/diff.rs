//! Line diffs in bytes: the hunks of a proposed change, and the edits that turn one text into
//! another when we only know both texts (a full-document sync, a file changed on disk).

use crate::document::ByteEdit;
use similar::{Algorithm, DiffTag, TextDiff};
use std::ops::Range;
use std::time::Duration;

/// A run of changed lines: `old` bytes of the old text became `new` bytes of the new text.
/// Either side may be empty (a pure insertion or deletion). Both ranges start at line starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Block {
    pub old: Range<usize>,
    pub new: Range<usize>,
    /// Zero-based line of the block's start in the old and the new text.
    pub old_line: usize,
    pub new_line: usize,
    /// Number of lines on each side.
    pub old_lines: usize,
    pub new_lines: usize,
}

/// How long a diff may take before similar falls back to a coarser (still correct) answer.
/// A pathological 5 MB change must not stall the editor.
const DIFF_TIMEOUT: Duration = Duration::from_millis(500);

fn line_starts<'a>(lines: impl Iterator<Item = &'a str>) -> Vec<usize> {
    let mut starts = vec![0];
    let mut at = 0;
    for line in lines {
        at += line.len();
        starts.push(at);
    }
    starts
}

/// The changed blocks between two texts, line by line. Adjacent deletions and insertions are
/// grouped into one replacement, so one block is one thing a reviewer accepts or rejects.
pub(crate) fn blocks(old: &str, new: &str) -> Vec<Block> {
    if old == new {
        return Vec::new();
    }
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .timeout(DIFF_TIMEOUT)
        .diff_lines(old, new);
    let old_starts = line_starts(diff.iter_old_slices());
    let new_starts = line_starts(diff.iter_new_slices());
    let mut out: Vec<Block> = Vec::new();
    let mut open: Option<(Range<usize>, Range<usize>)> = None;
    let close = |open: &mut Option<(Range<usize>, Range<usize>)>, out: &mut Vec<Block>| {
        if let Some((o, n)) = open.take() {
            out.push(Block {
                old: old_starts[o.start]..old_starts[o.end],
                new: new_starts[n.start]..new_starts[n.end],
                old_line: o.start,
                new_line: n.start,
                old_lines: o.len(),
                new_lines: n.len(),
            });
        }
    };
    for op in diff.ops() {
        let (tag, o, n) = op.as_tag_tuple();
        if tag == DiffTag::Equal {
            close(&mut open, &mut out);
            continue;
        }
        open = Some(match open.take() {
            Some((oo, nn)) => (oo.start..o.end, nn.start..n.end),
            None => (o, n),
        });
    }
    close(&mut open, &mut out);
    out
}

/// The length of the longest common prefix of two strings, on a character boundary.
fn common_prefix(a: &str, b: &str) -> usize {
    let mut n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    while !a.is_char_boundary(n) {
        n -= 1;
    }
    n
}

/// The length of the longest common suffix, on a character boundary, not reaching into the
/// first `skip` bytes of either string.
fn common_suffix(a: &str, b: &str, skip: usize) -> usize {
    let max = a.len().min(b.len()) - skip;
    let mut n = a
        .bytes()
        .rev()
        .zip(b.bytes().rev())
        .take(max)
        .take_while(|(x, y)| x == y)
        .count();
    while !a.is_char_boundary(a.len() - n) {
        n -= 1;
    }
    n
}

/// Edits that turn `old` into `new`, to be applied in order (the last block comes first, so
/// every edit's offsets are valid in the text the previous ones left). Each edit is trimmed to
/// the characters that really differ, which keeps it inside the hunk it touches.
pub(crate) fn edits_between(old: &str, new: &str) -> Vec<ByteEdit> {
    let mut edits = Vec::new();
    for block in blocks(old, new).into_iter().rev() {
        let o = &old[block.old.clone()];
        let n = &new[block.new.clone()];
        let pre = common_prefix(o, n);
        let suf = common_suffix(o, n, pre);
        edits.push(ByteEdit::new(
            block.old.start + pre..block.old.end - suf,
            &n[pre..n.len() - suf],
        ));
    }
    edits
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn apply(text: &str, edits: &[ByteEdit]) -> String {
        let mut s = text.to_string();
        for e in edits {
            s.replace_range(e.start..e.old_end, &e.text);
        }
        s
    }

    #[test]
    fn blocks_group_adjacent_changes() {
        let old = "a\nb\nc\nd\n";
        let new = "a\nB\nB2\nc\n";
        let b = blocks(old, new);
        assert_eq!(b.len(), 2);
        assert_eq!(
            (&old[b[0].old.clone()], &new[b[0].new.clone()]),
            ("b\n", "B\nB2\n")
        );
        assert_eq!((b[0].old_line, b[0].new_line), (1, 1));
        assert_eq!(
            (&old[b[1].old.clone()], &new[b[1].new.clone()]),
            ("d\n", "")
        );
        assert_eq!((b[1].old_line, b[1].old_lines, b[1].new_lines), (3, 1, 0));
    }

    #[test]
    fn edits_between_reproduce_the_new_text() {
        for (old, new) in [
            ("a\nb\nc\n", "a\nB\nc\n"),
            ("", "new file\n"),
            ("gone\n", ""),
            ("x\r\ny\r\n", "x\r\nyy\r\nz\r\n"),
            ("日本\n語\n", "日本\n語😀\n"),
            ("no newline", "no newline at end"),
            ("same\n", "same\n"),
        ] {
            let edits = edits_between(old, new);
            assert_eq!(apply(old, &edits), new, "{old:?} -> {new:?}");
        }
    }

    #[test]
    fn edits_are_trimmed_to_what_differs() {
        let edits = edits_between("let x = 1;\n", "let x = 2;\n");
        assert_eq!(edits, vec![ByteEdit::new(8..9, "2")]);
        // A multi-byte character that differs only in its last byte is replaced whole.
        let edits = edits_between("é\n", "è\n");
        assert_eq!(edits, vec![ByteEdit::new(0..2, "è")]);
    }
}
