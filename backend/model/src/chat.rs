//! Chat Completions request bodies: our history mapped onto `messages`.
//!
//! This is the wire API of nearly every OpenAI-compatible server (Ollama, vLLM, llama.cpp,
//! OpenRouter), so the mapping aims at what their chat templates accept rather than at the
//! richest possible encoding: string contents, one leading system message, assistant
//! `tool_calls` grouped per model turn and `tool` messages for results.

use crate::ReasoningConfig;
use crate::types::{Prompt, ResponseItem, Role};
use serde_json::{Value, json};

/// Builds the JSON body of `POST {base_url}/chat/completions`.
pub(crate) fn build_request(
    model: &str,
    prompt: &Prompt,
    reasoning: Option<&ReasoningConfig>,
) -> Value {
    let mut body = json!({
        "model": model,
        "messages": build_messages(prompt),
        "stream": true,
        "stream_options": {"include_usage": true},
    });
    if !prompt.tools.is_empty() {
        body["tools"] = prompt
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.parameters,
                    },
                })
            })
            .collect();
        body["tool_choice"] = json!("auto");
        // `true` is the API's default; some local servers reject the field outright, so it is
        // only sent when it changes something.
        if !prompt.parallel_tool_calls {
            body["parallel_tool_calls"] = json!(false);
        }
    }
    if let Some(effort) = reasoning.and_then(|r| r.effort.as_ref()) {
        body["reasoning_effort"] = json!(effort);
    }
    body
}

/// Maps the history onto chat messages.
///
/// - The instructions and every system or developer message that comes before the first
///   other message are merged into one leading `system` message: many chat templates
///   (Qwen's, Llama's) reject a system message anywhere but first. Later ones stay `system`.
/// - An assistant message followed by function calls, or a run of function calls, becomes
///   one assistant message with `tool_calls`, as the model produced it.
/// - Reasoning is dropped: Chat Completions has no standard way to send it back, and some
///   servers reject `reasoning_content` in requests.
pub(crate) fn build_messages(prompt: &Prompt) -> Vec<Value> {
    let mut messages: Vec<Value> = Vec::new();
    let mut system = prompt.instructions.clone();
    let mut leading = true;
    // The assistant message being assembled: text plus tool calls.
    let mut pending: Option<(Option<String>, Vec<Value>)> = None;

    fn flush(pending: &mut Option<(Option<String>, Vec<Value>)>, messages: &mut Vec<Value>) {
        if let Some((text, calls)) = pending.take() {
            let mut message = json!({"role": "assistant", "content": text});
            if !calls.is_empty() {
                message["tool_calls"] = Value::Array(calls);
            }
            messages.push(message);
        }
    }

    for item in &prompt.input {
        match item {
            ResponseItem::Message { role, .. } => {
                let text = item.message_text().unwrap_or_default();
                match role {
                    Role::System | Role::Developer if leading => {
                        if !system.is_empty() {
                            system.push_str("\n\n");
                        }
                        system.push_str(&text);
                    }
                    Role::System | Role::Developer => {
                        flush(&mut pending, &mut messages);
                        messages.push(json!({"role": "system", "content": text}));
                    }
                    Role::User => {
                        leading = false;
                        flush(&mut pending, &mut messages);
                        messages.push(json!({"role": "user", "content": text}));
                    }
                    Role::Assistant => {
                        leading = false;
                        flush(&mut pending, &mut messages);
                        pending = Some((Some(text), Vec::new()));
                    }
                }
            }
            ResponseItem::Reasoning { .. } => {}
            ResponseItem::FunctionCall {
                call_id,
                name,
                arguments,
            } => {
                leading = false;
                let call = json!({
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": sendable_arguments(arguments)},
                });
                pending
                    .get_or_insert_with(|| (None, Vec::new()))
                    .1
                    .push(call);
            }
            ResponseItem::FunctionCallOutput { call_id, output } => {
                leading = false;
                flush(&mut pending, &mut messages);
                messages.push(json!({"role": "tool", "tool_call_id": call_id, "content": output}));
            }
        }
    }
    flush(&mut pending, &mut messages);
    if !system.is_empty() {
        messages.insert(0, json!({"role": "system", "content": system}));
    }
    messages
}

/// The arguments of a past tool call as they are sent back.
///
/// Several servers (Ollama among them) parse the `arguments` of every past tool call and
/// answer 400 when one is not JSON. A model that once produced malformed arguments would then
/// break every later request of the session. So malformed arguments are wrapped in a JSON
/// object that still shows the model exactly what it wrote; the tool's error output follows.
fn sendable_arguments(arguments: &str) -> String {
    if arguments.trim().is_empty() {
        return "{}".to_string();
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(_) => arguments.to_string(),
        Err(_) => json!({"invalid_json_arguments": arguments}).to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{ContentItem, ToolSpec};
    use pretty_assertions::assert_eq;

    fn call(id: &str, args: &str) -> ResponseItem {
        ResponseItem::FunctionCall {
            call_id: id.into(),
            name: "shell".into(),
            arguments: args.into(),
        }
    }

    #[test]
    fn history_maps_onto_messages() {
        let prompt = Prompt {
            instructions: "You are Tandem.".into(),
            input: vec![
                ResponseItem::Message {
                    role: Role::Developer,
                    content: vec![ContentItem::InputText {
                        text: "AGENTS.md says hi".into(),
                    }],
                },
                ResponseItem::user_text("fix it"),
                ResponseItem::Reasoning {
                    id: None,
                    summary: vec!["hmm".into()],
                    encrypted_content: None,
                },
                ResponseItem::assistant_text("Looking."),
                call("c1", r#"{"command":["ls"]}"#),
                call("c2", "{oops"),
                ResponseItem::FunctionCallOutput {
                    call_id: "c1".into(),
                    output: "a.rs".into(),
                },
                ResponseItem::FunctionCallOutput {
                    call_id: "c2".into(),
                    output: "bad args".into(),
                },
                call("c3", ""),
                ResponseItem::FunctionCallOutput {
                    call_id: "c3".into(),
                    output: "ok".into(),
                },
                ResponseItem::Message {
                    role: Role::System,
                    content: vec![ContentItem::InputText {
                        text: "late note".into(),
                    }],
                },
                ResponseItem::assistant_text("Done."),
            ],
            tools: vec![],
            parallel_tool_calls: true,
        };
        assert_eq!(
            build_messages(&prompt),
            vec![
                json!({"role": "system", "content": "You are Tandem.\n\nAGENTS.md says hi"}),
                json!({"role": "user", "content": "fix it"}),
                json!({"role": "assistant", "content": "Looking.", "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "shell", "arguments": "{\"command\":[\"ls\"]}"}},
                    {"id": "c2", "type": "function", "function": {"name": "shell", "arguments": "{\"invalid_json_arguments\":\"{oops\"}"}},
                ]}),
                json!({"role": "tool", "tool_call_id": "c1", "content": "a.rs"}),
                json!({"role": "tool", "tool_call_id": "c2", "content": "bad args"}),
                json!({"role": "assistant", "content": null, "tool_calls": [
                    {"id": "c3", "type": "function", "function": {"name": "shell", "arguments": "{}"}},
                ]}),
                json!({"role": "tool", "tool_call_id": "c3", "content": "ok"}),
                json!({"role": "system", "content": "late note"}),
                json!({"role": "assistant", "content": "Done."}),
            ]
        );
    }

    #[test]
    fn tools_and_options() {
        let prompt = Prompt {
            instructions: String::new(),
            input: vec![ResponseItem::user_text("hi")],
            tools: vec![ToolSpec {
                name: "shell".into(),
                description: "Runs a command".into(),
                parameters: json!({"type": "object", "properties": {}}),
            }],
            parallel_tool_calls: false,
        };
        let body = build_request(
            "qwen3",
            &prompt,
            Some(&ReasoningConfig {
                effort: Some("low".into()),
                summary: None,
            }),
        );
        assert_eq!(
            body,
            json!({
                "model": "qwen3",
                "messages": [{"role": "user", "content": "hi"}],
                "stream": true,
                "stream_options": {"include_usage": true},
                "tools": [{"type": "function", "function": {"name": "shell", "description": "Runs a command", "parameters": {"type": "object", "properties": {}}}}],
                "tool_choice": "auto",
                "parallel_tool_calls": false,
                "reasoning_effort": "low",
            })
        );
        let no_tools = Prompt {
            tools: vec![],
            ..prompt
        };
        let body = build_request("m", &no_tools, None);
        assert_eq!(body.get("tools"), None);
        assert_eq!(body.get("tool_choice"), None);
    }
}
