//! Turning a command into a process: directly, or wrapped in the sandbox helper.
//!
//! The helper is driven through its command line (the same interface a person uses), so the
//! kernel depends only on that contract, and the helper can be our own binary under the name
//! `tandem-sandbox` (arg0) or the standalone one.

use crate::exec::ExecRequest;
use crate::turn::TurnContext;
use tandem_protocol::SandboxMode;
use tokio::process::Command;

pub fn direct_command(req: &ExecRequest) -> Command {
    let mut c = Command::new(&req.argv[0]);
    c.args(&req.argv[1..]);
    c
}

/// The command wrapped in the sandbox helper, or a message saying why it cannot be.
pub fn sandboxed_command(ctx: &TurnContext, req: &ExecRequest) -> Result<Command, String> {
    let Some(helper) = &ctx.session.sandbox_helper else {
        return Err("the sandbox helper is not available, so the command was not run. \
                    Install `tandem-sandbox` next to `tandem`, or choose sandbox_mode = \"danger-full-access\" \
                    if you accept running commands unsandboxed."
            .into());
    };
    let mut c = Command::new(&helper.exe);
    if let Some(arg0) = &helper.arg0 {
        c.arg0(arg0);
    }
    let mode = match ctx.sandbox {
        SandboxMode::ReadOnly => "read-only",
        SandboxMode::WorkspaceWrite => "workspace-write",
        SandboxMode::DangerFullAccess => "danger-full-access",
    };
    c.arg("--mode").arg(mode).arg("--cwd").arg(&req.cwd);
    if ctx.sandbox == SandboxMode::WorkspaceWrite {
        for root in &ctx.writable_roots {
            c.arg("--writable-root").arg(root);
        }
    }
    if ctx.network {
        c.arg("--network");
    }
    c.arg("--").args(&req.argv);
    Ok(c)
}
