//! Tasks: an agent session working on a prompt. Several may run at once per workspace.

use crate::wire;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tandem_protocol::events::ThreadEvent;
use tandem_protocol::policy::{ApprovalPolicy, SandboxMode};
use ts_rs::TS;

/// `tandem/task/start` (client → server request).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct TaskStartParams {
    pub prompt: String,
    /// Defaults to the configured mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, as = "Option<wire::SandboxModeWire>")]
    #[schemars(with = "Option<wire::SandboxModeWire>")]
    pub sandbox_mode: Option<SandboxMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, as = "Option<wire::ApprovalPolicyWire>")]
    #[schemars(with = "Option<wire::ApprovalPolicyWire>")]
    pub approval_policy: Option<ApprovalPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub model: Option<String>,
}

/// The new task's id; its events follow as `tandem/task/event`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct TaskStartResult {
    pub task_id: String,
}

/// A streaming delta. Not part of the `exec --json` stream, so it has its own `type`s, in the
/// same style (dotted, snake_case fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(tag = "type")]
#[ts(tag = "type")]
pub enum TaskDelta {
    #[serde(rename = "item.agent_message.delta")]
    #[ts(rename = "item.agent_message.delta")]
    AgentMessage { item_id: String, delta: String },
    #[serde(rename = "item.reasoning.delta")]
    #[ts(rename = "item.reasoning.delta")]
    Reasoning { item_id: String, delta: String },
    #[serde(rename = "item.command_output.delta")]
    #[ts(rename = "item.command_output.delta")]
    CommandOutput { item_id: String, chunk: String },
}

/// One event of a task: exactly a `tandem exec --json` line, or a delta.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(untagged)]
#[ts(untagged)]
pub enum TaskEvent {
    Thread(
        #[ts(as = "wire::ThreadEventWire")]
        #[schemars(with = "wire::ThreadEventWire")]
        ThreadEvent,
    ),
    Delta(TaskDelta),
}

/// `tandem/task/event` (server → client notification).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct TaskEventParams {
    pub task_id: String,
    pub event: TaskEvent,
}

/// `tandem/task/cancel` (client → server request). Interrupts the running turn; the task ends
/// with `turn.failed` ("turn interrupted") and its history stays valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct TaskCancelParams {
    pub task_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub enum TaskStatus {
    Running,
    WaitingForApproval,
    WaitingForReview,
    Completed,
    Failed,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct TaskInfo {
    pub task_id: String,
    /// The recorded session, for `tandem/task/resume`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub thread_id: Option<String>,
    pub prompt: String,
    pub status: TaskStatus,
    /// Unix seconds.
    pub started_at: i64,
}

/// `tandem/task/list` result: the tasks of this connection, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct TaskListResult {
    pub tasks: Vec<TaskInfo>,
}

/// `tandem/task/resume` (client → server request): continue a recorded session, optionally
/// with a new prompt. Returns a new task id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct TaskResumeParams {
    pub thread_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub prompt: Option<String>,
}
