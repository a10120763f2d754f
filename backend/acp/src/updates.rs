//! Kernel events as ACP `session/update`s.
//!
//! | kernel | ACP v1 |
//! |---|---|
//! | `agent_message_delta` (or a whole `agent_message` item) | `agent_message_chunk` |
//! | `reasoning_delta` (or a whole `reasoning` item) | `agent_thought_chunk` |
//! | `command_execution` started / completed | `tool_call` (kind `execute`) / `tool_call_update` with the output |
//! | `file_change` started / completed | `tool_call` (kind `edit`, locations) / `tool_call_update` with `diff` content |
//! | `mcp_tool_call` | `tool_call` (kind `other`, title `server/tool`) / `tool_call_update` |
//! | `plan_updated`, `todo_list` | `plan` (the whole list every time) |
//!
//! Tool call ids are our item ids, so a permission request and its tool call line up.
//! Tandem-only data (item ids, exit codes, approval ids) rides under `_meta.tandem`.
//!
//! ACP diffs carry whole files, not hunks: the text before a patch is read when the item
//! starts (the kernel announces a patch before it writes it), the text after when it completes.

use agent_client_protocol::schema::{
    ContentBlock, ContentChunk, Diff, Meta, Plan, PlanEntry, PlanEntryPriority, PlanEntryStatus,
    SessionUpdate, TextContent, ToolCall, ToolCallContent, ToolCallLocation, ToolCallStatus,
    ToolCallUpdate, ToolCallUpdateFields, ToolKind,
};
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use tandem_protocol::events::{Event, EventMsg};
use tandem_protocol::items::{
    FileUpdateChange, ItemDetails, ItemStatus, PatchChangeKind, PlanStep, StepStatus, ThreadItem,
    TodoItem,
};

/// Output longer than this is cut (from the front) in a tool call's content.
const MAX_OUTPUT_CHARS: usize = 20_000;

/// `_meta` with our data under the `tandem` key.
pub(crate) fn tandem_meta(value: Value) -> Meta {
    let mut meta = Meta::new();
    meta.insert("tandem".into(), value);
    meta
}

pub(crate) fn text(text: impl Into<String>) -> ContentBlock {
    ContentBlock::Text(TextContent::new(text))
}

/// Turns the events of one session into updates. Holds what a later event needs: which items
/// streamed deltas, and the file contents from before each patch.
pub(crate) struct UpdateMapper {
    cwd: PathBuf,
    streamed: HashSet<String>,
    before: HashMap<String, Vec<(PathBuf, Option<String>)>>,
    /// A `plan_updated` was sent; the `todo_list` item that closes the turn would only repeat
    /// it, less precisely (it knows done / not done, not "in progress").
    saw_plan: bool,
}

impl UpdateMapper {
    pub(crate) fn new(cwd: PathBuf) -> Self {
        UpdateMapper {
            cwd,
            streamed: HashSet::new(),
            before: HashMap::new(),
            saw_plan: false,
        }
    }

    pub(crate) fn map(&mut self, event: &Event) -> Vec<SessionUpdate> {
        match &event.msg {
            EventMsg::AgentMessageDelta { item_id, delta } => {
                self.streamed.insert(item_id.clone());
                vec![SessionUpdate::AgentMessageChunk(chunk(delta, item_id))]
            }
            EventMsg::ReasoningDelta { item_id, delta } => {
                self.streamed.insert(item_id.clone());
                vec![SessionUpdate::AgentThoughtChunk(chunk(delta, item_id))]
            }
            EventMsg::ItemStarted { item } => self.started(item).into_iter().collect(),
            EventMsg::ItemCompleted { item } => self.completed(item),
            EventMsg::PlanUpdated { plan, .. } => {
                self.saw_plan = true;
                vec![plan_update(plan)]
            }
            _ => Vec::new(),
        }
    }

    fn started(&mut self, item: &ThreadItem) -> Option<SessionUpdate> {
        let call = match &item.details {
            ItemDetails::CommandExecution { command, .. } => {
                ToolCall::new(item.id.clone(), command.clone())
                    .kind(ToolKind::Execute)
                    .raw_input(json!({"command": command}))
            }
            ItemDetails::FileChange { changes, .. } => {
                let before = changes
                    .iter()
                    .map(|c| {
                        let path = self.cwd.join(&c.path);
                        let old = match c.kind {
                            PatchChangeKind::Add => None,
                            _ => std::fs::read_to_string(&path).ok(),
                        };
                        (path, old)
                    })
                    .collect();
                self.before.insert(item.id.clone(), before);
                ToolCall::new(item.id.clone(), edit_title(changes))
                    .kind(ToolKind::Edit)
                    .locations(self.locations(changes))
                    .raw_input(json!({"changes": changes}))
            }
            ItemDetails::McpToolCall {
                server,
                tool,
                arguments,
                ..
            } => ToolCall::new(item.id.clone(), format!("{server}/{tool}"))
                .kind(ToolKind::Other)
                .raw_input(arguments.clone()),
            _ => return None,
        };
        Some(SessionUpdate::ToolCall(
            call.status(ToolCallStatus::InProgress)
                .meta(tandem_meta(json!({"itemId": item.id}))),
        ))
    }

    fn completed(&mut self, item: &ThreadItem) -> Vec<SessionUpdate> {
        let fields = match &item.details {
            ItemDetails::AgentMessage { text } if !self.streamed.contains(&item.id) => {
                return vec![SessionUpdate::AgentMessageChunk(chunk(text, &item.id))];
            }
            ItemDetails::Reasoning { text } if !self.streamed.contains(&item.id) => {
                return vec![SessionUpdate::AgentThoughtChunk(chunk(text, &item.id))];
            }
            ItemDetails::Error { message } => {
                return vec![SessionUpdate::AgentMessageChunk(chunk(
                    &format!("\n\nError: {message}\n"),
                    &item.id,
                ))];
            }
            ItemDetails::TodoList { .. } if self.saw_plan => return Vec::new(),
            ItemDetails::TodoList { items } => return vec![todo_update(items)],
            ItemDetails::CommandExecution {
                aggregated_output,
                exit_code,
                status,
                ..
            } => {
                let mut fields = ToolCallUpdateFields::new()
                    .status(tool_status(*status))
                    .raw_output(json!({"exitCode": exit_code, "status": status}));
                let shown = match status {
                    ItemStatus::Declined => "Not allowed: the command did not run.".to_string(),
                    _ if aggregated_output.is_empty() => String::new(),
                    _ => fenced(aggregated_output),
                };
                if !shown.is_empty() {
                    fields = fields.content(vec![ToolCallContent::from(text(shown))]);
                }
                fields
            }
            ItemDetails::FileChange { changes, status } => {
                let before = self.before.remove(&item.id).unwrap_or_default();
                let content = match status {
                    ItemStatus::Completed => self.diffs(changes, &before),
                    ItemStatus::Declined => {
                        vec![ToolCallContent::from(text(
                            "Not allowed: no file was changed.",
                        ))]
                    }
                    _ => vec![ToolCallContent::from(text(
                        "The patch did not apply; no file was changed.",
                    ))],
                };
                ToolCallUpdateFields::new()
                    .status(tool_status(*status))
                    .title(edit_title(changes))
                    .locations(self.locations(changes))
                    .content(content)
            }
            ItemDetails::McpToolCall {
                result,
                error,
                status,
                ..
            } => {
                let mut fields = ToolCallUpdateFields::new().status(tool_status(*status));
                if let Some(result) = result {
                    fields = fields.raw_output(result.clone());
                }
                let shown = error
                    .clone()
                    .or_else(|| result.as_ref().map(mcp_result_text));
                if let Some(shown) = shown.filter(|s| !s.is_empty()) {
                    fields = fields.content(vec![ToolCallContent::from(text(shown))]);
                }
                fields
            }
            _ => return Vec::new(),
        };
        vec![SessionUpdate::ToolCallUpdate(
            ToolCallUpdate::new(item.id.clone(), fields)
                .meta(tandem_meta(json!({"itemId": item.id}))),
        )]
    }

    fn locations(&self, changes: &[FileUpdateChange]) -> Vec<ToolCallLocation> {
        changes
            .iter()
            .map(|c| ToolCallLocation::new(self.cwd.join(&c.path)))
            .collect()
    }

    /// Whole-file diffs, the "after" read from disk now that the patch is written.
    fn diffs(
        &self,
        changes: &[FileUpdateChange],
        before: &[(PathBuf, Option<String>)],
    ) -> Vec<ToolCallContent> {
        changes
            .iter()
            .map(|c| {
                let path = self.cwd.join(&c.path);
                let old = before
                    .iter()
                    .find(|(p, _)| *p == path)
                    .and_then(|(_, old)| old.clone());
                let new = match c.kind {
                    PatchChangeKind::Delete => String::new(),
                    _ => std::fs::read_to_string(&path).unwrap_or_default(),
                };
                ToolCallContent::Diff(Diff::new(path, new).old_text(old))
            })
            .collect()
    }
}

fn chunk(text_: &str, item_id: &str) -> ContentChunk {
    ContentChunk::new(text(text_)).meta(tandem_meta(json!({"itemId": item_id})))
}

pub(crate) fn edit_title(changes: &[FileUpdateChange]) -> String {
    let names: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
    match names.as_slice() {
        [] => "Edit files".into(),
        [one] => format!("Edit {one}"),
        many => format!("Edit {} files: {}", many.len(), many.join(", ")),
    }
}

pub(crate) fn tool_status(status: ItemStatus) -> ToolCallStatus {
    match status {
        ItemStatus::InProgress => ToolCallStatus::InProgress,
        ItemStatus::Completed => ToolCallStatus::Completed,
        ItemStatus::Failed | ItemStatus::Declined => ToolCallStatus::Failed,
    }
}

/// Output in a Markdown fence long enough not to be closed by the output itself.
fn fenced(output: &str) -> String {
    let mut shown = output;
    let mut cut = false;
    if output.chars().count() > MAX_OUTPUT_CHARS {
        let skip = output.chars().count() - MAX_OUTPUT_CHARS;
        let start = output.char_indices().nth(skip).map_or(0, |(i, _)| i);
        shown = &output[start..];
        cut = true;
    }
    let mut fence = String::from("```");
    while shown.contains(&fence) {
        fence.push('`');
    }
    format!(
        "{fence}\n{}{}{}{fence}",
        if cut { "…\n" } else { "" },
        shown,
        if shown.ends_with('\n') { "" } else { "\n" }
    )
}

fn mcp_result_text(result: &Value) -> String {
    let texts: Vec<&str> = result["content"]
        .as_array()
        .map(|blocks| blocks.iter().filter_map(|b| b["text"].as_str()).collect())
        .unwrap_or_default();
    if texts.is_empty() {
        result.to_string()
    } else {
        texts.join("\n")
    }
}

pub(crate) fn plan_update(plan: &[PlanStep]) -> SessionUpdate {
    SessionUpdate::Plan(Plan::new(
        plan.iter()
            .map(|s| {
                let status = match s.status {
                    StepStatus::Pending => PlanEntryStatus::Pending,
                    StepStatus::InProgress => PlanEntryStatus::InProgress,
                    StepStatus::Completed => PlanEntryStatus::Completed,
                };
                PlanEntry::new(s.step.clone(), PlanEntryPriority::Medium, status)
            })
            .collect(),
    ))
}

fn todo_update(items: &[TodoItem]) -> SessionUpdate {
    SessionUpdate::Plan(Plan::new(
        items
            .iter()
            .map(|i| {
                let status = if i.completed {
                    PlanEntryStatus::Completed
                } else {
                    PlanEntryStatus::Pending
                };
                PlanEntry::new(i.text.clone(), PlanEntryPriority::Medium, status)
            })
            .collect(),
    ))
}

/// A path shown to the client: absolute, as ACP requires.
pub(crate) fn absolute(cwd: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(msg: EventMsg) -> Event {
        Event {
            turn_id: Some("turn_0".into()),
            msg,
        }
    }

    fn wire(update: &SessionUpdate) -> Value {
        serde_json::to_value(update).unwrap()
    }

    #[test]
    fn deltas_stream_and_the_completed_message_is_not_repeated() {
        let mut m = UpdateMapper::new("/w".into());
        let u = m.map(&ev(EventMsg::AgentMessageDelta {
            item_id: "item_0".into(),
            delta: "Hel".into(),
        }));
        assert_eq!(wire(&u[0])["sessionUpdate"], "agent_message_chunk");
        assert_eq!(
            wire(&u[0])["content"],
            json!({"type": "text", "text": "Hel"})
        );
        assert_eq!(wire(&u[0])["_meta"]["tandem"]["itemId"], "item_0");
        let done = m.map(&ev(EventMsg::ItemCompleted {
            item: ThreadItem {
                id: "item_0".into(),
                details: ItemDetails::AgentMessage {
                    text: "Hello".into(),
                },
            },
        }));
        assert!(done.is_empty());
        // A provider that does not stream still gets its message shown.
        let whole = m.map(&ev(EventMsg::ItemCompleted {
            item: ThreadItem {
                id: "item_1".into(),
                details: ItemDetails::Reasoning { text: "hmm".into() },
            },
        }));
        assert_eq!(wire(&whole[0])["sessionUpdate"], "agent_thought_chunk");
    }

    #[test]
    fn commands_are_execute_tool_calls_with_their_output() {
        let mut m = UpdateMapper::new("/w".into());
        let item = |status, exit_code: Option<i32>, out: &str| ThreadItem {
            id: "item_2".into(),
            details: ItemDetails::CommandExecution {
                command: "ls".into(),
                aggregated_output: out.into(),
                exit_code,
                status,
            },
        };
        let start = m.map(&ev(EventMsg::ItemStarted {
            item: item(ItemStatus::InProgress, None, ""),
        }));
        let start = wire(&start[0]);
        assert_eq!(start["sessionUpdate"], "tool_call");
        assert_eq!(start["toolCallId"], "item_2");
        assert_eq!(start["kind"], "execute");
        assert_eq!(start["status"], "in_progress");
        assert_eq!(start["title"], "ls");
        let end = m.map(&ev(EventMsg::ItemCompleted {
            item: item(ItemStatus::Completed, Some(0), "a\nb\n"),
        }));
        let end = wire(&end[0]);
        assert_eq!(end["sessionUpdate"], "tool_call_update");
        assert_eq!(end["status"], "completed");
        assert_eq!(end["content"][0]["content"]["text"], "```\na\nb\n```");
        assert_eq!(end["rawOutput"]["exitCode"], 0);
        let declined = m.map(&ev(EventMsg::ItemCompleted {
            item: item(ItemStatus::Declined, None, ""),
        }));
        assert_eq!(wire(&declined[0])["status"], "failed");
    }

    #[test]
    fn file_changes_carry_whole_file_diffs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.txt"), "old\n").unwrap();
        let mut m = UpdateMapper::new(dir.path().into());
        let item = |status| ThreadItem {
            id: "item_3".into(),
            details: ItemDetails::FileChange {
                changes: vec![
                    FileUpdateChange {
                        path: "a.txt".into(),
                        kind: PatchChangeKind::Update,
                    },
                    FileUpdateChange {
                        path: "b.txt".into(),
                        kind: PatchChangeKind::Add,
                    },
                ],
                status,
            },
        };
        let start = m.map(&ev(EventMsg::ItemStarted {
            item: item(ItemStatus::InProgress),
        }));
        let start = wire(&start[0]);
        assert_eq!(start["kind"], "edit");
        assert_eq!(
            start["locations"][0]["path"],
            dir.path().join("a.txt").display().to_string()
        );
        std::fs::write(dir.path().join("a.txt"), "new\n").unwrap();
        std::fs::write(dir.path().join("b.txt"), "born\n").unwrap();
        let end = m.map(&ev(EventMsg::ItemCompleted {
            item: item(ItemStatus::Completed),
        }));
        let end = wire(&end[0]);
        assert_eq!(end["content"][0]["type"], "diff");
        assert_eq!(end["content"][0]["oldText"], "old\n");
        assert_eq!(end["content"][0]["newText"], "new\n");
        assert_eq!(end["content"][1]["oldText"], Value::Null);
        assert_eq!(end["content"][1]["newText"], "born\n");
    }

    #[test]
    fn plans_send_the_whole_list() {
        let mut m = UpdateMapper::new("/w".into());
        let u = m.map(&ev(EventMsg::PlanUpdated {
            explanation: None,
            plan: vec![
                PlanStep {
                    step: "read".into(),
                    status: StepStatus::Completed,
                },
                PlanStep {
                    step: "write".into(),
                    status: StepStatus::InProgress,
                },
            ],
        }));
        let u = wire(&u[0]);
        assert_eq!(u["sessionUpdate"], "plan");
        assert_eq!(u["entries"][1]["status"], "in_progress");
        assert_eq!(u["entries"][0]["priority"], "medium");
    }

    #[test]
    fn long_output_is_cut_from_the_front_and_fences_are_safe() {
        let out = format!("{}end", "x".repeat(MAX_OUTPUT_CHARS + 10));
        let f = fenced(&out);
        assert!(f.starts_with("```\n…\n"));
        assert!(f.ends_with("end\n```"));
        assert!(fenced("a ``` b").starts_with("````\n"));
    }
}
