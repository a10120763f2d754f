//! The Landlock layer: filesystem writes only under the writable roots and the sandbox's own
//! scratch places, no TCP when the network is off, and (ABI ≥ 6) no signals or abstract-socket
//! connections out of the sandbox's domain.
//!
//! In the full sandbox this duplicates the mount layer on purpose (two independent walls). In
//! the Landlock-only fallback it is the only filesystem wall, so protected names are enforced
//! by never granting anything on the root directory itself: each non-protected child of a
//! root gets its own rule (Landlock rights inherit downwards, so a grant on the root would
//! reach `.git` too).

use crate::error::{Layer, Result, SandboxError};
use crate::mountplan::{Facts, is_protected_name};
use crate::policy::ResolvedPolicy;
use landlock::{
    ABI, Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, PathBeneath, PathFd,
    Ruleset, RulesetAttr, RulesetCreatedAttr, Scope,
};
use serde::Serialize;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// The ABI whose semantics we have written and tested against. Newer kernels are used at this
/// level; older ones get the best they support (and `--probe` says which).
const TARGET: ABI = ABI::V6;

/// What a rule grants beneath a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// Read, list, execute.
    Read,
    /// Everything, including creating and removing entries.
    ReadWrite,
    /// Read, write, truncate a single file (no directory rights).
    File,
    /// Read + write + ioctl on device files (terminals, /dev/null...).
    Device,
}

/// A full rule set, before it is turned into a kernel object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LandlockRules {
    pub rules: Vec<(PathBuf, Grant)>,
    /// Deny TCP bind/connect (ABI ≥ 4).
    pub deny_tcp: bool,
    /// Scope abstract Unix sockets to the sandbox (ABI ≥ 6).
    pub scope_abstract_sockets: bool,
    /// Scope signals to the sandbox (ABI ≥ 6).
    pub scope_signals: bool,
}

/// Rules for the full (namespace) sandbox: paths as seen *inside* the new mount namespace.
pub fn namespace_rules(policy: &ResolvedPolicy) -> LandlockRules {
    let mut rules = vec![(PathBuf::from("/"), Grant::Read)];
    for root in &policy.writable_roots {
        rules.push((root.clone(), Grant::ReadWrite));
    }
    rules.push(("/tmp".into(), Grant::ReadWrite));
    rules.push(("/dev/shm".into(), Grant::ReadWrite));
    rules.push(("/dev/pts".into(), Grant::Device));
    for d in ["null", "zero", "full", "random", "urandom", "tty"] {
        rules.push((format!("/dev/{d}").into(), Grant::Device));
    }
    LandlockRules {
        rules,
        deny_tcp: !policy.network,
        scope_abstract_sockets: !policy.network,
        scope_signals: true,
    }
}

/// Rules for the Landlock-only fallback (host paths; no mount namespace to lean on).
pub(crate) fn fallback_rules(
    policy: &ResolvedPolicy,
    facts: &Facts,
    scratch: &Path,
) -> Result<LandlockRules> {
    let mut rules = vec![(PathBuf::from("/"), Grant::Read)];
    let protected: Vec<&Path> = facts.protected.iter().map(|p| p.path.as_path()).collect();
    for root in &policy.writable_roots {
        let list_err =
            |e| SandboxError::layer(Layer::Landlock, format!("listing {}", root.display()), e);
        let mut entries = std::fs::read_dir(root)
            .map_err(list_err)?
            .collect::<std::io::Result<Vec<_>>>()
            .map_err(list_err)?;
        entries.sort_by_key(|e| e.file_name());
        for entry in entries {
            if is_protected_name(&entry.file_name()) {
                continue;
            }
            let path = entry.path();
            let Ok(ft) = entry.file_type() else { continue };
            // A symlink would grant its target (PathFd follows it): never grant through one.
            if ft.is_symlink() || protected.contains(&path.as_path()) {
                continue;
            }
            if let Some(p) = protected.iter().find(|p| p.starts_with(&path)) {
                return Err(SandboxError::layer(
                    Layer::Landlock,
                    "landlock-only fallback",
                    format!(
                        "cannot keep {} read-only inside the writable {}; use the namespace sandbox",
                        p.display(),
                        path.display()
                    ),
                ));
            }
            rules.push((
                path,
                if ft.is_dir() {
                    Grant::ReadWrite
                } else {
                    Grant::File
                },
            ));
        }
    }
    rules.push((scratch.to_path_buf(), Grant::ReadWrite));
    for d in [
        "/dev/null",
        "/dev/zero",
        "/dev/full",
        "/dev/tty",
        "/dev/pts",
    ] {
        if Path::new(d).exists() {
            rules.push((d.into(), Grant::Device));
        }
    }
    if Path::new("/dev/shm").is_dir() {
        rules.push(("/dev/shm".into(), Grant::ReadWrite));
    }
    Ok(LandlockRules {
        rules,
        deny_tcp: !policy.network,
        scope_abstract_sockets: !policy.network,
        scope_signals: true,
    })
}

fn access(grant: Grant) -> BitFlags<AccessFs> {
    match grant {
        Grant::Read => AccessFs::from_read(TARGET),
        // ResolveUnix (ABI 9) is requested best-effort: on kernels that have it, connecting to
        // a path socket is only allowed where we grant it (roots, private /tmp).
        Grant::ReadWrite => AccessFs::from_all(TARGET) | AccessFs::ResolveUnix,
        Grant::File => AccessFs::from_file(TARGET),
        Grant::Device => {
            AccessFs::ReadFile | AccessFs::WriteFile | AccessFs::Truncate | AccessFs::IoctlDev
        }
    }
}

fn lerr(what: &str, e: impl std::fmt::Display) -> SandboxError {
    SandboxError::layer(Layer::Landlock, what, e)
}

/// Builds the kernel ruleset. `Ok(None)` means the kernel has no Landlock at all (the caller
/// decides whether that is acceptable); a ruleset the kernel only partly supports is used
/// (`--probe` reports the ABI).
pub(crate) fn build(spec: &LandlockRules) -> Result<Option<OwnedFd>> {
    if crate::sys::landlock_abi() < 1 {
        return Ok(None);
    }
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(AccessFs::from_all(TARGET) | AccessFs::ResolveUnix)
        .map_err(|e| lerr("handling fs access", e))?;
    if spec.deny_tcp {
        ruleset = ruleset
            .handle_access(AccessNet::from_all(TARGET))
            .map_err(|e| lerr("handling net access", e))?;
    }
    if spec.scope_abstract_sockets {
        ruleset = ruleset
            .scope(Scope::AbstractUnixSocket)
            .map_err(|e| lerr("scoping abstract sockets", e))?;
    }
    if spec.scope_signals {
        ruleset = ruleset
            .scope(Scope::Signal)
            .map_err(|e| lerr("scoping signals", e))?;
    }
    let mut created = ruleset
        .create()
        .map_err(|e| lerr("creating the ruleset", e))?;
    for (path, grant) in &spec.rules {
        let fd = PathFd::new(path).map_err(|e| lerr(&format!("opening {}", path.display()), e))?;
        // Directory-only rights on a file are an error. Only `Read`/`ReadWrite` carry them, and
        // those go to directories (roots are checked to be directories when the policy is
        // resolved); stat only what might still be a file (`/` never is).
        let mut flags = access(*grant);
        let dir_rights = matches!(grant, Grant::Read | Grant::ReadWrite);
        if dir_rights && path != Path::new("/") && !path.is_dir() {
            flags &= AccessFs::from_file(TARGET) | AccessFs::IoctlDev;
        }
        created = created
            .add_rule(PathBeneath::new(fd, flags))
            .map_err(|e| lerr(&format!("adding {}", path.display()), e))?;
    }
    let fd: Option<OwnedFd> = created.into();
    Ok(fd)
}

/// Restricts the calling process with a ruleset from [`build`] (no_new_privs must be set).
pub(crate) fn restrict(fd: &OwnedFd) -> Result<()> {
    use std::os::fd::AsRawFd;
    crate::sys::landlock_restrict_self(fd.as_raw_fd())
        .map_err(|e| lerr("landlock_restrict_self", e))
}

/// Checks that Landlock can enforce a trivial ruleset here, for `--probe`.
pub(crate) fn probe_status() -> &'static str {
    match Ruleset::default()
        .handle_access(AccessFs::from_all(TARGET))
        .and_then(|r| r.create())
    {
        Ok(created) => {
            let fd: Option<OwnedFd> = created.into();
            if fd.is_some() {
                if crate::sys::landlock_abi() >= TARGET as i32 {
                    "fully_enforced"
                } else {
                    "partially_enforced"
                }
            } else {
                "not_enforced"
            }
        }
        Err(_) => "not_enforced",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::SandboxPolicy;

    #[test]
    fn namespace_rules_are_pinned() {
        let dir = tempfile::tempdir().unwrap();
        let p = SandboxPolicy {
            cwd: Some(dir.path().into()),
            ..SandboxPolicy::default()
        }
        .resolve()
        .unwrap();
        let mut rules = namespace_rules(&p);
        rules.rules[1].0 = "/WORKSPACE".into();
        insta::assert_yaml_snapshot!(rules);
    }

    #[test]
    fn fallback_grants_children_not_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir(root.join("src")).unwrap();
        std::fs::create_dir(root.join(".git")).unwrap();
        std::fs::write(root.join("Cargo.toml"), "").unwrap();
        std::os::unix::fs::symlink("/etc", root.join("etc-link")).unwrap();
        let p = SandboxPolicy {
            cwd: Some(root.clone()),
            ..SandboxPolicy::default()
        }
        .resolve()
        .unwrap();
        let rules = fallback_rules(&p, &Facts::default(), Path::new("/tmp/scratch")).unwrap();
        let granted: Vec<_> = rules
            .rules
            .iter()
            .filter(|(p, _)| p.starts_with(&root))
            .cloned()
            .collect();
        assert_eq!(
            granted,
            [
                (root.join("Cargo.toml"), Grant::File),
                (root.join("src"), Grant::ReadWrite)
            ]
        );
    }
}
