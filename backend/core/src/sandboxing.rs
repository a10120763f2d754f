//! Turning a command into a process: directly, or inside the sandbox.
//!
//! Sandboxed commands go to a per-session zygote (`tandem_sandbox::SessionSandbox`) that keeps
//! the namespaces built, so a session running many commands pays the setup once. There is one
//! zygote per distinct policy (the sandbox mode can change per turn). If a zygote cannot be
//! started, the command runs through the one-shot helper instead, which enforces exactly the
//! same policy — or refuses with exit 125 and a reason, never with weaker isolation.

use crate::exec::{ExecError, ExecRequest, Process};
use crate::session::SandboxHelper;
use crate::turn::TurnContext;
use std::collections::HashMap;
use std::ffi::OsString;
use std::sync::{Arc, Mutex};
use tandem_sandbox::{ChildIo, SandboxPolicy, SessionSandbox, SpawnRequest};
use tokio::process::Command;

/// The session's zygotes, keyed by their policy.
#[derive(Default)]
pub struct SandboxPool {
    zygotes: Mutex<HashMap<String, Arc<SessionSandbox>>>,
    /// Policies whose zygote failed; each failure is reported to the shell once.
    failed: Mutex<HashMap<String, StartFailure>>,
}

/// Why a session's zygote could not be started.
#[derive(Clone)]
struct StartFailure {
    reason: String,
    /// User namespaces are unavailable (the only case the Landlock-only fallback is for).
    no_namespaces: bool,
}

impl SandboxPool {
    /// The zygote for `policy`, or why it could not be started (`Err(None)` when that was
    /// already reported).
    fn get_or_start(
        &self,
        helper: &SandboxHelper,
        policy: &SandboxPolicy,
    ) -> Result<Arc<SessionSandbox>, Option<StartFailure>> {
        let key = serde_json::to_string(policy).map_err(|e| {
            Some(StartFailure {
                reason: e.to_string(),
                no_namespaces: false,
            })
        })?;
        let mut zygotes = self.zygotes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(z) = zygotes.get(&key) {
            return Ok(z.clone());
        }
        let mut failed = self.failed.lock().unwrap_or_else(|e| e.into_inner());
        if failed.contains_key(&key) {
            return Err(None);
        }
        match SessionSandbox::start(&helper.exe, helper.arg0.as_deref(), policy) {
            Ok(z) => {
                let z = Arc::new(z);
                zygotes.insert(key, z.clone());
                Ok(z)
            }
            Err(e) => {
                let failure = StartFailure {
                    reason: e.to_string(),
                    no_namespaces: e.is_namespace_unavailable(),
                };
                failed.insert(key, failure.clone());
                Err(Some(failure))
            }
        }
    }

    /// Forget a zygote that stopped working, so the next command starts a fresh one.
    fn discard(&self, policy: &SandboxPolicy) {
        if let Ok(key) = serde_json::to_string(policy) {
            self.zygotes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&key);
        }
    }
}

/// What the user is told, once per session and policy, when the zygote cannot be started.
fn start_failure_warning(failure: &StartFailure, policy: &SandboxPolicy) -> String {
    let reason = &failure.reason;
    if !failure.no_namespaces || policy.mode == tandem_protocol::SandboxMode::DangerFullAccess {
        return format!(
            "the session sandbox could not be prepared ({reason}); each command starts its own sandbox instead"
        );
    }
    if !policy.allow_landlock_only_fallback {
        return format!(
            "the sandbox cannot be built on this host ({reason}); commands will be refused (exit 125) until user namespaces are enabled, or `allow_landlock_only_fallback = true` is set in config.toml to accept the weaker Landlock-only sandbox"
        );
    }
    if tandem_sandbox::landlock_abi() <= 0 {
        return format!(
            "the sandbox cannot be built on this host ({reason}), and the Landlock-only fallback that `allow_landlock_only_fallback` allows needs Landlock, which this kernel lacks; commands will be refused (exit 125)"
        );
    }
    "sandbox: user namespaces are unavailable on this host, so commands run under the weaker Landlock-only fallback that `allow_landlock_only_fallback = true` allows. Still enforced: writes only inside the writable roots, .git, .tandem and .agents read-only, no network, seccomp, no_new_privs, and nothing outlives a command. Lost: a private /tmp (the host's is read-only; TMPDIR points at a private directory), hiding the host's Unix sockets and other processes of this user, and creating or removing top-level entries of the workspace"
        .into()
}

pub fn direct(req: &ExecRequest) -> Result<Process, ExecError> {
    let mut c = Command::new(&req.argv[0]);
    c.args(&req.argv[1..]);
    Process::spawn_command(c, req)
}

/// The policy a turn's commands run under.
fn policy_for(ctx: &TurnContext) -> SandboxPolicy {
    SandboxPolicy {
        mode: ctx.sandbox,
        cwd: Some(ctx.cwd.clone()),
        writable_roots: ctx.writable_roots.clone(),
        network: ctx.network,
        allow_landlock_only_fallback: ctx.session.config.allow_landlock_only_fallback,
        ..SandboxPolicy::default()
    }
}

/// Start the command in the sandbox, or say why it cannot be.
pub fn sandboxed(
    ctx: &TurnContext,
    req: &ExecRequest,
) -> Result<Result<Process, ExecError>, String> {
    let Some(helper) = &ctx.session.sandbox_helper else {
        return Err("the sandbox helper is not available, so the command was not run. \
                    Install `tandem-sandbox` next to `tandem`, or choose sandbox_mode = \"danger-full-access\" \
                    if you accept running commands unsandboxed."
            .into());
    };
    let policy = policy_for(ctx);
    let zygote = match ctx.session.sandboxes.get_or_start(helper, &policy) {
        Ok(zygote) => Some(zygote),
        Err(failure) => {
            if let Some(failure) = failure {
                // Said once, where people look. Commands still run with the same policy through
                // the one-shot helper, or are refused with this same reason (exit 125).
                ctx.emit(tandem_protocol::events::EventMsg::Warning {
                    message: start_failure_warning(&failure, &policy),
                });
            }
            None
        }
    };
    if let Some(zygote) = zygote {
        let env: Vec<(OsString, OsString)> =
            req.env.iter().map(|(k, v)| (k.into(), v.into())).collect();
        let request = SpawnRequest::new(&req.argv)
            .cwd(&req.cwd)
            .env(env)
            .stdin(ChildIo::Null)
            .stdout(ChildIo::Pipe)
            .stderr(ChildIo::Pipe);
        match zygote
            .spawn(request)
            .map_err(|e| e.to_string())
            .and_then(|c| Process::from_sandboxed(c).map_err(|e| e.to_string()))
        {
            Ok(process) => return Ok(Ok(process)),
            Err(e) => {
                tracing::warn!(
                    "the sandbox zygote failed ({e}); falling back to a one-shot sandboxed spawn"
                );
                ctx.session.sandboxes.discard(&policy);
            }
        }
    }
    // The one-shot helper takes the command's directory from the policy.
    let one_shot_policy = SandboxPolicy {
        cwd: Some(req.cwd.clone()),
        ..policy
    };
    let command = tandem_sandbox::command_for(
        &helper.exe,
        helper.arg0.as_deref(),
        &one_shot_policy,
        &req.argv,
    );
    Ok(Process::spawn_command(Command::from(command), req))
}
