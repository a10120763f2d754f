//! A scripted model server that speaks the real wire formats, for tests and demos.
//!
//! It serves `POST /v1/responses` and `POST /v1/chat/completions` (also without `/v1`) on
//! 127.0.0.1 and answers each model request with the next step of a [`Scenario`]: the same
//! SSE event shapes the OpenAI Responses API and Chat Completions servers stream, or a
//! scripted fault (an HTTP error with `Retry-After`, a delay, a stall, a stream cut
//! mid-item). It records every request, so tests can assert on what the agent sent:
//! [`ScriptedServer::requests`] in-process, `GET /_requests` over HTTP, or a JSONL file.
//!
//! It is a test and demo tool, never part of the shipped agent's code path, and it says so
//! whenever it starts as a program.
//!
//! ```no_run
//! use tandem_scripted_model::{Scenario, ScriptedServer};
//! let scenario = Scenario::from_toml_str(r#"
//!     [[step]]
//!     [[step.output]]
//!     type = "message"
//!     text = "Hello from a script."
//! "#).unwrap();
//! let server = ScriptedServer::start(scenario).unwrap();
//! // Point a provider's base_url at server.base_url(), run the agent, then:
//! assert!(server.status().is_complete_and_clean(), "{:?}", server.status());
//! ```

mod record;
mod scenario;
mod server;
mod sse_writer;

pub use record::RecordedRequest;
pub use scenario::{
    Arguments, ChatReasoningField, OutputItem, Scenario, ScenarioError, Step, StreamError, Usage,
    Wire,
};
pub use server::{ScenarioStatus, ScriptedServer, ServerOptions};
