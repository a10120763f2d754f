//! Our approvals as `session/request_permission`, and the client's answer as a decision.
//!
//! The options are `allow_once` (Allow once), `allow_always` (Allow for this session: our
//! `AllowSession`, which covers the same command prefix until the session ends) and
//! `reject_once` (Reject: the model is told and the turn goes on). A `cancelled` outcome, sent
//! when the user cancels the turn, stops the turn. Anything else, including an error, is a
//! rejection: approvals fail closed.

use crate::updates::{absolute, edit_title, tandem_meta, text};
use agent_client_protocol::schema::{
    Diff, PermissionOption, PermissionOptionKind, RequestPermissionOutcome,
    RequestPermissionRequest, RequestPermissionResponse, SessionId, ToolCallContent,
    ToolCallLocation, ToolCallStatus, ToolCallUpdate, ToolCallUpdateFields, ToolKind,
};
use serde_json::json;
use std::path::Path;
use tandem_protocol::ReviewDecision;
use tandem_protocol::events::{ApprovalKind, ApprovalRequest};
use tandem_protocol::items::{FileUpdateChange, PatchChangeKind};

pub(crate) const ALLOW_ONCE: &str = "allow_once";
pub(crate) const ALLOW_ALWAYS: &str = "allow_always";
pub(crate) const REJECT_ONCE: &str = "reject_once";

fn kind_name(kind: ApprovalKind) -> &'static str {
    match kind {
        ApprovalKind::Command => "command",
        ApprovalKind::Patch => "patch",
        ApprovalKind::Network => "network",
        ApprovalKind::Escalation => "escalation",
        ApprovalKind::McpTool => "mcp_tool",
    }
}

/// The request for one approval. The tool call is the item waiting on it, with every field a
/// client needs to show it even if it missed the `tool_call` that announced the item.
pub(crate) fn request(
    session_id: &SessionId,
    cwd: &Path,
    approval: &ApprovalRequest,
) -> RequestPermissionRequest {
    let mut fields = ToolCallUpdateFields::new().status(ToolCallStatus::Pending);
    match approval.kind {
        ApprovalKind::Patch => {
            let changes: Vec<FileUpdateChange> = approval
                .changes
                .iter()
                .map(|c| FileUpdateChange {
                    path: c.path.clone(),
                    kind: c.kind,
                })
                .collect();
            fields = fields
                .kind(ToolKind::Edit)
                .title(edit_title(&changes))
                .locations(
                    approval
                        .changes
                        .iter()
                        .map(|c| ToolCallLocation::new(absolute(cwd, &c.path)))
                        .collect::<Vec<_>>(),
                )
                .content(
                    approval
                        .changes
                        .iter()
                        .map(|c| {
                            let new = match c.kind {
                                PatchChangeKind::Delete => String::new(),
                                _ => c.new_content.clone().unwrap_or_default(),
                            };
                            ToolCallContent::Diff(
                                Diff::new(absolute(cwd, &c.path), new)
                                    .old_text(c.old_content.clone()),
                            )
                        })
                        .collect::<Vec<_>>(),
                );
        }
        _ => {
            let title = match (&approval.mcp_call, &approval.command) {
                (Some(call), _) => format!("{}/{}", call.server, call.tool),
                (None, Some(argv)) => argv.join(" "),
                (None, None) => kind_name(approval.kind).to_string(),
            };
            fields = fields
                .kind(match approval.kind {
                    ApprovalKind::McpTool => ToolKind::Other,
                    _ => ToolKind::Execute,
                })
                .title(title);
            if let Some(reason) = &approval.reason {
                fields = fields.content(vec![ToolCallContent::from(text(reason.clone()))]);
            }
        }
    }
    fields = fields.raw_input(match &approval.mcp_call {
        Some(call) => {
            json!({"server": call.server, "tool": call.tool, "arguments": call.arguments})
        }
        None => {
            json!({"command": approval.command, "cwd": approval.cwd, "reason": approval.reason})
        }
    });
    let tool_call =
        ToolCallUpdate::new(approval.item_id.clone(), fields).meta(tandem_meta(json!({
            "itemId": approval.item_id,
            "approvalId": approval.id,
            "kind": kind_name(approval.kind),
        })));
    RequestPermissionRequest::new(
        session_id.clone(),
        tool_call,
        vec![
            PermissionOption::new(ALLOW_ONCE, "Allow once", PermissionOptionKind::AllowOnce),
            PermissionOption::new(
                ALLOW_ALWAYS,
                "Allow for this session",
                PermissionOptionKind::AllowAlways,
            ),
            PermissionOption::new(REJECT_ONCE, "Reject", PermissionOptionKind::RejectOnce),
        ],
    )
    .meta(tandem_meta(json!({"approvalId": approval.id})))
}

/// The decision in the client's answer; `Err` (no answer) is a rejection.
pub(crate) fn decision<E>(answer: Result<RequestPermissionResponse, E>) -> ReviewDecision {
    match answer {
        Ok(response) => match response.outcome {
            RequestPermissionOutcome::Selected(selected) => match &*selected.option_id.0 {
                ALLOW_ONCE => ReviewDecision::AllowOnce,
                ALLOW_ALWAYS => ReviewDecision::AllowSession,
                _ => ReviewDecision::Deny,
            },
            RequestPermissionOutcome::Cancelled => ReviewDecision::Cancel,
            _ => ReviewDecision::Deny,
        },
        Err(_) => ReviewDecision::Deny,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_client_protocol::schema::SelectedPermissionOutcome;
    use serde_json::Value;

    // Built from JSON, so additive changes to the protocol do not break these tests.
    fn command() -> ApprovalRequest {
        serde_json::from_value(json!({
            "id": "approval_1", "item_id": "item_4", "kind": "escalation",
            "command": ["touch", "x"], "cwd": "/w", "reason": "needs to write outside"
        }))
        .unwrap()
    }

    #[test]
    fn commands_ask_with_three_options() {
        let r = request(&SessionId::new("s1"), Path::new("/w"), &command());
        let v: Value = serde_json::to_value(&r).unwrap();
        assert_eq!(v["sessionId"], "s1");
        assert_eq!(v["toolCall"]["toolCallId"], "item_4");
        assert_eq!(v["toolCall"]["title"], "touch x");
        assert_eq!(v["toolCall"]["kind"], "execute");
        assert_eq!(v["toolCall"]["_meta"]["tandem"]["approvalId"], "approval_1");
        let kinds: Vec<&str> = v["options"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["allow_once", "allow_always", "reject_once"]);
    }

    #[test]
    fn mcp_tools_ask_with_the_server_and_the_tool() {
        let approval: ApprovalRequest = serde_json::from_value(json!({
            "id": "approval_2", "item_id": "item_5", "kind": "mcp_tool",
            "mcp_call": {"server": "docs", "tool": "search", "arguments": {"q": "x"}}
        }))
        .unwrap();
        let v = serde_json::to_value(request(&SessionId::new("s"), Path::new("/w"), &approval))
            .unwrap();
        assert_eq!(v["toolCall"]["title"], "docs/search");
        assert_eq!(v["toolCall"]["kind"], "other");
        assert_eq!(v["toolCall"]["rawInput"]["arguments"]["q"], "x");
    }

    #[test]
    fn patches_ask_with_diffs() {
        let approval: ApprovalRequest = serde_json::from_value(json!({
            "id": "approval_1", "item_id": "item_4", "kind": "patch", "cwd": "/w",
            "changes": [{"path": "a.txt", "kind": "update", "old_content": "a\n",
                         "new_content": "b\n", "unified_diff": "-a\n+b\n"}]
        }))
        .unwrap();
        let v = serde_json::to_value(request(&SessionId::new("s"), Path::new("/w"), &approval))
            .unwrap();
        let diff = &v["toolCall"]["content"][0];
        assert_eq!(diff["type"], "diff");
        assert_eq!(diff["path"], "/w/a.txt");
        assert_eq!(diff["oldText"], "a\n");
        assert_eq!(diff["newText"], "b\n");
        assert_eq!(v["toolCall"]["kind"], "edit");
    }

    #[test]
    fn answers_map_and_fail_closed() {
        let selected = |id: &str| {
            Ok::<_, ()>(RequestPermissionResponse::new(
                RequestPermissionOutcome::Selected(SelectedPermissionOutcome::new(id.to_string())),
            ))
        };
        assert_eq!(decision(selected(ALLOW_ONCE)), ReviewDecision::AllowOnce);
        assert_eq!(
            decision(selected(ALLOW_ALWAYS)),
            ReviewDecision::AllowSession
        );
        assert_eq!(decision(selected(REJECT_ONCE)), ReviewDecision::Deny);
        assert_eq!(decision(selected("made-up")), ReviewDecision::Deny);
        assert_eq!(
            decision(Ok::<_, ()>(RequestPermissionResponse::new(
                RequestPermissionOutcome::Cancelled
            ))),
            ReviewDecision::Cancel
        );
        assert_eq!(decision::<()>(Err(())), ReviewDecision::Deny);
    }
}
