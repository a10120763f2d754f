//! Both wire APIs, same scenario, same events.

use crate::*;
use pretty_assertions::assert_eq;
use tandem_model::{ContentItem, ResponseEvent, ResponseItem, Role};
use tandem_protocol::TokenUsage;

const REASON_TEXT_CALL: &str = r#"
description = "reason, say something, call a tool"
[[step]]
usage = { input_tokens = 120, cached_input_tokens = 20, output_tokens = 30, reasoning_output_tokens = 7 }
[[step.output]]
type = "reasoning"
text = "Look first."
[[step.output]]
type = "message"
text = "Reading the file."
[[step.output]]
type = "function_call"
name = "shell"
arguments = '{"command":["cat","src/lib.rs"]}'
"#;

fn call(call_id: &str, arguments: &str) -> ResponseEvent {
    ResponseEvent::OutputItemDone(ResponseItem::FunctionCall {
        call_id: call_id.into(),
        name: "shell".into(),
        arguments: arguments.into(),
    })
}

#[tokio::test]
async fn both_wire_apis_give_the_same_events() {
    let expected = vec![
        ResponseEvent::Created,
        ResponseEvent::ReasoningDelta("Look".into()),
        ResponseEvent::ReasoningDelta(" fir".into()),
        ResponseEvent::ReasoningDelta("st.".into()),
        ResponseEvent::OutputItemDone(ResponseItem::Reasoning {
            id: None,
            summary: vec!["Look first.".into()],
            encrypted_content: None,
        }),
        ResponseEvent::OutputTextDelta("Readin".into()),
        ResponseEvent::OutputTextDelta("g the ".into()),
        ResponseEvent::OutputTextDelta("file.".into()),
        ResponseEvent::OutputItemDone(ResponseItem::assistant_text("Reading the file.")),
        call("call_1_1", r#"{"command":["cat","src/lib.rs"]}"#),
        ResponseEvent::Completed {
            response_id: None,
            usage: Some(TokenUsage {
                input_tokens: 120,
                cached_input_tokens: 20,
                output_tokens: 30,
                reasoning_output_tokens: 7,
            }),
        },
    ];
    for wire in BOTH {
        let server = server(REASON_TEXT_CALL);
        let (events, error) = collect(&client(&server, wire), &prompt("go"))
            .await
            .unwrap();
        assert!(error.is_none(), "{wire:?}: {error:?}");
        assert_eq!(normalize(events), expected, "{wire:?}");
        assert!(
            server.status().is_complete_and_clean(),
            "{:?}",
            server.status()
        );
    }
}

#[tokio::test]
async fn response_ids_come_from_the_provider() {
    for (wire, id) in [
        (WireApi::Responses, "resp_1"),
        (WireApi::Chat, "chatcmpl-1"),
    ] {
        let server = server(REASON_TEXT_CALL);
        let (events, _) = collect(&client(&server, wire), &prompt("go"))
            .await
            .unwrap();
        let Some(ResponseEvent::Completed { response_id, .. }) = events.last() else {
            panic!("{wire:?}: no completion: {events:?}");
        };
        assert_eq!(response_id.as_deref(), Some(id));
    }
}

#[tokio::test]
async fn tool_calls_with_streamed_arguments() {
    let scenario = r#"
        [[step]]
        delta_chars = 3
        [[step.output]]
        type = "function_call"
        name = "shell"
        arguments = { command = ["cargo", "test", "--", "--nocapture"], workdir = "crates/é" }
        [[step.output]]
        type = "function_call"
        name = "shell"
        call_id = "my-call"
        arguments = '{"command": ["ls", '
    "#;
    for wire in BOTH {
        let server = server(scenario);
        let (events, error) = collect(&client(&server, wire), &prompt("go"))
            .await
            .unwrap();
        assert!(error.is_none(), "{wire:?}: {error:?}");
        let calls: Vec<&ResponseEvent> = events
            .iter()
            .filter(|e| matches!(e, ResponseEvent::OutputItemDone(_)))
            .collect();
        assert_eq!(
            calls,
            vec![
                &call(
                    "call_1_1",
                    r#"{"command":["cargo","test","--","--nocapture"],"workdir":"crates/é"}"#
                ),
                // Malformed arguments arrive verbatim: the kernel reports them to the model.
                &call("my-call", r#"{"command": ["ls", "#),
            ],
            "{wire:?}"
        );
    }
}

#[tokio::test]
async fn ollama_style_reasoning_field() {
    let server = server(
        r#"
        chat_reasoning_field = "reasoning"
        [[step]]
        [[step.output]]
        type = "reasoning"
        text = "hmm"
        [[step.output]]
        type = "message"
        text = "ok"
        "#,
    );
    let (events, _) = collect(&client(&server, WireApi::Chat), &prompt("go"))
        .await
        .unwrap();
    let reasoning: String = events
        .iter()
        .filter_map(|e| match e {
            ResponseEvent::ReasoningDelta(d) => Some(d.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(reasoning, "hmm");
    assert!(
        events.contains(&ResponseEvent::OutputItemDone(ResponseItem::Reasoning {
            id: None,
            summary: vec!["hmm".into()],
            encrypted_content: None,
        }))
    );
}

#[tokio::test]
async fn default_usage_grows_with_the_request() {
    let scenario = "[[step]]\n[[step.output]]\ntype = \"message\"\ntext = \"ok\"\n";
    for wire in BOTH {
        let small = server(scenario);
        let large = server(scenario);
        let usage = |events: Vec<ResponseEvent>| match events.last() {
            Some(ResponseEvent::Completed { usage: Some(u), .. }) => *u,
            other => panic!("no usage: {other:?}"),
        };
        let (events, _) = collect(&client(&small, wire), &prompt("hi")).await.unwrap();
        let small_usage = usage(events);
        let (events, _) = collect(&client(&large, wire), &prompt(&"word ".repeat(400)))
            .await
            .unwrap();
        let large_usage = usage(events);
        assert!(small_usage.input_tokens > 0, "{wire:?}");
        assert!(
            large_usage.input_tokens >= small_usage.input_tokens + 400,
            "{wire:?}: {small_usage:?} vs {large_usage:?}"
        );
        assert_eq!(small_usage.output_tokens, 1);
    }
}

/// A two-request exchange: the history sent back (call, output) is what the second step
/// checks, on both wire APIs.
#[tokio::test]
async fn a_tool_round_trip_meets_the_scenario_expectations() {
    let scenario = r#"
        [[step]]
        expect_last_user_contains = "fix the bug"
        expect_tools = ["shell"]
        [[step.output]]
        type = "function_call"
        name = "shell"
        arguments = '{"command":["cat","src/lib.rs"]}'
        [[step]]
        expect_tool_output_contains = "fn add"
        expect_last_user_contains = "fix the bug"
        [[step.output]]
        type = "message"
        text = "Done."
    "#;
    for wire in BOTH {
        let server = server(scenario);
        let client = client(&server, wire);
        let mut prompt = prompt("please fix the bug");
        let (events, _) = collect(&client, &prompt).await.unwrap();
        for event in events {
            if let ResponseEvent::OutputItemDone(item) = event {
                if let ResponseItem::FunctionCall { call_id, .. } = &item {
                    let call_id = call_id.clone();
                    prompt.input.push(item);
                    prompt.input.push(ResponseItem::FunctionCallOutput {
                        call_id,
                        output: "pub fn add(a: i32) -> i32".into(),
                    });
                } else {
                    prompt.input.push(item);
                }
            }
        }
        let (events, _) = collect(&client, &prompt).await.unwrap();
        assert!(
            events.contains(&ResponseEvent::OutputItemDone(ResponseItem::Message {
                role: Role::Assistant,
                content: vec![ContentItem::OutputText {
                    text: "Done.".into()
                }],
            }))
        );
        let status = server.status();
        assert!(status.is_complete_and_clean(), "{wire:?}: {status:?}");
        let second = &server.model_requests()[1];
        assert_eq!(
            second.recent_tool_outputs(),
            vec!["pub fn add(a: i32) -> i32"]
        );
    }
}

/// The checks can fail: a wrong request is reported, not silently accepted.
#[tokio::test]
async fn scenario_expectations_can_fail() {
    let server = server(
        r#"
        [[step]]
        expect_last_user_contains = "something else"
        expect_tool_output_contains = "fn add"
        expect_tools = ["apply_patch"]
        expect_wire = "chat"
        [[step.output]]
        type = "message"
        text = "ok"
        "#,
    );
    collect(&client(&server, WireApi::Responses), &prompt("hello"))
        .await
        .unwrap();
    let failures = server.failures();
    assert_eq!(failures.len(), 4, "{failures:#?}");
    assert!(
        failures[0].contains("expected a Chat request"),
        "{failures:#?}"
    );
    assert!(failures[1].contains("\"something else\""), "{failures:#?}");
    assert!(!server.status().is_complete_and_clean());
}
