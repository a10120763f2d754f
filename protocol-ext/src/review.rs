//! Inline review of the agent's changes: change → file → hunk, with stable string ids.

use crate::types::Range;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `approveBeforeWrite`: nothing is written until a hunk is accepted. `applyThenReview`: the
/// change is written at once; each hunk (or the turn) can be reverted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub enum ReviewModel {
    ApproveBeforeWrite,
    ApplyThenReview,
}

/// `applying`/`reverting`: decided, with the edit sent and not yet seen in the buffer.
/// `conflicted`: the text under the hunk was edited; it can be rejected, never applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub enum HunkState {
    Pending,
    Applying,
    Reverting,
    Accepted,
    Rejected,
    Conflicted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub enum FileChangeKind {
    Add,
    Delete,
    Update,
    Move,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ReviewHunk {
    /// `c<change>/h<n>`; stable for the life of the change.
    pub hunk_id: String,
    pub state: HunkState,
    /// Where the hunk's text is in the buffer now (re-anchored after every edit).
    pub range: Range,
    pub old_text: String,
    pub new_text: String,
    /// An add, delete or move, decided as one.
    pub whole_file: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ReviewFile {
    pub uri: String,
    pub kind: FileChangeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub move_to: Option<String>,
    pub hunks: Vec<ReviewHunk>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ReviewChange {
    /// `c<n>`.
    pub change_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub task_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub turn_id: Option<String>,
    pub model: ReviewModel,
    /// Every hunk is accepted or rejected.
    pub resolved: bool,
    pub files: Vec<ReviewFile>,
}

/// `tandem/review/list` (client → server request).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ReviewListParams {
    /// Only changes touching this document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub uri: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ReviewListResult {
    /// Increases whenever anything listed changes.
    pub generation: u64,
    pub changes: Vec<ReviewChange>,
}

/// `tandem/review/changed` (server → client notification): upserts, keyed by `changeId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ReviewChangedParams {
    pub generation: u64,
    /// Changes that are new or whose hunks moved or changed state, in full.
    pub changes: Vec<ReviewChange>,
    /// Ids of changes that are gone (resolved and reported to the model).
    pub removed: Vec<String>,
}

/// What an accept or reject acts on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
#[ts(tag = "type", rename_all = "camelCase")]
pub enum ReviewTarget {
    #[serde(rename_all = "camelCase")]
    #[ts(rename_all = "camelCase")]
    Hunk { hunk_id: String },
    /// Every hunk in the file ("accept all in file"), of one change or of all.
    #[serde(rename_all = "camelCase")]
    #[ts(rename_all = "camelCase")]
    File {
        uri: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        change_id: Option<String>,
    },
    #[serde(rename_all = "camelCase")]
    #[ts(rename_all = "camelCase")]
    Change { change_id: String },
}

/// `tandem/review/accept` and `tandem/review/reject` (client → server requests; also the
/// arguments of the matching code-action and CodeLens commands).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ReviewDecisionParams {
    pub target: ReviewTarget,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ReviewRefusal {
    pub hunk_id: String,
    pub message: String,
}

/// What happened. The server applies edits itself (`workspace/applyEdit`, versioned) before it
/// answers, so `applied` hunks are in the buffer when the client gets this.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ReviewDecisionResult {
    /// Hunks whose edit was applied to a buffer or file.
    pub applied: Vec<String>,
    /// Hunks decided with nothing to apply.
    pub decided: Vec<String>,
    pub refused: Vec<ReviewRefusal>,
}

/// `tandem/review/undoTurn` (client → server request): revert everything a turn changed
/// (apply-then-review checkpoint). Refused as a whole if a file was edited under a hunk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ReviewUndoTurnParams {
    pub turn_id: String,
}
