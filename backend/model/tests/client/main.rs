//! The model client against the scripted model server, over real HTTP on 127.0.0.1.
//!
//! One test binary (modules below) keeps link time down; every test starts its own server.

mod faults;
mod shapes;
mod wire;

use futures::StreamExt;
use tandem_model::{
    ModelClient, ModelError, Prompt, ProviderInfo, ResponseEvent, ResponseItem, ToolSpec, WireApi,
};
use tandem_scripted_model::{Scenario, ScriptedServer};

pub const BOTH: [WireApi; 2] = [WireApi::Responses, WireApi::Chat];

pub fn server(toml: &str) -> ScriptedServer {
    ScriptedServer::start(Scenario::from_toml_str(toml).expect("scenario")).expect("server")
}

/// A provider pointing at `server`, without a key, with quick retries and a generous idle
/// timeout (tests that need a short one set it).
pub fn provider(server: &ScriptedServer, wire_api: WireApi) -> ProviderInfo {
    ProviderInfo {
        name: "Scripted".into(),
        base_url: server.base_url(),
        env_key: None,
        wire_api,
        query_params: Default::default(),
        http_headers: Default::default(),
        request_max_retries: Some(3),
        stream_idle_timeout_ms: Some(10_000),
    }
}

pub fn client(server: &ScriptedServer, wire_api: WireApi) -> ModelClient {
    ModelClient::new(provider(server, wire_api), "test-model".into())
}

pub fn shell_tool() -> ToolSpec {
    ToolSpec {
        name: "shell".into(),
        description: "Runs a command.".into(),
        parameters: serde_json::json!({
            "type": "object",
            "properties": {"command": {"type": "array", "items": {"type": "string"}}},
            "required": ["command"],
        }),
    }
}

pub fn prompt(user: &str) -> Prompt {
    Prompt {
        instructions: "You are a test.".into(),
        input: vec![ResponseItem::user_text(user)],
        tools: vec![shell_tool()],
        parallel_tool_calls: false,
    }
}

/// Every event of a stream, and the error that ended it, if any.
pub async fn collect(
    client: &ModelClient,
    prompt: &Prompt,
) -> Result<(Vec<ResponseEvent>, Option<ModelError>), ModelError> {
    let mut stream = client.stream(prompt).await?;
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        match event {
            Ok(event) => events.push(event),
            Err(err) => {
                assert!(stream.next().await.is_none(), "events after an error");
                return Ok((events, Some(err)));
            }
        }
    }
    Ok((events, None))
}

/// Blanks what legitimately differs between wire APIs: provider item and response ids.
pub fn normalize(events: Vec<ResponseEvent>) -> Vec<ResponseEvent> {
    events
        .into_iter()
        .map(|event| match event {
            ResponseEvent::OutputItemDone(ResponseItem::Reasoning {
                summary,
                encrypted_content,
                ..
            }) => ResponseEvent::OutputItemDone(ResponseItem::Reasoning {
                id: None,
                summary,
                encrypted_content,
            }),
            ResponseEvent::Completed { usage, .. } => ResponseEvent::Completed {
                response_id: None,
                usage,
            },
            other => other,
        })
        .collect()
}
