//! `tandem lsp`: the extended-LSP backend that editors talk to over stdio.
//!
//! Any LSP client gets document sync, inline review through code actions and CodeLens, and
//! approvals through `window/showMessageRequest`; a client that speaks the `tandem/*`
//! extensions (see `docs/protocol.md`) also gets Auto Context, tasks with streamed events and
//! review notifications.
//!
//! This crate only translates. Every handler is `from_proto` → one call into
//! [`tandem_workspace::Workspace`] or a kernel → `to_proto`; the editor-side logic (documents,
//! positions, Auto Context, review anchoring) lives in `tandem-workspace`, the agent in
//! `tandem-core`, and the wire vocabulary in `tandem-protocol-ext`.
//!
//! Layout: [`server`] holds the dispatch table; `handlers/` has one file per request family;
//! [`state`] is the single owner of mutable state; [`task`] drives one kernel per task, and
//! [`progress`] shows it as work-done progress to clients without task events;
//! [`apply`] carries review decisions out (edits to buffers and disk) and reports resolved
//! changes to the kernels; [`file_ops`] closes the buffers of files deleted or moved on disk;
//! [`convert`] is `from_proto`/`to_proto`.
//!
//! stdout is the protocol channel: nothing here prints; logs go through `tracing` to stderr.

mod apply;
mod convert;
mod error;
mod file_ops;
mod handlers;
mod overlay;
mod progress;
mod server;
mod settings;
mod state;
mod task;

pub use error::LspError;
pub use settings::{ReviewModelSetting, Settings};

use std::collections::BTreeMap;
use std::path::PathBuf;
use tandem_core::SandboxHelper;
use tokio::io::{AsyncRead, AsyncWrite};

/// `tandem lsp`: serve the Language Server Protocol, with Tandem's extensions, on stdio.
///
/// The config flags set defaults for every task; the client's settings
/// (`initializationOptions`, `workspace/didChangeConfiguration`) and each task's own
/// parameters take precedence over them.
#[derive(Debug, clap::Parser)]
pub struct Args {
    /// Accepted for compatibility with clients that pass it (vscode-languageclient does); stdio
    /// is the only transport.
    #[arg(long)]
    pub stdio: bool,
    #[command(flatten)]
    pub config: tandem_exec::SharedConfigArgs,
}

/// How the server is set up, beyond what the client sends.
#[derive(Default)]
pub struct ServerOptions {
    /// Config defaults for every task (from the command line).
    pub defaults: tandem_config::ConfigOverrides,
    /// The sandbox helper commands run under.
    pub sandbox_helper: Option<SandboxHelper>,
    /// The environment commands start from; defaults to this process's.
    pub base_env: Option<BTreeMap<String, String>>,
    /// Where a client that names no workspace folder works; defaults to the process's cwd.
    pub fallback_root: Option<PathBuf>,
}

/// Serve until the client sends `exit` or closes stdin; returns the process exit code.
pub async fn run(args: Args, sandbox_helper: Option<SandboxHelper>) -> anyhow::Result<i32> {
    let defaults = args.config.to_overrides()?;
    let options = ServerOptions {
        fallback_root: defaults.cwd.clone(),
        defaults,
        sandbox_helper,
        base_env: None,
    };
    serve(tokio::io::stdin(), tokio::io::stdout(), options).await;
    Ok(0)
}

/// Serve one connection over any byte streams (stdio in the binary, duplex pipes in tests).
pub async fn serve<I, O>(input: I, output: O, options: ServerOptions)
where
    I: AsyncRead + Unpin,
    O: AsyncWrite,
{
    let (service, socket) = server::build(options);
    tower_lsp_server::Server::new(input, output, socket)
        // Requests that wait on the person (accepting a hunk waits for `workspace/applyEdit`)
        // must not hold up document sync; the default of 4 is too small for that.
        .concurrency_level(64)
        .serve(service)
        .await;
}
