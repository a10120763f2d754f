//! Streaming model clients for the OpenAI Responses API and the Chat Completions API.
//!
//! The kernel hands a [`Prompt`] (instructions, history, tools) to a [`ModelClient`] and reads a
//! stream of [`ResponseEvent`]s. Both wire APIs are mapped onto the same events, so the kernel
//! does not know which one a provider speaks. That matters: Chat Completions is what Ollama,
//! vLLM, llama.cpp and OpenRouter serve.

pub mod provider;
pub mod types;

pub use provider::{ProviderInfo, WireApi};
pub use types::{ContentItem, Prompt, ResponseEvent, ResponseItem, Role, ToolSpec};
