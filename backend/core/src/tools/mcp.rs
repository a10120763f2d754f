//! MCP tools: calls to tools of the configured MCP servers, through the same approval policy
//! as commands.
//!
//! MCP servers run outside the sandbox (they are the user's own programs), so the sandbox
//! cannot contain what a call does. The policy is therefore applied per call: `untrusted` asks
//! for every call; `on-request` asks unless the server marks the tool read-only; `never` never
//! asks. A server's `approval_policy` in config.toml overrides the session's for its tools.

use crate::truncate::head_tail;
use crate::turn::{ToolOutcome, TurnContext};
use tandem_mcp::McpTool;
use tandem_protocol::events::{ApprovalKind, ApprovalRequest, EventMsg, McpCallDetails};
use tandem_protocol::items::{ItemDetails, ItemStatus, ThreadItem};
use tandem_protocol::{ApprovalPolicy, ReviewDecision};

/// Whether a call to `tool` needs a person's approval first.
pub fn needs_approval(policy: ApprovalPolicy, tool: &McpTool) -> bool {
    match policy {
        ApprovalPolicy::Untrusted => true,
        ApprovalPolicy::OnRequest => tool.read_only_hint != Some(true),
        ApprovalPolicy::Never => false,
    }
}

pub async fn handle(ctx: &TurnContext, tool: McpTool, arguments: &str) -> ToolOutcome {
    let item_id = ctx.session.next_item_id();
    let args: serde_json::Value = match serde_json::from_str(if arguments.trim().is_empty() {
        "{}"
    } else {
        arguments
    }) {
        Ok(v) => v,
        Err(e) => {
            let message = format!(
                "failed to parse the arguments of `{}`: {e}",
                tool.qualified_name
            );
            ctx.emit(EventMsg::ItemCompleted {
                item: item(
                    &item_id,
                    &tool,
                    serde_json::Value::Null,
                    None,
                    Some(message.clone()),
                    ItemStatus::Failed,
                ),
            });
            return ToolOutcome::Output(message);
        }
    };
    ctx.emit(EventMsg::ItemStarted {
        item: item(
            &item_id,
            &tool,
            args.clone(),
            None,
            None,
            ItemStatus::InProgress,
        ),
    });
    let Some(mcp) = ctx.session.mcp.as_ref() else {
        return ToolOutcome::Output("MCP is not available in this session".into());
    };
    let policy = mcp
        .server_config(&tool.server)
        .and_then(|c| c.approval_policy)
        .unwrap_or(ctx.approval);
    let approved = ctx.session.state().is_prefix_approved(&session_key(&tool));
    if needs_approval(policy, &tool) && !approved {
        let request = ApprovalRequest {
            id: String::new(),
            item_id: item_id.clone(),
            kind: ApprovalKind::McpTool,
            command: None,
            cwd: None,
            reason: Some(format!(
                "call the tool `{}` of the MCP server `{}` (MCP servers run outside the sandbox)",
                tool.tool, tool.server
            )),
            changes: Vec::new(),
            mcp_call: Some(McpCallDetails {
                server: tool.server.clone(),
                tool: tool.tool.clone(),
                arguments: args.clone(),
            }),
        };
        match ctx
            .session
            .request_approval(&ctx.turn_id, request, &ctx.cancel)
            .await
        {
            ReviewDecision::AllowOnce => {}
            ReviewDecision::AllowSession => ctx
                .session
                .state()
                .approved_prefixes
                .push(session_key(&tool)),
            ReviewDecision::Deny => {
                let message = format!(
                    "The user denied the call to `{}`. Do not retry it; choose another approach or ask the user.",
                    tool.qualified_name
                );
                ctx.emit(EventMsg::ItemCompleted {
                    item: item(
                        &item_id,
                        &tool,
                        args,
                        None,
                        Some(message.clone()),
                        ItemStatus::Declined,
                    ),
                });
                return ToolOutcome::Output(message);
            }
            ReviewDecision::Cancel => {
                ctx.emit(EventMsg::ItemCompleted {
                    item: item(
                        &item_id,
                        &tool,
                        args,
                        None,
                        Some("cancelled".into()),
                        ItemStatus::Declined,
                    ),
                });
                return ToolOutcome::Abort;
            }
        }
    }
    let call = mcp.call(&tool.server, &tool.tool, args.clone());
    let result = tokio::select! {
        r = call => r,
        () = ctx.cancel.cancelled() => {
            ctx.emit(EventMsg::ItemCompleted { item: item(&item_id, &tool, args, None, Some("interrupted".into()), ItemStatus::Failed) });
            return ToolOutcome::Abort;
        }
    };
    match result {
        Ok(result) => {
            let status = if result.is_error {
                ItemStatus::Failed
            } else {
                ItemStatus::Completed
            };
            let text = result.to_model_text();
            ctx.emit(EventMsg::ItemCompleted {
                item: item(&item_id, &tool, args, Some(result.to_json()), None, status),
            });
            ToolOutcome::Output(head_tail(&text, ctx.output_cap()))
        }
        Err(e) => {
            let message = e.to_string();
            ctx.emit(EventMsg::ItemCompleted {
                item: item(
                    &item_id,
                    &tool,
                    args,
                    None,
                    Some(message.clone()),
                    ItemStatus::Failed,
                ),
            });
            ToolOutcome::Output(format!("The MCP tool call failed: {message}"))
        }
    }
}

/// Session approvals of MCP tools are keyed like command prefixes, in a namespace of their own.
fn session_key(tool: &McpTool) -> Vec<String> {
    vec!["\u{0}mcp".into(), tool.server.clone(), tool.tool.clone()]
}

fn item(
    id: &str,
    tool: &McpTool,
    arguments: serde_json::Value,
    result: Option<serde_json::Value>,
    error: Option<String>,
    status: ItemStatus,
) -> ThreadItem {
    ThreadItem {
        id: id.to_string(),
        details: ItemDetails::McpToolCall {
            server: tool.server.clone(),
            tool: tool.tool.clone(),
            arguments,
            result,
            error,
            status,
        },
    }
}
