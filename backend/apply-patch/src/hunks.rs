//! Placing hunks in a file and producing the new text.
//!
//! Each hunk is searched for after the previous one (its `@@` context lines
//! first, then its old lines) with the fuzziness ladder of [`crate::seek`];
//! the replacements are then applied in one pass that copies untouched
//! stretches of the original in single pieces.

use std::borrow::Cow;

use similar::{Algorithm, DiffOp, capture_diff_slices};

use crate::Chunk;
use crate::diff::Edit;
use crate::error::ApplyError;
use crate::reindent::{self, Shift};
use crate::seek::{Haystack, Level};
use crate::text::FileText;

/// Most expected lines quoted back in an error; models do not need 500.
const MAX_QUOTED_LINES: usize = 40;

/// Where one hunk lands: file lines `start..start + old.len()` become `new`.
pub(crate) struct Replacement<'p> {
    start: usize,
    old: &'p [String],
    new: &'p [String],
    /// Indentation fix for added lines (see [`crate::reindent`]).
    shift: Option<Shift>,
}

/// Finds every chunk in order, each after the previous one.
pub(crate) fn locate<'p>(
    file: &FileText<'_>,
    chunks: &'p [Chunk],
    name: &str,
) -> Result<Vec<Replacement<'p>>, ApplyError> {
    let mut hay = Haystack::new(&file.texts);
    let n = file.len();
    let mut cursor = 0;
    let mut out = Vec::with_capacity(chunks.len());
    for (k, chunk) in chunks.iter().enumerate() {
        let hunk = k + 1;
        let mut context_at = None;
        for context in &chunk.context {
            let pattern = std::slice::from_ref(context);
            match hay.seek(pattern, cursor, false) {
                Some((i, _)) => {
                    context_at = Some(i);
                    cursor = i + 1;
                }
                None => {
                    return Err(ApplyError::ContextNotFound {
                        path: name.to_string(),
                        hunk,
                        line: chunk.line,
                        context: context.clone(),
                        after: after(cursor),
                    });
                }
            }
        }

        if chunk.old_lines.is_empty() {
            // A pure addition goes right after its `@@` context (Codex appends
            // it at EOF regardless, its bug #30946); without context, or with
            // `*** End of File`, it is appended. Appending does not move the
            // cursor, so later hunks may still match earlier lines, as in
            // Codex.
            let at = match context_at {
                Some(_) if !chunk.is_end_of_file => cursor,
                _ => n,
            };
            out.push(Replacement {
                start: at,
                old: &chunk.old_lines,
                new: &chunk.new_lines,
                shift: None,
            });
            continue;
        }

        // Models often repeat the `@@` line as the hunk's first context line;
        // let the hunk start on the context line itself in that case.
        let mut from = cursor;
        if let Some(i) = context_at
            && file.texts[i].trim() == chunk.old_lines[0].trim()
        {
            from = i;
        }
        let Some((start, level, old, new)) = find_chunk(&mut hay, chunk, from) else {
            return Err(not_found(&mut hay, chunk, name, hunk, from));
        };
        cursor = start + old.len();
        let shift = if level >= Level::Trim {
            reindent::detect(&file.texts[start..cursor], old)
        } else {
            None
        };
        out.push(Replacement {
            start,
            old,
            new,
            shift,
        });
    }
    // Appends at EOF were pushed in patch order; keep every replacement in
    // file order (stable, so appends keep their relative order).
    out.sort_by_key(|r| r.start);
    Ok(out)
}

/// Seeks a chunk's old lines; if that fails and the chunk ends with blank
/// lines (often a separator the model left before the next `@@`), retries
/// without them.
fn find_chunk<'p>(
    hay: &mut Haystack<'_>,
    chunk: &'p Chunk,
    from: usize,
) -> Option<(usize, Level, &'p [String], &'p [String])> {
    let (mut old, mut new) = (&chunk.old_lines[..], &chunk.new_lines[..]);
    loop {
        if let Some((start, level)) = hay.seek(old, from, chunk.is_end_of_file) {
            return Some((start, level, old, new));
        }
        match (old.split_last(), new.split_last()) {
            (Some((o, o_rest)), Some((w, w_rest)))
                if o.is_empty() && w.is_empty() && !o_rest.is_empty() =>
            {
                old = o_rest;
                new = w_rest;
            }
            _ => return None,
        }
    }
}

/// Builds the "could not find these lines" error, with the nearest candidate
/// region or a note that the lines exist before the previous hunk.
fn not_found(
    hay: &mut Haystack<'_>,
    chunk: &Chunk,
    name: &str,
    hunk: usize,
    from: usize,
) -> ApplyError {
    let pattern = &chunk.old_lines;
    let mut detail = String::new();
    if from > 0
        && let Some((i, _)) = hay.seek(pattern, 0, false)
    {
        detail = format!(
            "\nThese lines do exist at file line {}, but hunks must be in file order and this \
             one has to start after file line {from} (the previous hunk or '@@' context line).",
            i + 1
        );
    }
    if detail.is_empty()
        && let Some(i) = hay.closest(pattern, from)
    {
        let end = (i + pattern.len()).min(hay.len());
        let region: Vec<&str> = (i..end).map(|k| hay.line(k)).collect();
        detail = format!(
            "\nThe closest match is at file lines {}-{end}:\n{}",
            i + 1,
            quote(&region).trim_end_matches('\n')
        );
    }
    ApplyError::LinesNotFound {
        path: name.to_string(),
        hunk,
        line: chunk.line,
        after: after(from),
        expected: quote(pattern).trim_end_matches('\n').to_string(),
        detail,
    }
}

/// " after file line N" when a search did not start at the top.
fn after(cursor: usize) -> String {
    if cursor == 0 {
        String::new()
    } else {
        format!(" after file line {cursor}")
    }
}

/// Indents lines by two spaces, eliding the middle of very long quotes.
fn quote<S: AsRef<str>>(lines: &[S]) -> String {
    let mut out = String::new();
    let push = |out: &mut String, s: &str| {
        out.push_str("  ");
        out.push_str(s);
        out.push('\n');
    };
    if lines.len() <= MAX_QUOTED_LINES {
        for l in lines {
            push(&mut out, l.as_ref());
        }
    } else {
        let head = MAX_QUOTED_LINES - 10;
        for l in &lines[..head] {
            push(&mut out, l.as_ref());
        }
        out.push_str(&format!(
            "  ... ({} more lines) ...\n",
            lines.len() - head - 10
        ));
        for l in &lines[lines.len() - 10..] {
            push(&mut out, l.as_ref());
        }
    }
    out
}

/// The new text, the line-level edits that produced it, and its shape.
pub(crate) struct Built<'p> {
    pub text: String,
    pub edits: Vec<Edit<'p>>,
    /// Number of lines of `text`.
    pub len: usize,
    /// Whether `text` ends with a newline (or is empty).
    pub final_newline: bool,
}

/// Applies replacements (sorted, non-overlapping) to `file`.
///
/// Within each hunk, lines the patch keeps as context are copied from the
/// file, not from the patch: when the match was whitespace- or
/// punctuation-tolerant, the file's own spelling of those lines survives.
/// Untouched lines keep their own terminators; inserted lines get the file's
/// dominant one; the file's trailing-newline state is kept.
pub(crate) fn build<'p>(file: &FileText<'_>, replacements: &[Replacement<'p>]) -> Built<'p> {
    let added_bytes: usize = replacements
        .iter()
        .flat_map(|r| r.new.iter())
        .map(|l| l.len() + 2)
        .sum();
    let mut text = String::with_capacity(file.src.len() + added_bytes + 2);
    let mut edits = Vec::new();
    let mut len = 0;
    let mut cursor = 0;
    for r in replacements {
        file.copy_lines(cursor, r.start, &mut text);
        len += r.start - cursor;
        let ops = if r.old.is_empty() {
            vec![DiffOp::Insert {
                old_index: 0,
                new_index: 0,
                new_len: r.new.len(),
            }]
        } else {
            capture_diff_slices(Algorithm::Myers, r.old, r.new)
        };
        for op in ops {
            let old = r.start + op.old_range().start..r.start + op.old_range().end;
            if let DiffOp::Equal { .. } = op {
                file.copy_lines(old.start, old.end, &mut text);
                len += old.len();
                continue;
            }
            let added: Vec<Cow<'p, str>> = r.new[op.new_range()]
                .iter()
                .map(|line| match &r.shift {
                    Some(shift) => shift.apply(line),
                    None => Cow::Borrowed(line.as_str()),
                })
                .collect();
            for line in &added {
                text.push_str(line);
                text.push_str(file.eol);
            }
            edits.push(Edit {
                old,
                new_start: len,
                added,
            });
            len += edits.last().map_or(0, |e| e.added.len());
        }
        cursor = r.start + r.old.len();
    }
    file.copy_lines(cursor, file.len(), &mut text);
    len += file.len() - cursor;

    // Every line was written with a terminator; drop the last one if the
    // file had none.
    let final_newline = file.final_newline || len == 0;
    if !final_newline {
        let cut = if text.ends_with("\r\n") { 2 } else { 1 };
        text.truncate(text.len() - cut);
    }
    Built {
        text,
        edits,
        len,
        final_newline,
    }
}
