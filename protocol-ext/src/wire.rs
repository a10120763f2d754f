//! Schema twins of the `tandem-protocol` types that travel inside our methods.
//!
//! The Rust fields use the real types (so the server serialises exactly what `tandem exec
//! --json` prints); these twins only describe them to ts-rs and schemars, which the kernel's
//! crate deliberately does not depend on. `tests/twins.rs` round-trips real values through
//! every twin, so a field added to the real type and not here fails a test.

#![allow(dead_code)]

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `thread.started`, `turn.started`, `item.*`, `turn.completed`, `turn.failed` and `error`:
/// the `tandem exec --json` event stream, field for field (snake_case, as there).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(tag = "type")]
#[ts(rename = "ThreadEvent")]
#[schemars(rename = "ThreadEvent")]
pub enum ThreadEventWire {
    #[serde(rename = "thread.started")]
    ThreadStarted {
        thread_id: String,
        #[serde(default)]
        instruction_files: Vec<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        #[ts(optional, as = "Option<Vec<String>>")]
        truncated_instruction_files: Vec<String>,
    },
    #[serde(rename = "turn.started")]
    TurnStarted,
    #[serde(rename = "item.started")]
    ItemStarted { item: ThreadItemWire },
    #[serde(rename = "item.updated")]
    ItemUpdated { item: ThreadItemWire },
    #[serde(rename = "item.completed")]
    ItemCompleted { item: ThreadItemWire },
    #[serde(rename = "turn.completed")]
    TurnCompleted { usage: TokenUsageWire },
    #[serde(rename = "turn.failed")]
    TurnFailed { error: ErrorInfoWire },
    #[serde(rename = "error")]
    Error { message: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
#[ts(rename = "ThreadItem")]
#[schemars(rename = "ThreadItem")]
pub struct ThreadItemWire {
    /// Stable within a session: `item_0`, `item_1`, ...
    pub id: String,
    #[serde(flatten)]
    pub details: ItemDetailsWire,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(rename = "ItemDetails")]
#[schemars(rename = "ItemDetails")]
pub enum ItemDetailsWire {
    AgentMessage {
        text: String,
    },
    Reasoning {
        text: String,
    },
    CommandExecution {
        command: String,
        aggregated_output: String,
        exit_code: Option<i32>,
        status: ItemStatusWire,
    },
    FileChange {
        changes: Vec<FileUpdateChangeWire>,
        status: ItemStatusWire,
    },
    McpToolCall {
        server: String,
        tool: String,
        #[serde(default)]
        arguments: serde_json::Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        result: Option<serde_json::Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        error: Option<String>,
        status: ItemStatusWire,
    },
    TodoList {
        items: Vec<TodoItemWire>,
    },
    Error {
        message: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "ItemStatus")]
#[schemars(rename = "ItemStatus")]
pub enum ItemStatusWire {
    InProgress,
    Completed,
    Failed,
    Declined,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[ts(rename = "FileUpdateChange")]
#[schemars(rename = "FileUpdateChange")]
pub struct FileUpdateChangeWire {
    pub path: String,
    pub kind: PatchChangeKindWire,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "PatchChangeKind")]
#[schemars(rename = "PatchChangeKind")]
pub enum PatchChangeKindWire {
    Add,
    Delete,
    Update,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[ts(rename = "TodoItem")]
#[schemars(rename = "TodoItem")]
pub struct TodoItemWire {
    pub text: String,
    pub completed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[ts(rename = "TokenUsage")]
#[schemars(rename = "TokenUsage")]
pub struct TokenUsageWire {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    #[serde(default)]
    pub reasoning_output_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[ts(rename = "ErrorInfo")]
#[schemars(rename = "ErrorInfo")]
pub struct ErrorInfoWire {
    pub message: String,
    /// What kind of failure, for programs; absent when only the message says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub code: Option<TurnErrorCodeWire>,
}

/// Why a turn failed (the kernel's `TurnErrorCode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "TurnErrorCode")]
#[schemars(rename = "TurnErrorCode")]
pub enum TurnErrorCodeWire {
    MaxToolRounds,
    MissingApiKey,
    ModelUnreachable,
    Unauthorized,
    BadRequest,
    RateLimited,
    ServerError,
    StreamInterrupted,
    ContextWindowExceeded,
    ProviderError,
    BadResponse,
}

/// What the operating system lets a command touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[ts(rename = "SandboxMode")]
#[schemars(rename = "SandboxMode")]
pub enum SandboxModeWire {
    ReadOnly,
    WorkspaceWrite,
    DangerFullAccess,
}

/// When a person is asked before the agent acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[ts(rename = "ApprovalPolicy")]
#[schemars(rename = "ApprovalPolicy")]
pub enum ApprovalPolicyWire {
    Untrusted,
    OnRequest,
    Never,
}

/// A person's answer to an approval request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "ReviewDecision")]
#[schemars(rename = "ReviewDecision")]
pub enum ReviewDecisionWire {
    AllowOnce,
    AllowSession,
    Deny,
    Cancel,
}

/// What an approval is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[ts(rename = "ApprovalKind")]
#[schemars(rename = "ApprovalKind")]
pub enum ApprovalKindWire {
    Command,
    Patch,
    Network,
    Escalation,
    McpTool,
}
