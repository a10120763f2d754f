//! `session/load`: the conversation so far, rebuilt from the session record as the
//! `session/update`s a client would have seen live.
//!
//! The record (`$TANDEM_HOME/sessions/<id>.jsonl`, see `tandem_core::rollout`) keeps what the
//! model saw (`response_item` lines: the user's messages come from here) and the stable event
//! stream (`event` lines with `item.completed`: answers, commands, edits, plans). Compaction
//! shortens what the model sees, not what the person saw, so `compacted` lines are skipped.
//!
//! The record keeps no file contents, but it keeps every patch the model sent (the
//! `apply_patch` call, or a `shell` call that the kernel routes to it). A replayed edit shows
//! that patch: one diff per hunk, its context and removed lines against its context and added
//! lines, which is what was reviewed live. Patches and `file_change` items are paired in order,
//! and only when they name the same files; otherwise the edit shows its files alone.

use crate::updates::{UpdateMapper, tandem_meta, text};
use agent_client_protocol::schema::{
    ContentChunk, Diff, SessionUpdate, ToolCall, ToolCallContent, ToolCallLocation,
};
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use tandem_apply_patch::FileOp;
use tandem_core::tools::{ToolCall as KernelToolCall, parse_call};
use tandem_protocol::events::{Event, EventMsg, ThreadEvent};
use tandem_protocol::items::{ItemDetails, ItemStatus, ThreadItem};

/// The updates that replay the session recorded at `path`. Unreadable lines are skipped: a
/// torn last line is normal after a crash, and a partial history beats none.
pub(crate) fn history(path: &Path, cwd: &Path) -> std::io::Result<Vec<SessionUpdate>> {
    let file = std::fs::File::open(path)?;
    let mut mapper = UpdateMapper::new(cwd.to_path_buf());
    let mut out = Vec::new();
    let mut patches = std::collections::VecDeque::new();
    for line in std::io::BufReader::new(file).lines() {
        let line = line?;
        let Ok(value) = serde_json::from_str::<Value>(&line) else {
            continue;
        };
        match value["type"].as_str() {
            Some("response_item") => {
                if let Some(text) = user_text(&value["payload"]) {
                    out.push(SessionUpdate::UserMessageChunk(ContentChunk::new(
                        crate::updates::text(text),
                    )));
                }
                if let Some(patch) = sent_patch(&value["payload"], cwd) {
                    patches.push_back(patch);
                }
            }
            Some("event") => {
                let Ok(ThreadEvent::ItemCompleted { item }) =
                    serde_json::from_value::<ThreadEvent>(value["payload"].clone())
                else {
                    continue;
                };
                let patch = match &item.details {
                    ItemDetails::FileChange { .. } => patches.pop_front(),
                    _ => None,
                };
                out.extend(replay_item(&mut mapper, cwd, item, patch));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// A user message of the conversation; `None` for other items and for the context the kernel
/// adds itself (environment, AGENTS.md).
fn user_text(payload: &Value) -> Option<String> {
    if payload["type"] != "message" || payload["role"] != "user" {
        return None;
    }
    let text: String = payload["content"]
        .as_array()?
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect();
    let context = text.starts_with("<environment_context>")
        || text.starts_with("# AGENTS.md instructions")
        || text.starts_with("<user_instructions>");
    (!context && !text.is_empty()).then_some(text)
}

/// A patch the model sent, parsed, with the directory its relative paths start from.
struct SentPatch {
    ops: Vec<FileOp>,
    base: PathBuf,
}

impl SentPatch {
    /// The file each operation touches (before any move), absolute.
    fn paths(&self) -> Vec<PathBuf> {
        self.ops
            .iter()
            .map(|op| match op {
                FileOp::Add { path, .. }
                | FileOp::Delete { path }
                | FileOp::Update { path, .. } => self.base.join(path),
            })
            .collect()
    }

    /// The patch as ACP content: a diff per hunk, the whole text of an added file, and a line
    /// for a deletion (whose old text the patch does not carry).
    fn content(&self) -> Vec<ToolCallContent> {
        let mut out = Vec::new();
        for op in &self.ops {
            match op {
                FileOp::Add { path, contents } => {
                    out.push(ToolCallContent::Diff(Diff::new(
                        self.base.join(path),
                        contents.clone(),
                    )));
                }
                FileOp::Delete { path } => {
                    out.push(text(format!("Deleted {}", self.base.join(path).display())).into())
                }
                FileOp::Update {
                    path,
                    move_to,
                    chunks,
                } => {
                    let shown = self.base.join(move_to.as_ref().unwrap_or(path));
                    if chunks.is_empty() {
                        out.push(
                            text(format!(
                                "Moved {} to {}",
                                self.base.join(path).display(),
                                shown.display()
                            ))
                            .into(),
                        );
                    }
                    for chunk in chunks {
                        out.push(ToolCallContent::Diff(
                            Diff::new(shown.clone(), lines(&chunk.new_lines))
                                .old_text(Some(lines(&chunk.old_lines))),
                        ));
                    }
                }
            }
        }
        out
    }
}

fn lines(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// The patch in a recorded model call, parsed as the kernel parsed it; `None` for anything
/// else (and for a patch that did not parse, which produced no `file_change` item either).
fn sent_patch(payload: &Value, cwd: &Path) -> Option<SentPatch> {
    if payload["type"] != "function_call" {
        return None;
    }
    let name = payload["name"].as_str()?;
    let arguments = payload["arguments"].as_str().unwrap_or_default();
    let Ok(Some(KernelToolCall::ApplyPatch { input, workdir })) = parse_call(name, arguments)
    else {
        return None;
    };
    let patch = tandem_apply_patch::parse_patch(&input).ok()?;
    Some(SentPatch {
        ops: patch.ops,
        base: workdir.map_or_else(|| cwd.to_path_buf(), |w| cwd.join(w)),
    })
}

/// One completed item as a client would have it at the end: a tool call in its final state,
/// or the message, thought or plan. `patch` is what the model sent for a `file_change` item.
fn replay_item(
    mapper: &mut UpdateMapper,
    cwd: &Path,
    item: ThreadItem,
    patch: Option<SentPatch>,
) -> Vec<SessionUpdate> {
    let announce = |title: String, kind| {
        SessionUpdate::ToolCall(
            ToolCall::new(item.id.clone(), title)
                .kind(kind)
                .meta(tandem_meta(json!({"itemId": item.id, "replayed": true}))),
        )
    };
    let first = match &item.details {
        ItemDetails::CommandExecution { command, .. } => Some(announce(
            command.clone(),
            agent_client_protocol::schema::ToolKind::Execute,
        )),
        ItemDetails::McpToolCall { server, tool, .. } => Some(announce(
            format!("{server}/{tool}"),
            agent_client_protocol::schema::ToolKind::Other,
        )),
        ItemDetails::FileChange { changes, status } => {
            let files: Vec<PathBuf> = changes.iter().map(|c| cwd.join(&c.path)).collect();
            let content = match patch {
                // Only a patch that was applied is shown as diffs, and only the one this item
                // reports (the same files): pairing by order alone could show the wrong text.
                Some(patch) if *status == ItemStatus::Completed && patch.paths() == files => {
                    patch.content()
                }
                _ => vec![
                    text(format!(
                        "{} (replayed from the session record)",
                        changes
                            .iter()
                            .map(|c| format!("{:?} {}", c.kind, c.path).to_lowercase())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .into(),
                ],
            };
            let call = ToolCall::new(item.id.clone(), crate::updates::edit_title(changes))
                .kind(agent_client_protocol::schema::ToolKind::Edit)
                .status(crate::updates::tool_status(*status))
                .locations(
                    changes
                        .iter()
                        .map(|c| ToolCallLocation::new(cwd.join(&c.path)))
                        .collect(),
                )
                .content(content)
                .meta(tandem_meta(json!({"itemId": item.id, "replayed": true})));
            return vec![SessionUpdate::ToolCall(call)];
        }
        _ => None,
    };
    let rest = mapper.map(&Event {
        turn_id: None,
        msg: EventMsg::ItemCompleted { item },
    });
    first.into_iter().chain(rest).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_replays_as_the_client_saw_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.jsonl");
        let lines = [
            json!({"t": 1, "type": "session_meta", "payload": {"id": "s", "cwd": "/w", "model": "m", "model_provider": "p", "created_at": 1, "cli_version": "0"}}),
            json!({"t": 2, "type": "response_item", "payload": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "<environment_context>x</environment_context>"}]}}),
            json!({"t": 3, "type": "response_item", "payload": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]}}),
            json!({"t": 4, "type": "event", "payload": {"type": "item.started", "item": {"id": "item_0", "type": "command_execution", "command": "ls", "aggregated_output": "", "exit_code": null, "status": "in_progress"}}}),
            json!({"t": 5, "type": "event", "payload": {"type": "item.completed", "item": {"id": "item_0", "type": "command_execution", "command": "ls", "aggregated_output": "a\n", "exit_code": 0, "status": "completed"}}}),
            json!({"t": 6, "type": "event", "payload": {"type": "item.completed", "item": {"id": "item_1", "type": "agent_message", "text": "There is a."}}}),
            json!({"t": 7, "type": "compacted", "payload": {"history": []}}),
        ];
        let mut text = lines
            .iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join("\n");
        text.push_str("\n{\"t\": 8, \"type\": \"ev"); // a torn last line
        std::fs::write(&path, text).unwrap();
        let updates: Vec<Value> = history(&path, Path::new("/w"))
            .unwrap()
            .iter()
            .map(|u| serde_json::to_value(u).unwrap())
            .collect();
        let kinds: Vec<&str> = updates
            .iter()
            .map(|u| u["sessionUpdate"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "user_message_chunk",
                "tool_call",
                "tool_call_update",
                "agent_message_chunk"
            ]
        );
        assert_eq!(updates[0]["content"]["text"], "list files");
        assert_eq!(updates[1]["title"], "ls");
        assert_eq!(updates[2]["status"], "completed");
        assert_eq!(updates[3]["content"]["text"], "There is a.");
    }

    fn replayed(lines: &[Value]) -> Vec<Value> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.jsonl");
        let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        std::fs::write(&path, text.join("\n")).unwrap();
        history(&path, Path::new("/w"))
            .unwrap()
            .iter()
            .map(|u| serde_json::to_value(u).unwrap())
            .filter(|u| u["sessionUpdate"] == "tool_call")
            .collect()
    }

    fn patch_call(arguments: Value) -> Value {
        json!({"type": "response_item", "payload": {"type": "function_call", "call_id": "c1",
               "name": "apply_patch", "arguments": arguments.to_string()}})
    }

    fn file_change(id: &str, changes: Value, status: &str) -> Value {
        json!({"type": "event", "payload": {"type": "item.completed", "item": {"id": id,
               "type": "file_change", "changes": changes, "status": status}}})
    }

    #[test]
    fn a_replayed_edit_shows_the_patch_that_made_it() {
        let patch = "*** Begin Patch\n*** Update File: src/calc.py\n@@ def add(a, b):\n-    return a - b\n+    return a + b\n*** Add File: NOTES.md\n+fixed add\n*** End Patch\n";
        let calls = replayed(&[
            patch_call(json!({"input": patch})),
            file_change(
                "item_2",
                json!([{"path": "src/calc.py", "kind": "update"}, {"path": "NOTES.md", "kind": "add"}]),
                "completed",
            ),
        ]);
        assert_eq!(calls.len(), 1);
        let content = calls[0]["content"].as_array().unwrap();
        assert_eq!(content.len(), 2, "{content:#?}");
        assert_eq!(content[0]["type"], "diff");
        assert_eq!(content[0]["path"], "/w/src/calc.py");
        assert_eq!(content[0]["oldText"], "    return a - b\n");
        assert_eq!(content[0]["newText"], "    return a + b\n");
        assert_eq!(content[1]["path"], "/w/NOTES.md");
        assert_eq!(content[1]["oldText"], Value::Null);
        assert_eq!(content[1]["newText"], "fixed add\n");
    }

    #[test]
    fn a_patch_routed_through_the_shell_is_found_too() {
        let script =
            "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: a.txt\n+a\n*** End Patch\nEOF\n";
        let calls = replayed(&[
            json!({"type": "response_item", "payload": {"type": "function_call", "call_id": "c1",
                   "name": "shell", "arguments": json!({"command": ["bash", "-lc", script]}).to_string()}}),
            file_change(
                "item_0",
                json!([{"path": "a.txt", "kind": "add"}]),
                "completed",
            ),
        ]);
        assert_eq!(calls[0]["content"][0]["newText"], "a\n", "{:#}", calls[0]);
    }

    #[test]
    fn an_edit_that_was_not_applied_or_does_not_match_shows_only_its_files() {
        let patch = |file: &str| {
            patch_call(
                json!({"input": format!("*** Begin Patch\n*** Add File: {file}\n+x\n*** End Patch\n")}),
            )
        };
        let calls = replayed(&[
            patch("a.txt"),
            file_change(
                "item_0",
                json!([{"path": "a.txt", "kind": "add"}]),
                "declined",
            ),
            patch("b.txt"),
            file_change(
                "item_1",
                json!([{"path": "other.txt", "kind": "add"}]),
                "completed",
            ),
        ]);
        for call in &calls {
            let content = &call["content"][0];
            assert_eq!(content["type"], "content", "{call:#}");
            assert!(
                content["content"]["text"]
                    .as_str()
                    .unwrap()
                    .contains("replayed from the session record")
            );
        }
    }
}
