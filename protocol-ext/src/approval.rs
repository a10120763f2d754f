//! Approvals: the server asks the person before a command, a patch, network access or an
//! escalation out of the sandbox.

use crate::wire;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tandem_protocol::events::ApprovalKind;
use tandem_protocol::policy::ReviewDecision;
use ts_rs::TS;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ApprovalFileChange {
    pub uri: String,
    pub kind: crate::review::FileChangeKind,
}

/// `tandem/approval/request` (server → client request). Sent only to clients that announced
/// `experimental.tandem.approvalRequest`; others get `window/showMessageRequest`. Unanswered
/// requests time out as `deny`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ApprovalRequestParams {
    pub task_id: String,
    pub item_id: String,
    /// Unique within the task.
    pub approval_id: String,
    #[ts(as = "wire::ApprovalKindWire")]
    #[schemars(with = "wire::ApprovalKindWire")]
    pub kind: ApprovalKind,
    /// argv of the command, for `command` and `escalation`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub cwd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub reason: Option<String>,
    /// For `patch`: the files; their hunks are in `tandem/review/list`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(optional, as = "Option<Vec<ApprovalFileChange>>")]
    pub changes: Vec<ApprovalFileChange>,
    /// The decisions to offer, in order.
    #[ts(as = "Vec<wire::ReviewDecisionWire>")]
    #[schemars(with = "Vec<wire::ReviewDecisionWire>")]
    pub options: Vec<ReviewDecision>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ApprovalRequestResult {
    #[ts(as = "wire::ReviewDecisionWire")]
    #[schemars(with = "wire::ReviewDecisionWire")]
    pub decision: ReviewDecision,
}
