//! Asking a person to approve a command (or an escalation, network access, an MCP tool).
//!
//! A client that announced `experimental.tandem.approvalRequest` gets `tandem/approval/request`;
//! any other gets `window/showMessageRequest` with "Allow once", "Allow for session" and
//! "Deny", so every LSP client can approve. Either way the question has a deadline (the
//! `approvalTimeoutSeconds` setting, 120 s by default): past it, the answer is `deny`, the
//! person is told why, and the task goes on. A task never hangs on an unanswered question.

use crate::convert;
use crate::server::Ext;
use crate::state::Shared;
use std::path::Path;
use tandem_protocol::events::{ApprovalKind, ApprovalRequest};
use tandem_protocol::items::PatchChangeKind;
use tandem_protocol::policy::ReviewDecision;
use tandem_protocol_ext::approval::{ApprovalFileChange, ApprovalRequestParams};
use tandem_protocol_ext::review::FileChangeKind;
use tower_lsp_server::lsp_types as lsp;

const ALLOW_ONCE: &str = "Allow once";
const ALLOW_SESSION: &str = "Allow for session";
const DENY: &str = "Deny";

/// The person's answer, or `Deny` when there was none in time.
pub async fn ask(shared: &Shared, task_id: &str, req: &ApprovalRequest) -> ReviewDecision {
    let (custom, timeout) = {
        let s = shared.lock();
        (s.caps.tandem.approval_request, s.settings.approval_timeout)
    };
    let asked = async {
        if custom {
            ask_custom(shared, task_id, req).await
        } else {
            ask_fallback(shared, task_id, req).await
        }
    };
    match tokio::time::timeout(timeout, asked).await {
        Ok(decision) => decision,
        Err(_) => {
            let message = format!(
                "Tandem ({task_id}): nobody answered the approval for {} within {} s, so it was \
                 denied; the task goes on without it.",
                what(req),
                timeout.as_secs_f64()
            );
            tracing::warn!("{message}");
            shared
                .client
                .show_message(lsp::MessageType::WARNING, message)
                .await;
            ReviewDecision::Deny
        }
    }
}

async fn ask_custom(shared: &Shared, task_id: &str, req: &ApprovalRequest) -> ReviewDecision {
    let cwd = req.cwd.as_deref().map(Path::new);
    let params = ApprovalRequestParams {
        task_id: task_id.to_string(),
        item_id: req.item_id.clone(),
        approval_id: req.id.clone(),
        kind: req.kind,
        command: req.command.clone(),
        cwd: req.cwd.clone(),
        reason: req.reason.clone(),
        changes: req
            .changes
            .iter()
            .map(|c| ApprovalFileChange {
                uri: convert::path_to_uri(
                    &cwd.map_or_else(|| c.path.clone().into(), |d| d.join(&c.path)),
                ),
                kind: match (c.kind, &c.move_path) {
                    (PatchChangeKind::Add, _) => FileChangeKind::Add,
                    (PatchChangeKind::Delete, _) => FileChangeKind::Delete,
                    (PatchChangeKind::Update, Some(_)) => FileChangeKind::Move,
                    (PatchChangeKind::Update, None) => FileChangeKind::Update,
                },
            })
            .collect(),
        options: vec![
            ReviewDecision::AllowOnce,
            ReviewDecision::AllowSession,
            ReviewDecision::Deny,
            ReviewDecision::Cancel,
        ],
    };
    type Request = Ext<tandem_protocol_ext::ApprovalRequest>;
    match shared.client.send_request::<Request>(params).await {
        Ok(answer) => answer.decision,
        Err(e) => {
            tracing::warn!("tandem/approval/request failed ({}); denied", e.message);
            ReviewDecision::Deny
        }
    }
}

/// A one-line description for people: the command, or what kind of access.
fn what(req: &ApprovalRequest) -> String {
    let command = req.command.as_ref().map(|c| format!("`{}`", c.join(" ")));
    match req.kind {
        ApprovalKind::Command => command.unwrap_or_else(|| "a command".into()),
        ApprovalKind::Escalation => format!(
            "{} outside the sandbox",
            command.unwrap_or_else(|| "a command".into())
        ),
        ApprovalKind::Network => "network access".into(),
        ApprovalKind::Patch => "a file change".into(),
        ApprovalKind::McpTool => match &req.mcp_call {
            Some(c) => format!("the MCP tool `{}` of `{}`", c.tool, c.server),
            None => "an MCP tool".into(),
        },
    }
}

async fn ask_fallback(shared: &Shared, task_id: &str, req: &ApprovalRequest) -> ReviewDecision {
    let mut message = format!("Tandem ({task_id}) asks to run {}", what(req));
    if let Some(cwd) = &req.cwd {
        message.push_str(&format!(" in {cwd}"));
    }
    if let Some(reason) = &req.reason {
        message.push_str(&format!(": {reason}"));
    }
    let actions = [ALLOW_ONCE, ALLOW_SESSION, DENY]
        .into_iter()
        .map(|title| lsp::MessageActionItem {
            title: title.into(),
            properties: Default::default(),
        })
        .collect();
    let answer = shared
        .client
        .show_message_request(lsp::MessageType::WARNING, message, Some(actions))
        .await;
    match answer {
        Ok(Some(item)) if item.title == ALLOW_ONCE => ReviewDecision::AllowOnce,
        Ok(Some(item)) if item.title == ALLOW_SESSION => ReviewDecision::AllowSession,
        Ok(_) => ReviewDecision::Deny,
        Err(e) => {
            tracing::warn!("window/showMessageRequest failed ({}); denied", e.message);
            ReviewDecision::Deny
        }
    }
}
