//! Host-side preparation before the namespaces exist: finds the protected paths under every
//! writable root (following a worktree's `.git` file to its gitdir and commondir, and a planted
//! symlink to its target), creates empty placeholders for protected paths that do not exist
//! yet (a mount needs something to cover), and lists host sockets to hide: those named in the
//! environment and, for the namespace sandbox, every path socket bound in the host's network
//! namespace that the sandbox would see (`hostsockets.rs`).
//!
//! Placeholders are empty directories, which git's repository discovery and our own config
//! loader ignore, and they are left in place: removing one while another sandbox has it
//! mounted would silently detach that sandbox's read-only cover (Linux lazily unmounts
//! mount points removed from another mount namespace), and on ext4 every rmdir costs more
//! than the whole rest of the sandbox setup.

use crate::error::{Result, SandboxError};
use crate::hostsockets::Scanner;
use crate::mountplan::{EntryKind, Facts, Protected};
use crate::policy::ResolvedPolicy;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt};
use std::path::{Path, PathBuf};

/// Facts plus the placeholders this call created on the host.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    pub facts: Facts,
    pub placeholders: Vec<PathBuf>,
    /// Lists the host's sockets again later (the session zygote, before each command); only
    /// with the network off.
    pub scanner: Option<Scanner>,
}

fn kind_of(meta: &std::fs::Metadata) -> EntryKind {
    let ft = meta.file_type();
    if ft.is_symlink() {
        EntryKind::Symlink
    } else if ft.is_dir() {
        EntryKind::Dir
    } else if ft.is_file() {
        EntryKind::File
    } else {
        EntryKind::Other
    }
}

/// Gathers the facts. With `create_placeholders`, missing protected paths are created as empty
/// directories so they can be covered read-only (the Landlock-only fallback passes false: it
/// protects missing names by never granting creation in the root itself).
pub(crate) fn prepare(policy: &ResolvedPolicy, create_placeholders: bool) -> Result<Prepared> {
    let mut out = Prepared::default();
    for root in &policy.writable_roots {
        for name in crate::policy::PROTECTED_NAMES {
            let path = root.join(name);
            match std::fs::symlink_metadata(&path) {
                Ok(meta) => add_existing(policy, &path, kind_of(&meta), &mut out.facts),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    if !create_placeholders {
                        continue;
                    }
                    match std::fs::DirBuilder::new().mode(0o755).create(&path) {
                        Ok(()) => {
                            out.placeholders.push(path.clone());
                            out.facts.protected.push(Protected {
                                path,
                                kind: EntryKind::Dir,
                                reason: "protected name (placeholder: did not exist)".into(),
                            });
                        }
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                            // Another sandbox created it a moment ago: protect what is there.
                            let meta = std::fs::symlink_metadata(&path).map_err(|e| {
                                SandboxError::io(format!("inspecting {}", path.display()), e)
                            })?;
                            add_existing(policy, &path, kind_of(&meta), &mut out.facts);
                        }
                        // The same user cannot create it from inside the sandbox either.
                        Err(e)
                            if matches!(
                                e.raw_os_error(),
                                Some(libc::EACCES | libc::EROFS | libc::EPERM)
                            ) => {}
                        Err(e) => {
                            return Err(SandboxError::io(
                                format!("creating placeholder {}", path.display()),
                                e,
                            ));
                        }
                    }
                }
                Err(e) => {
                    return Err(SandboxError::io(
                        format!("inspecting {}", path.display()),
                        e,
                    ));
                }
            }
        }
    }
    out.facts.socket_dirs = socket_dirs();
    out.facts.sockets = env_sockets();
    Ok(out)
}

/// [`prepare`] for the namespace sandbox (one-shot, session, `--print-plan`): placeholders are
/// created, and with the network off the host daemons' path sockets are listed for the plan
/// to cover (the Landlock-only fallback has no mount namespace to cover them in).
pub(crate) fn prepare_namespaced(policy: &ResolvedPolicy) -> Result<Prepared> {
    let mut out = prepare(policy, true)?;
    if !policy.network {
        let (scanner, paths) =
            Scanner::open().map_err(|e| SandboxError::io("listing the host's Unix sockets", e))?;
        out.facts.bound_sockets = uncovered_sockets(policy, &out.facts.socket_dirs, paths);
        out.scanner = Some(scanner);
    }
    Ok(out)
}

/// Of the host's socket `paths` (see `hostsockets.rs`), those the sandbox would see and that are
/// sockets as seen from here: outside the directories we replace (or inside a tree re-attached
/// there). From inside a built sandbox (the session zygote) that also drops the ones already
/// covered, which look like `/dev/null`. With the network on none of this happens: the sandbox
/// shares the host's network, `/run` included, by design.
pub(crate) fn uncovered_sockets(
    policy: &ResolvedPolicy,
    socket_dirs: &[PathBuf],
    paths: Vec<PathBuf>,
) -> Vec<PathBuf> {
    let mut hidden = crate::mountplan::private_dirs(policy, socket_dirs);
    let exposures = crate::mountplan::exposures(policy, &hidden);
    let exposed: Vec<&PathBuf> = exposures.iter().map(|(p, _)| p).collect();
    // The sandbox's /dev is its own tmpfs (a /dev/log socket of syslog is not in it).
    hidden.push(PathBuf::from("/dev"));
    // A socket bound as /var/run/x is /run/x when /var/run is the usual symlink.
    if hidden.iter().any(|h| h == Path::new("/run"))
        && std::fs::read_link("/var/run")
            .is_ok_and(|t| t == Path::new("/run") || t == Path::new("../run"))
    {
        hidden.push(PathBuf::from("/var/run"));
    }
    paths
        .into_iter()
        .filter(|p| crate::mountplan::visible(p, &hidden, &exposed))
        .filter(|p| std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_socket()))
        .collect()
}

fn add_existing(policy: &ResolvedPolicy, path: &Path, kind: EntryKind, facts: &mut Facts) {
    facts.protected.push(Protected {
        path: path.to_path_buf(),
        kind,
        reason: "protected name".into(),
    });
    match kind {
        EntryKind::Symlink => {
            // Whatever a planted symlink points to inside a writable root is protected too, so
            // the decoy cannot be edited to feed the host a fake config or fake hooks.
            if let Ok(target) = std::fs::canonicalize(path)
                && policy.is_under_writable_root(&target)
            {
                let kind = std::fs::symlink_metadata(&target)
                    .map(|m| kind_of(&m))
                    .unwrap_or(EntryKind::Dir);
                facts.protected.push(Protected {
                    path: target,
                    kind,
                    reason: format!("target of symlink {}", path.display()),
                });
            }
        }
        EntryKind::File if path.file_name() == Some(std::ffi::OsStr::new(".git")) => {
            add_gitdir(path, facts);
        }
        _ => {}
    }
}

/// A worktree or submodule `.git` file says `gitdir: <path>`; that directory holds the
/// worktree's HEAD and index, and its `commondir` file points at the main repository's `.git`
/// (hooks, config). All of them stay read-only.
fn add_gitdir(git_file: &Path, facts: &mut Facts) {
    let Ok(text) = std::fs::read_to_string(git_file) else {
        return;
    };
    let Some(rest) = text.lines().next().and_then(|l| l.strip_prefix("gitdir:")) else {
        return;
    };
    let base = git_file.parent().unwrap_or(Path::new("/"));
    let gitdir = base.join(rest.trim());
    let Ok(gitdir) = std::fs::canonicalize(&gitdir) else {
        return;
    };
    if let Ok(common) = std::fs::read_to_string(gitdir.join("commondir"))
        && let Ok(common) = std::fs::canonicalize(gitdir.join(common.trim()))
    {
        facts.protected.push(Protected {
            path: common,
            kind: EntryKind::Dir,
            reason: format!("commondir of {}", git_file.display()),
        });
    }
    facts.protected.push(Protected {
        path: gitdir,
        kind: EntryKind::Dir,
        reason: format!("gitdir of {}", git_file.display()),
    });
}

/// `/run` (and `/var/run` when it is a real directory) hold the host daemons' sockets.
fn socket_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for d in ["/run", "/var/run"] {
        if let Ok(meta) = std::fs::symlink_metadata(d)
            && meta.is_dir()
        {
            dirs.push(PathBuf::from(d));
        }
    }
    dirs
}

/// Sockets of host agents named in the environment (wherever they live).
fn env_sockets() -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut consider = |p: &str| {
        let path = PathBuf::from(p);
        if path.is_absolute()
            && let Ok(meta) = std::fs::symlink_metadata(&path)
            && meta.file_type().is_socket()
            && !out.contains(&path)
        {
            out.push(path);
        }
    };
    for (k, v) in std::env::vars_os() {
        let (Some(k), Some(v)) = (k.to_str(), v.to_str()) else {
            continue;
        };
        match k {
            "SSH_AUTH_SOCK" | "GPG_AGENT_INFO" => consider(v.split(':').next().unwrap_or("")),
            "DBUS_SESSION_BUS_ADDRESS" | "DBUS_SYSTEM_BUS_ADDRESS" => {
                for part in v.split([';', ',']) {
                    if let Some(p) = part.split("path=").nth(1) {
                        consider(p);
                    }
                }
            }
            "DOCKER_HOST" | "CONTAINER_HOST" => {
                if let Some(p) = v.strip_prefix("unix://") {
                    consider(p);
                }
            }
            "PULSE_SERVER" => {
                if let Some(p) = v.strip_prefix("unix:") {
                    consider(p);
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::SandboxPolicy;

    fn resolved(root: &Path, extra: &[&Path]) -> ResolvedPolicy {
        SandboxPolicy {
            cwd: Some(root.into()),
            writable_roots: extra.iter().map(|p| p.to_path_buf()).collect(),
            ..SandboxPolicy::default()
        }
        .resolve()
        .unwrap()
    }

    #[test]
    fn finds_dirs_and_creates_lasting_placeholders() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join(".git")).unwrap();
        let prep = prepare(&resolved(&root, &[]), true).unwrap();
        let kinds: Vec<_> = prep
            .facts
            .protected
            .iter()
            .map(|p| (p.path.strip_prefix(&root).unwrap().to_path_buf(), p.kind))
            .collect();
        assert_eq!(
            kinds,
            [
                (PathBuf::from(".git"), EntryKind::Dir),
                (PathBuf::from(".tandem"), EntryKind::Dir),
                (PathBuf::from(".agents"), EntryKind::Dir),
            ]
        );
        assert_eq!(prep.placeholders.len(), 2);
        assert!(root.join(".tandem").is_dir());
        // A second sandbox finds them and creates nothing.
        let again = prepare(&resolved(&root, &[]), true).unwrap();
        assert!(again.placeholders.is_empty());
        assert_eq!(again.facts.protected.len(), 3);
    }

    #[test]
    fn follows_worktree_git_file_to_gitdir_and_commondir() {
        let dir = tempfile::tempdir().unwrap();
        let base = std::fs::canonicalize(dir.path()).unwrap();
        let wt = base.join("wt");
        let main_git = base.join("main/.git");
        let gitdir = main_git.join("worktrees/wt");
        std::fs::create_dir_all(&wt).unwrap();
        std::fs::create_dir_all(&gitdir).unwrap();
        std::fs::write(wt.join(".git"), format!("gitdir: {}\n", gitdir.display())).unwrap();
        std::fs::write(gitdir.join("commondir"), "../..\n").unwrap();
        let prep = prepare(&resolved(&wt, &[]), false).unwrap();
        let paths: Vec<_> = prep
            .facts
            .protected
            .iter()
            .map(|p| (p.path.clone(), p.kind))
            .collect();
        assert!(paths.contains(&(wt.join(".git"), EntryKind::File)));
        assert!(paths.contains(&(gitdir.clone(), EntryKind::Dir)));
        assert!(paths.contains(&(main_git.clone(), EntryKind::Dir)));
        assert!(prep.placeholders.is_empty());
    }

    #[test]
    fn planted_symlink_protects_its_target_inside_a_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join("decoy")).unwrap();
        std::os::unix::fs::symlink(root.join("decoy"), root.join(".tandem")).unwrap();
        let prep = prepare(&resolved(&root, &[]), false).unwrap();
        let p: Vec<_> = prep
            .facts
            .protected
            .iter()
            .map(|p| (p.path.clone(), p.kind))
            .collect();
        assert!(p.contains(&(root.join(".tandem"), EntryKind::Symlink)));
        assert!(p.contains(&(root.join("decoy"), EntryKind::Dir)));
    }
}
