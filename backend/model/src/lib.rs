//! Streaming model clients for the OpenAI Responses API and the Chat Completions API.
//!
//! The kernel hands a [`Prompt`] (instructions, history, tools) to a [`ModelClient`] and reads a
//! stream of [`ResponseEvent`]s. Both wire APIs are mapped onto the same events, so the kernel
//! does not know which one a provider speaks. That matters: Chat Completions is what Ollama,
//! vLLM, llama.cpp and OpenRouter serve.
//!
//! Failures are [`ModelError`]s whose messages say what to change (the environment variable
//! to set, the `base_url` to fix, the server to start). Requests are retried on 429, 5xx and
//! connection errors; streams are bounded by an idle timeout.

mod chat;
mod chat_stream;
mod client;
mod error;
pub mod provider;
mod responses;
mod retry;
pub mod sse;
mod stream;
pub mod types;

pub use client::{ModelClient, ReasoningConfig, RetryNotice};
pub use error::ModelError;
pub use provider::{ProviderInfo, WireApi};
pub use stream::ResponseStream;
pub use types::{ContentItem, Prompt, ResponseEvent, ResponseItem, Role, ToolSpec};

#[cfg(test)]
mod tests {
    /// The kernel holds clients across tasks and moves streams between them.
    #[test]
    fn clients_and_streams_can_cross_tasks() {
        fn send_sync_clone<T: Send + Sync + Clone>() {}
        fn send_unpin<T: Send + Unpin + futures::Stream>() {}
        send_sync_clone::<crate::ModelClient>();
        send_unpin::<crate::ResponseStream>();
    }
}
