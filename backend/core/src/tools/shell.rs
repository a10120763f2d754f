//! `shell`: decide (policy), maybe ask, run (sandboxed or not), and report.

use super::ShellArgs;
use crate::exec::{self, ExecOutput, ExecRequest};
use crate::policy::{self, CommandPlan};
use crate::sandboxing;
use crate::truncate::head_tail;
use crate::turn::{ToolOutcome, TurnContext};
use serde_json::json;
use std::time::Duration;
use tandem_protocol::ReviewDecision;
use tandem_protocol::events::{ApprovalKind, ApprovalRequest, EventMsg};
use tandem_protocol::items::{ItemDetails, ItemStatus, ThreadItem};

/// The timeout when the model gives none. Builds take a while; a hung command still ends.
pub const DEFAULT_TIMEOUT_MS: u64 = 120_000;

pub async fn handle(ctx: &TurnContext, args: ShellArgs) -> ToolOutcome {
    let item_id = ctx.session.next_item_id();
    let display = shlex_join(&args.command);
    let cwd = ctx.resolve_workdir(args.workdir.as_deref());
    let escalate = args.with_escalated_permissions.unwrap_or(false);
    let approved = ctx.session.state().is_prefix_approved(&args.command);
    let plan = policy::plan_command(
        ctx.approval,
        ctx.sandbox,
        &args.command,
        escalate,
        args.justification.as_deref(),
        approved,
    );
    let started = command_item(&item_id, &display, "", None, ItemStatus::InProgress);
    ctx.emit(EventMsg::ItemStarted { item: started });

    let sandboxed = match plan {
        CommandPlan::Run { sandboxed } => sandboxed,
        CommandPlan::Reject(message) => return declined(ctx, &item_id, &display, message),
        CommandPlan::Ask {
            kind,
            reason,
            sandboxed,
        } => match ask(ctx, &item_id, kind, &args.command, &cwd, reason).await {
            ReviewDecision::AllowOnce => sandboxed,
            ReviewDecision::AllowSession => {
                ctx.session
                    .state()
                    .approved_prefixes
                    .push(args.command.clone());
                sandboxed
            }
            ReviewDecision::Deny => {
                return declined(
                    ctx,
                    &item_id,
                    &display,
                    format!(
                        "The user denied running `{display}`. Do not retry it; choose another approach or ask the user."
                    ),
                );
            }
            ReviewDecision::Cancel => {
                declined(ctx, &item_id, &display, "cancelled".into());
                return ToolOutcome::Abort;
            }
        },
    };

    let timeout = Duration::from_millis(args.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS));
    let request = ExecRequest {
        argv: args.command.clone(),
        cwd: cwd.clone(),
        env: ctx.session.command_env.clone(),
        timeout,
    };
    let mut result = run_once(ctx, &item_id, &request, sandboxed).await;
    if let Ok(out) = &result
        && sandboxed
        && exec::looks_like_sandbox_denial(out)
        && let Some(CommandPlan::Ask { kind, reason, .. }) =
            policy::plan_retry_outside_sandbox(ctx.approval)
    {
        match ask(ctx, &item_id, kind, &args.command, &cwd, reason).await {
            ReviewDecision::AllowOnce | ReviewDecision::AllowSession => {
                result = run_once(ctx, &item_id, &request, false).await;
            }
            ReviewDecision::Cancel => return ToolOutcome::Abort,
            ReviewDecision::Deny => {}
        }
    }
    let out = match result {
        Ok(out) => out,
        Err(exec::ExecError::Interrupted) => {
            let item = command_item(&item_id, &display, "", None, ItemStatus::Failed);
            ctx.emit(EventMsg::ItemCompleted { item });
            return ToolOutcome::Abort;
        }
        Err(e) => {
            let message = e.to_string();
            let item = command_item(&item_id, &display, &message, None, ItemStatus::Failed);
            ctx.emit(EventMsg::ItemCompleted { item });
            return ToolOutcome::Output(model_output(&message, -1, 0.0, ctx.output_cap()));
        }
    };
    let status = if out.exit_code == 0 {
        ItemStatus::Completed
    } else {
        ItemStatus::Failed
    };
    let shown = head_tail(&out.aggregated, 64 * 1024);
    let item = command_item(&item_id, &display, &shown, Some(out.exit_code), status);
    ctx.emit(EventMsg::ItemCompleted { item });
    let mut text = out.aggregated.clone();
    if out.timed_out {
        text.push_str(&format!(
            "\n[command timed out after {} ms and was killed]",
            timeout.as_millis()
        ));
    }
    ToolOutcome::Output(model_output(
        &text,
        out.exit_code,
        out.duration.as_secs_f64(),
        ctx.output_cap(),
    ))
}

async fn run_once(
    ctx: &TurnContext,
    item_id: &str,
    request: &ExecRequest,
    sandboxed: bool,
) -> Result<ExecOutput, exec::ExecError> {
    let process = if sandboxed {
        match sandboxing::sandboxed(ctx, request) {
            Ok(started) => started?,
            Err(message) => {
                return Ok(ExecOutput {
                    exit_code: exec::SANDBOX_FAILURE_EXIT,
                    aggregated: message.clone(),
                    stderr: message,
                    duration: Duration::ZERO,
                    timed_out: false,
                });
            }
        }
    } else {
        sandboxing::direct(request)?
    };
    let session = ctx.session.clone();
    let turn_id = ctx.turn_id.clone();
    let id = item_id.to_string();
    exec::run(
        process,
        request,
        move |chunk| {
            session.emit(
                Some(&turn_id),
                EventMsg::CommandOutputDelta {
                    item_id: id.clone(),
                    chunk: chunk.to_string(),
                },
            );
        },
        &ctx.cancel,
    )
    .await
}

async fn ask(
    ctx: &TurnContext,
    item_id: &str,
    kind: ApprovalKind,
    argv: &[String],
    cwd: &std::path::Path,
    reason: String,
) -> ReviewDecision {
    let request = ApprovalRequest {
        id: String::new(),
        item_id: item_id.to_string(),
        kind,
        command: Some(argv.to_vec()),
        cwd: Some(cwd.display().to_string()),
        reason: Some(reason),
        changes: Vec::new(),
        mcp_call: None,
    };
    ctx.session
        .request_approval(&ctx.turn_id, request, &ctx.cancel)
        .await
}

fn declined(ctx: &TurnContext, item_id: &str, display: &str, message: String) -> ToolOutcome {
    let item = command_item(item_id, display, &message, None, ItemStatus::Declined);
    ctx.emit(EventMsg::ItemCompleted { item });
    ToolOutcome::Output(
        json!({"output": message, "metadata": {"exit_code": null, "declined": true}}).to_string(),
    )
}

fn command_item(
    id: &str,
    command: &str,
    output: &str,
    exit_code: Option<i32>,
    status: ItemStatus,
) -> ThreadItem {
    ThreadItem {
        id: id.to_string(),
        details: ItemDetails::CommandExecution {
            command: command.to_string(),
            aggregated_output: output.to_string(),
            exit_code,
            status,
        },
    }
}

/// The shape Codex-tuned models expect back from `shell`.
fn model_output(text: &str, exit_code: i32, seconds: f64, cap: usize) -> String {
    json!({
        "output": head_tail(text, cap),
        "metadata": {"exit_code": exit_code, "duration_seconds": (seconds * 10.0).round() / 10.0}
    })
    .to_string()
}

/// Quote an argument vector for display, so what a person approves reads like a command line.
pub fn shlex_join(argv: &[String]) -> String {
    argv.iter()
        .map(|a| {
            if !a.is_empty()
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
            {
                a.clone()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_quotes_only_what_needs_it() {
        let argv: Vec<String> = ["bash", "-lc", "echo 'hi' && ls"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(shlex_join(&argv), r#"bash -lc 'echo '\''hi'\'' && ls'"#);
    }
}
