//! Standard work-done progress for a task, for clients that do not take Tandem's task events.
//!
//! A plain LSP client (no `experimental.tandem.taskEvents`) that announced
//! `window.workDoneProgress` sees a running task the way it sees a language server indexing:
//! `window/workDoneProgress/create` with a token of its own (`tandem/<task id>`), then
//! `$/progress` begin (title "Tandem", the prompt in short), a report as the task moves (a
//! command starts, a file change is proposed or written, a question waits for the person),
//! and end with how the turn ended. The progress is cancellable: the client's
//! `window/workDoneProgress/cancel` for the token stops the task like `tandem/task/cancel`.
//! Clients with task events get `tandem/task/event` only: the same news twice would be noise.
//!
//! The messages go through a channel to a task of their own, so the driver never waits on the
//! client: the spec forbids using the token before the client has answered `create`, and a
//! client that never answers must not stall the task. If `create` fails the messages are
//! dropped.

use crate::state::Shared;
use tandem_protocol::events::{ApprovalKind, ApprovalRequest, EventMsg};
use tandem_protocol::items::ItemDetails;
use tokio::sync::mpsc;
use tower_lsp_server::Client;
use tower_lsp_server::lsp_types as lsp;

/// The title every task's progress carries; the message says which task.
const TITLE: &str = "Tandem";
/// How much of the prompt, or of a command, a message shows.
const SHORT: usize = 60;

enum Step {
    Report(String),
    End(String),
}

/// The progress of one task. Dropping it without [`TaskProgress::end`] ends the progress too,
/// so a client never keeps a spinner for a task that is gone.
pub struct TaskProgress {
    steps: mpsc::UnboundedSender<Step>,
}

impl TaskProgress {
    /// Starts reporting the task's progress, or `None` when the client takes task events or
    /// does not show server-created progress.
    pub fn start(shared: &Shared, task_id: &str, prompt: &str) -> Option<Self> {
        let caps = shared.lock().caps.clone();
        if caps.tandem.task_events || !caps.work_done_progress {
            return None;
        }
        let (steps, rx) = mpsc::unbounded_channel();
        let token = lsp::NumberOrString::String(format!("tandem/{task_id}"));
        tokio::spawn(report(shared.client.clone(), token, short(prompt), rx));
        Some(Self { steps })
    }

    /// Reports what the event means for the person, if anything.
    pub fn event(&self, msg: &EventMsg) {
        if let Some(message) = step(msg) {
            let _ = self.steps.send(Step::Report(message));
        }
    }

    /// Ends the progress with the turn's outcome.
    pub fn end(self, message: String) {
        let _ = self.steps.send(Step::End(message));
    }
}

async fn report(
    client: Client,
    token: lsp::NumberOrString,
    prompt: String,
    mut steps: mpsc::UnboundedReceiver<Step>,
) {
    use lsp::request::WorkDoneProgressCreate;
    let params = lsp::WorkDoneProgressCreateParams {
        token: token.clone(),
    };
    if let Err(e) = client.send_request::<WorkDoneProgressCreate>(params).await {
        tracing::debug!(
            "the client refused a progress token ({}); none shown",
            e.message
        );
        return;
    }
    let progress = client
        .progress(token, TITLE)
        .with_message(prompt)
        .with_cancel_button()
        .begin()
        .await;
    let mut outcome = "Ended".to_string();
    while let Some(step) = steps.recv().await {
        match step {
            Step::Report(message) => progress.report_with_message(message, None).await,
            Step::End(message) => {
                outcome = message;
                break;
            }
        }
    }
    progress.finish_with_message(outcome).await;
}

/// The task a progress token stands for (the tokens [`TaskProgress::start`] makes).
pub fn task_of(token: &lsp::NumberOrString) -> Option<&str> {
    match token {
        lsp::NumberOrString::String(s) => s.strip_prefix("tandem/"),
        lsp::NumberOrString::Number(_) => None,
    }
}

/// The first line of `text`, cut to [`SHORT`] characters.
fn short(text: &str) -> String {
    let line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let words: Vec<&str> = line.split_whitespace().collect();
    let line = words.join(" ");
    if line.chars().count() <= SHORT {
        return line;
    }
    let cut: String = line.chars().take(SHORT - 1).collect();
    format!("{}…", cut.trim_end())
}

fn files<'a>(paths: impl Iterator<Item = &'a str>) -> String {
    paths.collect::<Vec<_>>().join(", ")
}

/// What an event tells a person watching the task; `None` for events that do not move it.
fn step(msg: &EventMsg) -> Option<String> {
    Some(match msg {
        EventMsg::ItemStarted { item } => match &item.details {
            ItemDetails::CommandExecution { command, .. } => {
                format!("Running `{}`", short(command))
            }
            ItemDetails::FileChange { changes, .. } => format!(
                "Proposing a change to {}",
                files(changes.iter().map(|c| c.path.as_str()))
            ),
            ItemDetails::McpToolCall { server, tool, .. } => {
                format!("Calling the MCP tool `{tool}` of `{server}`")
            }
            _ => return None,
        },
        EventMsg::ApprovalRequest(req) => waiting(req),
        EventMsg::PatchApplied { changes, .. } => {
            format!("Changed {}", files(changes.iter().map(|c| c.path.as_str())))
        }
        _ => return None,
    })
}

fn waiting(req: &ApprovalRequest) -> String {
    let command = || {
        req.command
            .as_ref()
            .map(|c| format!(" `{}`", short(&c.join(" "))))
            .unwrap_or_default()
    };
    match req.kind {
        ApprovalKind::Patch => format!(
            "Waiting for your review of {}",
            files(req.changes.iter().map(|c| c.path.as_str()))
        ),
        ApprovalKind::Command => format!("Waiting for approval to run{}", command()),
        ApprovalKind::Escalation => {
            format!(
                "Waiting for approval to run{} outside the sandbox",
                command()
            )
        }
        ApprovalKind::Network => "Waiting for approval of network access".into(),
        ApprovalKind::McpTool => "Waiting for approval of an MCP tool".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prompt_is_shown_as_its_first_line_cut_short() {
        assert_eq!(short("\n  fix   the bug\nin detail"), "fix the bug");
        let long = "add a --verbose flag that prints every file the tool reads and writes";
        let s = short(long);
        assert!(s.chars().count() <= SHORT, "{s}");
        assert!(s.ends_with('…') && long.starts_with(s.trim_end_matches('…')));
    }
}
