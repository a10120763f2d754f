//! How a hunk's range follows an edit, and what a hunk's state becomes once its text changed.
//!
//! This is the whole answer to "stale positions after a partial accept": every edit the buffer
//! receives (the user's typing, an accepted hunk coming back as a `didChange`, a reload) moves
//! every pending range by exactly the same amount, and an edit that lands on a hunk's text is
//! noticed instead of silently shifting it.

use crate::document::ByteEdit;
use std::ops::Range;

/// Where an edit fell relative to a hunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Touch {
    /// The edit was elsewhere; the range may have moved.
    Clear,
    /// The edit changed text inside (or exactly at the edges of) the hunk's range.
    Inside,
    /// The edit crossed the hunk's boundary; the range now covers both.
    Across,
}

/// Moves `range` through `edit`, returning how the edit touched it.
///
/// Edits strictly before the range shift it; edits strictly after leave it. An insertion at the
/// very start of a range goes before it, and one at the very end goes after it, because the
/// hunk's old text is unchanged either way.
///
/// An insertion at the position of an empty range (a pure-insertion hunk, which means "insert
/// before the line that starts here") follows that line: if the inserted text ends with a line
/// break the line moved down and the hunk moves with it; otherwise the line still starts here.
///
/// For a hunk whose own edit is in flight (`in_flight`), an edit at either edge is inside,
/// because editors trim an applied edit to the characters that differ, which can leave it
/// touching the range from outside.
pub(crate) fn map_range(range: &mut Range<usize>, edit: &ByteEdit, in_flight: bool) -> Touch {
    let (hs, he) = (range.start, range.end);
    let (es, ee) = (edit.start, edit.old_end);
    let new_len = edit.text.len();
    let shift = |x: usize| x + new_len - (ee - es);
    let contained = es >= hs && ee <= he;
    if in_flight && contained {
        range.end = shift(he);
        return Touch::Inside;
    }
    if es == ee && hs == he && es == hs {
        if edit.text.ends_with(['\n', '\r']) {
            *range = shift(hs)..shift(he);
        }
        return Touch::Clear;
    }
    if ee <= hs {
        *range = shift(hs)..shift(he);
        return Touch::Clear;
    }
    if es >= he {
        return Touch::Clear;
    }
    if contained {
        range.end = shift(he);
        return Touch::Inside;
    }
    // Across a boundary: the range grows to cover the edit's new text as well.
    let start = hs.min(es);
    let end = if ee >= he { es + new_len } else { shift(he) };
    *range = start..end;
    Touch::Across
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    /// (name, hunk range, edit range, inserted text, in flight, expected range, expected touch)
    #[allow(clippy::type_complexity)]
    #[rustfmt::skip]
    const CASES: &[(&str, Range<usize>, Range<usize>, &str, bool, Range<usize>, Touch)] = &[
        ("insert before shifts", 10..20, 2..2, "abc", false, 13..23, Touch::Clear),
        ("delete before shifts back", 10..20, 2..5, "", false, 7..17, Touch::Clear),
        ("replace ending at start shifts", 10..20, 5..10, "x", false, 6..16, Touch::Clear),
        ("insert at start goes before", 10..20, 10..10, "ab", false, 12..22, Touch::Clear),
        ("insert at end goes after", 10..20, 20..20, "ab", false, 10..20, Touch::Clear),
        ("edit after leaves it", 10..20, 25..30, "", false, 10..20, Touch::Clear),
        ("edit inside grows it", 10..20, 12..14, "abcd", false, 10..22, Touch::Inside),
        ("whole replacement is inside", 10..20, 10..20, "x", false, 10..11, Touch::Inside),
        ("across the start", 10..20, 5..12, "yy", false, 5..15, Touch::Across),
        ("across the end", 10..20, 18..25, "", false, 10..18, Touch::Across),
        ("covering it", 10..20, 5..25, "z", false, 5..6, Touch::Across),
        ("text typed at an empty hunk", 10..10, 10..10, "ab", false, 10..10, Touch::Clear),
        ("a line inserted at an empty hunk", 10..10, 10..10, "ab\n", false, 13..13, Touch::Clear),
        ("delete ending at an empty hunk", 10..10, 4..10, "", false, 4..4, Touch::Clear),
        ("delete starting at an empty hunk", 10..10, 10..12, "", false, 10..10, Touch::Clear),
        ("in flight: an empty hunk's own text", 10..10, 10..10, "x\n", true, 10..12, Touch::Inside),
        ("in flight: trimmed insert at start", 10..20, 10..10, "y", true, 10..21, Touch::Inside),
        ("in flight: trimmed insert at end", 10..20, 20..20, "y", true, 10..21, Touch::Inside),
        ("in flight: before is still before", 10..20, 1..2, "", true, 9..19, Touch::Clear),
    ];

    #[test]
    fn ranges_follow_edits() {
        for (name, hunk, edit, text, in_flight, want, touch) in CASES {
            let mut r = hunk.clone();
            let got = map_range(&mut r, &ByteEdit::new(edit.clone(), *text), *in_flight);
            assert_eq!((r, got), (want.clone(), *touch), "{name}");
        }
    }
}
