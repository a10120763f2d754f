//! Parses and applies the `apply_patch` format, atomically.
//!
//! The format is the one Codex-tuned models already emit, so we keep its grammar
//! and only widen what we accept:
//!
//! ```text
//! *** Begin Patch
//! *** Add File: path/new.txt
//! +first line
//! *** Delete File: path/old.txt
//! *** Update File: path/src.rs
//! *** Move to: path/dst.rs          (optional)
//! @@ fn context()                    (optional; may be stacked to narrow)
//!  context line
//! -removed line
//! +added line
//! *** End of File                    (optional; the hunk ends at EOF)
//! *** End Patch
//! ```
//!
//! Applying happens in three steps, each usable on its own:
//!
//! 1. [`parse_patch`] turns text into a [`Patch`] (lenient: heredoc wrappers,
//!    padded markers, a first hunk without `@@`, CRLF input, git-style
//!    `@@ -1,2 +1,3 @@` headers).
//! 2. [`plan_patch`] computes every resulting file content and a unified diff
//!    without touching anything, reading current contents through a
//!    [`FileSource`] (the disk for the kernel, open editor buffers for the LSP
//!    server). Any failure fails the whole plan, with a message written to be
//!    fed back to a model.
//! 3. [`commit_to_disk`] writes a plan atomically: every new content is staged
//!    in a temp file next to its target, then all are renamed into place; on any
//!    failure the already-renamed files are put back, so no file is changed.
//!
//! [`apply_patch`] chains the three for the common case.
//!
//! Policy (which paths may be written) is deliberately not decided here: the
//! kernel checks the [`PlannedChange`] paths before committing.
//!
//! Where we knowingly differ from Codex's applier:
//!
//! * a patch that fails changes nothing, on any file (Codex leaves earlier
//!   files changed);
//! * a pure addition under `@@ <context>` goes right after that context line
//!   (Codex appends it at EOF, its bug #30946);
//! * context lines keep the file's spelling when they matched loosely, and
//!   added lines are re-indented when the whole hunk was shifted consistently;
//! * a hunk whose first line repeats its `@@` line still matches;
//! * a file without a final newline keeps not having one, and a CRLF (or
//!   mixed) file keeps its line endings;
//! * a missing `*** End Patch` is an error (truncated output), while Markdown
//!   fences, git-style `@@ -1,2 +1,2 @@` headers and a move without hunks (a
//!   plain rename) are accepted.
//!
//! ```
//! use std::path::Path;
//! use tandem_apply_patch::{ChangeKind, FileSource, parse_patch, plan_patch};
//!
//! /// An editor buffer standing in for the disk.
//! struct Buffer;
//! impl FileSource for Buffer {
//!     fn read(&self, path: &Path) -> std::io::Result<Option<String>> {
//!         Ok((path == Path::new("/repo/greet.txt")).then(|| "hello\nworld\n".to_string()))
//!     }
//! }
//!
//! let patch = parse_patch(
//!     "*** Begin Patch\n*** Update File: greet.txt\n@@\n hello\n-world\n+there\n*** End Patch",
//! )?;
//! let changes = plan_patch(&patch, Path::new("/repo"), &Buffer)?;
//! assert_eq!(changes[0].path, Path::new("/repo/greet.txt"));
//! assert!(matches!(&changes[0].kind, ChangeKind::Update { new, .. } if new == "hello\nthere\n"));
//! // The diff is ready for an approval prompt; `commit_to_disk(&changes)`
//! // would write it.
//! assert!(changes[0].unified_diff.ends_with(" hello\n-world\n+there\n"));
//! # Ok::<(), tandem_apply_patch::ApplyError>(())
//! ```

mod commit;
mod diff;
mod error;
mod hunks;
mod parser;
mod paths;
mod plan;
mod reindent;
mod seek;
mod text;

use std::io;
use std::path::{Path, PathBuf};

pub use commit::commit_to_disk;
pub use error::{ApplyError, ParseError};
pub use parser::parse_patch;
pub use plan::plan_patch;

/// A parsed patch: the file operations in the order they appear.
///
/// Operations are applied in order, so a patch may delete a file and add it
/// again, or update a file it has just added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    /// The file operations, in patch order.
    pub ops: Vec<FileOp>,
}

/// One `*** Add File`, `*** Delete File` or `*** Update File` section.
///
/// Paths are kept exactly as written (relative or absolute); [`plan_patch`]
/// resolves them against the working directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileOp {
    /// Create a file (or replace an existing one) with `contents`.
    Add {
        /// Path as written in the patch.
        path: PathBuf,
        /// The full new contents; every `+` line followed by `\n`.
        contents: String,
    },
    /// Remove a file.
    Delete {
        /// Path as written in the patch.
        path: PathBuf,
    },
    /// Edit a file in place, optionally renaming it.
    Update {
        /// Path as written in the patch.
        path: PathBuf,
        /// Destination from `*** Move to:`, if any.
        move_to: Option<PathBuf>,
        /// The hunks, in file order. Empty only for a plain rename (with
        /// `move_to`).
        chunks: Vec<Chunk>,
    },
}

/// One hunk of an update: where it goes and what it changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Chunk {
    /// The stacked `@@ <line>` headers, outermost first. Each one is searched
    /// for after the previous, so `@@ impl Foo` then `@@ fn bar` finds the
    /// `fn bar` inside `impl Foo`. Bare `@@` lines contribute nothing.
    pub context: Vec<String>,
    /// The lines that must be found in the file: context (` `) and removed
    /// (`-`) lines, in order, without their prefix.
    pub old_lines: Vec<String>,
    /// What replaces them: context (` `) and added (`+`) lines, in order.
    pub new_lines: Vec<String>,
    /// `*** End of File` followed the hunk: prefer a match at the file's end.
    pub is_end_of_file: bool,
    /// 1-based line in the patch text where the hunk starts (its first `@@`
    /// line, or its first diff line when the header was omitted). It exists so
    /// errors can point the model at the exact spot; 0 for hand-built chunks.
    pub line: usize,
}

/// Where the current text of a file comes from.
///
/// The kernel's default reads the disk ([`DiskSource`]); the LSP server
/// supplies open editor buffers first, so a patch is planned against what the
/// user actually sees.
pub trait FileSource {
    /// Returns the file's text, `Ok(None)` if it does not exist, or an error
    /// (for example, the path is a directory or is not UTF-8).
    fn read(&self, path: &Path) -> io::Result<Option<String>>;

    /// The caller has just written `text` to `path` (`None`: removed it).
    ///
    /// Called synchronously after a commit and before the caller reads again.
    /// A source that serves something other than the disk (an editor's open
    /// buffers) must serve this text from now on, until its own copy catches
    /// up; otherwise the next patch would be planned against stale text. The
    /// disk needs nothing, hence the default.
    fn written(&self, path: &Path, text: Option<&str>) {
        let _ = (path, text);
    }
}

/// Reads files from the local filesystem.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiskSource;

impl FileSource for DiskSource {
    fn read(&self, path: &Path) -> io::Result<Option<String>> {
        match std::fs::read(path) {
            Ok(bytes) => String::from_utf8(bytes).map(Some).map_err(|_| {
                io::Error::new(io::ErrorKind::InvalidData, "the file is not valid UTF-8")
            }),
            // A missing parent directory, or a parent that is a regular file,
            // both mean "this file does not exist"; an Add will then fail (or
            // succeed) when creating the directory, which is where it belongs.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// One file's change, computed by [`plan_patch`] and written by
/// [`commit_to_disk`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedChange {
    /// Absolute, lexically normalised path of the file the operation names
    /// (for a move, the source).
    pub path: PathBuf,
    /// What happens to it.
    pub kind: ChangeKind,
    /// A unified diff of the change, for approval prompts and the model. Lines
    /// are shown without `\r`; an Add or move that replaces an existing file
    /// says so in a leading `note:` line.
    pub unified_diff: String,
}

/// The content-level effect of one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeKind {
    /// The file is created, or replaced if it existed.
    Add {
        /// Its full new text.
        new: String,
    },
    /// The file is removed.
    Delete {
        /// Its text before removal.
        old: String,
    },
    /// The file is edited, and moved if `move_to` is set.
    Update {
        /// Its text before.
        old: String,
        /// Its text after.
        new: String,
        /// Absolute, normalised destination of a move.
        move_to: Option<PathBuf>,
    },
}

/// Parses `text`, plans it against the disk under `cwd`, and commits it.
///
/// Returns the changes that were written. On error nothing was written.
pub fn apply_patch(text: &str, cwd: &Path) -> Result<Vec<PlannedChange>, ApplyError> {
    let patch = parse_patch(text)?;
    let changes = plan_patch(&patch, cwd, &DiskSource)?;
    commit_to_disk(&changes)?;
    Ok(changes)
}
