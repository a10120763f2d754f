//! `tandem mcp-server`: Tandem as a Model Context Protocol server on stdio, so other agents and
//! MCP clients can hand it tasks.
//!
//! Two tools, after Codex's `codex` / `codex-reply`:
//! - `tandem` starts a task (a new session) and runs one turn to completion;
//! - `tandem-reply` continues a session by its `threadId`, held in this process or resumed from
//!   its record on disk.
//!
//! Both answer `{threadId, content}` (the final message) as structured content and as text.
//! While a turn runs, items stream to the client as progress notifications (when the call
//! carried a `progressToken`) and as logging messages (`notifications/message`, the
//! `codex exec --json` shape of each item).
//!
//! Approvals go to the person behind the client through MCP elicitation when the client
//! declared that capability ([`approval`]); otherwise the `--unattended-approvals` policy
//! answers (deny by default), and the tool result lists what was denied.
//!
//! Like every shell, this crate only drives [`tandem_core::Kernel`]s. stdout is the protocol
//! channel: nothing here prints; logs go through `tracing` to stderr.

mod approval;
mod params;
mod progress;
mod server;
mod session;

use anyhow::Context;
use clap::{Parser, ValueEnum};
use rmcp::ServiceExt;
use tandem_core::SandboxHelper;

pub use server::TandemServer;

/// What to answer when an approval is needed but the client cannot be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum UnattendedApprovals {
    /// Deny, and tell the model (and the tool result) what was denied.
    #[default]
    Deny,
    /// Allow once. Only for clients that sandbox Tandem themselves.
    Allow,
}

/// `tandem mcp-server`: serve the `tandem` and `tandem-reply` tools over MCP on stdio.
///
/// The config flags set defaults for every task; a tool call's own arguments win.
#[derive(Debug, Parser)]
pub struct Args {
    #[command(flatten)]
    pub config: tandem_exec::SharedConfigArgs,
    /// The answer to approvals when the client does not support elicitation.
    #[arg(long, value_enum, value_name = "POLICY", default_value_t = UnattendedApprovals::Deny)]
    pub unattended_approvals: UnattendedApprovals,
    /// Seconds to wait for the client to answer an elicitation before denying (0: no limit).
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub elicitation_timeout_sec: u64,
}

/// Run the server until the client closes stdin; returns the process exit code.
pub async fn run(args: Args, sandbox_helper: Option<SandboxHelper>) -> anyhow::Result<i32> {
    // Fail at start-up, where the client shows it, rather than on the first tool call.
    let defaults = args.config.to_overrides()?;
    tandem_config::Config::load(defaults.clone()).context("cannot load the Tandem config")?;
    let server = TandemServer::new(server::ServerOptions {
        defaults,
        sandbox_helper,
        unattended: args.unattended_approvals,
        elicitation_timeout: (args.elicitation_timeout_sec > 0)
            .then(|| std::time::Duration::from_secs(args.elicitation_timeout_sec)),
    });
    let sessions = server.sessions();
    let service = server
        .serve(rmcp::transport::stdio())
        .await
        .context("the MCP handshake failed")?;
    let reason = service.waiting().await;
    tracing::debug!(?reason, "MCP client went away");
    sessions.shutdown_all().await;
    Ok(0)
}
