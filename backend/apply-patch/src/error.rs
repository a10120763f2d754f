//! Error types for parsing and applying patches.
//!
//! Every message is meant to be read by a model that has to fix its patch, so
//! each one says where (file, hunk number, patch line) and what was expected,
//! in plain words, and never depends on the machine (no absolute paths except
//! for disk failures in [`crate::commit_to_disk`], which only has those).

use std::io;
use std::path::PathBuf;

/// Why a patch's text could not be parsed. Line numbers are 1-based lines of
/// the text given to [`crate::parse_patch`] (including any heredoc line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Nothing but whitespace.
    #[error(
        "the patch is empty: it must start with '*** Begin Patch', contain at least one file \
         operation, and end with '*** End Patch'"
    )]
    Empty,
    /// `<<EOF` with no closing `EOF` line.
    #[error(
        "patch line {line}: the heredoc opener {opener} is never closed; the last line must be {delimiter}"
    )]
    UnterminatedHeredoc {
        /// Line of the opener.
        line: usize,
        /// The opener as written.
        opener: String,
        /// The delimiter word.
        delimiter: String,
    },
    /// The first line is not `*** Begin Patch`.
    #[error(
        "patch line {line}: the first line of the patch must be '*** Begin Patch', found '{found}'"
    )]
    MissingBegin {
        /// Line found instead.
        line: usize,
        /// Its text.
        found: String,
    },
    /// The last line is not `*** End Patch`.
    ///
    /// We do not accept a patch without it even when the rest parses: the usual
    /// cause is output cut off mid-patch, and applying it would write a
    /// truncated file.
    #[error(
        "patch line {line}: the last line of the patch must be '*** End Patch', found '{found}' \
         (if the patch was cut off, send it again in full)"
    )]
    MissingEnd {
        /// Last line of the patch.
        line: usize,
        /// Its text.
        found: String,
    },
    /// `*** End Patch` appears before the end.
    #[error("patch line {line}: '*** End Patch' must be the last line, but more text follows it")]
    TextAfterEnd {
        /// Line of the early `*** End Patch`.
        line: usize,
    },
    /// Begin and End markers with nothing between.
    #[error(
        "patch line {line}: the patch contains no file operations; add an '*** Add File: <path>', \
         '*** Delete File: <path>' or '*** Update File: <path>' section"
    )]
    NoOperations {
        /// Line of `*** End Patch`.
        line: usize,
    },
    /// A line where a file operation header was expected.
    #[error(
        "patch line {line}: '{found}' is not a valid file operation header; expected \
         '*** Add File: <path>', '*** Delete File: <path>' or '*** Update File: <path>'"
    )]
    InvalidHeader {
        /// The line.
        line: usize,
        /// Its text.
        found: String,
    },
    /// A header without a path.
    #[error("patch line {line}: '{marker}' must be followed by a path")]
    MissingPath {
        /// The line.
        line: usize,
        /// The marker, e.g. `*** Add File:`.
        marker: String,
    },
    /// A line inside an Add File section that does not start with `+`.
    #[error(
        "patch line {line}: every line of '*** Add File: {path}' must start with '+', found '{found}'"
    )]
    AddLineWithoutPlus {
        /// The line.
        line: usize,
        /// The file being added.
        path: String,
        /// Its text.
        found: String,
    },
    /// A Delete File section followed by lines.
    #[error("patch line {line}: '*** Delete File: {path}' takes no content lines, found '{found}'")]
    DeleteWithContent {
        /// The line.
        line: usize,
        /// The file being deleted.
        path: String,
        /// Its text.
        found: String,
    },
    /// `*** Move to:` not right after an Update header.
    #[error("patch line {line}: '*** Move to:' must come right after an '*** Update File:' line")]
    MisplacedMove {
        /// The line.
        line: usize,
    },
    /// An Update File section with no hunks.
    #[error(
        "patch line {line}: '*** Update File: {path}' has no hunks; add an '@@' hunk with ' ' \
         (context), '-' (removed) and '+' (added) lines"
    )]
    EmptyUpdate {
        /// Line of the Update header.
        line: usize,
        /// The file.
        path: String,
    },
    /// A hunk with a header but no diff lines.
    #[error(
        "patch line {line}: hunk {hunk} of '{path}' has no lines; after '@@' put ' ' (context), \
         '-' (removed) and '+' (added) lines"
    )]
    EmptyHunk {
        /// Line of the hunk's header.
        line: usize,
        /// The file.
        path: String,
        /// 1-based hunk number within the file.
        hunk: usize,
    },
    /// A line inside a hunk with no valid prefix.
    #[error(
        "patch line {line}: unexpected line in hunk {hunk} of '{path}': '{found}'; every hunk line \
         must start with ' ' (context), '-' (removed) or '+' (added), and a new hunk with '@@'"
    )]
    UnexpectedLine {
        /// The line.
        line: usize,
        /// The file.
        path: String,
        /// 1-based hunk number within the file.
        hunk: usize,
        /// Its text.
        found: String,
    },
    /// `*** End of File` with no hunk lines before it.
    #[error("patch line {line}: '*** End of File' must come right after the lines of a hunk")]
    MisplacedEndOfFile {
        /// The line.
        line: usize,
    },
}

/// Why a patch could not be planned or written. Nothing was changed on disk
/// when one of these is returned (except [`ApplyError::RollbackFailed`], which
/// lists what may be left).
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// The text did not parse.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// `*** Update File` of a file that does not exist.
    #[error("{path}: cannot update: the file does not exist (use '*** Add File:' to create it)")]
    UpdateMissing {
        /// The path as written in the patch (normalised).
        path: String,
    },
    /// `*** Delete File` of a file that does not exist.
    #[error("{path}: cannot delete: the file does not exist")]
    DeleteMissing {
        /// The path as written in the patch (normalised).
        path: String,
    },
    /// The target is a directory.
    #[error("{path}: is a directory, not a file")]
    IsDirectory {
        /// The path as written in the patch (normalised).
        path: String,
    },
    /// The current text could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The path as written in the patch (normalised).
        path: String,
        /// The underlying error.
        source: io::Error,
    },
    /// A `@@ <line>` header was not found.
    #[error(
        "{path}: hunk {hunk} (patch line {line}): could not find the '@@' context line{after}:\n  {context}"
    )]
    ContextNotFound {
        /// The path as written in the patch (normalised).
        path: String,
        /// 1-based hunk number within the file.
        hunk: usize,
        /// Patch line of the hunk.
        line: usize,
        /// The context text that was searched for.
        context: String,
        /// Empty, or " after file line N" when the search started past the top.
        after: String,
    },
    /// A hunk's context and removed lines were not found.
    #[error(
        "{path}: hunk {hunk} (patch line {line}): could not find these lines{after}:\n{expected}{detail}"
    )]
    LinesNotFound {
        /// The path as written in the patch (normalised).
        path: String,
        /// 1-based hunk number within the file.
        hunk: usize,
        /// Patch line of the hunk.
        line: usize,
        /// Empty, or " after file line N" when the search started past the top.
        after: String,
        /// The expected lines, indented, one per line.
        expected: String,
        /// Empty, or a trailing explanation: the nearest candidate region, or
        /// that the lines exist but before the previous hunk.
        detail: String,
    },
    /// Writing failed; everything done so far was rolled back.
    #[error("{}: could not {action}: {source}; the patch was not applied and no file was changed", path.display())]
    Commit {
        /// The file or directory involved.
        path: PathBuf,
        /// What was being done, e.g. "write a temporary file".
        action: &'static str,
        /// The underlying error.
        source: io::Error,
    },
    /// Writing failed, and so did part of the rollback.
    #[error(
        "{}: could not {action}: {source}; rolling back also failed, so these may be left changed:\n{leftovers}",
        path.display()
    )]
    RollbackFailed {
        /// The file or directory involved in the first failure.
        path: PathBuf,
        /// What was being done.
        action: &'static str,
        /// The first failure.
        source: io::Error,
        /// One line per path the rollback could not restore, with the reason.
        leftovers: String,
    },
}
