//! The provider-neutral prompt and stream vocabulary.
//!
//! History is kept as [`ResponseItem`]s, shaped after the Responses API's input items, because
//! that is the richer of the two wire formats; the Chat Completions client maps them onto
//! `messages` (assistant `tool_calls`, `tool` role outputs) when it builds a request.

use serde::{Deserialize, Serialize};
use tandem_protocol::TokenUsage;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    Developer,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentItem {
    InputText { text: String },
    OutputText { text: String },
}

impl ContentItem {
    pub fn text(&self) -> &str {
        match self {
            ContentItem::InputText { text } | ContentItem::OutputText { text } => text,
        }
    }
}

/// One entry of the conversation history, as recorded and as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseItem {
    Message {
        role: Role,
        content: Vec<ContentItem>,
    },
    /// Reasoning the provider returned. `encrypted_content` is passed back untouched when the
    /// provider supplies it, so stateless requests keep the model's chain of thought.
    Reasoning {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        #[serde(default)]
        summary: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encrypted_content: Option<String>,
    },
    FunctionCall {
        call_id: String,
        name: String,
        /// The raw JSON text the model produced. It may be malformed; the kernel parses it and
        /// reports errors back to the model rather than failing.
        arguments: String,
    },
    FunctionCallOutput {
        call_id: String,
        output: String,
    },
}

impl ResponseItem {
    pub fn user_text(text: impl Into<String>) -> Self {
        ResponseItem::Message {
            role: Role::User,
            content: vec![ContentItem::InputText { text: text.into() }],
        }
    }

    pub fn assistant_text(text: impl Into<String>) -> Self {
        ResponseItem::Message {
            role: Role::Assistant,
            content: vec![ContentItem::OutputText { text: text.into() }],
        }
    }

    /// The concatenated text of a message, or `None` for other items.
    pub fn message_text(&self) -> Option<String> {
        match self {
            ResponseItem::Message { content, .. } => Some(
                content
                    .iter()
                    .map(ContentItem::text)
                    .collect::<Vec<_>>()
                    .join(""),
            ),
            _ => None,
        }
    }
}

/// A function tool offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// A JSON Schema object for the arguments.
    pub parameters: serde_json::Value,
}

/// Everything one model request needs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Prompt {
    /// The system (Responses: `instructions`) text.
    pub instructions: String,
    pub input: Vec<ResponseItem>,
    pub tools: Vec<ToolSpec>,
    pub parallel_tool_calls: bool,
}

/// What a streaming response yields, whichever wire API produced it.
#[derive(Debug, Clone, PartialEq)]
pub enum ResponseEvent {
    /// The provider accepted the request.
    Created,
    /// A piece of the assistant's visible text.
    OutputTextDelta(String),
    /// A piece of reasoning summary text.
    ReasoningDelta(String),
    /// A finished output item (message, reasoning, function call). The kernel acts on these.
    OutputItemDone(ResponseItem),
    /// The response is complete. Always the last event of a successful stream.
    Completed {
        response_id: Option<String>,
        usage: Option<TokenUsage>,
    },
}
