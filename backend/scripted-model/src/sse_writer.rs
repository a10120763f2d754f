//! Renders a step's reply in the exact shapes of each wire API.
//!
//! The Responses stream follows OpenAI's event sequence item by item
//! (`output_item.added`, content parts, deltas, `.done` events, `output_item.done`), with
//! `sequence_number`s, so a client that works here works against the real API. The Chat
//! stream follows `chat.completion.chunk`s: role first, reasoning and content deltas, tool
//! calls by `index` with the id and name in the first chunk, `finish_reason`, a usage chunk
//! when `stream_options.include_usage` asked for one, and `data: [DONE]`.

use crate::scenario::{ChatReasoningField, OutputItem, Step, StreamError, Usage};
use serde_json::{Value, json};

/// Everything needed to render one step's reply.
pub(crate) struct Reply<'a> {
    pub step: &'a Step,
    /// 1-based, used in ids so they are deterministic and tell which step produced them.
    pub step_no: usize,
    pub model: String,
    pub usage: Usage,
    pub created: u64,
    pub reasoning_field: ChatReasoningField,
}

impl Reply<'_> {
    fn call_id(&self, nth_call: usize, explicit: &Option<String>) -> String {
        explicit
            .clone()
            .unwrap_or_else(|| format!("call_{}_{}", self.step_no, nth_call))
    }

    fn deltas<'t>(&self, text: &'t str) -> Vec<&'t str> {
        split_deltas(text, self.step.delta_chars)
    }
}

/// Splits `text` into streamed pieces at character boundaries. Without an explicit size,
/// pieces are a third of the text (so even short texts arrive in several deltas), at most 16
/// characters.
pub(crate) fn split_deltas(text: &str, size: Option<usize>) -> Vec<&str> {
    let chars = text.chars().count();
    if chars == 0 {
        return vec![""];
    }
    let size = size
        .unwrap_or_else(|| chars.div_ceil(3).clamp(1, 16))
        .max(1);
    let mut pieces = Vec::new();
    let mut start = 0;
    for (count, (offset, _)) in text.char_indices().enumerate() {
        if count > 0 && count % size == 0 {
            pieces.push(&text[start..offset]);
            start = offset;
        }
    }
    pieces.push(&text[start..]);
    pieces
}

fn sse(event: Option<&str>, data: &Value) -> String {
    match event {
        Some(name) => format!("event: {name}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    }
}

/// The finished Responses output items of a step.
fn responses_output(reply: &Reply) -> Vec<Value> {
    let mut calls = 0;
    reply
        .step
        .output
        .iter()
        .enumerate()
        .map(|(i, item)| responses_item(reply, i, item, &mut calls, true))
        .collect()
}

/// One Responses output item; `done` chooses its final or its just-added form.
fn responses_item(
    reply: &Reply,
    index: usize,
    item: &OutputItem,
    calls: &mut usize,
    done: bool,
) -> Value {
    let step = reply.step_no;
    let status = if done { "completed" } else { "in_progress" };
    match item {
        OutputItem::Message { text } => json!({
            "id": format!("msg_{step}_{index}"),
            "type": "message",
            "status": status,
            "role": "assistant",
            "content": if done {
                json!([{"type": "output_text", "text": text, "annotations": []}])
            } else {
                json!([])
            },
        }),
        OutputItem::Reasoning { text } => json!({
            "id": format!("rs_{step}_{index}"),
            "type": "reasoning",
            "summary": if done {
                json!([{"type": "summary_text", "text": text}])
            } else {
                json!([])
            },
        }),
        OutputItem::FunctionCall {
            name,
            arguments,
            call_id,
        } => {
            if done {
                *calls += 1;
            }
            json!({
                "id": format!("fc_{step}_{index}"),
                "type": "function_call",
                "status": status,
                "call_id": reply.call_id(*calls + usize::from(!done), call_id),
                "name": name,
                "arguments": if done { arguments.to_wire() } else { String::new() },
            })
        }
    }
}

fn responses_usage(usage: &Usage) -> Value {
    json!({
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_input_tokens},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_output_tokens},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    })
}

fn response_object(reply: &Reply, status: &str, output: Vec<Value>, usage: Value) -> Value {
    json!({
        "id": format!("resp_{}", reply.step_no),
        "object": "response",
        "created_at": reply.created,
        "status": status,
        "model": reply.model,
        "output": output,
        "usage": usage,
        "error": null,
        "incomplete_details": null,
        "parallel_tool_calls": true,
        "tool_choice": "auto",
        "store": false,
    })
}

/// The full Responses event stream of a step, one SSE frame per event.
pub(crate) fn responses_events(reply: &Reply) -> Vec<String> {
    let mut frames = Vec::new();
    let mut seq = 0u64;
    let mut emit = |kind: &str, mut data: Value| {
        data["type"] = json!(kind);
        data["sequence_number"] = json!(seq);
        seq += 1;
        frames.push(sse(Some(kind), &data));
    };
    let in_progress = response_object(reply, "in_progress", vec![], Value::Null);
    emit("response.created", json!({"response": in_progress}));
    emit("response.in_progress", json!({"response": in_progress}));

    let mut calls = 0;
    for (index, item) in reply.step.output.iter().enumerate() {
        let added = responses_item(reply, index, item, &mut calls, false);
        let done = responses_item(reply, index, item, &mut calls, true);
        let item_id = done["id"].clone();
        emit(
            "response.output_item.added",
            json!({"output_index": index, "item": added}),
        );
        match item {
            OutputItem::Message { text } => {
                let at = json!({"item_id": item_id, "output_index": index, "content_index": 0});
                let with = |extra: Value| merge(&at, extra);
                emit(
                    "response.content_part.added",
                    with(json!({"part": {"type": "output_text", "text": "", "annotations": []}})),
                );
                for delta in reply.deltas(text) {
                    emit("response.output_text.delta", with(json!({"delta": delta})));
                }
                emit("response.output_text.done", with(json!({"text": text})));
                emit(
                    "response.content_part.done",
                    with(json!({"part": {"type": "output_text", "text": text, "annotations": []}})),
                );
            }
            OutputItem::Reasoning { text } => {
                let at = json!({"item_id": item_id, "output_index": index, "summary_index": 0});
                let with = |extra: Value| merge(&at, extra);
                emit(
                    "response.reasoning_summary_part.added",
                    with(json!({"part": {"type": "summary_text", "text": ""}})),
                );
                for delta in reply.deltas(text) {
                    emit(
                        "response.reasoning_summary_text.delta",
                        with(json!({"delta": delta})),
                    );
                }
                emit(
                    "response.reasoning_summary_text.done",
                    with(json!({"text": text})),
                );
                emit(
                    "response.reasoning_summary_part.done",
                    with(json!({"part": {"type": "summary_text", "text": text}})),
                );
            }
            OutputItem::FunctionCall { arguments, .. } => {
                let at = json!({"item_id": item_id, "output_index": index});
                let with = |extra: Value| merge(&at, extra);
                let arguments = arguments.to_wire();
                for delta in reply.deltas(&arguments) {
                    emit(
                        "response.function_call_arguments.delta",
                        with(json!({"delta": delta})),
                    );
                }
                emit(
                    "response.function_call_arguments.done",
                    with(json!({"arguments": arguments})),
                );
            }
        }
        emit(
            "response.output_item.done",
            json!({"output_index": index, "item": done}),
        );
    }

    match &reply.step.stream_error {
        Some(StreamError { code, message }) => {
            let mut failed = response_object(reply, "failed", responses_output(reply), Value::Null);
            failed["error"] = json!({"code": code, "message": message});
            emit("response.failed", json!({"response": failed}));
        }
        None => {
            let completed = response_object(
                reply,
                "completed",
                responses_output(reply),
                responses_usage(&reply.usage),
            );
            emit("response.completed", json!({"response": completed}));
        }
    }
    frames
}

/// A non-streamed Responses body, for requests without `stream: true`.
pub(crate) fn responses_json(reply: &Reply) -> Value {
    match &reply.step.stream_error {
        Some(StreamError { code, message }) => {
            let mut failed = response_object(reply, "failed", vec![], Value::Null);
            failed["error"] = json!({"code": code, "message": message});
            failed
        }
        None => response_object(
            reply,
            "completed",
            responses_output(reply),
            responses_usage(&reply.usage),
        ),
    }
}

fn merge(base: &Value, extra: Value) -> Value {
    let mut merged = base.clone();
    if let (Some(target), Value::Object(extra)) = (merged.as_object_mut(), extra) {
        target.extend(extra);
    }
    merged
}

fn chat_usage(usage: &Usage) -> Value {
    json!({
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_input_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_output_tokens},
    })
}

fn finish_reason(step: &Step) -> &'static str {
    if step
        .output
        .iter()
        .any(|item| matches!(item, OutputItem::FunctionCall { .. }))
    {
        "tool_calls"
    } else {
        "stop"
    }
}

/// The full Chat Completions stream of a step, one SSE frame per chunk.
pub(crate) fn chat_chunks(reply: &Reply, include_usage: bool) -> Vec<String> {
    let id = format!("chatcmpl-{}", reply.step_no);
    let chunk = |choices: Value| {
        let mut chunk = json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": reply.created,
            "model": reply.model,
            "choices": choices,
        });
        if include_usage {
            chunk["usage"] = Value::Null;
        }
        chunk
    };
    let delta = |delta: Value, finish: Option<&str>| {
        chunk(json!([{"index": 0, "delta": delta, "finish_reason": finish}]))
    };
    let mut frames = vec![sse(
        None,
        &delta(json!({"role": "assistant", "content": ""}), None),
    )];
    let mut calls = 0;
    for item in &reply.step.output {
        match item {
            OutputItem::Message { text } => {
                for piece in reply.deltas(text) {
                    frames.push(sse(None, &delta(json!({"content": piece}), None)));
                }
            }
            OutputItem::Reasoning { text } => {
                let field = reply.reasoning_field.as_str();
                for piece in reply.deltas(text) {
                    frames.push(sse(None, &delta(json!({field: piece}), None)));
                }
            }
            OutputItem::FunctionCall {
                name,
                arguments,
                call_id,
            } => {
                calls += 1;
                let index = calls - 1;
                frames.push(sse(
                    None,
                    &delta(
                        json!({"tool_calls": [{
                            "index": index,
                            "id": reply.call_id(calls, call_id),
                            "type": "function",
                            "function": {"name": name, "arguments": ""},
                        }]}),
                        None,
                    ),
                ));
                let arguments = arguments.to_wire();
                for piece in reply.deltas(&arguments) {
                    frames.push(sse(
                        None,
                        &delta(
                            json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                            None,
                        ),
                    ));
                }
            }
        }
    }
    if let Some(StreamError { code, message }) = &reply.step.stream_error {
        frames.push(sse(
            None,
            &json!({"error": {"message": message, "code": code, "type": "server_error"}}),
        ));
        return frames;
    }
    frames.push(sse(
        None,
        &delta(json!({}), Some(finish_reason(reply.step))),
    ));
    if include_usage {
        let mut usage = chunk(json!([]));
        usage["usage"] = chat_usage(&reply.usage);
        frames.push(sse(None, &usage));
    }
    frames.push("data: [DONE]\n\n".to_string());
    frames
}

/// A non-streamed chat completion, for requests without `stream: true`.
pub(crate) fn chat_json(reply: &Reply) -> Value {
    if let Some(StreamError { code, message }) = &reply.step.stream_error {
        return json!({"error": {"message": message, "code": code, "type": "server_error"}});
    }
    let mut content = String::new();
    let mut reasoning = String::new();
    let mut tool_calls = Vec::new();
    for item in &reply.step.output {
        match item {
            OutputItem::Message { text } => content.push_str(text),
            OutputItem::Reasoning { text } => reasoning.push_str(text),
            OutputItem::FunctionCall {
                name,
                arguments,
                call_id,
            } => tool_calls.push(json!({
                "id": reply.call_id(tool_calls.len() + 1, call_id),
                "type": "function",
                "function": {"name": name, "arguments": arguments.to_wire()},
            })),
        }
    }
    let mut message = json!({"role": "assistant", "content": content});
    if !reasoning.is_empty() {
        message[reply.reasoning_field.as_str()] = json!(reasoning);
    }
    if !tool_calls.is_empty() {
        message["tool_calls"] = Value::Array(tool_calls);
    }
    json!({
        "id": format!("chatcmpl-{}", reply.step_no),
        "object": "chat.completion",
        "created": reply.created,
        "model": reply.model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason(reply.step)}],
        "usage": chat_usage(&reply.usage),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Arguments, Scenario};
    use pretty_assertions::assert_eq;

    #[test]
    fn deltas_split_at_char_boundaries() {
        assert_eq!(split_deltas("Done.", None), vec!["Do", "ne", "."]);
        assert_eq!(split_deltas("é✓x", Some(2)), vec!["é✓", "x"]);
        assert_eq!(split_deltas("", None), vec![""]);
        assert_eq!(split_deltas(&"a".repeat(40), None).len(), 3);
        assert_eq!(split_deltas(&"a".repeat(100), None).len(), 7);
    }

    fn reply_for(step: &Step) -> Reply<'_> {
        Reply {
            step,
            step_no: 2,
            model: "m".into(),
            usage: Usage {
                input_tokens: 5,
                ..Usage::default()
            },
            created: 0,
            reasoning_field: ChatReasoningField::Reasoning,
        }
    }

    fn call_step() -> Step {
        Scenario::from_toml_str(
            "[[step]]\ndelta_chars = 4\n[[step.output]]\ntype = \"function_call\"\nname = \"shell\"\narguments = '{\"a\":1}'\n[[step.output]]\ntype = \"function_call\"\nname = \"x\"\ncall_id = \"mine\"\narguments = '{'\n",
        )
        .unwrap()
        .steps
        .remove(0)
    }

    #[test]
    fn responses_stream_shape() {
        let step = call_step();
        let frames = responses_events(&reply_for(&step));
        let names: Vec<&str> = frames
            .iter()
            .map(|f| f.lines().next().unwrap().trim_start_matches("event: "))
            .collect();
        assert_eq!(
            names,
            vec![
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.output_item.added",
                "response.function_call_arguments.delta",
                "response.function_call_arguments.done",
                "response.output_item.done",
                "response.completed",
            ]
        );
        let added: Value = serde_json::from_str(
            frames[2]
                .lines()
                .nth(1)
                .unwrap()
                .trim_start_matches("data: "),
        )
        .unwrap();
        assert_eq!(added["item"]["call_id"], "call_2_1");
        let done: Value = serde_json::from_str(
            frames[10]
                .lines()
                .nth(1)
                .unwrap()
                .trim_start_matches("data: "),
        )
        .unwrap();
        assert_eq!(done["item"]["call_id"], "mine");
        assert_eq!(done["item"]["arguments"], "{");
        assert_eq!(done["sequence_number"], 10);
    }

    #[test]
    fn chat_stream_shape() {
        let step = call_step();
        let frames = chat_chunks(&reply_for(&step), true);
        assert_eq!(frames.last().unwrap(), "data: [DONE]\n\n");
        let chunks: Vec<Value> = frames[..frames.len() - 1]
            .iter()
            .map(|f| serde_json::from_str(f.trim_start_matches("data: ").trim()).unwrap())
            .collect();
        assert_eq!(
            chunks[1]["choices"][0]["delta"]["tool_calls"][0]["id"],
            "call_2_1"
        );
        assert_eq!(
            chunks[4]["choices"][0]["delta"]["tool_calls"][0],
            json!({"index": 1, "id": "mine", "type": "function", "function": {"name": "x", "arguments": ""}})
        );
        let finish = &chunks[chunks.len() - 2];
        assert_eq!(finish["choices"][0]["finish_reason"], "tool_calls");
        let usage = &chunks[chunks.len() - 1];
        assert_eq!(usage["choices"], json!([]));
        assert_eq!(usage["usage"]["prompt_tokens"], 5);
        let without_usage = chat_chunks(&reply_for(&step), false);
        assert_eq!(without_usage.len(), frames.len() - 1);
        assert!(!without_usage[0].contains("usage"));
    }

    #[test]
    fn non_streamed_bodies() {
        let step = Step {
            output: vec![
                OutputItem::Reasoning { text: "r".into() },
                OutputItem::Message { text: "hi".into() },
                OutputItem::FunctionCall {
                    name: "shell".into(),
                    arguments: Arguments::Raw("{}".into()),
                    call_id: None,
                },
            ],
            ..Step::default()
        };
        let chat = chat_json(&reply_for(&step));
        assert_eq!(chat["choices"][0]["message"]["reasoning"], "r");
        assert_eq!(
            chat["choices"][0]["message"]["tool_calls"][0]["id"],
            "call_2_1"
        );
        let responses = responses_json(&reply_for(&step));
        assert_eq!(responses["output"][2]["call_id"], "call_2_1");
        assert_eq!(responses["status"], "completed");
    }
}
