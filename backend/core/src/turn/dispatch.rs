//! Running the tool calls of one model response, in order, with independent read-only calls
//! run concurrently, and every output fed back into the history.

use super::{ToolOutcome, TurnContext};
use crate::safe_commands::is_known_safe;
use crate::tools::{self, ToolCall};
use std::ops::ControlFlow;
use tandem_model::ResponseItem;
use tandem_protocol::events::EventMsg;
use tandem_protocol::items::{ItemDetails, ThreadItem};

enum Call {
    Builtin(ToolCall),
    Mcp(tandem_mcp::McpTool, String),
}

struct Parsed {
    call_id: String,
    call: Result<Call, String>,
}

impl Parsed {
    /// Known-safe commands that need no approval can run side by side.
    fn is_parallel_safe(&self) -> bool {
        matches!(&self.call, Ok(Call::Builtin(ToolCall::Shell(a))) if is_known_safe(&a.command) && !a.with_escalated_permissions.unwrap_or(false))
    }
}

pub(super) async fn run_calls(
    ctx: &TurnContext,
    calls: Vec<(String, String, String)>,
) -> ControlFlow<()> {
    let parsed: Vec<Parsed> = calls
        .into_iter()
        .map(|(call_id, name, arguments)| {
            let call = match tools::parse_call(&name, &arguments) {
                Ok(Some(call)) => Ok(Call::Builtin(call)),
                Ok(None) => match mcp_tool(ctx, &name) {
                    Some(tool) => Ok(Call::Mcp(tool, arguments)),
                    None => Err(format!(
                        "unknown tool `{name}`. Available tools: {}.",
                        available_tools(ctx)
                    )),
                },
                Err(message) => Err(message),
            };
            Parsed { call_id, call }
        })
        .collect();

    let flags: Vec<bool> = parsed.iter().map(Parsed::is_parallel_safe).collect();
    for range in groups(&flags) {
        let group = &parsed[range];
        let outcomes = futures::future::join_all(group.iter().map(|p| run_one(ctx, p))).await;
        for (p, outcome) in group.iter().zip(outcomes) {
            match outcome {
                ToolOutcome::Output(output) => {
                    ctx.session.push_history(ResponseItem::FunctionCallOutput {
                        call_id: p.call_id.clone(),
                        output,
                    });
                }
                ToolOutcome::Abort => return ControlFlow::Break(()),
            }
        }
        if ctx.cancel.is_cancelled() {
            return ControlFlow::Break(());
        }
    }
    ControlFlow::Continue(())
}

/// Split calls into runs that execute together: consecutive parallel-safe calls share a run;
/// every other call runs alone, in order.
fn groups(parallel_safe: &[bool]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < parallel_safe.len() {
        let mut end = i + 1;
        if parallel_safe[i] {
            while end < parallel_safe.len() && parallel_safe[end] {
                end += 1;
            }
        }
        out.push(i..end);
        i = end;
    }
    out
}

async fn run_one(ctx: &TurnContext, parsed: &Parsed) -> ToolOutcome {
    match &parsed.call {
        Err(message) => {
            let item = ThreadItem {
                id: ctx.session.next_item_id(),
                details: ItemDetails::Error {
                    message: message.clone(),
                },
            };
            ctx.emit(EventMsg::ItemCompleted { item });
            ToolOutcome::Output(message.clone())
        }
        Ok(Call::Mcp(tool, arguments)) => tools::mcp::handle(ctx, tool.clone(), arguments).await,
        Ok(Call::Builtin(ToolCall::Shell(args))) => tools::shell::handle(ctx, args.clone()).await,
        Ok(Call::Builtin(ToolCall::ApplyPatch { input, workdir })) => {
            tools::apply_patch::handle(ctx, input, workdir.as_deref()).await
        }
        Ok(Call::Builtin(ToolCall::UpdatePlan { explanation, plan })) => {
            tools::update_plan::handle(ctx, explanation.clone(), plan.clone())
        }
    }
}

fn mcp_tool(ctx: &TurnContext, name: &str) -> Option<tandem_mcp::McpTool> {
    let mcp = ctx.session.mcp.as_ref()?;
    mcp.tools().into_iter().find(|t| t.qualified_name == name)
}

fn available_tools(ctx: &TurnContext) -> String {
    let mut names = vec![
        "shell".to_string(),
        "apply_patch".into(),
        "update_plan".into(),
    ];
    if let Some(mcp) = &ctx.session.mcp {
        names.extend(mcp.tools().into_iter().map(|t| t.qualified_name));
    }
    names.join(", ")
}

#[cfg(test)]
mod tests {
    use super::groups;

    #[test]
    fn read_only_runs_are_grouped_and_the_rest_run_alone() {
        assert_eq!(groups(&[true, true, false, true]), vec![0..2, 2..3, 3..4]);
        assert_eq!(groups(&[false, false]), vec![0..1, 1..2]);
        assert_eq!(groups(&[true, true, true]), vec![0..3]);
        assert!(groups(&[]).is_empty());
    }
}
