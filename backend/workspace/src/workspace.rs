//! [`Workspace`]: the one object the LSP server talks to. Each method is what one LSP message
//! needs, so a handler is `from_proto` → one call → `to_proto`.
//!
//! It keeps the three parts in step: a document change is applied to the store and then fed,
//! as the same byte edits, to the review store; a close reaches Auto Context and review alike.

use crate::context::{
    self, ContextConfig, ContextEngine, ContextPreview, Diagnostic, Focus, PatternError, Severity,
};
use crate::document::{SharedDocuments, TextChange};
use crate::error::{DocumentError, ReviewError};
use crate::position::{self, Encoding, LineCol, Position, Range};
use crate::review::{
    Buffer, BufferSource, ChangeOrigin, FileProposal, Outcome, ReviewModel, ReviewStore, Target,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tandem_apply_patch::{DiskSource, FileSource};
use tandem_protocol::ops::UserInput;

/// Where the user is, in editor positions (converted against the focused document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FocusInput {
    pub path: PathBuf,
    pub position: Position,
    pub selections: Vec<Range>,
    pub visible_ranges: Vec<Range>,
}

/// A diagnostic in editor positions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiagnosticInput {
    pub range: Range,
    pub severity: Severity,
    pub message: String,
    pub source: Option<String>,
}

/// Open documents, Auto Context and review, for one editor connection.
pub struct Workspace {
    docs: SharedDocuments,
    context: ContextEngine,
    review: ReviewStore,
    encoding: Encoding,
    disk: Arc<dyn FileSource + Send + Sync>,
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workspace")
            .field("encoding", &self.encoding)
            .field("documents", &self.docs.read().len())
            .finish_non_exhaustive()
    }
}

/// Reads buffers for the review store: open documents first, then `disk`.
struct Sources<'a> {
    docs: &'a SharedDocuments,
    disk: &'a (dyn FileSource + Send + Sync),
}

impl BufferSource for Sources<'_> {
    fn buffer(&self, path: &Path) -> Result<Option<Buffer>, ReviewError> {
        if let Some(doc) = self.docs.read().get(path) {
            return Ok(Some(Buffer {
                text: doc.text().clone(),
                version: Some(doc.version()),
            }));
        }
        match self.disk.read(path) {
            Ok(text) => Ok(text.map(|t| Buffer {
                text: ropey::Rope::from_str(&t),
                version: None,
            })),
            Err(e) => Err(ReviewError::Read {
                path: path.to_path_buf(),
                message: e.to_string(),
            }),
        }
    }
}

impl Workspace {
    pub fn new(config: ContextConfig) -> Result<Self, PatternError> {
        Ok(Self {
            docs: SharedDocuments::default(),
            context: ContextEngine::new(config)?,
            review: ReviewStore::new(),
            encoding: Encoding::Utf16,
            disk: Arc::new(DiskSource),
        })
    }

    /// Replaces where closed files are read from (tests use an in-memory map).
    pub fn with_disk(mut self, disk: Arc<dyn FileSource + Send + Sync>) -> Self {
        self.disk = disk;
        self
    }

    /// The position encoding negotiated at `initialize`; every editor position in and out of
    /// this object uses it.
    pub fn set_encoding(&mut self, encoding: Encoding) {
        self.encoding = encoding;
    }

    pub fn encoding(&self) -> Encoding {
        self.encoding
    }

    /// The live documents, for agent tools (implements [`FileSource`]).
    pub fn documents(&self) -> &SharedDocuments {
        &self.docs
    }

    pub fn context(&self) -> &ContextEngine {
        &self.context
    }

    pub fn context_mut(&mut self) -> &mut ContextEngine {
        &mut self.context
    }

    pub fn review(&self) -> &ReviewStore {
        &self.review
    }

    pub fn did_open(&mut self, path: &Path, version: i32, text: &str) -> Result<(), DocumentError> {
        let mut docs = self.docs.write();
        docs.open(path, version, text)?;
        if self.review.tracks(path) {
            let rope = docs.get(path).expect("just opened").text().clone();
            self.review.on_open(path, version, &rope);
        }
        Ok(())
    }

    pub fn did_change(
        &mut self,
        path: &Path,
        version: i32,
        changes: &[TextChange],
    ) -> Result<(), DocumentError> {
        let mut docs = self.docs.write();
        let prev = docs.get(path).map(|d| d.version());
        let edits = docs.apply_changes(path, version, changes, self.encoding)?;
        if self.review.tracks(path) {
            let doc = docs.get(path).expect("just changed");
            let prev = prev.expect("it was open");
            self.review
                .on_change(path, prev, version, &edits, doc.text());
        }
        Ok(())
    }

    pub fn did_close(&mut self, path: &Path) {
        self.docs.write().close(path);
        self.context.closed(path);
        self.review.on_close(path);
    }

    /// `tandem/focus`: converts the editor positions against the focused document (a closed
    /// document's columns are taken as they are).
    pub fn set_focus(&mut self, input: FocusInput) {
        let docs = self.docs.read();
        let enc = self.encoding;
        let text = docs.get(&input.path).map(|d| d.text().clone());
        let conv = |p: Position| match &text {
            Some(t) => position::position_to_line_col(t, p, enc),
            None => LineCol::new(p.line, p.character),
        };
        let focus = Focus {
            cursor: conv(input.position),
            selections: input
                .selections
                .iter()
                .map(|r| (conv(r.start), conv(r.end)))
                .collect(),
            visible_lines: input
                .visible_ranges
                .iter()
                .map(|r| (r.start.line, r.end.line))
                .collect(),
            path: input.path,
        };
        drop(docs);
        self.context.set_focus(focus);
    }

    /// `tandem/diagnostics/forward`: replaces the diagnostics of one file.
    pub fn set_diagnostics(&mut self, path: &Path, diagnostics: Vec<DiagnosticInput>) {
        let docs = self.docs.read();
        let enc = self.encoding;
        let text = docs.get(path).map(|d| d.text().clone());
        let conv = |p: Position| match &text {
            Some(t) => position::position_to_line_col(t, p, enc),
            None => LineCol::new(p.line, p.character),
        };
        let diags = diagnostics
            .into_iter()
            .map(|d| Diagnostic {
                start: conv(d.range.start),
                end: conv(d.range.end),
                severity: d.severity,
                message: d.message,
                source: d.source,
            })
            .collect();
        drop(docs);
        self.context.set_diagnostics(path, diags);
    }

    pub fn set_context_enabled(&mut self, enabled: bool) {
        self.context.set_enabled(enabled);
    }

    pub fn reconfigure_context(&mut self, config: ContextConfig) -> Result<(), PatternError> {
        self.context.reconfigure(config)
    }

    /// `tandem/context/preview`.
    pub fn context_preview(&mut self) -> ContextPreview {
        let docs = self.docs.read();
        self.context.preview(&docs, self.encoding)
    }

    /// The context blocks for a turn: exactly what the preview shows.
    pub fn context_inputs(&mut self) -> Vec<UserInput> {
        let preview = self.context_preview();
        context::render(&preview, &self.context.config().roots)
    }

    /// A file change the agent proposed (or, under apply-then-review, made).
    pub fn propose(
        &mut self,
        origin: ChangeOrigin,
        model: ReviewModel,
        files: Vec<FileProposal>,
    ) -> Result<String, ReviewError> {
        let sources = Sources {
            docs: &self.docs,
            disk: &*self.disk,
        };
        self.review.propose(origin, model, files, &sources)
    }

    /// `tandem/review/accept` (and the "Accept" code actions).
    pub fn accept(&mut self, target: &Target) -> Result<Outcome, ReviewError> {
        let sources = Sources {
            docs: &self.docs,
            disk: &*self.disk,
        };
        self.review.accept(target, &sources, self.encoding)
    }

    /// `tandem/review/reject` (and the "Reject" code actions).
    pub fn reject(&mut self, target: &Target) -> Result<Outcome, ReviewError> {
        let sources = Sources {
            docs: &self.docs,
            disk: &*self.disk,
        };
        self.review.reject(target, &sources, self.encoding)
    }

    /// Undo everything a turn changed (see [`ReviewStore::undo_turn`]).
    pub fn undo_turn(&mut self, turn: &str) -> Result<Outcome, ReviewError> {
        let sources = Sources {
            docs: &self.docs,
            disk: &*self.disk,
        };
        self.review.undo_turn(turn, &sources, self.encoding)
    }

    /// A file changed outside document sync (a watched-file event, an edit written to disk).
    pub fn refresh(&mut self, path: &Path) -> Result<(), ReviewError> {
        let sources = Sources {
            docs: &self.docs,
            disk: &*self.disk,
        };
        self.review.refresh_path(path, &sources)
    }

    pub fn edit_failed(&mut self, edit: &crate::review::FileEdit) {
        self.review.edit_failed(edit);
    }

    pub fn forget_change(&mut self, change_id: &str) -> bool {
        self.review.forget(change_id)
    }

    /// Hunks overlapping an editor range, for code actions and CodeLens.
    pub fn hunks_at(&self, path: &Path, range: Range) -> Vec<crate::review::HunkView> {
        self.review.hunks_at(path, range, self.encoding)
    }
}
