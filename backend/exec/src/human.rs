//! Readable progress for people: one line per step on stderr, so stdout keeps only the answer.

use std::io::{IsTerminal, Write};
use tandem_protocol::events::{Event, EventMsg};
use tandem_protocol::items::{ItemDetails, ItemStatus, PatchChangeKind, ThreadItem};

/// Lines of command output shown per command; the rest is summarised.
const OUTPUT_LINES: usize = 12;

pub struct Printer {
    enabled: bool,
    color: bool,
}

impl Printer {
    pub fn new(enabled: bool) -> Self {
        Printer {
            enabled,
            color: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn style(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn note(&self, text: &str) {
        if self.enabled {
            let _ = writeln!(std::io::stderr().lock(), "{}", self.style("33", text));
        }
    }

    pub fn print(&mut self, event: &Event) {
        if !self.enabled {
            return;
        }
        let mut err = std::io::stderr().lock();
        let line = match &event.msg {
            EventMsg::SessionConfigured(c) => {
                let mut s = format!(
                    "{} {} · model {} ({}) · sandbox {} · approvals {}\nsession {}{}",
                    self.style("1", "tandem"),
                    env!("CARGO_PKG_VERSION"),
                    c.model,
                    c.model_provider,
                    c.sandbox_mode,
                    c.approval_policy,
                    c.session_id,
                    if c.resumed { " (resumed)" } else { "" }
                );
                for f in &c.instruction_files {
                    s.push_str(&format!("\ninstructions: {f}"));
                }
                for f in &c.truncated_instruction_files {
                    s.push_str(&format!(
                        "\ninstructions truncated to fit project_doc_max_bytes: {f}"
                    ));
                }
                Some(s)
            }
            EventMsg::ItemStarted { item } => match &item.details {
                ItemDetails::CommandExecution { command, .. } => {
                    Some(self.style("36", &format!("$ {command}")))
                }
                _ => None,
            },
            EventMsg::ItemUpdated { item } | EventMsg::ItemCompleted { item } => {
                self.item_line(item, matches!(event.msg, EventMsg::ItemCompleted { .. }))
            }
            EventMsg::Warning { message } => Some(self.style("33", &format!("warning: {message}"))),
            EventMsg::Error { message } => Some(self.style("31", &format!("error: {message}"))),
            EventMsg::TurnFailed { error } => {
                Some(self.style("31", &format!("error: {}", error.message)))
            }
            EventMsg::TurnAborted { reason } => {
                Some(self.style("33", &format!("turn aborted: {reason}")))
            }
            EventMsg::ContextCompacted { replaced_items, .. } => Some(format!(
                "context compacted ({replaced_items} older items summarised)"
            )),
            EventMsg::TurnCompleted { usage, .. } => Some(self.style(
                "2",
                &format!(
                    "tokens: {} in ({} cached), {} out",
                    usage.input_tokens, usage.cached_input_tokens, usage.output_tokens
                ),
            )),
            _ => None,
        };
        if let Some(line) = line {
            let _ = writeln!(err, "{line}");
        }
    }

    fn item_line(&self, item: &ThreadItem, completed: bool) -> Option<String> {
        match &item.details {
            ItemDetails::AgentMessage { text } if completed => {
                Some(format!("{}\n{text}", self.style("1;35", "agent")))
            }
            ItemDetails::Reasoning { text } if completed && !text.is_empty() => {
                Some(self.style("2;3", &format!("thinking: {text}")))
            }
            ItemDetails::CommandExecution {
                aggregated_output,
                exit_code,
                status,
                ..
            } if completed => {
                let mut s = String::new();
                let lines: Vec<&str> = aggregated_output.lines().collect();
                for l in lines.iter().take(OUTPUT_LINES) {
                    s.push_str(&self.style("2", &format!("  {l}")));
                    s.push('\n');
                }
                if lines.len() > OUTPUT_LINES {
                    s.push_str(&self.style(
                        "2",
                        &format!("  … {} more lines\n", lines.len() - OUTPUT_LINES),
                    ));
                }
                let verdict = match (status, exit_code) {
                    (ItemStatus::Declined, _) => self.style("33", "  declined"),
                    (_, Some(0)) => self.style("32", "  exit 0"),
                    (_, Some(code)) => self.style("31", &format!("  exit {code}")),
                    (_, None) => self.style("31", "  did not run"),
                };
                s.push_str(&verdict);
                Some(s)
            }
            ItemDetails::FileChange { changes, status } if completed => {
                let mut s = match status {
                    ItemStatus::Completed => self.style("32", "patch applied:"),
                    ItemStatus::Declined => self.style("33", "patch declined:"),
                    _ => self.style("31", "patch failed:"),
                };
                for c in changes {
                    let k = match c.kind {
                        PatchChangeKind::Add => "A",
                        PatchChangeKind::Delete => "D",
                        PatchChangeKind::Update => "M",
                    };
                    s.push_str(&format!("\n  {k} {}", c.path));
                }
                Some(s)
            }
            ItemDetails::TodoList { items } => {
                let mut s = String::from("plan:");
                for i in items {
                    s.push_str(&format!(
                        "\n  [{}] {}",
                        if i.completed { "x" } else { " " },
                        i.text
                    ));
                }
                Some(s)
            }
            ItemDetails::McpToolCall {
                server,
                tool,
                status,
                ..
            } if completed => Some(format!("mcp {server}.{tool}: {status:?}")),
            ItemDetails::Error { message } => Some(self.style("31", &format!("error: {message}"))),
            _ => None,
        }
    }
}
