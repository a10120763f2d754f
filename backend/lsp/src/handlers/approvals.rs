//! Asking a person to approve a command (or an escalation, network access, an MCP tool).
//!
//! A client that announced `experimental.tandem.approvalRequest` gets `tandem/approval/request`;
//! any other gets `window/showMessageRequest` with "Allow once", "Allow for session" and
//! "Deny", so every LSP client can approve. Either way the question has a deadline (the
//! `approvalTimeoutSeconds` setting, 120 s by default): past it, the answer is `deny`, the
//! person is told why, and the task goes on. A task never hangs on an unanswered question, and
//! the client is sent `$/cancelRequest` for it, so its prompt goes away instead of waiting for
//! an answer nobody reads.

use crate::convert;
use crate::server::Ext;
use crate::state::Shared;
use std::path::Path;
use std::time::Duration;
use tandem_protocol::events::{ApprovalKind, ApprovalRequest};
use tandem_protocol::items::PatchChangeKind;
use tandem_protocol::policy::ReviewDecision;
use tandem_protocol_ext::approval::{ApprovalFileChange, ApprovalRequestParams};
use tandem_protocol_ext::review::FileChangeKind;
use tower_lsp_server::lsp_types as lsp;
use tower_lsp_server::{Client, jsonrpc};
use tower_service::Service;

const ALLOW_ONCE: &str = "Allow once";
const ALLOW_SESSION: &str = "Allow for session";
const DENY: &str = "Deny";

/// The person's answer, or `Deny` when there was none in time.
pub async fn ask(shared: &Shared, task_id: &str, req: &ApprovalRequest) -> ReviewDecision {
    let (custom, timeout) = {
        let s = shared.lock();
        (s.caps.tandem.approval_request, s.settings.approval_timeout)
    };
    let answer = if custom {
        ask_custom(shared, task_id, req, timeout).await
    } else {
        ask_fallback(shared, task_id, req, timeout).await
    };
    match answer {
        Some(decision) => decision,
        None => {
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

/// Sends a request to the client and waits at most `timeout` for its answer; `None` when the
/// deadline passed, after telling the client with `$/cancelRequest`. (The client's own
/// `send_request` cannot do that: it neither exposes the id nor cancels when dropped.)
async fn request_within<R: lsp::request::Request>(
    client: &Client,
    params: R::Params,
    timeout: Duration,
) -> Option<jsonrpc::Result<R::Result>> {
    let params = match serde_json::to_value(params) {
        Ok(p) => p,
        Err(e) => return Some(Err(jsonrpc::Error::invalid_params(e.to_string()))),
    };
    let id = client.next_request_id();
    let request = jsonrpc::Request::build(R::METHOD)
        .id(id.clone())
        .params(params)
        .finish();
    let mut service = client.clone();
    match tokio::time::timeout(timeout, service.call(request)).await {
        Ok(Ok(Some(response))) => {
            let (_, result) = response.into_parts();
            Some(result.and_then(|v| {
                serde_json::from_value(v).map_err(|e| jsonrpc::Error::invalid_params(e.to_string()))
            }))
        }
        Ok(_) => Some(Err(jsonrpc::Error::internal_error())),
        Err(_) => {
            let id = match id {
                jsonrpc::Id::Number(n) => i32::try_from(n).ok().map(lsp::NumberOrString::Number),
                jsonrpc::Id::String(s) => Some(lsp::NumberOrString::String(s)),
                jsonrpc::Id::Null => None,
            };
            if let Some(id) = id {
                client
                    .send_notification::<lsp::notification::Cancel>(lsp::CancelParams { id })
                    .await;
            }
            None
        }
    }
}

async fn ask_custom(
    shared: &Shared,
    task_id: &str,
    req: &ApprovalRequest,
    timeout: Duration,
) -> Option<ReviewDecision> {
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
    Some(
        match request_within::<Request>(&shared.client, params, timeout).await? {
            Ok(answer) => answer.decision,
            Err(e) => {
                tracing::warn!("tandem/approval/request failed ({}); denied", e.message);
                ReviewDecision::Deny
            }
        },
    )
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

async fn ask_fallback(
    shared: &Shared,
    task_id: &str,
    req: &ApprovalRequest,
    timeout: Duration,
) -> Option<ReviewDecision> {
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
    let params = lsp::ShowMessageRequestParams {
        typ: lsp::MessageType::WARNING,
        message,
        actions: Some(actions),
    };
    let answer =
        request_within::<lsp::request::ShowMessageRequest>(&shared.client, params, timeout).await?;
    Some(match answer {
        Ok(Some(item)) if item.title == ALLOW_ONCE => ReviewDecision::AllowOnce,
        Ok(Some(item)) if item.title == ALLOW_SESSION => ReviewDecision::AllowSession,
        Ok(_) => ReviewDecision::Deny,
        Err(e) => {
            tracing::warn!("window/showMessageRequest failed ({}); denied", e.message);
            ReviewDecision::Deny
        }
    })
}
