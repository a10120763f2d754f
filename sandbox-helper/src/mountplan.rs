//! The mount plan: a pure function from a resolved policy plus facts about the host filesystem
//! to the ordered list of mount operations that build the sandbox's view of the world.
//!
//! Keeping it pure (the facts are gathered by `inspect`, the plan is executed by `mounts`)
//! lets unit tests pin exactly what a policy turns into.

use crate::policy::ResolvedPolicy;
use serde::Serialize;
use std::path::{Path, PathBuf};
use tandem_protocol::SandboxMode;

/// What a protected path is on the host when the sandbox starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// A directory (possibly an empty placeholder we created because it did not exist).
    Dir,
    /// A regular file, e.g. a worktree's `.git` file.
    File,
    /// A symlink (a planted one cannot be trusted, so it is masked rather than followed).
    Symlink,
    /// A socket, fifo or device.
    Other,
}

/// One path that must stay read-only inside the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Protected {
    pub path: PathBuf,
    pub kind: EntryKind,
    /// Why it is protected, for the plan's readers ("protected name", "gitdir of ...").
    pub reason: String,
}

/// Facts about the host gathered before the namespaces are built.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    /// Protected paths under writable roots (and the places they point to).
    pub protected: Vec<Protected>,
    /// Directories holding host daemons' sockets, to hide behind an empty tmpfs when the
    /// network is off (`/run`, and `/var/run` when it is not a symlink to it).
    pub socket_dirs: Vec<PathBuf>,
    /// Individual host sockets named by the environment (SSH agent, D-Bus, Docker...) that lie
    /// outside the private or masked directories.
    pub sockets: Vec<PathBuf>,
    /// Path sockets bound in the host's network namespace (daemons listening anywhere), that
    /// the sandbox would see; gathered only when the network is off (see `hostsockets.rs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bound_sockets: Vec<PathBuf>,
}

/// One mount operation. Executed in order by `mounts::execute`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum MountStep {
    /// `mount --make-rprivate /`: host mount events stop propagating in, ours never leak out.
    MakePrivate,
    /// Detached recursive copy of `path` taken while it still has its host (writable) flags.
    CloneTree { slot: usize, path: PathBuf },
    /// Everything becomes read-only, nosuid and nodev, recursively, in one `mount_setattr`.
    ReadOnlyEverything,
    /// A tmpfs `/dev` with null, zero, full, random, urandom, tty, a private devpts and a
    /// private `/dev/shm`.
    MinimalDev,
    /// A private, writable tmpfs `/tmp` (also hides the host's `/tmp` sockets).
    PrivateTmp,
    /// An empty tmpfs over a directory of host sockets; made read-only by `Finalize`.
    MaskDir { path: PathBuf },
    /// Attaches a clone from `CloneTree` on `path` (creating the mount point inside our own
    /// tmpfs when needed), nosuid+nodev, and read-only if asked.
    AttachTree {
        slot: usize,
        path: PathBuf,
        read_only: bool,
    },
    /// Re-binds `path` read-only, recursively, on top of itself (without following a
    /// final symlink).
    ProtectReadOnly { path: PathBuf, reason: String },
    /// Hides `path` (a symlink, socket or other special file) under a read-only `/dev/null`.
    MaskWithNull { path: PathBuf, reason: String },
    /// Hides a host daemon's socket under a read-only `/dev/null` (`connect()` then fails), or
    /// nothing if it has gone away since it was found.
    MaskSocket { path: PathBuf, reason: String },
    /// Makes `/dev` and the masking tmpfs read-only once they are populated.
    Finalize { read_only: Vec<PathBuf> },
}

impl MountStep {
    /// The step's kind, for the phase timings.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            MountStep::MakePrivate => "m:make-private",
            MountStep::CloneTree { .. } => "m:clone-tree",
            MountStep::ReadOnlyEverything => "m:read-only",
            MountStep::MinimalDev => "m:dev",
            MountStep::PrivateTmp => "m:tmp",
            MountStep::MaskDir { .. } => "m:mask-dir",
            MountStep::AttachTree { .. } => "m:attach",
            MountStep::ProtectReadOnly { .. } => "m:protect",
            MountStep::MaskWithNull { .. } => "m:mask-null",
            MountStep::MaskSocket { .. } => "m:mask-socket",
            MountStep::Finalize { .. } => "m:finalize",
        }
    }
}

/// The whole plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MountPlan {
    pub steps: Vec<MountStep>,
}

/// Directories replaced by our own tmpfs: anything under them is invisible unless re-attached.
pub(crate) fn private_dirs(policy: &ResolvedPolicy, socket_dirs: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("/tmp")];
    if !policy.network {
        dirs.extend(socket_dirs.iter().cloned());
    }
    dirs
}

/// What must stay visible, re-attached from the host: writable roots (read-write), and in
/// read-only mode the cwd when it lives under a directory we replace (e.g. a workspace in
/// /tmp). Each with "read-only?".
pub(crate) fn exposures(policy: &ResolvedPolicy, hidden: &[PathBuf]) -> Vec<(PathBuf, bool)> {
    let mut exposures: Vec<(PathBuf, bool)> = policy
        .roots_by_depth()
        .into_iter()
        .map(|r| (r, false))
        .collect();
    if policy.mode == SandboxMode::ReadOnly && hidden.iter().any(|h| policy.cwd.starts_with(h)) {
        exposures.push((policy.cwd.clone(), true));
    }
    exposures
}

/// Builds the plan. `danger-full-access` has no plan (the caller never asks for one).
pub fn plan(policy: &ResolvedPolicy, facts: &Facts) -> MountPlan {
    let mut steps = vec![MountStep::MakePrivate];
    let hidden = private_dirs(policy, &facts.socket_dirs);
    let exposures = exposures(policy, &hidden);
    for (slot, (path, _)) in exposures.iter().enumerate() {
        steps.push(MountStep::CloneTree {
            slot,
            path: path.clone(),
        });
    }
    steps.push(MountStep::ReadOnlyEverything);
    steps.push(MountStep::MinimalDev);
    steps.push(MountStep::PrivateTmp);
    let mut finalize = vec![PathBuf::from("/dev")];
    if !policy.network {
        for d in &facts.socket_dirs {
            steps.push(MountStep::MaskDir { path: d.clone() });
            finalize.push(d.clone());
        }
    }
    for (slot, (path, read_only)) in exposures.iter().enumerate() {
        steps.push(MountStep::AttachTree {
            slot,
            path: path.clone(),
            read_only: *read_only,
        });
    }

    // Protected paths: only those a writable root makes writable need a read-only re-bind;
    // everything else is already read-only. Shallow paths first so deeper binds stack on top.
    let mut protected: Vec<&Protected> = facts
        .protected
        .iter()
        .filter(|p| policy.is_under_writable_root(&p.path))
        .collect();
    protected.sort_by_key(|p| (p.path.components().count(), p.path.clone()));
    protected.dedup_by(|a, b| a.path == b.path);
    for p in protected {
        steps.push(match p.kind {
            EntryKind::Dir | EntryKind::File => MountStep::ProtectReadOnly {
                path: p.path.clone(),
                reason: p.reason.clone(),
            },
            EntryKind::Symlink | EntryKind::Other => MountStep::MaskWithNull {
                path: p.path.clone(),
                reason: p.reason.clone(),
            },
        });
    }
    if !policy.network {
        // Host sockets the sandbox could reach: those outside the directories we replace, and
        // those inside them but under a re-attached root (a workspace in /tmp).
        let exposed: Vec<&PathBuf> = exposures.iter().map(|(p, _)| p).collect();
        let named = facts
            .sockets
            .iter()
            .map(|s| (s, "host daemon socket named in the environment"));
        let bound = facts
            .bound_sockets
            .iter()
            .map(|s| (s, "path socket bound in the host's network namespace"));
        let mut covered: Vec<&PathBuf> = Vec::new();
        for (s, reason) in named.chain(bound) {
            if covered.contains(&s) || !visible(s, &hidden, &exposed) {
                continue;
            }
            covered.push(s);
            steps.push(MountStep::MaskSocket {
                path: s.clone(),
                reason: reason.into(),
            });
        }
    }
    steps.push(MountStep::Finalize {
        read_only: finalize,
    });
    MountPlan { steps }
}

/// True when the sandbox sees `path` as the host has it: not under a directory replaced by
/// our own tmpfs, or under one but inside a tree re-attached from the host.
pub(crate) fn visible(path: &Path, hidden: &[PathBuf], exposed: &[&PathBuf]) -> bool {
    !hidden.iter().any(|h| path.starts_with(h)) || exposed.iter().any(|e| path.starts_with(e))
}

/// True when `path` is one of the names protected directly under a root.
pub fn is_protected_name(name: &std::ffi::OsStr) -> bool {
    crate::policy::PROTECTED_NAMES
        .iter()
        .any(|p| std::ffi::OsStr::new(p) == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{EnvPolicy, ResourceLimits};

    fn policy(mode: SandboxMode, cwd: &str, roots: &[&str], network: bool) -> ResolvedPolicy {
        ResolvedPolicy {
            mode,
            cwd: cwd.into(),
            writable_roots: roots.iter().map(PathBuf::from).collect(),
            network,
            limits: ResourceLimits::default(),
            env: EnvPolicy::default(),
            allow_landlock_only_fallback: false,
            force_landlock_only: false,
            allow_without_landlock: false,
        }
    }

    fn facts() -> Facts {
        let prot = |p: &str, kind, reason: &str| Protected {
            path: p.into(),
            kind,
            reason: reason.into(),
        };
        Facts {
            protected: vec![
                prot("/work/ws/.git", EntryKind::Dir, "protected name"),
                prot("/work/ws/.tandem", EntryKind::Symlink, "protected name"),
                prot(
                    "/work/ws/.agents",
                    EntryKind::Dir,
                    "protected name (placeholder)",
                ),
                prot("/work/wt/.git", EntryKind::File, "protected name"),
                prot(
                    "/work/store/wt-gitdir",
                    EntryKind::Dir,
                    "gitdir of /work/wt/.git",
                ),
                prot(
                    "/elsewhere/repo/.git",
                    EntryKind::Dir,
                    "commondir of /work/wt/.git",
                ),
            ],
            socket_dirs: vec!["/run".into()],
            sockets: vec![
                "/home/u/.gnupg/S.gpg-agent".into(),
                "/tmp/ssh-x/agent".into(),
            ],
            bound_sockets: vec![
                "/home/u/.gnupg/S.gpg-agent".into(),
                "/var/lib/foo/daemon.sock".into(),
                "/work/ws/dev-server.sock".into(),
            ],
        }
    }

    #[test]
    fn workspace_write_network_off() {
        let p = policy(
            SandboxMode::WorkspaceWrite,
            "/work/ws",
            &["/work/ws", "/work/wt", "/work/store"],
            false,
        );
        insta::assert_yaml_snapshot!(plan(&p, &facts()));
    }

    #[test]
    fn workspace_write_network_on_keeps_run() {
        let p = policy(SandboxMode::WorkspaceWrite, "/work/ws", &["/work/ws"], true);
        insta::assert_yaml_snapshot!(plan(&p, &facts()));
    }

    /// Host sockets are covered wherever the sandbox can see them (once each), and nowhere
    /// we already replace, unless a root re-attached from the host brings them back.
    #[test]
    fn host_sockets_are_covered_where_visible() {
        let covered = |p: &ResolvedPolicy, f: &Facts| -> Vec<PathBuf> {
            plan(p, f)
                .steps
                .into_iter()
                .filter_map(|s| match s {
                    MountStep::MaskSocket { path, .. } => Some(path),
                    _ => None,
                })
                .collect()
        };
        let f = Facts {
            socket_dirs: vec!["/run".into()],
            bound_sockets: vec![
                "/run/docker.sock".into(),
                "/tmp/other/x.sock".into(),
                "/tmp/ws/server.sock".into(),
                "/var/tmp/d.sock".into(),
            ],
            ..Facts::default()
        };
        let p = policy(SandboxMode::WorkspaceWrite, "/tmp/ws", &["/tmp/ws"], false);
        assert_eq!(
            covered(&p, &f),
            [
                PathBuf::from("/tmp/ws/server.sock"),
                PathBuf::from("/var/tmp/d.sock")
            ]
        );
        let ro = policy(SandboxMode::ReadOnly, "/tmp/ws", &[], false);
        assert_eq!(covered(&ro, &f).len(), 2);
        // With the network on the sandbox shares the host's sockets, /run included.
        let net = policy(SandboxMode::WorkspaceWrite, "/tmp/ws", &["/tmp/ws"], true);
        assert!(covered(&net, &f).is_empty());
    }

    #[test]
    fn read_only_in_tmp_exposes_cwd_read_only() {
        let p = policy(SandboxMode::ReadOnly, "/tmp/ws", &[], false);
        insta::assert_yaml_snapshot!(plan(&p, &Facts::default()));
    }

    #[test]
    fn nested_roots_attach_shallowest_first() {
        let p = policy(
            SandboxMode::WorkspaceWrite,
            "/tmp/a/b",
            &["/tmp/a/b", "/tmp/a"],
            true,
        );
        let steps = plan(&p, &Facts::default()).steps;
        let attached: Vec<_> = steps
            .iter()
            .filter_map(|s| match s {
                MountStep::AttachTree { path, .. } => Some(path.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            attached,
            [PathBuf::from("/tmp/a"), PathBuf::from("/tmp/a/b")]
        );
    }

    #[test]
    fn every_plan_goes_read_only_before_anything_is_attached() {
        let p = policy(
            SandboxMode::WorkspaceWrite,
            "/work/ws",
            &["/work/ws"],
            false,
        );
        let steps = plan(&p, &facts()).steps;
        let ro = steps
            .iter()
            .position(|s| *s == MountStep::ReadOnlyEverything)
            .unwrap();
        let first_attach = steps
            .iter()
            .position(|s| matches!(s, MountStep::AttachTree { .. }))
            .unwrap();
        assert!(ro < first_attach);
        assert!(matches!(steps.last(), Some(MountStep::Finalize { .. })));
    }
}
