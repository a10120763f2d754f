//! What the kernel emits, and its projection onto the `codex exec --json` event stream.
//!
//! [`Event`] is the kernel's full vocabulary (deltas, approvals, token counts, ...).
//! [`ThreadEvent`] is the stable, line-per-event JSON that `tandem exec --json` prints and that
//! the LSP server forwards as `tandem/task/event`. The projection lives here, in one place, so
//! every shell shows the same thing.

use crate::items::{PatchChangeKind, PlanStep, ThreadItem, TokenUsage};
use crate::policy::{ApprovalPolicy, SandboxMode};
use serde::{Deserialize, Serialize};

/// One event from the kernel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The turn this event belongs to, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn_id: Option<String>,
    pub msg: EventMsg,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventMsg {
    /// The first event of every session.
    SessionConfigured(SessionConfigured),
    TurnStarted,
    ItemStarted {
        item: ThreadItem,
    },
    ItemUpdated {
        item: ThreadItem,
    },
    ItemCompleted {
        item: ThreadItem,
    },
    AgentMessageDelta {
        item_id: String,
        delta: String,
    },
    ReasoningDelta {
        item_id: String,
        delta: String,
    },
    CommandOutputDelta {
        item_id: String,
        chunk: String,
    },
    /// The plan as the model last stated it (also carried by a `todo_list` item).
    PlanUpdated {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        explanation: Option<String>,
        plan: Vec<PlanStep>,
    },
    /// The kernel waits for `Op::Approval { id, .. }` before it goes on with this item.
    ApprovalRequest(ApprovalRequest),
    /// A patch was written to disk (after any approval): both sides of every file, so a shell
    /// can offer per-hunk review (and revert) of what was applied.
    PatchApplied {
        item_id: String,
        changes: Vec<ProposedFileChange>,
    },
    /// An MCP server changed state (starting, ready, failed, exited, restarting).
    McpServerUpdate {
        server: String,
        status: McpServerState,
        /// One line for people: what happened and, for failures, what to fix.
        message: String,
    },
    /// Usage after each model call: this turn's and the session's totals.
    TokenCount {
        turn: TokenUsage,
        session: TokenUsage,
    },
    /// Older history was replaced by a handoff note.
    ContextCompacted {
        replaced_items: usize,
        note_chars: usize,
    },
    Warning {
        message: String,
    },
    TurnCompleted {
        usage: TokenUsage,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        last_agent_message: Option<String>,
    },
    TurnFailed {
        error: ErrorInfo,
    },
    /// The turn was interrupted; its history was closed cleanly.
    TurnAborted {
        reason: String,
    },
    /// A session-level error outside any turn.
    Error {
        message: String,
    },
    ShutdownComplete,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionConfigured {
    pub session_id: String,
    pub model: String,
    pub model_provider: String,
    pub cwd: String,
    pub sandbox_mode: SandboxMode,
    pub approval_policy: ApprovalPolicy,
    /// Instruction files loaded into the context, in order (global first, nearest last).
    pub instruction_files: Vec<String>,
    /// Instruction files cut short or dropped to fit `project_doc_max_bytes`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub truncated_instruction_files: Vec<String>,
    /// Where the session is recorded.
    pub rollout_path: String,
    /// True when this session continues a recorded one.
    pub resumed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum McpServerState {
    Starting,
    Ready,
    Failed,
    Exited,
    Restarting,
}

/// Why a turn failed: the message is for people, the code for programs (a shell that maps
/// failures onto its own protocol's reasons should never match message text).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorInfo {
    pub message: String,
    /// Absent in `codex exec --json` streams that predate it, and for failures with no
    /// better description than the message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<TurnErrorCode>,
}

impl ErrorInfo {
    pub fn new(message: impl Into<String>, code: TurnErrorCode) -> Self {
        ErrorInfo {
            message: message.into(),
            code: Some(code),
        }
    }
}

/// The kinds of turn failure a program can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnErrorCode {
    /// The turn used up `max_tool_rounds` model round trips without a final answer.
    MaxToolRounds,
    /// The provider needs an API key and none is set.
    MissingApiKey,
    /// No HTTP response at all (connection refused, DNS, TLS, connect timeout).
    ModelUnreachable,
    /// HTTP 401 or 403: the key is wrong or lacks access.
    Unauthorized,
    /// Another 4xx the provider will not change its mind about (bad model name, bad request).
    BadRequest,
    /// 429s persisted through every retry.
    RateLimited,
    /// 5xx (or another retryable status) persisted through every retry.
    ServerError,
    /// The stream went silent or closed early, and retrying did not help.
    StreamInterrupted,
    /// The conversation does not fit the model's window, even after compaction.
    ContextWindowExceeded,
    /// The provider reported a failure inside the stream (`response.failed`, an error event).
    ProviderError,
    /// The provider sent something that could not be decoded.
    BadResponse,
}

/// A question for a person. Exactly one `Op::Approval` answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    /// Unique within the session.
    pub id: String,
    /// The item that waits on this answer.
    pub item_id: String,
    pub kind: ApprovalKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// Why the agent wants this, or why the policy asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For `patch`: what would be written, file by file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<ProposedFileChange>,
    /// For `mcp_tool`: the server, the tool and the arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mcp_call: Option<McpCallDetails>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpCallDetails {
    pub server: String,
    pub tool: String,
    pub arguments: serde_json::Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalKind {
    Command,
    Patch,
    Network,
    Escalation,
    McpTool,
}

/// One file of a proposed patch, with both sides so a shell can show hunks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProposedFileChange {
    pub path: String,
    pub kind: PatchChangeKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub move_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_content: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_content: Option<String>,
    pub unified_diff: String,
}

/// The `codex exec --json` compatible stream: one of these per line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum ThreadEvent {
    #[serde(rename = "thread.started")]
    ThreadStarted {
        thread_id: String,
        /// Tandem addition: the instruction files (AGENTS.md) that were loaded, in order.
        #[serde(default)]
        instruction_files: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        truncated_instruction_files: Vec<String>,
    },
    #[serde(rename = "turn.started")]
    TurnStarted,
    #[serde(rename = "item.started")]
    ItemStarted { item: ThreadItem },
    #[serde(rename = "item.updated")]
    ItemUpdated { item: ThreadItem },
    #[serde(rename = "item.completed")]
    ItemCompleted { item: ThreadItem },
    #[serde(rename = "turn.completed")]
    TurnCompleted { usage: TokenUsage },
    #[serde(rename = "turn.failed")]
    TurnFailed { error: ErrorInfo },
    #[serde(rename = "error")]
    Error { message: String },
}

impl ThreadEvent {
    /// The stable projection of a kernel event; `None` for events the stream does not carry
    /// (deltas, token counts, approvals, ...).
    pub fn from_event(event: &Event) -> Option<ThreadEvent> {
        Some(match &event.msg {
            EventMsg::SessionConfigured(c) => ThreadEvent::ThreadStarted {
                thread_id: c.session_id.clone(),
                instruction_files: c.instruction_files.clone(),
                truncated_instruction_files: c.truncated_instruction_files.clone(),
            },
            EventMsg::TurnStarted => ThreadEvent::TurnStarted,
            EventMsg::ItemStarted { item } => ThreadEvent::ItemStarted { item: item.clone() },
            EventMsg::ItemUpdated { item } => ThreadEvent::ItemUpdated { item: item.clone() },
            EventMsg::ItemCompleted { item } => ThreadEvent::ItemCompleted { item: item.clone() },
            EventMsg::TurnCompleted { usage, .. } => ThreadEvent::TurnCompleted { usage: *usage },
            EventMsg::TurnFailed { error } => ThreadEvent::TurnFailed {
                error: error.clone(),
            },
            EventMsg::TurnAborted { reason } => ThreadEvent::TurnFailed {
                error: ErrorInfo {
                    message: format!("turn interrupted: {reason}"),
                    code: None,
                },
            },
            EventMsg::Error { message } => ThreadEvent::Error {
                message: message.clone(),
            },
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thread_events_have_the_codex_tags() {
        let started = ThreadEvent::ThreadStarted {
            thread_id: "t1".into(),
            instruction_files: vec!["/r/AGENTS.md".into()],
            truncated_instruction_files: vec![],
        };
        assert_eq!(
            serde_json::to_value(&started).unwrap(),
            json!({"type": "thread.started", "thread_id": "t1", "instruction_files": ["/r/AGENTS.md"]})
        );
        let done = ThreadEvent::TurnCompleted {
            usage: TokenUsage {
                input_tokens: 3,
                cached_input_tokens: 1,
                output_tokens: 2,
                reasoning_output_tokens: 0,
            },
        };
        assert_eq!(
            serde_json::to_value(&done).unwrap()["type"],
            "turn.completed"
        );
        assert_eq!(
            serde_json::to_value(&done).unwrap()["usage"]["output_tokens"],
            2
        );
    }

    #[test]
    fn deltas_are_not_part_of_the_stable_stream() {
        let e = Event {
            turn_id: None,
            msg: EventMsg::AgentMessageDelta {
                item_id: "i".into(),
                delta: "x".into(),
            },
        };
        assert_eq!(ThreadEvent::from_event(&e), None);
    }
}
