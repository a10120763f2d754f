//! When to ask a person, and whether to use the sandbox: the two axes combined.
//!
//! This module decides; it does not run anything. Keeping the whole decision table in one pure
//! function makes it easy to test every combination and hard for a tool to forget a case.

use crate::safe_commands::is_known_safe;
use std::path::{Component, Path, PathBuf};
use tandem_protocol::events::ApprovalKind;
use tandem_protocol::{ApprovalPolicy, SandboxMode};

/// Directory names inside a writable root that the agent may never write without approval.
pub const PROTECTED_DIRS: [&str; 3] = [".git", ".tandem", ".agents"];

/// What to do with a command before running it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandPlan {
    /// Run it now; `sandboxed` says whether through the sandbox helper.
    Run { sandboxed: bool },
    /// Ask first; if allowed, run with `sandboxed`.
    Ask {
        kind: ApprovalKind,
        reason: String,
        sandboxed: bool,
    },
    /// Do not run it; this message goes to the model.
    Reject(String),
}

/// Decide for a command the model asked to run.
///
/// `escalate` is the model's `with_escalated_permissions`; `session_approved` is true when a
/// person already allowed this command's prefix for the session.
pub fn plan_command(
    approval: ApprovalPolicy,
    sandbox: SandboxMode,
    argv: &[String],
    escalate: bool,
    justification: Option<&str>,
    session_approved: bool,
) -> CommandPlan {
    let sandboxed = sandbox != SandboxMode::DangerFullAccess;
    if escalate && sandboxed {
        let reason = justification
            .unwrap_or("the model asked to run this outside the sandbox")
            .to_string();
        return match approval {
            _ if session_approved => CommandPlan::Run { sandboxed: false },
            ApprovalPolicy::Never => CommandPlan::Reject(
                "escalation denied: approval_policy is `never`, so commands cannot leave the sandbox. \
                 Find a way to do this inside the sandbox, or tell the user what needs to run."
                    .into(),
            ),
            ApprovalPolicy::Untrusted | ApprovalPolicy::OnRequest => {
                CommandPlan::Ask { kind: ApprovalKind::Escalation, reason, sandboxed: false }
            }
        };
    }
    match approval {
        ApprovalPolicy::Untrusted if !session_approved && !is_known_safe(argv) => CommandPlan::Ask {
            kind: ApprovalKind::Command,
            reason: "approval_policy is `untrusted`: only known read-only commands run without asking".into(),
            sandboxed,
        },
        _ => CommandPlan::Run { sandboxed },
    }
}

/// After a sandboxed run failed in a way that looks like the sandbox's doing: ask to retry
/// outside it, or tell the model why not.
pub fn plan_retry_outside_sandbox(approval: ApprovalPolicy) -> Option<CommandPlan> {
    match approval {
        ApprovalPolicy::Never => None,
        ApprovalPolicy::Untrusted | ApprovalPolicy::OnRequest => Some(CommandPlan::Ask {
            kind: ApprovalKind::Escalation,
            reason: "the command failed inside the sandbox; run it again without the sandbox?"
                .into(),
            sandboxed: false,
        }),
    }
}

/// What to do with a patch whose target paths are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchPlan {
    Apply,
    Ask { reason: String },
    Reject(String),
}

/// Decide for a patch. `paths` are absolute (after resolving moves).
pub fn plan_patch(
    approval: ApprovalPolicy,
    sandbox: SandboxMode,
    writable_roots: &[PathBuf],
    paths: &[PathBuf],
    approve_before_write: bool,
) -> PatchPlan {
    let blocked: Vec<&PathBuf> = match sandbox {
        SandboxMode::DangerFullAccess => Vec::new(),
        SandboxMode::ReadOnly => paths.iter().collect(),
        SandboxMode::WorkspaceWrite => paths
            .iter()
            .filter(|p| !is_writable(writable_roots, p))
            .collect(),
    };
    if blocked.is_empty() {
        return if approval == ApprovalPolicy::Untrusted || approve_before_write {
            PatchPlan::Ask {
                reason: "review the proposed change".into(),
            }
        } else {
            PatchPlan::Apply
        };
    }
    let list = blocked
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let why = match sandbox {
        SandboxMode::ReadOnly => {
            format!("the sandbox is read-only, so these files cannot be written: {list}")
        }
        _ => format!(
            "outside the writable roots or in a protected directory (.git, .tandem, .agents): {list}"
        ),
    };
    match approval {
        ApprovalPolicy::Never => {
            PatchPlan::Reject(format!("patch rejected: {why}. No file was changed."))
        }
        _ => PatchPlan::Ask { reason: why },
    }
}

/// Inside some writable root, and not inside a protected directory of that root.
pub fn is_writable(roots: &[PathBuf], path: &Path) -> bool {
    let path = normalize(path);
    roots.iter().any(|root| {
        let root = normalize(root);
        match path.strip_prefix(&root) {
            Ok(rel) => !rel.components().any(
                |c| matches!(c, Component::Normal(n) if PROTECTED_DIRS.iter().any(|p| n == *p)),
            ),
            Err(_) => false,
        }
    })
}

/// Lexical normalisation (`a/./b/../c` → `a/c`), so `..` cannot smuggle a path out of a root.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApprovalPolicy::*;
    use SandboxMode::*;

    fn v(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn command_table() {
        let ask = |kind| move |p: &CommandPlan| matches!(p, CommandPlan::Ask { kind: k, .. } if *k == kind);
        let run = |sb: bool| move |p: &CommandPlan| *p == CommandPlan::Run { sandboxed: sb };
        let reject = |p: &CommandPlan| matches!(p, CommandPlan::Reject(_));
        type Check = Box<dyn Fn(&CommandPlan) -> bool>;
        let cases: Vec<(ApprovalPolicy, SandboxMode, &str, bool, Check)> = vec![
            (Untrusted, WorkspaceWrite, "ls", false, Box::new(run(true))),
            (
                Untrusted,
                WorkspaceWrite,
                "cargo test",
                false,
                Box::new(ask(ApprovalKind::Command)),
            ),
            (
                Untrusted,
                DangerFullAccess,
                "cargo test",
                false,
                Box::new(ask(ApprovalKind::Command)),
            ),
            (
                Untrusted,
                WorkspaceWrite,
                "cargo test",
                true,
                Box::new(ask(ApprovalKind::Escalation)),
            ),
            (
                OnRequest,
                WorkspaceWrite,
                "cargo test",
                false,
                Box::new(run(true)),
            ),
            (
                OnRequest,
                ReadOnly,
                "cargo test",
                true,
                Box::new(ask(ApprovalKind::Escalation)),
            ),
            (
                OnRequest,
                DangerFullAccess,
                "cargo test",
                true,
                Box::new(run(false)),
            ),
            (
                Never,
                WorkspaceWrite,
                "cargo test",
                false,
                Box::new(run(true)),
            ),
            (Never, WorkspaceWrite, "cargo test", true, Box::new(reject)),
            (
                Never,
                DangerFullAccess,
                "rm -rf x",
                false,
                Box::new(run(false)),
            ),
        ];
        for (a, s, cmd, esc, check) in cases {
            let plan = plan_command(a, s, &v(cmd), esc, None, false);
            assert!(check(&plan), "{a} {s} {cmd} esc={esc}: {plan:?}");
        }
    }

    #[test]
    fn session_approval_skips_the_question() {
        assert_eq!(
            plan_command(
                Untrusted,
                WorkspaceWrite,
                &v("cargo test"),
                false,
                None,
                true
            ),
            CommandPlan::Run { sandboxed: true }
        );
        assert_eq!(
            plan_command(
                OnRequest,
                WorkspaceWrite,
                &v("cargo test"),
                true,
                None,
                true
            ),
            CommandPlan::Run { sandboxed: false }
        );
    }

    #[test]
    fn patch_table() {
        let roots = vec![PathBuf::from("/w")];
        let inside = vec![PathBuf::from("/w/src/a.rs")];
        let git = vec![PathBuf::from("/w/.git/config")];
        let outside = vec![PathBuf::from("/w/../etc/passwd")];
        assert_eq!(
            plan_patch(OnRequest, WorkspaceWrite, &roots, &inside, false),
            PatchPlan::Apply
        );
        assert_eq!(
            plan_patch(Never, WorkspaceWrite, &roots, &inside, false),
            PatchPlan::Apply
        );
        assert!(matches!(
            plan_patch(Untrusted, WorkspaceWrite, &roots, &inside, false),
            PatchPlan::Ask { .. }
        ));
        assert!(matches!(
            plan_patch(OnRequest, WorkspaceWrite, &roots, &inside, true),
            PatchPlan::Ask { .. }
        ));
        assert!(matches!(
            plan_patch(OnRequest, WorkspaceWrite, &roots, &git, false),
            PatchPlan::Ask { .. }
        ));
        assert!(matches!(
            plan_patch(Never, WorkspaceWrite, &roots, &git, false),
            PatchPlan::Reject(_)
        ));
        assert!(matches!(
            plan_patch(Never, WorkspaceWrite, &roots, &outside, false),
            PatchPlan::Reject(_)
        ));
        assert!(matches!(
            plan_patch(Never, ReadOnly, &roots, &inside, false),
            PatchPlan::Reject(_)
        ));
        assert!(matches!(
            plan_patch(OnRequest, ReadOnly, &roots, &inside, false),
            PatchPlan::Ask { .. }
        ));
        assert_eq!(
            plan_patch(Never, DangerFullAccess, &roots, &outside, false),
            PatchPlan::Apply
        );
    }
}
