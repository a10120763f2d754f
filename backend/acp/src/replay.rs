//! `session/load`: the conversation so far, rebuilt from the session record as the
//! `session/update`s a client would have seen live.
//!
//! The record (`$TANDEM_HOME/sessions/<id>.jsonl`, see `tandem_core::rollout`) keeps what the
//! model saw (`response_item` lines: the user's messages come from here) and the stable event
//! stream (`event` lines with `item.completed`: answers, commands, edits, plans). Compaction
//! shortens what the model sees, not what the person saw, so `compacted` lines are skipped.
//! Whole-file diffs were not recorded; a replayed edit shows its files, not its text.

use crate::updates::{UpdateMapper, tandem_meta, text};
use agent_client_protocol::schema::{ContentChunk, SessionUpdate, ToolCall, ToolCallLocation};
use serde_json::{Value, json};
use std::io::BufRead;
use std::path::Path;
use tandem_protocol::events::{Event, EventMsg, ThreadEvent};
use tandem_protocol::items::{ItemDetails, ThreadItem};

/// The updates that replay the session recorded at `path`. Unreadable lines are skipped: a
/// torn last line is normal after a crash, and a partial history beats none.
pub(crate) fn history(path: &Path, cwd: &Path) -> std::io::Result<Vec<SessionUpdate>> {
    let file = std::fs::File::open(path)?;
    let mut mapper = UpdateMapper::new(cwd.to_path_buf());
    let mut out = Vec::new();
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
            }
            Some("event") => {
                let Ok(ThreadEvent::ItemCompleted { item }) =
                    serde_json::from_value::<ThreadEvent>(value["payload"].clone())
                else {
                    continue;
                };
                out.extend(replay_item(&mut mapper, cwd, item));
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

/// One completed item as a client would have it at the end: a tool call in its final state,
/// or the message, thought or plan.
fn replay_item(mapper: &mut UpdateMapper, cwd: &Path, item: ThreadItem) -> Vec<SessionUpdate> {
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
            // Diffs need the text before and after, which the record does not keep.
            let call = ToolCall::new(item.id.clone(), crate::updates::edit_title(changes))
                .kind(agent_client_protocol::schema::ToolKind::Edit)
                .status(crate::updates::tool_status(*status))
                .locations(
                    changes
                        .iter()
                        .map(|c| ToolCallLocation::new(cwd.join(&c.path)))
                        .collect(),
                )
                .content(vec![
                    text(format!(
                        "{} (replayed from the session record; diffs are not kept)",
                        changes
                            .iter()
                            .map(|c| format!("{:?} {}", c.kind, c.path).to_lowercase())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ))
                    .into(),
                ])
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
}
