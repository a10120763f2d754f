//! What goes on the wire: request bodies and headers, as the server recorded them.

use crate::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tandem_model::{ContentItem, ReasoningConfig, ResponseItem, Role};
use tandem_scripted_model::RecordedRequest;

/// A history with every kind of item.
fn rich_prompt() -> Prompt {
    Prompt {
        instructions: "You are Tandem, a coding agent.".into(),
        input: vec![
            ResponseItem::Message {
                role: Role::Developer,
                content: vec![ContentItem::InputText {
                    text: "<environment_context>cwd=/repo</environment_context>".into(),
                }],
            },
            ResponseItem::user_text("fix the bug in add"),
            ResponseItem::Reasoning {
                id: Some("rs_1".into()),
                summary: vec!["Look at lib.rs.".into()],
                encrypted_content: Some("opaque-blob".into()),
            },
            ResponseItem::assistant_text("Reading the file."),
            ResponseItem::FunctionCall {
                call_id: "call_a".into(),
                name: "shell".into(),
                arguments: r#"{"command":["cat","src/lib.rs"]}"#.into(),
            },
            ResponseItem::FunctionCallOutput {
                call_id: "call_a".into(),
                output: "pub fn add(a: i32, b: i32) -> i32 { a - b }".into(),
            },
        ],
        tools: vec![
            shell_tool(),
            ToolSpec {
                name: "apply_patch".into(),
                description: "Applies a patch.".into(),
                parameters: json!({"type": "object", "properties": {"input": {"type": "string"}}, "required": ["input"]}),
            },
        ],
        parallel_tool_calls: true,
    }
}

/// The recorded request with only deterministic headers.
fn stable_view(request: &RecordedRequest) -> Value {
    let headers: BTreeMap<&String, &String> = request
        .headers
        .iter()
        .filter(|(name, _)| {
            matches!(
                name.as_str(),
                "authorization" | "content-type" | "accept" | "x-tandem-test"
            )
        })
        .collect();
    json!({
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "headers": headers,
        "body": request.body,
    })
}

async fn recorded(wire: WireApi) -> RecordedRequest {
    let server = server("[[step]]\n[[step.output]]\ntype = \"message\"\ntext = \"ok\"\n");
    let mut provider = provider(&server, wire);
    provider.env_key = Some("SCRIPTED_API_KEY".into());
    provider
        .query_params
        .insert("api-version".into(), "2025-04-01".into());
    provider
        .http_headers
        .insert("x-tandem-test".into(), "yes".into());
    let client = ModelClient::new(provider, "gpt-test".into())
        .with_key_source(|name| (name == "SCRIPTED_API_KEY").then(|| "sk-test-123".into()))
        .with_reasoning(ReasoningConfig {
            effort: Some("medium".into()),
            summary: Some("auto".into()),
        });
    let (_, error) = collect(&client, &rich_prompt()).await.unwrap();
    assert!(error.is_none(), "{error:?}");
    let mut requests = server.requests();
    assert_eq!(requests.len(), 1);
    requests.remove(0)
}

#[tokio::test]
async fn responses_request_shape() {
    let request = recorded(WireApi::Responses).await;
    insta::assert_json_snapshot!("responses_request", stable_view(&request));
}

#[tokio::test]
async fn chat_request_shape() {
    let request = recorded(WireApi::Chat).await;
    insta::assert_json_snapshot!("chat_request", stable_view(&request));
}
