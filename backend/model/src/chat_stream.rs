//! Chat Completions streams: chunks in, [`ResponseEvent`]s out.
//!
//! Chat streams have no item boundaries, so [`ChatAccumulator`] reconstructs them: reasoning
//! ends when content or a tool call begins, the message ends when a tool call begins or the
//! choice finishes, and tool calls are complete only when the choice finishes (their
//! arguments arrive in pieces, keyed by `index`). The result is the same event sequence the
//! Responses API gives for the same reply, so the kernel never needs to know the wire API.
//!
//! Servers differ in the details and the accumulator accepts all of them: reasoning as
//! `reasoning_content` (DeepSeek, vLLM, llama.cpp) or `reasoning` (Ollama, OpenRouter), tool
//! calls without `index` or `id`, arguments sent whole or as JSON objects, usage in its own
//! chunk or alongside the last choice, and streams that end after `finish_reason` without
//! `[DONE]`.

use crate::error::ModelError;
use crate::sse::SseEvent;
use crate::stream::EventSink;
use crate::types::{ResponseEvent, ResponseItem};
use serde_json::Value;
use tandem_protocol::TokenUsage;

/// One tool call being streamed.
#[derive(Debug, Clone, Default, PartialEq)]
struct PartialCall {
    index: u64,
    id: Option<String>,
    name: String,
    arguments: String,
}

/// Accumulates `choices[0].delta` objects into items.
#[derive(Debug, Default)]
pub(crate) struct ChatAccumulator {
    reasoning: String,
    content: String,
    calls: Vec<PartialCall>,
    /// How many tool calls this response has produced, for generated ids.
    generated_ids: usize,
}

impl ChatAccumulator {
    /// Applies one delta (or a whole non-streamed `message`, which has the same shape).
    pub(crate) fn push_delta(&mut self, delta: &Value, sink: &mut EventSink) {
        let text = |field: &str| {
            delta
                .get(field)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        if let Some(piece) = text("reasoning_content").or_else(|| text("reasoning")) {
            self.reasoning.push_str(piece);
            sink.push(ResponseEvent::ReasoningDelta(piece.to_string()));
        }
        if let Some(piece) = text("content") {
            self.flush_reasoning(sink);
            if !self.calls.is_empty() {
                // Text after tool calls (rare) starts a new message after them.
                self.flush_calls(sink);
            }
            self.content.push_str(piece);
            sink.push(ResponseEvent::OutputTextDelta(piece.to_string()));
        }
        if let Some(calls) = delta.get("tool_calls").and_then(Value::as_array) {
            if !calls.is_empty() {
                self.flush_reasoning(sink);
                self.flush_message(sink);
            }
            for call in calls {
                self.push_call(call);
            }
        }
    }

    fn push_call(&mut self, call: &Value) {
        let id = call
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let function = call.get("function");
        let name = function
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty());
        let arguments = match function.and_then(|f| f.get("arguments")) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            // Some servers send the arguments as an object rather than a JSON string.
            Some(other) => other.to_string(),
        };
        // Without an `index`, a new id (or a name on a call that already has one) starts a
        // new call; everything else continues the last one.
        let index = match (call.get("index").and_then(Value::as_u64), self.calls.last()) {
            (Some(index), _) => index,
            (None, None) => 0,
            (None, Some(last)) => {
                let new_id = id.is_some_and(|id| last.id.as_deref() != Some(id));
                let new_name = id.is_none() && name.is_some() && !last.name.is_empty();
                if new_id || new_name {
                    last.index + 1
                } else {
                    last.index
                }
            }
        };
        let entry = match self.calls.iter_mut().position(|c| c.index == index) {
            Some(pos) => &mut self.calls[pos],
            None => {
                self.calls.push(PartialCall {
                    index,
                    ..PartialCall::default()
                });
                self.calls.last_mut().expect("just pushed")
            }
        };
        if entry.id.is_none() {
            entry.id = id.map(str::to_string);
        }
        // The name comes whole in the first chunk; some servers repeat it later.
        if entry.name.is_empty()
            && let Some(name) = name
        {
            entry.name = name.to_string();
        }
        entry.arguments.push_str(&arguments);
    }

    fn flush_reasoning(&mut self, sink: &mut EventSink) {
        if self.reasoning.is_empty() {
            return;
        }
        sink.push(ResponseEvent::OutputItemDone(ResponseItem::Reasoning {
            id: None,
            summary: vec![std::mem::take(&mut self.reasoning)],
            encrypted_content: None,
        }));
    }

    fn flush_message(&mut self, sink: &mut EventSink) {
        if self.content.is_empty() {
            return;
        }
        sink.push(ResponseEvent::OutputItemDone(ResponseItem::assistant_text(
            std::mem::take(&mut self.content),
        )));
    }

    fn flush_calls(&mut self, sink: &mut EventSink) {
        self.calls.sort_by_key(|c| c.index);
        for call in std::mem::take(&mut self.calls) {
            let call_id = match call.id {
                Some(id) => id,
                None => {
                    // llama.cpp and some proxies omit ids; the kernel needs one to pair the
                    // output with the call.
                    self.generated_ids += 1;
                    format!("call_{}", self.generated_ids)
                }
            };
            let arguments = if call.arguments.trim().is_empty() {
                "{}".to_string()
            } else {
                call.arguments
            };
            sink.push(ResponseEvent::OutputItemDone(ResponseItem::FunctionCall {
                call_id,
                name: call.name,
                arguments,
            }));
        }
    }

    /// The choice finished: everything still open is complete.
    pub(crate) fn finish(&mut self, sink: &mut EventSink) {
        self.flush_reasoning(sink);
        self.flush_message(sink);
        self.flush_calls(sink);
    }

    /// What was being streamed, for an error message about an early end.
    fn in_progress(&self) -> Option<String> {
        if let Some(call) = self.calls.last() {
            return Some(format!("a call to tool `{}`", call.name));
        }
        if !self.content.is_empty() {
            return Some("the assistant message".into());
        }
        if !self.reasoning.is_empty() {
            return Some("reasoning".into());
        }
        None
    }
}

/// Turns Chat Completions chunks into [`ResponseEvent`]s.
#[derive(Debug, Default)]
pub(crate) struct ChatParser {
    acc: ChatAccumulator,
    started: bool,
    response_id: Option<String>,
    usage: Option<TokenUsage>,
    finish_reason: Option<String>,
    chunks_seen: usize,
}

impl ChatParser {
    /// Handles one SSE event. Returns true when the response is over.
    pub(crate) fn on_event(&mut self, event: &SseEvent, sink: &mut EventSink) -> bool {
        self.chunks_seen += 1;
        if !self.started {
            self.started = true;
            sink.push(ResponseEvent::Created);
        }
        if event.data.trim() == "[DONE]" {
            self.complete(sink);
            return true;
        }
        let chunk: Value = match serde_json::from_str(&event.data) {
            Ok(chunk) => chunk,
            Err(err) => {
                sink.fail(ModelError::Decode {
                    detail: format!(
                        "a Chat Completions chunk is not JSON ({err}): {}",
                        crate::retry::excerpt(&event.data, 200)
                    ),
                });
                return true;
            }
        };
        if let Some(error) = chunk.get("error").filter(|e| !e.is_null()) {
            sink.fail(chunk_error(error));
            return true;
        }
        if event.event.as_deref() == Some("error") {
            sink.fail(chunk_error(&chunk));
            return true;
        }
        if self.response_id.is_none() {
            self.response_id = chunk.get("id").and_then(Value::as_str).map(str::to_string);
        }
        if let Some(usage) = chunk.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(parse_usage(usage));
        }
        let choice = chunk
            .get("choices")
            .and_then(Value::as_array)
            .and_then(|choices| {
                choices
                    .iter()
                    .find(|c| c.get("index").and_then(Value::as_u64).unwrap_or(0) == 0)
            });
        if let Some(choice) = choice {
            if let Some(delta) = choice.get("delta") {
                self.acc.push_delta(delta, sink);
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                if reason == "error" {
                    sink.fail(ModelError::Failed {
                        code: None,
                        message: "the server ended the choice with finish_reason \"error\"".into(),
                    });
                    return true;
                }
                if reason == "length" {
                    tracing::warn!("the model hit its output token limit; the reply is cut");
                }
                self.acc.finish(sink);
                self.finish_reason = Some(reason.to_string());
            }
        }
        false
    }

    fn complete(&mut self, sink: &mut EventSink) {
        self.acc.finish(sink);
        sink.push(ResponseEvent::Completed {
            response_id: self.response_id.take(),
            usage: self.usage.take(),
        });
    }

    /// The body ended. After a `finish_reason` the reply is whole even without `[DONE]`
    /// (some servers omit it); before one, the reply was cut.
    pub(crate) fn on_eof(&mut self, sink: &mut EventSink) {
        if self.finish_reason.is_some() {
            self.complete(sink);
            return;
        }
        let during = match self.acc.in_progress() {
            Some(what) => format!(" while {what} was being streamed"),
            None => String::new(),
        };
        sink.fail(ModelError::StreamEnded {
            detail: format!(
                "the connection closed before `finish_reason` or `data: [DONE]`{during} ({} \
                 chunk(s) received)",
                self.chunks_seen
            ),
        });
    }
}

fn chunk_error(error: &Value) -> ModelError {
    match error {
        Value::String(message) => ModelError::from_provider(None, message.clone()),
        _ => {
            let code = error.get("code").and_then(|c| match c {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            });
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| error.to_string());
            ModelError::from_provider(code, message)
        }
    }
}

/// Chat usage: `prompt_tokens` and `completion_tokens` with their details.
pub(crate) fn parse_usage(usage: &Value) -> TokenUsage {
    let n = |path: &str| usage.pointer(path).and_then(Value::as_u64).unwrap_or(0);
    TokenUsage {
        input_tokens: n("/prompt_tokens"),
        cached_input_tokens: n("/prompt_tokens_details/cached_tokens"),
        output_tokens: n("/completion_tokens"),
        reasoning_output_tokens: n("/completion_tokens_details/reasoning_tokens"),
    }
}

/// The events of a non-streamed chat completion, for servers that ignore `stream: true`.
pub(crate) fn events_from_json(body: &Value, sink: &mut EventSink) {
    if let Some(error) = body.get("error").filter(|e| !e.is_null()) {
        sink.fail(chunk_error(error));
        return;
    }
    let mut acc = ChatAccumulator::default();
    sink.push(ResponseEvent::Created);
    if let Some(message) = body.pointer("/choices/0/message") {
        acc.push_delta(message, sink);
    }
    acc.finish(sink);
    sink.push(ResponseEvent::Completed {
        response_id: body.get("id").and_then(Value::as_str).map(str::to_string),
        usage: body.get("usage").filter(|u| u.is_object()).map(parse_usage),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    fn accumulate(deltas: &[Value]) -> Vec<Result<ResponseEvent, String>> {
        let mut acc = ChatAccumulator::default();
        let mut sink = EventSink::default();
        for delta in deltas {
            acc.push_delta(delta, &mut sink);
        }
        acc.finish(&mut sink);
        sink.drain_for_test()
    }

    fn call(id: &str, name: &str, args: &str) -> Result<ResponseEvent, String> {
        Ok(ResponseEvent::OutputItemDone(ResponseItem::FunctionCall {
            call_id: id.into(),
            name: name.into(),
            arguments: args.into(),
        }))
    }

    #[test]
    fn streamed_tool_calls_are_accumulated_by_index() {
        let got = accumulate(&[
            json!({"role": "assistant", "content": null}),
            json!({"tool_calls": [{"index": 0, "id": "a", "type": "function", "function": {"name": "shell", "arguments": ""}}]}),
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"comm"}}]}),
            json!({"tool_calls": [{"index": 1, "id": "b", "type": "function", "function": {"name": "update_plan", "arguments": "{\"plan\""}}]}),
            json!({"tool_calls": [{"index": 0, "function": {"arguments": "and\":[\"ls\"]}"}}]}),
            json!({"tool_calls": [{"index": 1, "function": {"name": "update_plan", "arguments": ":[]}"}}]}),
        ]);
        assert_eq!(
            got,
            vec![
                call("a", "shell", r#"{"command":["ls"]}"#),
                call("b", "update_plan", r#"{"plan":[]}"#),
            ]
        );
    }

    #[test]
    fn calls_without_index_or_id_and_object_arguments() {
        let got = accumulate(&[
            json!({"tool_calls": [{"function": {"name": "shell", "arguments": {"command": ["ls"]}}}]}),
            json!({"tool_calls": [{"function": {"name": "shell", "arguments": "{\"command\":"}}]}),
            json!({"tool_calls": [{"function": {"arguments": "[\"pwd\"]}"}}]}),
            json!({"tool_calls": [{"id": "x", "function": {"name": "noargs"}}]}),
        ]);
        assert_eq!(
            got,
            vec![
                call("call_1", "shell", r#"{"command":["ls"]}"#),
                call("call_2", "shell", r#"{"command":["pwd"]}"#),
                call("x", "noargs", "{}"),
            ]
        );
    }

    #[test]
    fn reasoning_then_text_then_calls_in_order() {
        let got = accumulate(&[
            json!({"reasoning_content": "Let me "}),
            json!({"reasoning": "think."}),
            json!({"content": "I will "}),
            json!({"content": "look."}),
            json!({"tool_calls": [{"index": 0, "id": "c", "function": {"name": "shell", "arguments": "{}"}}]}),
        ]);
        assert_eq!(
            got,
            vec![
                Ok(ResponseEvent::ReasoningDelta("Let me ".into())),
                Ok(ResponseEvent::ReasoningDelta("think.".into())),
                Ok(ResponseEvent::OutputItemDone(ResponseItem::Reasoning {
                    id: None,
                    summary: vec!["Let me think.".into()],
                    encrypted_content: None,
                })),
                Ok(ResponseEvent::OutputTextDelta("I will ".into())),
                Ok(ResponseEvent::OutputTextDelta("look.".into())),
                Ok(ResponseEvent::OutputItemDone(ResponseItem::assistant_text(
                    "I will look."
                ))),
                call("c", "shell", "{}"),
            ]
        );
    }

    fn parse(chunks: &[&str], eof: bool) -> Vec<Result<ResponseEvent, String>> {
        let mut parser = ChatParser::default();
        let mut sink = EventSink::default();
        for chunk in chunks {
            let event = SseEvent {
                event: None,
                data: chunk.to_string(),
            };
            if parser.on_event(&event, &mut sink) {
                return sink.drain_for_test();
            }
        }
        if eof {
            parser.on_eof(&mut sink);
        }
        sink.drain_for_test()
    }

    #[test]
    fn usage_chunk_and_done() {
        let got = parse(
            &[
                r#"{"id":"chatcmpl-1","choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}]}"#,
                r#"{"id":"chatcmpl-1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
                r#"{"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":3},"completion_tokens_details":{"reasoning_tokens":1}}}"#,
                "[DONE]",
            ],
            false,
        );
        assert_eq!(
            got,
            vec![
                Ok(ResponseEvent::Created),
                Ok(ResponseEvent::OutputTextDelta("Hi".into())),
                Ok(ResponseEvent::OutputItemDone(ResponseItem::assistant_text(
                    "Hi"
                ))),
                Ok(ResponseEvent::Completed {
                    response_id: Some("chatcmpl-1".into()),
                    usage: Some(TokenUsage {
                        input_tokens: 9,
                        cached_input_tokens: 3,
                        output_tokens: 2,
                        reasoning_output_tokens: 1,
                    }),
                }),
            ]
        );
    }

    #[test]
    fn eof_after_finish_reason_is_complete_but_before_it_is_cut() {
        let finished = parse(
            &[r#"{"choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}"#],
            true,
        );
        assert!(matches!(
            finished.last(),
            Some(Ok(ResponseEvent::Completed { .. }))
        ));
        let cut = parse(
            &[
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"apply_patch","arguments":"{\"in"}}]}}]}"#,
            ],
            true,
        );
        let err = cut.last().unwrap().clone().unwrap_err();
        assert!(err.starts_with("the model stream ended early"), "{err}");
        assert!(err.contains("a call to tool `apply_patch`"), "{err}");
    }

    #[test]
    fn error_chunks() {
        let got = parse(
            &[
                r#"{"error":{"message":"This model's maximum context length is 4096 tokens","code":400}}"#,
            ],
            false,
        );
        assert!(
            got[1]
                .clone()
                .unwrap_err()
                .starts_with("the conversation does not fit")
        );
        let got = parse(&[r#"{"error":"upstream overloaded"}"#], false);
        assert_eq!(
            got[1],
            Err("the provider reported an error: upstream overloaded".into())
        );
    }

    #[test]
    fn non_streamed_completion() {
        let mut sink = EventSink::default();
        events_from_json(
            &json!({"id": "x", "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "shell", "arguments": "{}"}}]}, "finish_reason": "tool_calls"}], "usage": {"prompt_tokens": 1, "completion_tokens": 2}}),
            &mut sink,
        );
        let got = sink.drain_for_test();
        assert_eq!(got.len(), 5, "{got:?}");
        assert_eq!(got[3], call("c", "shell", "{}"));
    }
}
