//! The OpenAI Responses API: request bodies and the streamed event parser.
//!
//! Requests are stateless (`store: false`, the full history every time), so a conversation
//! survives switching providers or resuming from our own session log. Only a handful of the
//! many stream events matter to the kernel; the rest (`content_part.added`,
//! `function_call_arguments.delta`, ...) are acknowledged and skipped, because the finished
//! item in `response.output_item.done` carries the same data in one piece.

use crate::error::ModelError;
use crate::sse::SseEvent;
use crate::types::{ContentItem, Prompt, ResponseEvent, ResponseItem, Role};
use crate::{ReasoningConfig, stream::EventSink};
use serde_json::{Value, json};
use tandem_protocol::TokenUsage;

/// Builds the JSON body of `POST {base_url}/responses`.
pub(crate) fn build_request(
    model: &str,
    prompt: &Prompt,
    reasoning: Option<&ReasoningConfig>,
) -> Value {
    let tools: Vec<Value> = prompt
        .tools
        .iter()
        .map(|tool| {
            json!({
                "type": "function",
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
                "strict": false,
            })
        })
        .collect();
    let mut body = json!({
        "model": model,
        "instructions": prompt.instructions,
        "input": prompt.input.iter().filter_map(input_item).collect::<Vec<_>>(),
        "tools": tools,
        "tool_choice": "auto",
        "parallel_tool_calls": prompt.parallel_tool_calls,
        "store": false,
        "stream": true,
    });
    if let Some(reasoning) = reasoning {
        let mut r = serde_json::Map::new();
        if let Some(effort) = &reasoning.effort {
            r.insert("effort".into(), json!(effort));
        }
        if let Some(summary) = &reasoning.summary {
            r.insert("summary".into(), json!(summary));
        }
        body["reasoning"] = Value::Object(r);
        // With `store: false` the only way to hand the model its own reasoning back is the
        // encrypted blob, so ask for it whenever reasoning is on.
        body["include"] = json!(["reasoning.encrypted_content"]);
    }
    body
}

/// One history item as a Responses input item.
///
/// Reasoning is sent back only when it carries `encrypted_content`: with `store: false` the
/// server cannot look a reasoning item up by id, and a reasoning item without its blob is
/// rejected. Its id is left out for the same reason.
fn input_item(item: &ResponseItem) -> Option<Value> {
    match item {
        ResponseItem::Message { role, content } => Some(json!({
            "type": "message",
            "role": role,
            "content": content,
        })),
        ResponseItem::Reasoning {
            summary,
            encrypted_content,
            ..
        } => encrypted_content.as_ref().map(|blob| {
            json!({
                "type": "reasoning",
                "summary": summary
                    .iter()
                    .map(|text| json!({"type": "summary_text", "text": text}))
                    .collect::<Vec<_>>(),
                "encrypted_content": blob,
            })
        }),
        ResponseItem::FunctionCall {
            call_id,
            name,
            arguments,
        } => Some(json!({
            "type": "function_call",
            "call_id": call_id,
            "name": name,
            "arguments": arguments,
        })),
        ResponseItem::FunctionCallOutput { call_id, output } => Some(json!({
            "type": "function_call_output",
            "call_id": call_id,
            "output": output,
        })),
    }
}

/// Turns Responses stream events into [`ResponseEvent`]s.
#[derive(Debug, Default)]
pub(crate) struct ResponsesParser {
    /// The kind of each item announced by `output_item.added` and not yet done, so that a
    /// stream that ends early can say what it was in the middle of.
    open_items: Vec<String>,
    events_seen: usize,
}

impl ResponsesParser {
    /// Handles one SSE event. Returns true when the response is over (completed or failed).
    pub(crate) fn on_event(&mut self, event: &SseEvent, sink: &mut EventSink) -> bool {
        self.events_seen += 1;
        let value: Value = match serde_json::from_str(&event.data) {
            Ok(value) => value,
            Err(err) => {
                sink.fail(ModelError::Decode {
                    detail: format!(
                        "a Responses event is not JSON ({err}): {}",
                        crate::retry::excerpt(&event.data, 200)
                    ),
                });
                return true;
            }
        };
        // The `type` field is authoritative; the SSE `event:` name is a fallback for proxies
        // that strip one or the other.
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .or(event.event.as_deref())
            .unwrap_or("");
        match kind {
            "response.created" => sink.push(ResponseEvent::Created),
            "response.output_text.delta" => {
                if let Some(delta) = value.get("delta").and_then(Value::as_str) {
                    sink.push(ResponseEvent::OutputTextDelta(delta.to_string()));
                }
            }
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                if let Some(delta) = value.get("delta").and_then(Value::as_str) {
                    sink.push(ResponseEvent::ReasoningDelta(delta.to_string()));
                }
            }
            "response.output_item.added" => {
                let item_kind = value
                    .pointer("/item/type")
                    .and_then(Value::as_str)
                    .unwrap_or("item");
                self.open_items
                    .push(describe_item_kind(item_kind).to_string());
            }
            "response.output_item.done" => {
                self.open_items.pop();
                if let Some(item) = value.get("item").and_then(parse_output_item) {
                    sink.push(ResponseEvent::OutputItemDone(item));
                }
            }
            "response.completed" => {
                let response = value.get("response");
                sink.push(ResponseEvent::Completed {
                    response_id: response
                        .and_then(|r| r.get("id"))
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    usage: response.and_then(|r| r.get("usage")).map(parse_usage),
                });
                return true;
            }
            "response.failed" => {
                let error = value.pointer("/response/error").unwrap_or(&Value::Null);
                sink.fail(provider_error(error, "the response failed"));
                return true;
            }
            "response.incomplete" => {
                let reason = value
                    .pointer("/response/incomplete_details/reason")
                    .and_then(Value::as_str)
                    .unwrap_or("unknown reason");
                sink.fail(ModelError::Failed {
                    code: Some("incomplete".into()),
                    message: format!("the response is incomplete: {reason}"),
                });
                return true;
            }
            "error" => {
                let error = value.get("error").unwrap_or(&value);
                sink.fail(provider_error(error, "the provider sent an error event"));
                return true;
            }
            other => tracing::trace!(event = other, "ignoring Responses event"),
        }
        false
    }

    /// The body ended without `response.completed`.
    pub(crate) fn on_eof(&mut self, sink: &mut EventSink) {
        let during = match self.open_items.last() {
            Some(kind) => format!(" while {kind} was being streamed"),
            None => String::new(),
        };
        sink.fail(ModelError::StreamEnded {
            detail: format!(
                "the connection closed before `response.completed`{during} ({} event(s) received)",
                self.events_seen
            ),
        });
    }
}

fn describe_item_kind(kind: &str) -> &str {
    match kind {
        "message" => "a message",
        "reasoning" => "a reasoning item",
        "function_call" => "a function call",
        _ => "an output item",
    }
}

/// An error object (`{code, message}`) as a [`ModelError`].
fn provider_error(error: &Value, fallback: &str) -> ModelError {
    let code = error
        .get("code")
        .and_then(Value::as_str)
        .map(str::to_string);
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or(fallback)
        .to_string();
    ModelError::from_provider(code, message)
}

/// Parses one finished output item. Item types we do not offer tools for (web search,
/// custom tools, ...) are skipped.
pub(crate) fn parse_output_item(item: &Value) -> Option<ResponseItem> {
    let str_field = |name: &str| item.get(name).and_then(Value::as_str).map(str::to_string);
    match item.get("type")?.as_str()? {
        "message" => {
            let content = item
                .get("content")
                .and_then(Value::as_array)
                .map(|parts| {
                    parts
                        .iter()
                        .filter_map(|part| {
                            let text = part.get("text").or_else(|| part.get("refusal"))?;
                            Some(ContentItem::OutputText {
                                text: text.as_str()?.to_string(),
                            })
                        })
                        .collect()
                })
                .unwrap_or_default();
            Some(ResponseItem::Message {
                role: Role::Assistant,
                content,
            })
        }
        "reasoning" => {
            let texts = |field: &str| -> Vec<String> {
                item.get(field)
                    .and_then(Value::as_array)
                    .map(|parts| {
                        parts
                            .iter()
                            .filter_map(|p| p.get("text").and_then(Value::as_str))
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let mut summary = texts("summary");
            if summary.is_empty() {
                // Open-weight models served over Responses (gpt-oss on vLLM) send raw
                // reasoning `content` and no summary; show that rather than nothing.
                summary = texts("content");
            }
            Some(ResponseItem::Reasoning {
                id: str_field("id"),
                summary,
                encrypted_content: str_field("encrypted_content"),
            })
        }
        "function_call" => Some(ResponseItem::FunctionCall {
            call_id: str_field("call_id").or_else(|| str_field("id"))?,
            name: str_field("name")?,
            arguments: str_field("arguments").unwrap_or_default(),
        }),
        other => {
            tracing::debug!(
                item_type = other,
                "ignoring an output item type we do not use"
            );
            None
        }
    }
}

/// Responses usage: `input_tokens` (cached ones included), `output_tokens` (reasoning ones
/// included) and their details.
pub(crate) fn parse_usage(usage: &Value) -> TokenUsage {
    let n = |path: &str| usage.pointer(path).and_then(Value::as_u64).unwrap_or(0);
    TokenUsage {
        input_tokens: n("/input_tokens"),
        cached_input_tokens: n("/input_tokens_details/cached_tokens"),
        output_tokens: n("/output_tokens"),
        reasoning_output_tokens: n("/output_tokens_details/reasoning_tokens"),
    }
}

/// The events of a non-streamed Responses body, for servers that ignore `stream: true`.
pub(crate) fn events_from_json(body: &Value, sink: &mut EventSink) {
    if let Some(error) = body.get("error").filter(|e| !e.is_null()) {
        sink.fail(provider_error(error, "the response failed"));
        return;
    }
    sink.push(ResponseEvent::Created);
    for item in body
        .get("output")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(item) = parse_output_item(item) {
            sink.push(ResponseEvent::OutputItemDone(item));
        }
    }
    sink.push(ResponseEvent::Completed {
        response_id: body.get("id").and_then(Value::as_str).map(str::to_string),
        usage: body.get("usage").map(parse_usage),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::ToolSpec;
    use pretty_assertions::assert_eq;

    fn run(events: &[(&str, Value)]) -> Vec<Result<ResponseEvent, String>> {
        let mut parser = ResponsesParser::default();
        let mut sink = EventSink::default();
        let mut finished = false;
        for (name, data) in events {
            let event = SseEvent {
                event: Some(name.to_string()),
                data: data.to_string(),
            };
            if parser.on_event(&event, &mut sink) {
                finished = true;
                break;
            }
        }
        if !finished {
            parser.on_eof(&mut sink);
        }
        sink.drain_for_test()
    }

    #[test]
    fn a_full_stream() {
        let got = run(&[
            (
                "response.created",
                json!({"type": "response.created", "response": {"id": "r1"}}),
            ),
            (
                "response.reasoning_summary_text.delta",
                json!({"type": "response.reasoning_summary_text.delta", "delta": "think"}),
            ),
            (
                "response.output_item.done",
                json!({"type": "response.output_item.done", "item": {"type": "reasoning", "id": "rs1", "summary": [{"type": "summary_text", "text": "think"}], "encrypted_content": "blob"}}),
            ),
            (
                "response.output_text.delta",
                json!({"type": "response.output_text.delta", "delta": "Hi"}),
            ),
            (
                "response.output_item.done",
                json!({"type": "response.output_item.done", "item": {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hi", "annotations": []}]}}),
            ),
            (
                "response.output_item.done",
                json!({"type": "response.output_item.done", "item": {"type": "function_call", "id": "fc1", "call_id": "call1", "name": "shell", "arguments": "{\"command\":[\"ls\"]}"}}),
            ),
            (
                "response.completed",
                json!({"type": "response.completed", "response": {"id": "r1", "usage": {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 4}, "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 3}}}}),
            ),
            ("response.created", json!({"type": "response.created"})),
        ]);
        assert_eq!(
            got,
            vec![
                Ok(ResponseEvent::Created),
                Ok(ResponseEvent::ReasoningDelta("think".into())),
                Ok(ResponseEvent::OutputItemDone(ResponseItem::Reasoning {
                    id: Some("rs1".into()),
                    summary: vec!["think".into()],
                    encrypted_content: Some("blob".into()),
                })),
                Ok(ResponseEvent::OutputTextDelta("Hi".into())),
                Ok(ResponseEvent::OutputItemDone(ResponseItem::assistant_text(
                    "Hi"
                ))),
                Ok(ResponseEvent::OutputItemDone(ResponseItem::FunctionCall {
                    call_id: "call1".into(),
                    name: "shell".into(),
                    arguments: "{\"command\":[\"ls\"]}".into(),
                })),
                Ok(ResponseEvent::Completed {
                    response_id: Some("r1".into()),
                    usage: Some(TokenUsage {
                        input_tokens: 10,
                        cached_input_tokens: 4,
                        output_tokens: 7,
                        reasoning_output_tokens: 3,
                    }),
                }),
            ]
        );
    }

    #[test]
    fn failures_are_mapped() {
        let got = run(&[(
            "response.failed",
            json!({"type": "response.failed", "response": {"error": {"code": "context_length_exceeded", "message": "Your input exceeds the context window of this model."}}}),
        )]);
        assert_eq!(
            got,
            vec![Err(
                "the conversation does not fit the model's context window: Your input exceeds \
                 the context window of this model."
                    .into()
            )]
        );
        let got = run(&[(
            "error",
            json!({"type": "error", "code": "server_error", "message": "boom"}),
        )]);
        assert_eq!(
            got,
            vec![Err(
                "the provider reported an error (server_error): boom".into()
            )]
        );
    }

    #[test]
    fn an_early_end_says_what_was_open() {
        let got = run(&[
            ("response.created", json!({"type": "response.created"})),
            (
                "response.output_item.added",
                json!({"type": "response.output_item.added", "item": {"type": "function_call"}}),
            ),
        ]);
        assert_eq!(got.len(), 2);
        let err = got[1].clone().unwrap_err();
        assert!(
            err.contains("while a function call was being streamed"),
            "{err}"
        );
        assert!(err.contains("response.completed"), "{err}");
    }

    #[test]
    fn malformed_json_is_a_decode_error() {
        let mut parser = ResponsesParser::default();
        let mut sink = EventSink::default();
        let event = SseEvent {
            event: None,
            data: "{not json".into(),
        };
        assert!(parser.on_event(&event, &mut sink));
        let got = sink.drain_for_test();
        assert!(got[0].clone().unwrap_err().starts_with("could not decode"));
    }

    #[test]
    fn reasoning_without_a_blob_is_not_sent_back() {
        let prompt = Prompt {
            instructions: "be brief".into(),
            input: vec![
                ResponseItem::user_text("hi"),
                ResponseItem::Reasoning {
                    id: Some("rs1".into()),
                    summary: vec!["x".into()],
                    encrypted_content: None,
                },
                ResponseItem::Reasoning {
                    id: Some("rs2".into()),
                    summary: vec!["y".into()],
                    encrypted_content: Some("blob".into()),
                },
            ],
            tools: vec![ToolSpec {
                name: "shell".into(),
                description: "run".into(),
                parameters: json!({"type": "object"}),
            }],
            parallel_tool_calls: false,
        };
        let body = build_request("m", &prompt, None);
        assert_eq!(
            body["input"],
            json!([
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
                {"type": "reasoning", "summary": [{"type": "summary_text", "text": "y"}], "encrypted_content": "blob"},
            ])
        );
        assert_eq!(body.get("include"), None);
        assert_eq!(body.get("reasoning"), None);
    }
}
