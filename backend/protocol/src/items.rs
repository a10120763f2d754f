//! Items: the units a turn is made of (a message, a command, a file change, ...).
//!
//! Each item has a stable id, is announced with `item.started`, may be updated, and is closed by
//! `item.completed`, whose copy is authoritative. The JSON shape follows `codex exec --json`
//! (`type` tag, snake_case), so existing tooling can read our output unchanged.

use serde::{Deserialize, Serialize};

/// One item of a turn, as shells see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThreadItem {
    /// Stable within a session: `item_0`, `item_1`, ...
    pub id: String,
    #[serde(flatten)]
    pub details: ItemDetails,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemDetails {
    /// Text the model addressed to the user.
    AgentMessage { text: String },
    /// A summary of the model's reasoning, when the provider sends one.
    Reasoning { text: String },
    /// A command the agent ran (or asked to run).
    CommandExecution {
        /// The command as one shell-quoted string, for display.
        command: String,
        /// stdout and stderr, interleaved in arrival order, capped.
        aggregated_output: String,
        exit_code: Option<i32>,
        status: ItemStatus,
    },
    /// A set of file changes made by one `apply_patch` call.
    FileChange {
        changes: Vec<FileUpdateChange>,
        status: ItemStatus,
    },
    /// A call to a tool of an MCP server.
    McpToolCall {
        server: String,
        tool: String,
        #[serde(default)]
        arguments: serde_json::Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<serde_json::Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<String>,
        status: ItemStatus,
    },
    /// The agent's plan, as a checklist (`update_plan`).
    TodoList { items: Vec<TodoItem> },
    /// A non-fatal error that belongs to the turn's transcript.
    Error { message: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemStatus {
    InProgress,
    Completed,
    Failed,
    /// A person (or the policy) declined it; it never ran.
    Declined,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileUpdateChange {
    pub path: String,
    pub kind: PatchChangeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PatchChangeKind {
    Add,
    Delete,
    Update,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodoItem {
    pub text: String,
    pub completed: bool,
}

/// Token usage, summed over the model calls of a turn.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenUsage {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    #[serde(default)]
    pub reasoning_output_tokens: u64,
}

impl TokenUsage {
    pub fn add(&mut self, other: &TokenUsage) {
        self.input_tokens += other.input_tokens;
        self.cached_input_tokens += other.cached_input_tokens;
        self.output_tokens += other.output_tokens;
        self.reasoning_output_tokens += other.reasoning_output_tokens;
    }

    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}

/// Plan step status as `update_plan` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pending,
    InProgress,
    Completed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStep {
    pub step: String,
    pub status: StepStatus,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn command_item_has_the_codex_shape() {
        let item = ThreadItem {
            id: "item_1".into(),
            details: ItemDetails::CommandExecution {
                command: "bash -lc ls".into(),
                aggregated_output: String::new(),
                exit_code: None,
                status: ItemStatus::InProgress,
            },
        };
        assert_eq!(
            serde_json::to_value(&item).unwrap(),
            json!({"id": "item_1", "type": "command_execution", "command": "bash -lc ls",
                   "aggregated_output": "", "exit_code": null, "status": "in_progress"})
        );
    }

    #[test]
    fn file_change_item_has_the_codex_shape() {
        let item = ThreadItem {
            id: "item_2".into(),
            details: ItemDetails::FileChange {
                changes: vec![FileUpdateChange {
                    path: "a.txt".into(),
                    kind: PatchChangeKind::Add,
                }],
                status: ItemStatus::Completed,
            },
        };
        let back: ThreadItem =
            serde_json::from_value(serde_json::to_value(&item).unwrap()).unwrap();
        assert_eq!(back, item);
        assert_eq!(
            serde_json::to_value(&item).unwrap()["changes"][0],
            json!({"path": "a.txt", "kind": "add"})
        );
    }
}
