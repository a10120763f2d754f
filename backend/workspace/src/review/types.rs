//! The review vocabulary: proposals in, views and edits out.

use crate::error::ReviewError;
use crate::position::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tandem_protocol::events::ProposedFileChange;
use tandem_protocol::items::PatchChangeKind;

/// When the agent's change reaches the buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReviewModel {
    /// The buffer keeps the old text; a hunk is written only when a person accepts it.
    ApproveBeforeWrite,
    /// The change is already in the buffer; a person may still revert each hunk, or the turn.
    ApplyThenReview,
}

impl ReviewModel {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewModel::ApproveBeforeWrite => "approve-before-write",
            ReviewModel::ApplyThenReview => "apply-then-review",
        }
    }
}

/// Where a hunk stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HunkState {
    /// Waiting for a decision. The buffer holds the hunk's base text: the old text before
    /// approval, the new text after an apply-then-review write.
    Pending,
    /// Accepted; its edit was handed out and the buffer does not show it yet.
    Applying,
    /// Rejected; its reverting edit was handed out and the buffer does not show it yet.
    Reverting,
    /// Final: the new text is what the person kept.
    Accepted,
    /// Final: the old text is what the person kept.
    Rejected,
    /// The buffer's text under the hunk is neither side any more (someone edited it). It can be
    /// rejected (or, under apply-then-review, accepted as it is), never applied blindly.
    Conflicted,
}

impl HunkState {
    pub fn as_str(self) -> &'static str {
        match self {
            HunkState::Pending => "pending",
            HunkState::Applying => "applying",
            HunkState::Reverting => "reverting",
            HunkState::Accepted => "accepted",
            HunkState::Rejected => "rejected",
            HunkState::Conflicted => "conflicted",
        }
    }

    /// Accepted or rejected: nothing more will happen to it.
    pub fn is_final(self) -> bool {
        matches!(self, HunkState::Accepted | HunkState::Rejected)
    }

    pub(crate) fn is_in_flight(self) -> bool {
        matches!(self, HunkState::Applying | HunkState::Reverting)
    }
}

/// What a proposal does to its file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProposalKind {
    Add,
    Delete,
    Update,
    /// An update that also renames the file to `to`.
    Move {
        to: PathBuf,
    },
}

/// One file of a proposed change, with both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProposal {
    /// Absolute.
    pub path: PathBuf,
    pub kind: ProposalKind,
    /// `None` for an added file.
    pub old_content: Option<String>,
    /// `None` for a deleted file.
    pub new_content: Option<String>,
}

impl FileProposal {
    /// Converts the kernel's view of one file, resolving relative paths against `cwd`.
    pub fn from_protocol(change: &ProposedFileChange, cwd: &Path) -> Self {
        let abs = |p: &str| {
            let p = Path::new(p);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                cwd.join(p)
            }
        };
        let kind = match (change.kind, &change.move_path) {
            (PatchChangeKind::Add, _) => ProposalKind::Add,
            (PatchChangeKind::Delete, _) => ProposalKind::Delete,
            (PatchChangeKind::Update, Some(to)) => ProposalKind::Move { to: abs(to) },
            (PatchChangeKind::Update, None) => ProposalKind::Update,
        };
        Self {
            path: abs(&change.path),
            kind,
            old_content: change.old_content.clone(),
            new_content: change.new_content.clone(),
        }
    }
}

/// Who proposed a change, so summaries and turn undo can find it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeOrigin {
    pub task_id: Option<String>,
    pub turn_id: Option<String>,
    /// The kernel item (the `file_change`) the change came from.
    pub item_id: Option<String>,
}

/// The text a buffer holds now, as the store's caller sees it.
#[derive(Debug, Clone)]
pub struct Buffer {
    pub text: ropey::Rope,
    /// The editor's version when the file is open; `None` when the text came from the disk.
    pub version: Option<i32>,
}

/// Where the store reads a file's current text (open buffer first, then disk).
pub trait BufferSource {
    /// `Ok(None)` when the file does not exist.
    fn buffer(&self, path: &Path) -> Result<Option<Buffer>, ReviewError>;
}

/// What to review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Hunk(String),
    /// Every hunk in a file, of one change or of all changes.
    File {
        path: PathBuf,
        change: Option<String>,
    },
    Change(String),
}

/// One text replacement, both as bytes and in the editor's encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub range: Range,
    pub bytes: std::ops::Range<usize>,
    pub new_text: String,
}

/// An edit the caller must apply for a decision to take effect. Text edits of one file all
/// refer to the same text (the one at `expected_version`) and never overlap, as LSP requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileEdit {
    Text {
        path: Arc<Path>,
        /// The editor version the ranges refer to; `None` when the file is not open.
        expected_version: Option<i32>,
        edits: Vec<TextEdit>,
        hunks: Vec<String>,
    },
    Create {
        path: Arc<Path>,
        content: String,
        hunks: Vec<String>,
    },
    Delete {
        path: Arc<Path>,
        hunks: Vec<String>,
    },
    Move {
        from: Arc<Path>,
        to: Arc<Path>,
        content: String,
        hunks: Vec<String>,
    },
}

impl FileEdit {
    /// The hunks this edit carries out.
    pub fn hunks(&self) -> &[String] {
        match self {
            FileEdit::Text { hunks, .. }
            | FileEdit::Create { hunks, .. }
            | FileEdit::Delete { hunks, .. }
            | FileEdit::Move { hunks, .. } => hunks,
        }
    }
}

/// A hunk that a decision could not touch, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub hunk: String,
    pub reason: ReviewError,
}

/// The result of an accept, a reject or a turn undo.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Edits to apply. Their hunks are in flight until the buffer shows them; if applying fails,
    /// call [`crate::review::ReviewStore::edit_failed`].
    pub edits: Vec<FileEdit>,
    /// Hunks decided with nothing to apply (a rejection before write, an acceptance after it).
    pub decided: Vec<String>,
    pub refused: Vec<Refusal>,
}

/// One hunk as a frontend shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HunkView {
    pub id: String,
    pub change_id: String,
    pub path: Arc<Path>,
    pub state: HunkState,
    /// The hunk's text in the buffer now, in the editor's encoding.
    pub range: Range,
    pub bytes: std::ops::Range<usize>,
    pub old_text: String,
    pub new_text: String,
    /// A whole-file operation (add, delete, move), decided as one.
    pub whole_file: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileView {
    pub path: Arc<Path>,
    pub kind: ProposalKind,
    pub hunks: Vec<HunkView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeView {
    pub id: String,
    pub origin: ChangeOrigin,
    pub model: ReviewModel,
    pub files: Vec<FileView>,
    /// Every hunk is accepted or rejected.
    pub resolved: bool,
}
