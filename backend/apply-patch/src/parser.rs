//! Lenient parser for the `*** Begin Patch` format.
//!
//! We accept everything Codex's lenient parser accepts, because models were
//! trained against it, and a little more where being strict only produces a
//! retry:
//!
//! * CRLF input (line breaks are normalised; file endings are handled later);
//! * heredoc wrappers: `<<EOF`, `<<'EOF'`, `<<"EOF"`, `<<-EOF`, any delimiter
//!   word, optionally preceded by `apply_patch`/`applypatch`;
//! * a Markdown code fence around the whole patch;
//! * whitespace around every `***` marker, blank lines between sections;
//! * a first hunk without `@@`;
//! * stacked `@@ <context>` lines (outermost first);
//! * git-style `@@ -12,7 +12,8 @@ fn foo()` headers (the ranges are dropped);
//! * blank lines inside an Add File section that are followed by more `+`
//!   lines (models often drop the `+` on empty lines).
//!
//! We are stricter than Codex in one place: a missing `*** End Patch` is an
//! error, since it almost always means the model's output was cut off.

use std::path::PathBuf;

use crate::error::ParseError;
use crate::{Chunk, FileOp, Patch};

const BEGIN: &str = "*** Begin Patch";
const END: &str = "*** End Patch";
const ADD: &str = "*** Add File:";
const DELETE: &str = "*** Delete File:";
const UPDATE: &str = "*** Update File:";
const MOVE: &str = "*** Move to:";
const EOF_MARKER: &str = "*** End of File";

/// Parses patch text into a [`Patch`].
///
/// See the module documentation for what "lenient" covers. Errors carry the
/// 1-based line number in `text`.
pub fn parse_patch(text: &str) -> Result<Patch, ParseError> {
    let lines: Vec<&str> = text.lines().collect();
    let (mut lo, mut hi) = trim_blank(&lines, 0, lines.len());
    if lo == hi {
        return Err(ParseError::Empty);
    }

    // A Markdown code fence around the patch (```` ``` ```` or ```` ```diff ````).
    if hi - lo >= 2 && lines[lo].trim().starts_with("```") && lines[hi - 1].trim() == "```" {
        (lo, hi) = trim_blank(&lines, lo + 1, hi - 1);
        if lo == hi {
            return Err(ParseError::Empty);
        }
    }

    if let Some(delimiter) = heredoc_delimiter(lines[lo]) {
        if hi - lo < 2 || lines[hi - 1].trim() != delimiter {
            return Err(ParseError::UnterminatedHeredoc {
                line: lo + 1,
                opener: lines[lo].trim().to_string(),
                delimiter: delimiter.to_string(),
            });
        }
        (lo, hi) = trim_blank(&lines, lo + 1, hi - 1);
        if lo == hi {
            return Err(ParseError::Empty);
        }
    }

    if lines[lo].trim() != BEGIN {
        return Err(ParseError::MissingBegin {
            line: lo + 1,
            found: lines[lo].trim().to_string(),
        });
    }
    if hi - lo < 2 || lines[hi - 1].trim() != END {
        return Err(ParseError::MissingEnd {
            line: hi,
            found: lines[hi - 1].trim().to_string(),
        });
    }

    let mut parser = Parser {
        lines: &lines,
        pos: lo + 1,
        end: hi - 1,
    };
    let ops = parser.ops()?;
    if ops.is_empty() {
        return Err(ParseError::NoOperations { line: hi });
    }
    Ok(Patch { ops })
}

/// Narrows `[lo, hi)` so it neither starts nor ends with a blank line.
fn trim_blank(lines: &[&str], mut lo: usize, mut hi: usize) -> (usize, usize) {
    while lo < hi && lines[lo].trim().is_empty() {
        lo += 1;
    }
    while hi > lo && lines[hi - 1].trim().is_empty() {
        hi -= 1;
    }
    (lo, hi)
}

/// Recognises a heredoc opener line and returns its delimiter word.
///
/// Accepts `<<EOF`, `<<'EOF'`, `<<"EOF"`, `<<-EOF`, with any word of ASCII
/// letters, digits and `_`, optionally preceded by the command name.
fn heredoc_delimiter(line: &str) -> Option<&str> {
    let mut rest = line.trim();
    for command in ["apply_patch", "applypatch"] {
        if let Some(r) = rest.strip_prefix(command) {
            rest = r.trim_start();
            break;
        }
    }
    let rest = rest.strip_prefix("<<")?;
    let rest = rest.strip_prefix('-').unwrap_or(rest).trim_start();
    let word = match rest.chars().next()? {
        quote @ ('\'' | '"') => rest[1..].strip_suffix(quote)?,
        _ => rest,
    };
    let valid = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    valid.then_some(word)
}

/// If `trimmed` starts with `marker`, returns what follows, trimmed.
fn after_marker<'a>(trimmed: &'a str, marker: &str) -> Option<&'a str> {
    trimmed.strip_prefix(marker).map(str::trim)
}

/// True for lines that start a new file operation (padding allowed).
fn is_op_header(line: &str) -> bool {
    let t = line.trim();
    t.starts_with(ADD) || t.starts_with(DELETE) || t.starts_with(UPDATE)
}

/// Parses a hunk header line: `Some(None)` for a bare `@@` (or one whose only
/// content is a git range), `Some(Some(text))` for `@@ text`, `None` if the
/// line is not a header.
fn hunk_header(line: &str) -> Option<Option<String>> {
    let t = line.trim_end();
    if t == "@@" {
        return Some(None);
    }
    let rest = t.strip_prefix("@@ ")?;
    let rest = strip_git_range(rest);
    if rest.trim().is_empty() {
        Some(None)
    } else {
        Some(Some(rest.to_string()))
    }
}

/// Drops a leading `-a,b +c,d @@` (as in `@@ -1,2 +1,3 @@ fn foo`), which
/// models sometimes copy from `git diff`. Returns `text` unchanged otherwise.
fn strip_git_range(text: &str) -> &str {
    fn range(s: &str, sign: char) -> Option<&str> {
        let s = s.strip_prefix(sign)?;
        let digits = s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return None;
        }
        let s = &s[digits..];
        match s.strip_prefix(',') {
            Some(r) => {
                let d = r.len() - r.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                (d > 0).then(|| &r[d..])
            }
            None => Some(s),
        }
    }
    let parsed = range(text, '-')
        .and_then(|s| s.strip_prefix(' '))
        .and_then(|s| range(s, '+'))
        .and_then(|s| s.strip_prefix(" @@"));
    match parsed {
        Some(rest) => rest.strip_prefix(' ').unwrap_or(rest),
        None => text,
    }
}

/// Cursor over the body lines (between Begin and End markers).
struct Parser<'a> {
    lines: &'a [&'a str],
    /// Index of the next unread line.
    pos: usize,
    /// Index one past the last body line.
    end: usize,
}

impl Parser<'_> {
    /// 1-based patch line number of index `i`.
    fn line_no(i: usize) -> usize {
        i + 1
    }

    /// Skips blank lines; returns false at the end of the body.
    fn skip_blank(&mut self) -> bool {
        while self.pos < self.end && self.lines[self.pos].trim().is_empty() {
            self.pos += 1;
        }
        self.pos < self.end
    }

    fn ops(&mut self) -> Result<Vec<FileOp>, ParseError> {
        let mut ops = Vec::new();
        while self.skip_blank() {
            let i = self.pos;
            let t = self.lines[i].trim();
            if t == END {
                return Err(ParseError::TextAfterEnd {
                    line: Self::line_no(i),
                });
            }
            self.pos += 1;
            if let Some(path) = after_marker(t, ADD) {
                let path = Self::path(path, ADD, i)?;
                ops.push(self.add(path)?);
            } else if let Some(path) = after_marker(t, DELETE) {
                let path = Self::path(path, DELETE, i)?;
                self.expect_no_content(&path)?;
                ops.push(FileOp::Delete { path });
            } else if let Some(path) = after_marker(t, UPDATE) {
                let path = Self::path(path, UPDATE, i)?;
                ops.push(self.update(path, i)?);
            } else if t.starts_with(MOVE) {
                return Err(ParseError::MisplacedMove {
                    line: Self::line_no(i),
                });
            } else {
                return Err(ParseError::InvalidHeader {
                    line: Self::line_no(i),
                    found: t.to_string(),
                });
            }
        }
        Ok(ops)
    }

    fn path(text: &str, marker: &str, i: usize) -> Result<PathBuf, ParseError> {
        if text.is_empty() {
            return Err(ParseError::MissingPath {
                line: Self::line_no(i),
                marker: marker.to_string(),
            });
        }
        Ok(PathBuf::from(text))
    }

    /// Collects the `+` lines of an Add File section.
    fn add(&mut self, path: PathBuf) -> Result<FileOp, ParseError> {
        let mut contents = String::new();
        while self.pos < self.end {
            let line = self.lines[self.pos];
            if let Some(text) = line.strip_prefix('+') {
                contents.push_str(text);
                contents.push('\n');
                self.pos += 1;
            } else if line.trim().is_empty() {
                // Blank lines count as empty content only when more `+` lines
                // follow; otherwise they just separate sections.
                let mut next = self.pos;
                while next < self.end && self.lines[next].trim().is_empty() {
                    next += 1;
                }
                if next < self.end && self.lines[next].starts_with('+') {
                    for _ in self.pos..next {
                        contents.push('\n');
                    }
                    self.pos = next;
                } else {
                    break;
                }
            } else {
                break;
            }
        }
        if self.skip_blank() {
            let line = self.lines[self.pos];
            if !is_op_header(line) && line.trim() != END && !line.trim().starts_with(MOVE) {
                return Err(ParseError::AddLineWithoutPlus {
                    line: Self::line_no(self.pos),
                    path: path.display().to_string(),
                    found: line.to_string(),
                });
            }
        }
        Ok(FileOp::Add { path, contents })
    }

    /// A Delete File section must be followed by another header (or the end).
    fn expect_no_content(&mut self, path: &std::path::Path) -> Result<(), ParseError> {
        if self.skip_blank() {
            let line = self.lines[self.pos];
            if !is_op_header(line) && line.trim() != END {
                return Err(ParseError::DeleteWithContent {
                    line: Self::line_no(self.pos),
                    path: path.display().to_string(),
                    found: line.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Parses an Update File section; `header` is the index of its header.
    fn update(&mut self, path: PathBuf, header: usize) -> Result<FileOp, ParseError> {
        let mut move_to = None;
        if self.pos < self.end
            && let Some(dest) = after_marker(self.lines[self.pos].trim(), MOVE)
        {
            move_to = Some(Self::path(dest, MOVE, self.pos)?);
            self.pos += 1;
        }
        let shown = path.display().to_string();
        let mut chunks: Vec<Chunk> = Vec::new();
        while self.skip_blank() {
            let line = self.lines[self.pos];
            let t = line.trim();
            if t == EOF_MARKER {
                return Err(ParseError::MisplacedEndOfFile {
                    line: Self::line_no(self.pos),
                });
            }
            if t.starts_with("***") {
                break;
            }
            let chunk = self.chunk(&shown, chunks.len() + 1)?;
            chunks.push(chunk);
        }
        // The grammar makes hunks optional; without a move there would be
        // nothing to do, which is certainly a mistake. With one, it is a
        // plain rename.
        if chunks.is_empty() && move_to.is_none() {
            return Err(ParseError::EmptyUpdate {
                line: Self::line_no(header),
                path: shown,
            });
        }
        Ok(FileOp::Update {
            path,
            move_to,
            chunks,
        })
    }

    /// Parses one hunk starting at the current (non-blank) line.
    fn chunk(&mut self, path: &str, hunk: usize) -> Result<Chunk, ParseError> {
        let start = self.pos;
        let mut chunk = Chunk {
            line: Self::line_no(start),
            ..Chunk::default()
        };
        while self.pos < self.end {
            match hunk_header(self.lines[self.pos]) {
                Some(context) => {
                    chunk.context.extend(context);
                    self.pos += 1;
                }
                None => break,
            }
        }
        let had_header = self.pos > start;
        // The first hunk of a file may omit `@@`; later ones cannot, but the
        // only way to get here without one is a line no branch below accepts,
        // which is reported as an unexpected line.
        let mut diff_lines = 0;
        while self.pos < self.end {
            let line = self.lines[self.pos];
            if line.trim() == EOF_MARKER {
                if diff_lines == 0 {
                    return Err(ParseError::MisplacedEndOfFile {
                        line: Self::line_no(self.pos),
                    });
                }
                chunk.is_end_of_file = true;
                self.pos += 1;
                break;
            }
            if is_op_header(line) {
                break;
            }
            if let Some(text) = line.strip_prefix(' ') {
                chunk.old_lines.push(text.to_string());
                chunk.new_lines.push(text.to_string());
            } else if let Some(text) = line.strip_prefix('-') {
                chunk.old_lines.push(text.to_string());
            } else if let Some(text) = line.strip_prefix('+') {
                chunk.new_lines.push(text.to_string());
            } else if line.trim().is_empty() {
                // A blank line inside a hunk is an empty context line whose
                // leading space was stripped by the model or an editor.
                chunk.old_lines.push(String::new());
                chunk.new_lines.push(String::new());
            } else if hunk_header(line).is_some() || line.trim_start().starts_with("***") {
                break;
            } else {
                return Err(ParseError::UnexpectedLine {
                    line: Self::line_no(self.pos),
                    path: path.to_string(),
                    hunk,
                    found: line.to_string(),
                });
            }
            diff_lines += 1;
            self.pos += 1;
        }
        if diff_lines == 0 {
            let line = if had_header { start } else { self.pos };
            return Err(ParseError::EmptyHunk {
                line: Self::line_no(line),
                path: path.to_string(),
                hunk,
            });
        }
        Ok(chunk)
    }
}

#[cfg(test)]
mod tests;
