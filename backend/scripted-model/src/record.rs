//! What the server received: every request, in order, with helpers to read a model request
//! the same way whichever wire API it used.
//!
//! Tests assert on what the agent *sent* (the tools it offered, the tool outputs it fed
//! back, the user's words), so the helpers hide the difference between Responses `input`
//! items and Chat `messages`.

use crate::scenario::Wire;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// One request as the server received it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// Arrival order, from 0.
    pub index: usize,
    pub method: String,
    /// The path without the query, e.g. `/v1/responses`.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Header names are lower-case. A repeated header's values are joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// The JSON body; a body that is not JSON is recorded as a string, an empty one as null.
    pub body: Value,
    /// The scenario step (counted from 1) that answered, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
}

impl RecordedRequest {
    /// The wire API of a model request, from its path.
    pub fn wire(&self) -> Option<Wire> {
        wire_of_path(&self.path)
    }

    /// The text of the last user message.
    pub fn last_user_text(&self) -> Option<String> {
        self.messages()
            .into_iter()
            .rev()
            .find(|(role, _)| role == "user")
            .map(|(_, text)| text)
    }

    /// The outputs of every tool call the request carries, oldest first.
    pub fn tool_outputs(&self) -> Vec<String> {
        match self.wire() {
            Some(Wire::Responses) => self
                .items("input")
                .filter(|item| {
                    item.get("type").and_then(Value::as_str) == Some("function_call_output")
                })
                .map(|item| text_of(item.get("output").unwrap_or(&Value::Null)))
                .collect(),
            Some(Wire::Chat) => self
                .items("messages")
                .filter(|m| m.get("role").and_then(Value::as_str) == Some("tool"))
                .map(|m| text_of(m.get("content").unwrap_or(&Value::Null)))
                .collect(),
            None => Vec::new(),
        }
    }

    /// The tool outputs sent after the last user message: the results of the agent's
    /// current turn.
    pub fn recent_tool_outputs(&self) -> Vec<String> {
        let (key, output_field) = match self.wire() {
            Some(Wire::Responses) => ("input", "output"),
            Some(Wire::Chat) => ("messages", "content"),
            None => return Vec::new(),
        };
        let mut outputs = Vec::new();
        for item in self.items(key) {
            let kind = item.get("type").and_then(Value::as_str);
            let role = item.get("role").and_then(Value::as_str);
            if role == Some("user") && matches!(kind, None | Some("message")) {
                outputs.clear();
            } else if kind == Some("function_call_output") || role == Some("tool") {
                outputs.push(text_of(item.get(output_field).unwrap_or(&Value::Null)));
            }
        }
        outputs
    }

    /// The names of the tools offered.
    pub fn tool_names(&self) -> Vec<String> {
        self.items("tools")
            .filter_map(|tool| {
                tool.get("name")
                    .or_else(|| tool.pointer("/function/name"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .collect()
    }

    /// The system instructions: Responses `instructions`, or the Chat system messages.
    pub fn instructions(&self) -> Option<String> {
        match self.wire()? {
            Wire::Responses => self
                .body
                .get("instructions")
                .and_then(Value::as_str)
                .map(str::to_string),
            Wire::Chat => {
                let system: Vec<String> = self
                    .messages()
                    .into_iter()
                    .filter(|(role, _)| role == "system")
                    .map(|(_, text)| text)
                    .collect();
                (!system.is_empty()).then(|| system.join("\n\n"))
            }
        }
    }

    /// `(role, text)` of every message (not tool calls or outputs), in order.
    pub fn messages(&self) -> Vec<(String, String)> {
        let key = match self.wire() {
            Some(Wire::Responses) => "input",
            Some(Wire::Chat) => "messages",
            None => return Vec::new(),
        };
        self.items(key)
            .filter(|item| {
                matches!(
                    item.get("type").and_then(Value::as_str),
                    None | Some("message")
                ) && item.get("role").is_some()
            })
            .filter_map(|item| {
                let role = item.get("role")?.as_str()?.to_string();
                let text = text_of(item.get("content").unwrap_or(&Value::Null));
                Some((role, text))
            })
            .collect()
    }

    fn items(&self, key: &str) -> impl Iterator<Item = &Value> {
        self.body
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    }
}

/// The wire API served at `path`, with or without the `/v1` prefix.
pub(crate) fn wire_of_path(path: &str) -> Option<Wire> {
    let path = path.strip_prefix("/v1").unwrap_or(path);
    match path.trim_end_matches('/') {
        "/responses" => Some(Wire::Responses),
        "/chat/completions" => Some(Wire::Chat),
        _ => None,
    }
}

/// The text of a content value: a string, or the `text` of each part of an array.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Appends requests to a JSONL file as they arrive.
///
/// The `authorization` header is redacted in the file (it is kept in memory for tests): a
/// record file outlives the test and may be shared, and the agent may have been given a real
/// key.
#[derive(Debug)]
pub(crate) struct RecordFile {
    file: Mutex<std::fs::File>,
}

impl RecordFile {
    pub(crate) fn open(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(RecordFile {
            file: Mutex::new(file),
        })
    }

    pub(crate) fn append(&self, request: &RecordedRequest) {
        let mut redacted = request.clone();
        if let Some(auth) = redacted.headers.get_mut("authorization") {
            *auth = "<redacted>".to_string();
        }
        let Ok(mut line) = serde_json::to_string(&redacted) else {
            return;
        };
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        // A failed write must not fail the request being served; the test that reads the
        // file will notice the gap.
        let _ = file.write_all(line.as_bytes()).and_then(|()| file.flush());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn request(path: &str, body: Value) -> RecordedRequest {
        RecordedRequest {
            index: 0,
            method: "POST".into(),
            path: path.into(),
            query: None,
            headers: BTreeMap::new(),
            body,
            step: None,
        }
    }

    #[test]
    fn responses_requests_are_readable() {
        let r = request(
            "/v1/responses",
            json!({
                "instructions": "sys",
                "tools": [{"type": "function", "name": "shell"}],
                "input": [
                    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "first"}]},
                    {"type": "function_call_output", "call_id": "a", "output": "old"},
                    {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "fix it"}]},
                    {"type": "function_call", "call_id": "b", "name": "shell", "arguments": "{}"},
                    {"type": "function_call_output", "call_id": "b", "output": "fn add"},
                ],
            }),
        );
        assert_eq!(r.wire(), Some(Wire::Responses));
        assert_eq!(r.last_user_text().as_deref(), Some("fix it"));
        assert_eq!(r.tool_outputs(), vec!["old", "fn add"]);
        assert_eq!(r.recent_tool_outputs(), vec!["fn add"]);
        assert_eq!(r.tool_names(), vec!["shell"]);
        assert_eq!(r.instructions().as_deref(), Some("sys"));
    }

    #[test]
    fn chat_requests_are_readable() {
        let r = request(
            "/chat/completions",
            json!({
                "tools": [{"type": "function", "function": {"name": "apply_patch"}}],
                "messages": [
                    {"role": "system", "content": "sys"},
                    {"role": "user", "content": [{"type": "text", "text": "fix "}, {"type": "text", "text": "it"}]},
                    {"role": "assistant", "content": null, "tool_calls": []},
                    {"role": "tool", "tool_call_id": "b", "content": "fn add"},
                ],
            }),
        );
        assert_eq!(r.wire(), Some(Wire::Chat));
        assert_eq!(r.last_user_text().as_deref(), Some("fix it"));
        assert_eq!(r.recent_tool_outputs(), vec!["fn add"]);
        assert_eq!(r.tool_names(), vec!["apply_patch"]);
        assert_eq!(r.instructions().as_deref(), Some("sys"));
    }
}
