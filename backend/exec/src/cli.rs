//! The command line of `tandem exec`, and the config flags every subcommand shares.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use tandem_protocol::{ApprovalPolicy, SandboxMode};

/// Config flags shared by `exec`, `lsp`, `mcp-server` and `acp`.
#[derive(Debug, Clone, Default, Args)]
pub struct SharedConfigArgs {
    /// Work in DIR instead of the current directory.
    #[arg(global = true, short = 'C', long = "cd", value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// What commands may touch: read-only, workspace-write or danger-full-access.
    #[arg(global = true, short = 's', long = "sandbox", value_name = "MODE", value_parser = parse_sandbox)]
    pub sandbox_mode: Option<SandboxMode>,
    /// When to ask: untrusted, on-request or never.
    #[arg(global = true, short = 'a', long = "ask-for-approval", value_name = "POLICY", value_parser = parse_approval)]
    pub approval_policy: Option<ApprovalPolicy>,
    /// The model to use.
    #[arg(global = true, short = 'm', long)]
    pub model: Option<String>,
    /// A `[profiles.NAME]` table of config.toml.
    #[arg(global = true, short = 'p', long)]
    pub profile: Option<String>,
    /// Override a config key: `-c key=value`, where the value is TOML (`-c model="o3"`).
    #[arg(global = true, short = 'c', long = "config", value_name = "KEY=VALUE")]
    pub overrides: Vec<String>,
}

fn parse_sandbox(s: &str) -> Result<SandboxMode, String> {
    s.parse()
}

fn parse_approval(s: &str) -> Result<ApprovalPolicy, String> {
    s.parse()
}

impl SharedConfigArgs {
    pub fn to_overrides(&self) -> anyhow::Result<tandem_config::ConfigOverrides> {
        let cli_overrides = self
            .overrides
            .iter()
            .map(|o| tandem_config::parse_cli_override(o))
            .collect::<Result<Vec<_>, _>>()?;
        let cwd = match &self.cwd {
            Some(dir) => Some(
                std::fs::canonicalize(dir)
                    .map_err(|e| anyhow::anyhow!("-C {}: {e}", dir.display()))?,
            ),
            None => None,
        };
        Ok(tandem_config::ConfigOverrides {
            cwd,
            model: self.model.clone(),
            profile: self.profile.clone(),
            sandbox_mode: self.sandbox_mode,
            approval_policy: self.approval_policy,
            cli_overrides,
            ..Default::default()
        })
    }
}

/// Run one task headless.
#[derive(Debug, Parser)]
pub struct ExecArgs {
    #[command(subcommand)]
    pub command: Option<ExecCommand>,
    #[command(flatten)]
    pub config: SharedConfigArgs,
    /// workspace-write sandbox and on-request approvals; escalations are denied, since nobody
    /// can answer.
    #[arg(global = true, long)]
    pub full_auto: bool,
    /// Print one JSON event per line on stdout (`codex exec --json` compatible).
    #[arg(global = true, long)]
    pub json: bool,
    /// Also write the final message to FILE.
    #[arg(global = true, long, value_name = "FILE")]
    pub output_last_message: Option<PathBuf>,
    /// The task, or `-` to read it from stdin.
    pub prompt: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ExecCommand {
    /// Continue a recorded session.
    Resume(ResumeArgs),
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The session id (or a unique prefix). With --last, a single positional is the prompt.
    pub session_id: Option<String>,
    /// Continue the most recent session.
    #[arg(long)]
    pub last: bool,
    /// The next prompt, or `-` for stdin.
    pub prompt: Option<String>,
}
