//! Planning: computing every file's new content without touching anything.
//!
//! Operations are simulated in order over an overlay of already-planned
//! contents, so a patch can update a file twice, delete and re-add it, or
//! update a file it just moved. Any failure fails the whole plan.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use similar::{Algorithm, DiffOp, capture_diff_slices};

use crate::diff::{self, Edit, Side};
use crate::error::ApplyError;
use crate::paths::{resolve, shown};
use crate::reindent::{self, Shift};
use crate::seek::{Haystack, Level};
use crate::text::FileText;
use crate::{ChangeKind, Chunk, FileOp, FileSource, Patch, PlannedChange};

/// Most expected lines quoted back in an error; models do not need 500.
const MAX_QUOTED_LINES: usize = 40;

/// Computes every change `patch` makes, relative to `cwd`, reading current
/// contents from `source`. Nothing is written; the result is all-or-nothing.
///
/// Returns one [`PlannedChange`] per operation, in patch order.
pub fn plan_patch(
    patch: &Patch,
    cwd: &Path,
    source: &dyn FileSource,
) -> Result<Vec<PlannedChange>, ApplyError> {
    let mut files = Overlay {
        source,
        planned: HashMap::new(),
    };
    let mut changes = Vec::with_capacity(patch.ops.len());
    for op in &patch.ops {
        let change = match op {
            FileOp::Add { path, contents } => plan_add(&mut files, cwd, path, contents)?,
            FileOp::Delete { path } => plan_delete(&mut files, cwd, path)?,
            FileOp::Update {
                path,
                move_to,
                chunks,
            } => plan_update(&mut files, cwd, path, move_to.as_deref(), chunks)?,
        };
        changes.push(change);
    }
    Ok(changes)
}

/// Current contents: what earlier operations planned, else the source.
struct Overlay<'s> {
    source: &'s dyn FileSource,
    planned: HashMap<PathBuf, Option<String>>,
}

impl Overlay<'_> {
    fn read(&self, abs: &Path, shown: &str) -> Result<Option<String>, ApplyError> {
        if let Some(planned) = self.planned.get(abs) {
            return Ok(planned.clone());
        }
        self.source.read(abs).map_err(|source| match source.kind() {
            io::ErrorKind::IsADirectory => ApplyError::IsDirectory {
                path: shown.to_string(),
            },
            _ => ApplyError::Read {
                path: shown.to_string(),
                source,
            },
        })
    }
}

fn plan_add(
    files: &mut Overlay<'_>,
    cwd: &Path,
    path: &Path,
    contents: &str,
) -> Result<PlannedChange, ApplyError> {
    let abs = resolve(cwd, path);
    let name = shown(path);
    let existing = files.read(&abs, &name)?;
    let new = FileText::parse(contents);
    let unified_diff = match &existing {
        None => diff::unified(
            &Side {
                path: None,
                lines: &[],
                final_newline: true,
            },
            &side(Some(&name), &new),
            vec![Edit {
                old: 0..0,
                new: 0..new.texts.len(),
            }],
            None,
        ),
        Some(old_text) => {
            let old = FileText::parse(old_text);
            let note = format!("'*** Add File: {name}' replaces the existing file");
            diff::unified(
                &side(Some(&name), &old),
                &side(Some(&name), &new),
                diff::edits_between(&old.texts, &new.texts),
                Some(&note),
            )
        }
    };
    files
        .planned
        .insert(abs.clone(), Some(contents.to_string()));
    Ok(PlannedChange {
        path: abs,
        kind: ChangeKind::Add {
            new: contents.to_string(),
        },
        unified_diff,
    })
}

fn plan_delete(
    files: &mut Overlay<'_>,
    cwd: &Path,
    path: &Path,
) -> Result<PlannedChange, ApplyError> {
    let abs = resolve(cwd, path);
    let name = shown(path);
    let old_text = files
        .read(&abs, &name)?
        .ok_or_else(|| ApplyError::DeleteMissing { path: name.clone() })?;
    let old = FileText::parse(&old_text);
    let unified_diff = diff::unified(
        &side(Some(&name), &old),
        &Side {
            path: None,
            lines: &[],
            final_newline: true,
        },
        vec![Edit {
            old: 0..old.texts.len(),
            new: 0..0,
        }],
        None,
    );
    files.planned.insert(abs.clone(), None);
    Ok(PlannedChange {
        path: abs,
        kind: ChangeKind::Delete { old: old_text },
        unified_diff,
    })
}

fn plan_update(
    files: &mut Overlay<'_>,
    cwd: &Path,
    path: &Path,
    move_to: Option<&Path>,
    chunks: &[Chunk],
) -> Result<PlannedChange, ApplyError> {
    let abs = resolve(cwd, path);
    let name = shown(path);
    let old_text = files
        .read(&abs, &name)?
        .ok_or_else(|| ApplyError::UpdateMissing { path: name.clone() })?;
    let old = FileText::parse(&old_text);
    let replacements = locate_chunks(&old, chunks, &name)?;
    let built = build(&old, &replacements);

    let dest = move_to
        .map(|m| (resolve(cwd, m), shown(m)))
        .filter(|(d, _)| *d != abs);
    let mut note = None;
    if let Some((dest_abs, dest_name)) = &dest
        && files.read(dest_abs, dest_name)?.is_some()
    {
        note = Some(format!(
            "'*** Move to: {dest_name}' replaces the existing file"
        ));
    }
    let new_name = dest.as_ref().map_or(name.as_str(), |(_, n)| n.as_str());
    let new_texts = FileText::parse(&built.text);
    let unified_diff = diff::unified(
        &side(Some(&name), &old),
        &side(Some(new_name), &new_texts),
        built.edits,
        note.as_deref(),
    );

    match &dest {
        Some((dest_abs, _)) => {
            files.planned.insert(abs.clone(), None);
            files
                .planned
                .insert(dest_abs.clone(), Some(built.text.clone()));
        }
        None => {
            files.planned.insert(abs.clone(), Some(built.text.clone()));
        }
    }
    Ok(PlannedChange {
        path: abs,
        kind: ChangeKind::Update {
            old: old_text.clone(),
            new: built.text,
            move_to: dest.map(|(d, _)| d),
        },
        unified_diff,
    })
}

fn side<'a>(path: Option<&'a str>, text: &'a FileText<'a>) -> Side<'a> {
    Side {
        path,
        lines: &text.texts,
        final_newline: text.final_newline,
    }
}

/// Where one hunk lands: file lines `start..start + old.len()` become `new`.
struct Replacement<'p> {
    start: usize,
    old: &'p [String],
    new: &'p [String],
    /// Indentation fix for added lines (see [`crate::reindent`]).
    shift: Option<Shift>,
}

/// Finds every chunk in order, each after the previous one.
fn locate_chunks<'p>(
    file: &FileText<'_>,
    chunks: &'p [Chunk],
    name: &str,
) -> Result<Vec<Replacement<'p>>, ApplyError> {
    let mut hay = Haystack::new(&file.texts);
    let n = hay.len();
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

/// The new text and the line-level edits that produced it.
struct Built {
    text: String,
    edits: Vec<Edit>,
}

/// Applies replacements (sorted, non-overlapping) to `file`.
///
/// Within each hunk, lines the patch keeps as context are copied from the
/// file, not from the patch: when the match was whitespace- or
/// punctuation-tolerant, the file's own spelling of those lines survives.
/// Untouched lines keep their own terminators; inserted lines get the file's
/// dominant one; the file's trailing-newline state is kept.
fn build(file: &FileText<'_>, replacements: &[Replacement<'_>]) -> Built {
    let n = file.texts.len();
    // (content, terminator) of every output line.
    let mut lines: Vec<(Cow<'_, str>, &str)> = Vec::with_capacity(n + 16);
    let mut edits = Vec::new();
    let mut cursor = 0;
    for r in replacements {
        for k in cursor..r.start {
            lines.push((Cow::Borrowed(file.texts[k]), file.endings[k]));
        }
        let ops: Vec<DiffOp> = if r.old.is_empty() {
            vec![DiffOp::Insert {
                old_index: 0,
                new_index: 0,
                new_len: r.new.len(),
            }]
        } else {
            capture_diff_slices(Algorithm::Myers, r.old, r.new)
        };
        for op in ops {
            let old_range = op.old_range();
            let new_range = op.new_range();
            if let DiffOp::Equal { .. } = op {
                for k in old_range {
                    let i = r.start + k;
                    lines.push((Cow::Borrowed(file.texts[i]), file.endings[i]));
                }
                continue;
            }
            let new_start = lines.len();
            for k in new_range.clone() {
                let text = match &r.shift {
                    Some(shift) => shift.apply(&r.new[k]),
                    None => Cow::Borrowed(r.new[k].as_str()),
                };
                lines.push((text, file.eol));
            }
            edits.push(Edit {
                old: r.start + old_range.start..r.start + old_range.end,
                new: new_start..new_start + new_range.len(),
            });
        }
        cursor = r.start + r.old.len();
    }
    for k in cursor..n {
        lines.push((Cow::Borrowed(file.texts[k]), file.endings[k]));
    }

    let mut text = String::with_capacity(lines.iter().map(|(t, e)| t.len() + e.len() + 1).sum());
    let last = lines.len().saturating_sub(1);
    for (i, (content, ending)) in lines.iter().enumerate() {
        text.push_str(content);
        if i == last && !file.final_newline {
            continue;
        }
        text.push_str(if ending.is_empty() { file.eol } else { ending });
    }
    Built { text, edits }
}
