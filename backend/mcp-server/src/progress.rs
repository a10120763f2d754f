//! Streaming a turn to the MCP client while the tool call is pending.
//!
//! Two channels, because clients differ in what they show:
//! - progress notifications (only when the call carried a `progressToken`), one short
//!   human-readable line per step: "running `cargo test`", "edited src/lib.rs";
//! - logging messages (`notifications/message`, logger `tandem`), whose data is
//!   `{threadId, event}` with `event` in the `codex exec --json` shape, for clients that want
//!   the items themselves.
//!
//! Deltas are not sent: they would flood a channel that clients mostly log. Failures to send
//! are ignored; a client that went away cannot be told.
#![allow(
    deprecated,
    reason = "rmcp marks MCP logging deprecated (SEP-2577); clients still use it"
)]

use crate::approval::{shell_words, subject};
use rmcp::model::ProgressToken;
use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam, ProgressNotificationParam};
use rmcp::{Peer, RoleServer};
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use tandem_protocol::events::{Event, EventMsg, ThreadEvent};
use tandem_protocol::items::{ItemDetails, ItemStatus, StepStatus};

/// The least severe level the client wants (`logging/setLevel`), shared by all calls.
#[derive(Clone)]
pub(crate) struct LogLevel(Arc<AtomicU8>);

impl Default for LogLevel {
    fn default() -> Self {
        LogLevel(Arc::new(AtomicU8::new(rank(LoggingLevel::Info))))
    }
}

impl LogLevel {
    pub(crate) fn set(&self, level: LoggingLevel) {
        self.0.store(rank(level), Ordering::Relaxed);
    }

    fn allows(&self, level: LoggingLevel) -> bool {
        rank(level) >= self.0.load(Ordering::Relaxed)
    }
}

fn rank(level: LoggingLevel) -> u8 {
    match level {
        LoggingLevel::Debug => 0,
        LoggingLevel::Info => 1,
        LoggingLevel::Notice => 2,
        LoggingLevel::Warning => 3,
        LoggingLevel::Error => 4,
        LoggingLevel::Critical => 5,
        LoggingLevel::Alert => 6,
        LoggingLevel::Emergency => 7,
    }
}

pub(crate) struct Reporter {
    peer: Peer<RoleServer>,
    token: Option<ProgressToken>,
    thread_id: String,
    level: LogLevel,
    steps: u32,
}

impl Reporter {
    pub(crate) fn new(
        peer: Peer<RoleServer>,
        token: Option<ProgressToken>,
        thread_id: String,
        level: LogLevel,
    ) -> Self {
        Reporter {
            peer,
            token,
            thread_id,
            level,
            steps: 0,
        }
    }

    pub(crate) async fn event(&mut self, event: &Event) {
        if let Some(line) = describe(event) {
            self.progress(line).await;
        }
        let (level, data) = match &event.msg {
            EventMsg::Warning { message } => (
                LoggingLevel::Warning,
                json!({"threadId": self.thread_id, "event": {"type": "warning", "message": message}}),
            ),
            _ => match ThreadEvent::from_event(event) {
                Some(stable) => (
                    LoggingLevel::Info,
                    json!({"threadId": self.thread_id, "event": stable}),
                ),
                None => return,
            },
        };
        if self.level.allows(level) {
            let params = LoggingMessageNotificationParam::new(level, data).with_logger("tandem");
            if let Err(e) = self.peer.notify_logging_message(params).await {
                tracing::debug!("cannot send a logging message: {e}");
            }
        }
    }

    pub(crate) async fn progress(&mut self, message: String) {
        let Some(token) = &self.token else { return };
        self.steps += 1;
        let mut params = ProgressNotificationParam::new(token.clone(), f64::from(self.steps));
        params.message = Some(message);
        if let Err(e) = self.peer.notify_progress(params).await {
            tracing::debug!("cannot send a progress notification: {e}");
        }
    }
}

fn first_line(text: &str, max: usize) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() > max {
        format!("{}…", line.chars().take(max).collect::<String>())
    } else {
        line.to_string()
    }
}

/// One line for a progress notification, or `None` for events not worth one.
pub(crate) fn describe(event: &Event) -> Option<String> {
    Some(match &event.msg {
        EventMsg::SessionConfigured(c) => format!(
            "thread {} ({} in {}{})",
            c.session_id,
            c.model,
            c.cwd,
            if c.resumed { ", resumed" } else { "" }
        ),
        EventMsg::TurnStarted => "turn started".into(),
        EventMsg::ItemStarted { item } => match &item.details {
            ItemDetails::CommandExecution { command, .. } => format!("running `{command}`"),
            ItemDetails::FileChange { changes, .. } => format!(
                "editing {}",
                changes
                    .iter()
                    .map(|c| c.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ItemDetails::McpToolCall { server, tool, .. } => format!("calling {server}/{tool}"),
            _ => return None,
        },
        EventMsg::ItemCompleted { item } => match &item.details {
            ItemDetails::CommandExecution {
                command,
                exit_code,
                status,
                ..
            } => match status {
                ItemStatus::Declined => format!("`{command}` was not allowed"),
                _ => match exit_code {
                    Some(code) => format!("`{command}` exited with {code}"),
                    None => format!("`{command}` {}", status_word(*status)),
                },
            },
            ItemDetails::FileChange { changes, status } => format!(
                "{} {}",
                match status {
                    ItemStatus::Completed => "edited",
                    ItemStatus::Declined => "not allowed to edit",
                    _ => "failed to edit",
                },
                changes
                    .iter()
                    .map(|c| c.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            ItemDetails::McpToolCall {
                server,
                tool,
                status,
                ..
            } => format!("{server}/{tool} {}", status_word(*status)),
            ItemDetails::AgentMessage { text } => format!("message: {}", first_line(text, 200)),
            ItemDetails::Reasoning { text } => format!("thinking: {}", first_line(text, 200)),
            ItemDetails::TodoList { items } => format!(
                "plan: {}/{} done",
                items.iter().filter(|i| i.completed).count(),
                items.len()
            ),
            ItemDetails::Error { message } => format!("error: {}", first_line(message, 200)),
        },
        EventMsg::PlanUpdated { plan, .. } => format!(
            "plan: {}/{} done",
            plan.iter()
                .filter(|s| s.status == StepStatus::Completed)
                .count(),
            plan.len()
        ),
        EventMsg::ApprovalRequest(request) => format!(
            "waiting for approval: {}",
            match &request.command {
                Some(argv) => shell_words(argv),
                None => subject(request),
            }
        ),
        EventMsg::ContextCompacted { .. } => "compacted the conversation".into(),
        EventMsg::Warning { message } => format!("warning: {}", first_line(message, 200)),
        EventMsg::TurnCompleted { .. } => "turn completed".into(),
        EventMsg::TurnFailed { error } => {
            format!("turn failed: {}", first_line(&error.message, 200))
        }
        EventMsg::TurnAborted { reason } => format!("turn interrupted: {reason}"),
        _ => return None,
    })
}

fn status_word(status: ItemStatus) -> &'static str {
    match status {
        ItemStatus::InProgress => "running",
        ItemStatus::Completed => "done",
        ItemStatus::Failed => "failed",
        ItemStatus::Declined => "not allowed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_protocol::items::ThreadItem;

    fn ev(msg: EventMsg) -> Event {
        Event { turn_id: None, msg }
    }

    #[test]
    fn commands_are_described_when_they_start_and_end() {
        let item = |status, exit_code| ThreadItem {
            id: "item_1".into(),
            details: ItemDetails::CommandExecution {
                command: "ls -a".into(),
                aggregated_output: String::new(),
                exit_code,
                status,
            },
        };
        assert_eq!(
            describe(&ev(EventMsg::ItemStarted {
                item: item(ItemStatus::InProgress, None)
            })),
            Some("running `ls -a`".into())
        );
        assert_eq!(
            describe(&ev(EventMsg::ItemCompleted {
                item: item(ItemStatus::Completed, Some(0))
            })),
            Some("`ls -a` exited with 0".into())
        );
        assert_eq!(
            describe(&ev(EventMsg::ItemCompleted {
                item: item(ItemStatus::Declined, None)
            })),
            Some("`ls -a` was not allowed".into())
        );
    }

    #[test]
    fn deltas_are_not_progress() {
        let delta = ev(EventMsg::AgentMessageDelta {
            item_id: "i".into(),
            delta: "x".into(),
        });
        assert_eq!(describe(&delta), None);
    }

    #[test]
    fn long_messages_are_cut_to_their_first_line() {
        assert_eq!(first_line("\n  hello\nworld", 10), "hello");
        assert_eq!(first_line("abcdef", 3), "abc…");
    }

    #[test]
    fn log_levels_filter_by_severity() {
        let level = LogLevel::default();
        assert!(level.allows(LoggingLevel::Info));
        level.set(LoggingLevel::Warning);
        assert!(!level.allows(LoggingLevel::Info));
        assert!(level.allows(LoggingLevel::Error));
    }
}
