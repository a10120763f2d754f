//! What shells submit to the kernel.

use crate::policy::{ApprovalPolicy, ReviewDecision, SandboxMode};
use serde::{Deserialize, Serialize};

/// A submission to the kernel. Each is answered only through events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Op {
    /// Start a turn with the user's input. A turn already running is not interrupted: the input
    /// waits until it ends, so a shell never loses what a user typed.
    UserTurn {
        input: Vec<UserInput>,
        #[serde(default)]
        overrides: TurnOverrides,
    },
    /// Stop the running turn as soon as possible. Running commands are killed, pending approvals
    /// are cancelled, and the history is left valid (missing tool outputs become "aborted").
    Interrupt,
    /// Answer an `approval_request` event.
    Approval {
        id: String,
        decision: ReviewDecision,
    },
    /// Answer a `patch` approval that the shell resolved itself, hunk by hunk (an editor's
    /// inline review): the shell wrote what was accepted into the buffers, so the kernel
    /// writes nothing and tells the model exactly what happened.
    ResolvePatch { id: String, outcome: PatchOutcome },
    /// Summarise older history now, rather than waiting for the context window to fill.
    Compact,
    /// End the session: flush the record and emit `shutdown_complete`.
    Shutdown,
}

/// How a shell resolved a proposed patch, hunk by hunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatchOutcome {
    /// True when at least one hunk was accepted and written.
    pub applied: bool,
    /// What the model is told, verbatim: which hunks of which files were accepted or rejected.
    pub report: String,
    /// Files (relative to the cwd, as in the proposal) that now hold accepted changes.
    #[serde(default)]
    pub files: Vec<String>,
}

/// One part of a user's input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UserInput {
    /// What the user typed.
    Text { text: String },
    /// Context a shell attached (open files, selection, diagnostics). `label` says where it came
    /// from, so the model can weigh it and the record shows it.
    Context { label: String, text: String },
}

/// Per-turn overrides of the session's settings. `None` keeps the session's value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TurnOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox_mode: Option<SandboxMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_policy: Option<ApprovalPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}
