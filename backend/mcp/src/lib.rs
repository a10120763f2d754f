//! The MCP client side of Tandem: the agent uses other people's tools through the Model Context
//! Protocol, on the official Rust SDK (`rmcp`).
//!
//! Servers come from `[mcp_servers.NAME]` in config.toml ([`tandem_config::McpServerConfig`]):
//! stdio child processes or streamable-HTTP endpoints. The kernel holds one [`McpManager`]:
//!
//! ```no_run
//! # async fn demo(config: tandem_config::Config, env: std::collections::BTreeMap<String, String>) {
//! use tandem_mcp::McpManager;
//! let (mcp, mut events) = McpManager::start(&config.mcp_servers, &env); // returns at once
//! // Each turn: offer what is ready now.
//! let specs: Vec<_> = mcp.tools().into_iter().map(|t| t.spec).collect();
//! // When the model calls `mcp__everything__echo`:
//! if let Some((server, tool)) = mcp.resolve("mcp__everything__echo") {
//!     let output = match mcp.call(&server, &tool, serde_json::json!({"message": "hi"})).await {
//!         Ok(result) => result.to_model_text(),
//!         Err(e) => e.to_string(), // the model reads failures too
//!     };
//! }
//! # let _ = (specs, events.try_recv());
//! mcp.shutdown().await;
//! # }
//! ```
//!
//! Guarantees the kernel relies on:
//! - `start` never waits for a server; a server that never answers fails after its
//!   `startup_timeout_sec` with an event, and the others are unaffected.
//! - A server that crashes is restarted with exponential backoff ([`RestartPolicy`]); the call
//!   in flight gets [`McpError::Crashed`], and the session goes on.
//! - Child processes get exactly the given environment plus their own `env`; their stderr goes
//!   to `tracing` (target `tandem_mcp::stderr`), never to our stdout or stderr.
//! - Nothing here prints.

mod connect;
mod content;
mod error;
mod event;
mod manager;
pub mod names;
mod process;
mod supervisor;

pub use content::{McpCallResult, McpContent};
pub use error::McpError;
pub use event::{McpEvent, McpOptions, RestartPolicy};
pub use manager::{McpManager, McpServerStatus, McpTool};
