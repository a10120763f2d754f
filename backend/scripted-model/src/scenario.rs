//! Scenario files: the ordered replies a scripted model gives, one step per model request.
//!
//! A scenario says what the "model" answers and, optionally, what it expects to be asked, so a
//! test can script a whole agent run (read a file, patch it, run the tests, answer) and then
//! check that the agent sent the right things. Faults (429s, 500s, cut or stalled streams)
//! are steps too, so retry and timeout paths are scripted the same way. The format is the
//! same whichever wire API the client speaks.
//!
//! ```toml
//! description = "read, then answer"
//!
//! [[step]]
//! expect_last_user_contains = "fix the bug"
//! [[step.output]]
//! type = "function_call"
//! name = "shell"
//! arguments = '{"command":["cat","src/lib.rs"]}'
//!
//! [[step]]
//! expect_tool_output_contains = "fn add"
//! [[step.output]]
//! type = "message"
//! text = "Done."
//! ```

use serde::{Deserialize, Serialize};
use std::path::Path;

/// A parsed, validated scenario.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Shown on the server's start-up notice and in `/_scenario/status`.
    #[serde(default)]
    pub description: String,
    /// Which delta field carries reasoning on the Chat wire: `reasoning_content` (DeepSeek,
    /// vLLM, llama.cpp; the default) or `reasoning` (Ollama, OpenRouter).
    #[serde(default)]
    pub chat_reasoning_field: ChatReasoningField,
    /// The steps, in the order requests consume them (after `repeat` expansion).
    #[serde(default, rename = "step")]
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatReasoningField {
    #[default]
    ReasoningContent,
    Reasoning,
}

impl ChatReasoningField {
    pub fn as_str(self) -> &'static str {
        match self {
            ChatReasoningField::ReasoningContent => "reasoning_content",
            ChatReasoningField::Reasoning => "reasoning",
        }
    }
}

/// Which wire API a request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Wire {
    Responses,
    Chat,
}

/// The answer to one model request.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    // Checks on the request. A failed check is recorded (see `/_scenario/status`); the step
    // is still answered so the run goes on and the test sees every failure at once.
    /// The last user message contains this text.
    pub expect_last_user_contains: Option<String>,
    /// Some tool output sent since the last user message contains this text.
    pub expect_tool_output_contains: Option<String>,
    /// The raw JSON request body contains this text.
    pub expect_request_contains: Option<String>,
    /// Every one of these tool names is offered.
    pub expect_tools: Option<Vec<String>>,
    /// The request uses this wire API.
    pub expect_wire: Option<Wire>,

    // Faults.
    /// Answer with this HTTP status and an OpenAI-style error body instead of a stream.
    pub status: Option<u16>,
    /// The error body's message (default: a description of the scripted failure).
    pub error_message: Option<String>,
    /// The error body's `code` (e.g. `context_length_exceeded`, `insufficient_quota`).
    pub error_code: Option<String>,
    /// A `Retry-After` header value (seconds or an HTTP date), sent with `status`.
    pub retry_after: Option<String>,
    /// A `retry-after-ms` header value, sent with `status`.
    pub retry_after_ms: Option<u64>,
    /// Wait this long before sending the response headers.
    pub delay_ms: Option<u64>,
    /// Go silent this long in the middle of the stream (after `stall_after_events` events).
    pub stall_ms: Option<u64>,
    /// Where the stall happens; default 1 (right after the first event).
    pub stall_after_events: Option<usize>,
    /// Close the stream cleanly after this many events: no completion, no `[DONE]`.
    pub cut_after_events: Option<usize>,
    /// End the stream with a provider error instead of a completion (Responses:
    /// `response.failed`; Chat: an `{"error": ...}` chunk).
    pub stream_error: Option<StreamError>,

    // The reply.
    /// Token usage to report. Default: about a token per four bytes of request and output.
    pub usage: Option<Usage>,
    /// The size of each streamed text or arguments delta, in characters. Default: a third of
    /// the text, at most 16.
    pub delta_chars: Option<usize>,
    /// Serve this step this many times in a row (default 1).
    pub repeat: Option<usize>,
    /// The output items, in order.
    #[serde(default)]
    pub output: Vec<OutputItem>,
}

/// One output item of a step.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum OutputItem {
    /// Visible assistant text.
    Message { text: String },
    /// A reasoning summary (Responses) or reasoning deltas (Chat).
    Reasoning { text: String },
    /// A tool call. `arguments` is a string sent verbatim (so it may be malformed JSON) or a
    /// TOML table, sent as JSON. `call_id` defaults to `call_<step>_<n>`.
    FunctionCall {
        name: String,
        arguments: Arguments,
        call_id: Option<String>,
    },
}

/// Tool-call arguments as written in the scenario.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Arguments {
    /// Sent exactly as written, malformed or not.
    Raw(String),
    /// A TOML table, sent as compact JSON.
    Json(serde_json::Value),
}

impl Arguments {
    pub fn to_wire(&self) -> String {
        match self {
            Arguments::Raw(raw) => raw.clone(),
            Arguments::Json(value) => value.to_string(),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Usage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub cached_input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub reasoning_output_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamError {
    pub code: Option<String>,
    pub message: String,
}

/// A scenario that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("invalid scenario{}: {message}", path.as_ref().map(|p| format!(" {p}")).unwrap_or_default())]
    Invalid {
        path: Option<String>,
        message: String,
    },
}

impl Scenario {
    pub fn from_toml_file(path: impl AsRef<Path>) -> Result<Scenario, ScenarioError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml_str(&text).map_err(|err| match err {
            ScenarioError::Invalid { message, .. } => ScenarioError::Invalid {
                path: Some(path.display().to_string()),
                message,
            },
            other => other,
        })
    }

    pub fn from_toml_str(text: &str) -> Result<Scenario, ScenarioError> {
        let invalid = |message: String| ScenarioError::Invalid {
            path: None,
            message,
        };
        let mut scenario: Scenario = toml::from_str(text).map_err(|e| invalid(e.to_string()))?;
        scenario.validate().map_err(invalid)?;
        scenario.steps = scenario
            .steps
            .into_iter()
            .flat_map(|step| {
                let n = step.repeat.unwrap_or(1);
                std::iter::repeat_n(step, n)
            })
            .collect();
        Ok(scenario)
    }

    /// Checks what TOML's types cannot: every step answers with something, statuses are
    /// statuses, and so on. Messages name the step, counted from 1 as written in the file.
    fn validate(&self) -> Result<(), String> {
        for (i, step) in self.steps.iter().enumerate() {
            let n = i + 1;
            if let Some(status) = step.status
                && !(100..=599).contains(&status)
            {
                return Err(format!("step {n}: status {status} is not an HTTP status"));
            }
            let fails_by_status = step.status.is_some_and(|s| !(200..300).contains(&s));
            if !fails_by_status && step.output.is_empty() && step.stream_error.is_none() {
                return Err(format!(
                    "step {n} has no [[step.output]], no error `status` and no `stream_error`"
                ));
            }
            if step.repeat == Some(0) {
                return Err(format!("step {n}: repeat must be at least 1"));
            }
            if step.delta_chars == Some(0) {
                return Err(format!("step {n}: delta_chars must be at least 1"));
            }
            for item in &step.output {
                if let OutputItem::FunctionCall { name, .. } = item
                    && name.is_empty()
                {
                    return Err(format!("step {n}: a function_call needs a name"));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn the_documented_example_parses() {
        let scenario = Scenario::from_toml_str(
            r#"
            description = "read, patch, test, answer"
            [[step]]
            expect_last_user_contains = "fix the bug"
            [[step.output]]
            type = "reasoning"
            text = "I should look at the file first."
            [[step.output]]
            type = "function_call"
            name = "shell"
            arguments = '{"command":["cat","src/lib.rs"]}'
            [[step]]
            expect_tool_output_contains = "fn add"
            [[step.output]]
            type = "message"
            text = "Done."
            "#,
        )
        .unwrap();
        assert_eq!(scenario.steps.len(), 2);
        assert_eq!(
            scenario.steps[0].output[1],
            OutputItem::FunctionCall {
                name: "shell".into(),
                arguments: Arguments::Raw(r#"{"command":["cat","src/lib.rs"]}"#.into()),
                call_id: None,
            }
        );
    }

    #[test]
    fn table_arguments_become_json_and_repeat_expands() {
        let scenario = Scenario::from_toml_str(
            r#"
            [[step]]
            repeat = 3
            [[step.output]]
            type = "function_call"
            name = "shell"
            arguments = { command = ["ls", "-la"] }
            "#,
        )
        .unwrap();
        assert_eq!(scenario.steps.len(), 3);
        let OutputItem::FunctionCall { arguments, .. } = &scenario.steps[2].output[0] else {
            panic!("not a call");
        };
        assert_eq!(arguments.to_wire(), r#"{"command":["ls","-la"]}"#);
    }

    #[test]
    fn mistakes_are_reported_with_their_step() {
        let err = Scenario::from_toml_str("[[step]]\ndelay_ms = 5\n").unwrap_err();
        assert!(
            err.to_string().contains("step 1 has no [[step.output]]"),
            "{err}"
        );
        let err = Scenario::from_toml_str("[[step]]\nstatus = 429\n[[step]]\nstatus = 1000\n")
            .unwrap_err();
        assert!(err.to_string().contains("step 2: status 1000"), "{err}");
        let err = Scenario::from_toml_str("[[step]]\nstatsu = 500\n").unwrap_err();
        assert!(err.to_string().contains("unknown field `statsu`"), "{err}");
        let err = Scenario::from_toml_str(
            "[[step]]\n[[step.output]]\ntype = \"message\"\ntext = \"x\"\nextra = 1\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("extra"), "{err}");
        let err = Scenario::from_toml_file("/nonexistent/scenario.toml").unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/scenario.toml"),
            "{err}"
        );
    }
}
