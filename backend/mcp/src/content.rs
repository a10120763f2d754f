//! What a tool call returns, in a shape of our own.
//!
//! The result is read from the MCP wire JSON (`content`, `structuredContent`, `isError`) rather
//! than from `rmcp`'s model types: the spec's JSON is the stable contract, while the SDK's
//! structs are `#[non_exhaustive]` and reshaped between releases. Unknown content kinds are kept
//! as raw JSON instead of failing the call.
//!
//! The kernel needs two renderings: text for the model ([`McpCallResult::to_model_text`]), which
//! can only take text in a function-call output, and JSON for the recorded item
//! ([`McpCallResult::to_json`]), which keeps everything, images included.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// One block of a tool result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum McpContent {
    Text {
        text: String,
    },
    /// Base64 data, as the server sent it.
    Image {
        data: String,
        mime_type: String,
    },
    /// Base64 data, as the server sent it.
    Audio {
        data: String,
        mime_type: String,
    },
    /// An embedded resource: either text or a base64 blob.
    Resource {
        uri: String,
        mime_type: Option<String>,
        text: Option<String>,
        blob: Option<String>,
    },
    /// A link to a resource the server can serve.
    ResourceLink {
        uri: String,
        name: Option<String>,
        description: Option<String>,
        mime_type: Option<String>,
    },
    /// A kind of content this client does not know, kept verbatim.
    Other {
        value: Value,
    },
}

/// The outcome of a tool call that reached the server and got an answer.
///
/// `is_error` is the *tool's* verdict (bad input, a file not found): the model should read it
/// and may retry. Failures of the server or the connection are [`crate::McpError`]s instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpCallResult {
    pub content: Vec<McpContent>,
    /// The tool's structured output (`structuredContent`), when it has an output schema.
    pub structured_content: Option<Value>,
    pub is_error: bool,
}

fn str_field(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.get(key).and_then(Value::as_str).map(str::to_owned)
}

impl McpContent {
    /// Reads one block of the MCP wire format (`{"type": "text", "text": ...}` and friends).
    pub fn from_wire(value: &Value) -> Self {
        let other = || McpContent::Other {
            value: value.clone(),
        };
        let Some(obj) = value.as_object() else {
            return other();
        };
        let data_block = |make: fn(String, String) -> McpContent| match (
            str_field(obj, "data"),
            str_field(obj, "mimeType"),
        ) {
            (Some(data), Some(mime)) => make(data, mime),
            _ => other(),
        };
        match obj.get("type").and_then(Value::as_str) {
            Some("text") => match str_field(obj, "text") {
                Some(text) => McpContent::Text { text },
                None => other(),
            },
            Some("image") => data_block(|data, mime_type| McpContent::Image { data, mime_type }),
            Some("audio") => data_block(|data, mime_type| McpContent::Audio { data, mime_type }),
            Some("resource") => {
                let Some(res) = obj.get("resource").and_then(Value::as_object) else {
                    return other();
                };
                let Some(uri) = str_field(res, "uri") else {
                    return other();
                };
                McpContent::Resource {
                    uri,
                    mime_type: str_field(res, "mimeType"),
                    text: str_field(res, "text"),
                    blob: str_field(res, "blob"),
                }
            }
            Some("resource_link") => match str_field(obj, "uri") {
                Some(uri) => McpContent::ResourceLink {
                    uri,
                    name: str_field(obj, "name"),
                    description: str_field(obj, "description"),
                    mime_type: str_field(obj, "mimeType"),
                },
                None => other(),
            },
            _ => other(),
        }
    }

    /// The block back in MCP wire shape.
    pub fn to_wire(&self) -> Value {
        fn with_optional(mut obj: Value, fields: [(&str, &Option<String>); 3]) -> Value {
            for (key, val) in fields {
                if let Some(val) = val {
                    obj[key] = json!(val);
                }
            }
            obj
        }
        match self {
            McpContent::Text { text } => json!({"type": "text", "text": text}),
            McpContent::Image { data, mime_type } => {
                json!({"type": "image", "data": data, "mimeType": mime_type})
            }
            McpContent::Audio { data, mime_type } => {
                json!({"type": "audio", "data": data, "mimeType": mime_type})
            }
            McpContent::Resource {
                uri,
                mime_type,
                text,
                blob,
            } => {
                let resource = with_optional(
                    json!({"uri": uri}),
                    [("mimeType", mime_type), ("text", text), ("blob", blob)],
                );
                json!({"type": "resource", "resource": resource})
            }
            McpContent::ResourceLink {
                uri,
                name,
                description,
                mime_type,
            } => with_optional(
                json!({"type": "resource_link", "uri": uri}),
                [
                    ("name", name),
                    ("description", description),
                    ("mimeType", mime_type),
                ],
            ),
            McpContent::Other { value } => value.clone(),
        }
    }

    /// How the block reads in a text-only function output.
    ///
    /// Binary payloads are summarised, not inlined: base64 in the model's context costs tokens
    /// and tells it nothing.
    pub fn to_model_text(&self) -> String {
        match self {
            McpContent::Text { text } => text.clone(),
            McpContent::Image { data, mime_type } => {
                format!("[image: {mime_type}, {} bytes]", decoded_len(data))
            }
            McpContent::Audio { data, mime_type } => {
                format!("[audio: {mime_type}, {} bytes]", decoded_len(data))
            }
            McpContent::Resource {
                uri,
                text: Some(text),
                ..
            } => format!("[resource {uri}]\n{text}"),
            McpContent::Resource {
                uri,
                mime_type,
                blob,
                ..
            } => {
                let mime = mime_type.as_deref().unwrap_or("unknown type");
                let size = blob.as_deref().map_or(0, decoded_len);
                format!("[resource {uri}: {mime}, {size} bytes]")
            }
            McpContent::ResourceLink {
                uri,
                name,
                description,
                ..
            } => {
                let mut s = format!("[resource link {uri}");
                if let Some(name) = name {
                    s.push_str(&format!(" ({name})"));
                }
                if let Some(description) = description {
                    s.push_str(&format!(": {description}"));
                }
                s.push(']');
                s
            }
            McpContent::Other { value } => value.to_string(),
        }
    }
}

/// The size of base64 data once decoded, from its length alone.
fn decoded_len(b64: &str) -> usize {
    let trimmed = b64.trim_end_matches('=');
    trimmed.len() * 3 / 4
}

impl McpCallResult {
    /// Reads a `tools/call` result in MCP wire shape.
    pub fn from_wire(value: &Value) -> Self {
        let content = value
            .get("content")
            .and_then(Value::as_array)
            .map(|blocks| blocks.iter().map(McpContent::from_wire).collect())
            .unwrap_or_default();
        McpCallResult {
            content,
            structured_content: value.get("structuredContent").cloned(),
            is_error: value
                .get("isError")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        }
    }

    /// The result in MCP wire shape, for the recorded item.
    pub fn to_json(&self) -> Value {
        let mut obj = json!({
            "content": self.content.iter().map(McpContent::to_wire).collect::<Vec<_>>(),
            "isError": self.is_error,
        });
        if let Some(structured) = &self.structured_content {
            obj["structuredContent"] = structured.clone();
        }
        obj
    }

    /// The text the model reads as the function output.
    ///
    /// Blocks are joined by newlines. Structured content is appended as JSON when there is no
    /// text block carrying it already (the spec asks servers to mirror it in a text block, but
    /// not all do). An error result is prefixed so the model cannot mistake it for data.
    pub fn to_model_text(&self) -> String {
        let mut parts: Vec<String> = self.content.iter().map(McpContent::to_model_text).collect();
        if let Some(structured) = &self.structured_content {
            let rendered = structured.to_string();
            let mirrored = self.content.iter().any(|c| match c {
                McpContent::Text { text } => {
                    serde_json::from_str::<Value>(text).is_ok_and(|v| &v == structured)
                }
                _ => false,
            });
            if !mirrored {
                parts.push(rendered);
            }
        }
        let body = parts.join("\n");
        match (self.is_error, body.is_empty()) {
            (true, true) => "error: the tool failed without saying why".to_owned(),
            (true, false) => format!("error: {body}"),
            (false, true) => "(no output)".to_owned(),
            (false, false) => body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_text_image_and_structured_content() {
        let wire = json!({
            "content": [
                {"type": "text", "text": "The sum of 2 and 40 is 42."},
                {"type": "image", "data": "iVBORw0KGgo=", "mimeType": "image/png"},
                {"type": "resource", "resource": {"uri": "file:///a.txt", "text": "hello", "mimeType": "text/plain"}},
                {"type": "resource_link", "uri": "test://static/1", "name": "one"},
                {"type": "hologram", "depth": 3}
            ],
            "structuredContent": {"sum": 42},
            "isError": false
        });
        let result = McpCallResult::from_wire(&wire);
        assert_eq!(result.content.len(), 5);
        assert_eq!(
            result.content[1],
            McpContent::Image {
                data: "iVBORw0KGgo=".into(),
                mime_type: "image/png".into()
            }
        );
        assert!(matches!(result.content[4], McpContent::Other { .. }));
        assert_eq!(result.structured_content, Some(json!({"sum": 42})));
        assert_eq!(
            result.to_model_text(),
            "The sum of 2 and 40 is 42.\n[image: image/png, 8 bytes]\n\
             [resource file:///a.txt]\nhello\n[resource link test://static/1 (one)]\n\
             {\"depth\":3,\"type\":\"hologram\"}\n{\"sum\":42}"
        );
        // The JSON rendering round-trips everything, unknown blocks included.
        assert_eq!(McpCallResult::from_wire(&result.to_json()), result);
    }

    #[test]
    fn structured_content_mirrored_in_text_is_not_repeated() {
        let wire = json!({
            "content": [{"type": "text", "text": "{\"sum\": 42}"}],
            "structuredContent": {"sum": 42}
        });
        assert_eq!(
            McpCallResult::from_wire(&wire).to_model_text(),
            "{\"sum\": 42}"
        );
    }

    #[test]
    fn errors_and_empty_results_say_so() {
        let err = McpCallResult::from_wire(&json!({
            "content": [{"type": "text", "text": "no such file"}],
            "isError": true
        }));
        assert!(err.is_error);
        assert_eq!(err.to_model_text(), "error: no such file");
        assert_eq!(
            McpCallResult::from_wire(&json!({"content": []})).to_model_text(),
            "(no output)"
        );
    }
}
