//! Compaction: when the history nears the context window, replace older turns with a handoff
//! note, so a long task can go on.
//!
//! Codex's users lost task details this way, because everything went through a model-written
//! summary. Here the facts the kernel already knows — the user's prompts verbatim, the current
//! plan, the files touched — are written into the note by the kernel itself; the model only
//! adds what it alone knows (progress, decisions, open problems). Those facts cannot be lost.

use crate::session::Session;
use crate::turn::TurnContext;
use futures::StreamExt;
use tandem_model::{Prompt, ResponseEvent, ResponseItem};
use tandem_protocol::events::EventMsg;

const COMPACT_INSTRUCTIONS: &str = "You are writing a handoff note for another engineer who will continue this task with no other memory of the conversation. \
Write concise markdown with these sections: \"Progress\" (what was done and verified), \"Decisions\" (choices made and why), \
\"Open problems\" (what failed, what is unknown, what to do next, with exact file paths, commands and error messages). \
Do not repeat the user's request or the plan; they are kept separately. Do not call tools.";

/// The share of the threshold that the verbatim tail of recent items may use.
const TAIL_SHARE: u64 = 5;

/// Context windows of well-known model families, when the config gives none.
pub fn default_context_window(model: &str) -> u64 {
    let m = model.to_ascii_lowercase();
    if m.starts_with("gpt-5") {
        272_000
    } else if m.starts_with("gpt-4.1") {
        1_000_000
    } else if m.starts_with("o3") || m.starts_with("o4") {
        200_000
    } else {
        128_000
    }
}

pub fn threshold(session: &Session) -> u64 {
    let config = &session.config;
    let window = config
        .model_context_window
        .unwrap_or_else(|| default_context_window(&config.model));
    let ninety = window / 10 * 9;
    config
        .model_auto_compact_token_limit
        .map_or(ninety, |limit| limit.min(ninety))
}

pub fn needs_compaction(session: &Session) -> bool {
    session.state().last_input_tokens >= threshold(session)
}

/// Replace older history with a handoff note. Never fails: if the model cannot summarise, the
/// note is written from the kernel's own facts alone.
pub async fn compact(ctx: &TurnContext) {
    let session = &ctx.session;
    let history = session.state().history.clone();
    let summary = match summarise(ctx, &history).await {
        Ok(text) => text,
        Err(e) => {
            ctx.emit(EventMsg::Warning { message: format!("compaction: the model could not summarise ({e}); keeping the kernel's own notes only") });
            format!("(no model summary: {e})")
        }
    };
    let (new_history, replaced) = {
        let state = session.state();
        let note = handoff_note(
            &state.original_task,
            &state.plan,
            &state.files_touched,
            &summary,
        );
        let budget_chars = (threshold(session) / TAIL_SHARE * 4) as usize;
        let initial = state.initial_context_len.min(history.len());
        let tail_start = tail_start(&history, initial, budget_chars);
        let mut new_history: Vec<ResponseItem> = history[..initial].to_vec();
        new_history.push(ResponseItem::user_text(note));
        new_history.extend_from_slice(&history[tail_start..]);
        (new_history, tail_start - initial)
    };
    let note_chars = new_history
        .get(session.state().initial_context_len)
        .and_then(|i| i.message_text())
        .map_or(0, |t| t.len());
    session.record(&crate::rollout::RolloutLine::Compacted {
        history: new_history.clone(),
    });
    {
        let mut state = session.state();
        state.last_input_tokens = estimate_tokens(&new_history);
        state.history = new_history;
    }
    ctx.emit(EventMsg::ContextCompacted {
        replaced_items: replaced,
        note_chars,
    });
}

async fn summarise(
    ctx: &TurnContext,
    history: &[ResponseItem],
) -> Result<String, tandem_model::ModelError> {
    let mut input = history.to_vec();
    input.push(ResponseItem::user_text("Write the handoff note now."));
    let prompt = Prompt {
        instructions: COMPACT_INSTRUCTIONS.into(),
        input,
        tools: Vec::new(),
        parallel_tool_calls: false,
    };
    let mut stream = ctx.client.stream(&prompt).await?;
    let mut text = String::new();
    let mut deltas = String::new();
    while let Some(event) = stream.next().await {
        match event? {
            ResponseEvent::OutputItemDone(item @ ResponseItem::Message { .. }) => {
                text = item.message_text().unwrap_or_default();
            }
            ResponseEvent::OutputTextDelta(d) => deltas.push_str(&d),
            ResponseEvent::Completed { .. } => break,
            _ => {}
        }
    }
    Ok(if text.is_empty() { deltas } else { text })
}

fn handoff_note(
    original_task: &[String],
    plan: &[tandem_protocol::items::PlanStep],
    files: &std::collections::BTreeSet<String>,
    summary: &str,
) -> String {
    let mut note = String::from(
        "# Handoff note\nThe earlier part of this session was compacted to fit the context window. \
         The sections below up to \"Summary\" are exact records kept by the agent's kernel.\n\n## Original task (verbatim)\n",
    );
    for (i, task) in original_task.iter().enumerate() {
        note.push_str(&format!("{}. {}\n", i + 1, task));
    }
    note.push_str("\n## Plan\n");
    if plan.is_empty() {
        note.push_str("(no plan was recorded)\n");
    } else {
        note.push_str(&crate::tools::update_plan::render(plan));
    }
    note.push_str("\n## Files touched\n");
    if files.is_empty() {
        note.push_str("(none yet)\n");
    }
    for f in files {
        note.push_str(&format!("- {f}\n"));
    }
    note.push_str("\n## Summary\n");
    note.push_str(summary.trim());
    note.push('\n');
    note
}

/// Where the kept tail of recent items starts: as many recent items as fit the budget, never
/// starting with a tool output whose call was cut away.
fn tail_start(history: &[ResponseItem], initial: usize, budget_chars: usize) -> usize {
    let mut start = history.len();
    let mut used = 0;
    while start > initial {
        let size = item_chars(&history[start - 1]);
        if used + size > budget_chars {
            break;
        }
        used += size;
        start -= 1;
    }
    while start < history.len() && matches!(history[start], ResponseItem::FunctionCallOutput { .. })
    {
        start += 1;
    }
    start
}

fn item_chars(item: &ResponseItem) -> usize {
    match item {
        ResponseItem::Message { .. } => item.message_text().map_or(0, |t| t.len()),
        ResponseItem::Reasoning {
            summary,
            encrypted_content,
            ..
        } => {
            summary.iter().map(String::len).sum::<usize>()
                + encrypted_content.as_ref().map_or(0, String::len)
        }
        ResponseItem::FunctionCall {
            arguments, name, ..
        } => arguments.len() + name.len(),
        ResponseItem::FunctionCallOutput { output, .. } => output.len(),
    }
}

/// A rough count (four characters a token) until the next response reports the real one.
pub fn estimate_tokens(history: &[ResponseItem]) -> u64 {
    (history.iter().map(item_chars).sum::<usize>() / 4) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_protocol::items::{PlanStep, StepStatus};

    #[test]
    fn the_note_carries_task_plan_and_files_verbatim() {
        let files = ["src/a.rs".to_string()].into_iter().collect();
        let plan = vec![PlanStep {
            step: "write the parser".into(),
            status: StepStatus::InProgress,
        }];
        let note = handoff_note(
            &["Fix the bug in parse()".into()],
            &plan,
            &files,
            "Tests fail in test_x.",
        );
        assert!(note.contains("1. Fix the bug in parse()"));
        assert!(note.contains("- [~] write the parser"));
        assert!(note.contains("- src/a.rs"));
        assert!(note.contains("Tests fail in test_x."));
    }

    #[test]
    fn the_tail_never_starts_with_an_orphaned_output() {
        let history = vec![
            ResponseItem::user_text("ctx"),
            ResponseItem::FunctionCall {
                call_id: "1".into(),
                name: "shell".into(),
                arguments: "x".repeat(100),
            },
            ResponseItem::FunctionCallOutput {
                call_id: "1".into(),
                output: "y".into(),
            },
            ResponseItem::assistant_text("done"),
        ];
        // A budget that fits the output and the message but not the call.
        assert_eq!(tail_start(&history, 1, 10), 3);
        assert_eq!(tail_start(&history, 1, 1000), 1);
    }
}
