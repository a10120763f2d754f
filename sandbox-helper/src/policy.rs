//! The sandbox policy: what the kernel (or `--json-policy FILE`) asks for, and its resolved
//! form with canonical paths that the mount plan, Landlock rules and seccomp filter are built
//! from.

use crate::error::{Result, SandboxError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tandem_protocol::SandboxMode;

/// Names that stay read-only inside every writable root, recursively: git metadata (hooks and
/// config run code on the host), our own config, and agent instructions.
pub const PROTECTED_NAMES: &[&str] = &[".git", ".tandem", ".agents"];

/// Default cap on processes (and threads) per command. High enough for `cargo build` or
/// `make -j` on big machines, low enough that a fork bomb stops long before the host suffers.
pub const DEFAULT_MAX_PROCESSES: u32 = 1024;

/// Default cap on the size of any one file a command writes (RLIMIT_FSIZE): 2 GiB. Debug
/// binaries and archives fit; a runaway `yes > file` does not fill the disk.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 2 << 30;

/// What a sandboxed command may do. Serialises to the JSON that `--json-policy` reads; every
/// field has a default, so `{}` is a valid policy (workspace-write in the current directory,
/// no network).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SandboxPolicy {
    /// read-only, workspace-write (the default) or danger-full-access.
    pub mode: SandboxMode,
    /// The command's working directory; writable in workspace-write. `None` = current dir.
    pub cwd: Option<PathBuf>,
    /// Extra writable directories (workspace-write only; ignored in read-only).
    pub writable_roots: Vec<PathBuf>,
    /// Network access. Off by default: a new network namespace plus a seccomp filter.
    pub network: bool,
    /// Process and file-size limits.
    pub limits: ResourceLimits,
    /// Which environment variables reach the command.
    pub env: EnvPolicy,
    /// Opt in to Landlock + seccomp only, on hosts where user namespaces are unavailable.
    /// Without it such hosts get exit 125 and a message, never weaker isolation.
    pub allow_landlock_only_fallback: bool,
    /// Use the Landlock-only fallback even where namespaces work (tests, or hosts whose user
    /// namespaces exist but are crippled). Requires `allow_landlock_only_fallback`.
    pub force_landlock_only: bool,
    /// Run without Landlock when the kernel lacks it, relying on the mount layer. Opt-in.
    pub allow_without_landlock: bool,
}

impl Default for SandboxPolicy {
    fn default() -> Self {
        SandboxPolicy {
            mode: SandboxMode::WorkspaceWrite,
            cwd: None,
            writable_roots: Vec::new(),
            network: false,
            limits: ResourceLimits::default(),
            env: EnvPolicy::default(),
            allow_landlock_only_fallback: false,
            force_landlock_only: false,
            allow_without_landlock: false,
        }
    }
}

/// Resource limits applied to every sandboxed command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceLimits {
    /// Maximum live processes + threads per command. Enforced by the per-command PID
    /// namespace's `pid_max` (the kernel's floor is about 300), and by RLIMIT_NPROC for
    /// non-root users.
    pub max_processes: u32,
    /// Maximum size in bytes of any file written (RLIMIT_FSIZE); bigger writes get SIGXFSZ.
    pub max_file_size: u64,
}

impl Default for ResourceLimits {
    fn default() -> Self {
        ResourceLimits {
            max_processes: DEFAULT_MAX_PROCESSES,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// Which environment variables reach the command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnvPolicy {
    /// Drop variables whose name matches `secret_patterns` (default true).
    pub drop_secrets: bool,
    /// Case-insensitive globs (`*` only) of secret-looking names.
    pub secret_patterns: Vec<String>,
    /// Names or globs kept even when they look secret.
    pub keep: Vec<String>,
    /// Variables set (or overridden) for the command.
    pub set: BTreeMap<String, String>,
}

impl Default for EnvPolicy {
    fn default() -> Self {
        EnvPolicy {
            drop_secrets: true,
            secret_patterns: ["*_KEY", "*_TOKEN", "*_SECRET", "*PASSWORD*"]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            keep: Vec::new(),
            set: BTreeMap::new(),
        }
    }
}

/// A policy with canonical absolute paths, validated. Built by [`SandboxPolicy::resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPolicy {
    pub mode: SandboxMode,
    pub cwd: PathBuf,
    /// Canonical writable roots (cwd first in workspace-write), deduplicated, shallowest first.
    pub writable_roots: Vec<PathBuf>,
    pub network: bool,
    pub limits: ResourceLimits,
    pub env: EnvPolicy,
    pub allow_landlock_only_fallback: bool,
    pub force_landlock_only: bool,
    pub allow_without_landlock: bool,
}

/// Directories a writable root may not live in: they are replaced wholesale inside the sandbox.
const FORBIDDEN_ROOT_PARENTS: &[&str] = &["/proc", "/sys", "/dev"];

impl SandboxPolicy {
    /// Canonicalises paths and checks the policy. Relative roots are taken from the cwd.
    pub fn resolve(&self) -> Result<ResolvedPolicy> {
        let cwd_raw = match &self.cwd {
            Some(c) => c.clone(),
            None => std::env::current_dir()
                .map_err(|e| SandboxError::io("cannot read the current directory", e))?,
        };
        let cwd = canonical_dir(&cwd_raw, "cwd")?;
        if self.limits.max_processes == 0 || self.limits.max_file_size == 0 {
            return Err(SandboxError::InvalidPolicy(
                "limits.max_processes and limits.max_file_size must be positive".into(),
            ));
        }
        if self.force_landlock_only && !self.allow_landlock_only_fallback {
            return Err(SandboxError::InvalidPolicy(
                "force_landlock_only requires allow_landlock_only_fallback".into(),
            ));
        }
        let mut roots = Vec::new();
        if self.mode == SandboxMode::WorkspaceWrite {
            roots.push(cwd.clone());
            for root in &self.writable_roots {
                let abs = if root.is_absolute() {
                    root.clone()
                } else {
                    cwd.join(root)
                };
                roots.push(canonical_dir(&abs, "writable root")?);
            }
        }
        for root in &roots {
            if root == Path::new("/") {
                return Err(SandboxError::InvalidPolicy(
                    "`/` cannot be a writable root; use danger-full-access instead".into(),
                ));
            }
            if FORBIDDEN_ROOT_PARENTS.iter().any(|p| root.starts_with(p)) {
                return Err(SandboxError::InvalidPolicy(format!(
                    "writable root {} is inside /proc, /sys or /dev",
                    root.display()
                )));
            }
        }
        roots.sort_by_key(|r| (r.components().count(), r.clone()));
        roots.dedup();
        // Keep the cwd first when it is a root: it is the workspace everyone talks about.
        if let Some(pos) = roots.iter().position(|r| *r == cwd) {
            let c = roots.remove(pos);
            roots.insert(0, c);
        }
        Ok(ResolvedPolicy {
            mode: self.mode,
            cwd,
            writable_roots: roots,
            network: self.network,
            limits: self.limits,
            env: self.env.clone(),
            allow_landlock_only_fallback: self.allow_landlock_only_fallback,
            force_landlock_only: self.force_landlock_only,
            allow_without_landlock: self.allow_without_landlock,
        })
    }
}

impl ResolvedPolicy {
    /// True when `path` is a writable root or lies inside one.
    pub fn is_under_writable_root(&self, path: &Path) -> bool {
        self.writable_roots.iter().any(|r| path.starts_with(r))
    }

    /// Writable roots sorted shallowest first (the order they must be mounted in).
    pub(crate) fn roots_by_depth(&self) -> Vec<PathBuf> {
        let mut roots = self.writable_roots.clone();
        roots.sort_by_key(|r| (r.components().count(), r.clone()));
        roots
    }
}

fn canonical_dir(path: &Path, what: &str) -> Result<PathBuf> {
    let canon = std::fs::canonicalize(path).map_err(|e| {
        SandboxError::InvalidPolicy(format!("{what} {} is unusable: {e}", path.display()))
    })?;
    if !canon.is_dir() {
        return Err(SandboxError::InvalidPolicy(format!(
            "{what} {} is not a directory",
            path.display()
        )));
    }
    Ok(canon)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_json_is_the_default_policy() {
        let p: SandboxPolicy = serde_json::from_str("{}").unwrap();
        assert_eq!(p, SandboxPolicy::default());
        assert_eq!(p.mode, SandboxMode::WorkspaceWrite);
        assert!(!p.network);
        assert_eq!(p.limits.max_processes, 1024);
        assert_eq!(p.limits.max_file_size, 2 << 30);
    }

    #[test]
    fn default_policy_json_is_pinned() {
        insta::assert_json_snapshot!(SandboxPolicy::default());
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let err = serde_json::from_str::<SandboxPolicy>(r#"{"netwrok": true}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field"), "{err}");
    }

    #[test]
    fn resolve_puts_cwd_first_and_dedups() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let p = SandboxPolicy {
            cwd: Some(sub.clone()),
            writable_roots: vec![dir.path().to_path_buf(), PathBuf::from("."), sub.clone()],
            ..SandboxPolicy::default()
        };
        let r = p.resolve().unwrap();
        let canon_sub = std::fs::canonicalize(&sub).unwrap();
        assert_eq!(r.writable_roots[0], canon_sub);
        assert_eq!(r.writable_roots.len(), 2);
    }

    #[test]
    fn read_only_has_no_writable_roots() {
        let dir = tempfile::tempdir().unwrap();
        let p = SandboxPolicy {
            mode: SandboxMode::ReadOnly,
            cwd: Some(dir.path().into()),
            writable_roots: vec![dir.path().into()],
            ..SandboxPolicy::default()
        };
        assert!(p.resolve().unwrap().writable_roots.is_empty());
    }

    #[test]
    fn slash_and_proc_are_refused_as_roots() {
        for bad in ["/", "/proc/self", "/dev/shm"] {
            let p = SandboxPolicy {
                cwd: Some(std::env::temp_dir()),
                writable_roots: vec![bad.into()],
                ..SandboxPolicy::default()
            };
            assert!(
                matches!(p.resolve(), Err(SandboxError::InvalidPolicy(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn missing_root_is_an_error_not_a_silent_skip() {
        let p = SandboxPolicy {
            cwd: Some("/definitely/not/here".into()),
            ..SandboxPolicy::default()
        };
        let err = p.resolve().unwrap_err().to_string();
        assert!(err.contains("/definitely/not/here"), "{err}");
    }

    #[test]
    fn force_fallback_needs_the_opt_in() {
        let p = SandboxPolicy {
            cwd: Some(std::env::temp_dir()),
            force_landlock_only: true,
            ..SandboxPolicy::default()
        };
        assert!(p.resolve().is_err());
    }
}
