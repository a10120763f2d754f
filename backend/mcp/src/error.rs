//! Why a tool call did not produce a result.
//!
//! Every message is written for two readers: the model, which gets it as the tool's output and
//! should be able to decide what to do next (retry, use another tool, tell the user), and the
//! person reading the transcript, who may have to fix the configuration.

use std::time::Duration;

/// A tool call that failed before the tool could answer.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum McpError {
    #[error("no MCP server named `{server}` is configured")]
    UnknownServer { server: String },

    /// The server is disabled, failed to start, gave up restarting, or was shut down.
    #[error("MCP server `{server}` is not available: {reason}")]
    Unavailable { server: String, reason: String },

    /// The tool is filtered out by `enabled_tools`/`disabled_tools`.
    #[error(
        "the tool `{tool}` of MCP server `{server}` is disabled by `enabled_tools`/`disabled_tools` in its config"
    )]
    ToolDisabled { server: String, tool: String },

    #[error("the arguments for `{tool}` must be a JSON object, not {got}")]
    InvalidArguments { tool: String, got: String },

    #[error(
        "MCP server `{server}` did not answer the call to `{tool}` within {}s (tool_timeout_sec); the call was cancelled",
        timeout.as_secs_f64()
    )]
    Timeout {
        server: String,
        tool: String,
        timeout: Duration,
    },

    /// The server process died or its connection broke while the call was in flight. The server
    /// is being restarted; calling again after a moment may work.
    #[error("MCP server `{server}` crashed during the call to `{tool}` ({detail}); restarting it")]
    Crashed {
        server: String,
        tool: String,
        detail: String,
    },

    /// The server answered with a JSON-RPC error (an unknown tool, invalid params, ...).
    #[error(
        "MCP server `{server}` rejected the call to `{tool}`: {message} (JSON-RPC error {code})"
    )]
    Rpc {
        server: String,
        tool: String,
        code: i32,
        message: String,
    },

    /// Anything else the SDK reported (an unexpected response shape, a cancelled request).
    #[error("the call to `{tool}` on MCP server `{server}` failed: {detail}")]
    Other {
        server: String,
        tool: String,
        detail: String,
    },
}
