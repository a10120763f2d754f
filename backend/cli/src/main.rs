//! The `tandem` multitool binary: `exec`, and the sandbox helper when started as
//! `tandem-sandbox` (the arg0 trick, so one file ships).
#![allow(
    clippy::print_stderr,
    reason = "the binary's edge reports fatal errors on stderr"
)]

mod mcp_cmd;

use clap::{Parser, Subcommand};
use std::path::Path;

#[derive(Debug, Parser)]
#[command(
    name = "tandem",
    version,
    about = "A coding agent that pairs with you in your editor, or works alone in a sandbox."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run one task headless (CI, scripts): progress on stderr, the answer on stdout.
    Exec(tandem_exec::ExecArgs),
    /// Manage the MCP servers in config.toml: list (--check), add, remove.
    Mcp(mcp_cmd::McpArgs),
    /// Serve editors over the Language Server Protocol (with Tandem's extensions) on stdio.
    Lsp(tandem_lsp::Args),
    /// Serve the `tandem` and `tandem-reply` tools over MCP on stdio.
    McpServer(tandem_mcp_server::Args),
    /// Speak the Agent Client Protocol (v1) on stdio, for Zed, JetBrains and Neovim.
    Acp(tandem_acp::Args),
    /// Run a command in the sandbox helper (what the agent's commands run under).
    Sandbox {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
}

fn main() {
    let invoked_as = std::env::args_os().next().unwrap_or_default();
    if Path::new(&invoked_as)
        .file_name()
        .is_some_and(|n| n == "tandem-sandbox")
    {
        tandem_sandbox::run_main();
    }
    let cli = Cli::parse();
    init_tracing();
    let code = match cli.command {
        Command::Sandbox { .. } => {
            // `tandem sandbox ARGS` re-executes itself as `tandem-sandbox ARGS`.
            use std::os::unix::process::CommandExt;
            let exe = std::env::current_exe().unwrap_or_else(|_| "tandem".into());
            let mut args = std::env::args_os().skip(2);
            let err = std::process::Command::new(exe)
                .arg0("tandem-sandbox")
                .args(&mut args)
                .exec();
            eprintln!("tandem: cannot start the sandbox helper: {err}");
            125
        }
        Command::Mcp(args) => run_async(mcp_cmd::run(args)),
        Command::Exec(args) => run_async(tandem_exec::run(
            args,
            tandem_exec::self_as_sandbox_helper(),
        )),
        Command::Lsp(args) => {
            run_async(tandem_lsp::run(args, tandem_exec::self_as_sandbox_helper()))
        }
        Command::McpServer(args) => run_async(tandem_mcp_server::run(
            args,
            tandem_exec::self_as_sandbox_helper(),
        )),
        Command::Acp(args) => {
            run_async(tandem_acp::run(args, tandem_exec::self_as_sandbox_helper()))
        }
    };
    std::process::exit(code);
}

fn run_async(fut: impl std::future::Future<Output = anyhow::Result<i32>>) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tandem: cannot start the async runtime: {e}");
            return 1;
        }
    };
    match runtime.block_on(fut) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            1
        }
    }
}

/// Logs go to stderr (stdout belongs to the protocol or the answer), filtered by `RUST_LOG`.
fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
