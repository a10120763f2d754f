//! `tandem acp`: Tandem as an Agent Client Protocol (v1) agent on stdio, so Zed, JetBrains
//! IDEs, Neovim (CodeCompanion, avante.nvim) and Emacs can drive it with no plugin of ours.
//!
//! - `initialize` answers protocol version 1, with `loadSession`, embedded-context prompts and
//!   HTTP MCP servers;
//! - `session/new` starts a kernel in the given cwd; the client's `mcpServers` are passed
//!   through as `[mcp_servers.NAME]` config entries (SSE servers are skipped);
//! - `session/load` replays the recorded conversation as `session/update`s, then resumes it;
//! - `session/prompt` stays pending for the whole turn and answers a stop reason;
//! - `session/cancel` interrupts the turn;
//! - approvals become `session/request_permission` (allow once, allow for the session,
//!   reject).
//!
//! Execution and the sandbox stay here: Tandem runs commands and writes files itself, inside
//! its OS sandbox, and never uses the client's `fs/*` or `terminal/*` methods (ACP v2 drops
//! them). Tandem-only data (item ids, approval ids, exit codes) rides under `_meta.tandem`.
//!
//! The crate is `agent-client-protocol` 0.14, the newest release that speaks v1 without
//! turning on serde_json's `preserve_order` feature for the whole workspace (0.15 and later
//! do, which would reorder every JSON object other crates write and snapshot).
//!
//! stdout is the protocol channel: nothing here prints; logs go through `tracing` to stderr.

mod agent;
mod permission;
mod replay;
mod session;
mod transport;
mod updates;

use anyhow::Context;
use clap::Parser;
use std::sync::Arc;
use tandem_core::SandboxHelper;

/// `tandem acp`: serve the Agent Client Protocol (v1) on stdio.
///
/// The config flags set defaults for every session the client opens.
#[derive(Debug, Parser)]
pub struct Args {
    #[command(flatten)]
    pub config: tandem_exec::SharedConfigArgs,
}

/// Serve until the client closes stdin; returns the process exit code.
pub async fn run(args: Args, sandbox_helper: Option<SandboxHelper>) -> anyhow::Result<i32> {
    let defaults = args.config.to_overrides()?;
    // Fail at start-up, where the editor shows the agent's stderr, not on the first prompt.
    tandem_config::Config::load(defaults.clone()).context("cannot load the Tandem config")?;
    let state = Arc::new(agent::AgentState::new(defaults, sandbox_helper));
    let served = agent::serve(state.clone()).await;
    state.shutdown_all().await;
    match served {
        Ok(()) => Ok(0),
        Err(e) => Err(anyhow::anyhow!("the ACP connection failed: {e:?}")),
    }
}
