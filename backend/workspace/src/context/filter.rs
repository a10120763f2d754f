//! Which files Auto Context must never send: secret-looking names, anything the workspace's
//! `.gitignore` files ignore, a configurable deny list, and files outside the workspace.
//!
//! Verdicts are cached per path and `.gitignore` matchers per directory, so a preview over a
//! thousand open files costs a thousand hash lookups, not a thousand file reads. Call
//! [`SecretFilter::invalidate`] when a `.gitignore` changes.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// File-name patterns that look like secrets. Matched against the file name only, so they
/// apply at any depth.
pub const SECRET_PATTERNS: &[&str] = &[
    ".env",
    ".env.*",
    ".envrc",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.keystore",
    "*.jks",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "credentials",
    "credentials.*",
    ".netrc",
    ".pgpass",
    ".npmrc",
    ".pypirc",
    ".git-credentials",
    "*.tfstate",
    "secrets.*",
];

/// Why a file was left out of the context.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ExclusionReason {
    /// Its name looks like a secret (`pattern` is the built-in pattern it matched).
    Secret { pattern: String },
    /// A `.gitignore` (or `.git/info/exclude`) of the workspace ignores it.
    Gitignored,
    /// It matches the configured deny list.
    Denied { pattern: String },
    /// It is not under any workspace root.
    OutsideWorkspace,
    /// It did not fit in the token budget.
    OverBudget,
    /// More recently used files filled the open-file slots.
    Limit,
}

impl ExclusionReason {
    /// A short reason for people.
    pub fn describe(&self) -> String {
        match self {
            ExclusionReason::Secret { pattern } => format!("looks like a secret (`{pattern}`)"),
            ExclusionReason::Gitignored => "ignored by .gitignore".into(),
            ExclusionReason::Denied { pattern } => format!("on the deny list (`{pattern}`)"),
            ExclusionReason::OutsideWorkspace => "outside the workspace".into(),
            ExclusionReason::OverBudget => "over the token budget".into(),
            ExclusionReason::Limit => "beyond the most recent open files".into(),
        }
    }

    /// Whether the reason is about what the file is (never sent), not about room.
    pub fn is_policy(&self) -> bool {
        !matches!(self, ExclusionReason::OverBudget | ExclusionReason::Limit)
    }
}

/// A bad glob in the deny list.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("invalid deny pattern `{pattern}`: {message}")]
pub struct PatternError {
    pub pattern: String,
    pub message: String,
}

/// Builds a set from (pattern as written, pattern as matched) pairs; errors name the former.
fn build(patterns: &[(String, String)], literal_separator: bool) -> Result<GlobSet, PatternError> {
    let mut b = GlobSetBuilder::new();
    for (written, matched) in patterns {
        let glob = GlobBuilder::new(matched)
            .literal_separator(literal_separator)
            .build()
            .map_err(|e| PatternError {
                pattern: written.clone(),
                message: e.kind().to_string(),
            })?;
        b.add(glob);
    }
    b.build().map_err(|e| PatternError {
        pattern: String::new(),
        message: e.to_string(),
    })
}

#[derive(Debug)]
pub struct SecretFilter {
    roots: Vec<PathBuf>,
    secrets: GlobSet,
    deny: GlobSet,
    deny_patterns: Vec<String>,
    respect_gitignore: bool,
    /// `.gitignore` (and `.git/info/exclude` for roots) per directory; `None` when absent.
    gitignores: HashMap<PathBuf, Option<Arc<Gitignore>>>,
    verdicts: HashMap<Arc<Path>, Option<ExclusionReason>>,
}

impl SecretFilter {
    /// `deny` globs are matched against the path relative to its workspace root (and against
    /// the absolute path, so `/etc/**` works too); a pattern without `/` matches at any depth.
    pub fn new(
        roots: Vec<PathBuf>,
        deny: &[String],
        respect_gitignore: bool,
    ) -> Result<Self, PatternError> {
        let secrets = build(
            &SECRET_PATTERNS
                .iter()
                .map(|s| (s.to_string(), s.to_string()))
                .collect::<Vec<_>>(),
            false,
        )?;
        // A bare name matches anywhere, as in .gitignore.
        let deny_expanded: Vec<(String, String)> = deny
            .iter()
            .map(|p| {
                let matched = if p.contains('/') {
                    p.trim_start_matches('/').to_string()
                } else {
                    format!("**/{p}")
                };
                (p.clone(), matched)
            })
            .collect();
        Ok(Self {
            roots,
            secrets,
            deny: build(&deny_expanded, true)?,
            deny_patterns: deny.to_vec(),
            respect_gitignore,
            gitignores: HashMap::new(),
            verdicts: HashMap::new(),
        })
    }

    /// Forgets cached `.gitignore` matchers and verdicts.
    pub fn invalidate(&mut self) {
        self.gitignores.clear();
        self.verdicts.clear();
    }

    /// Why `path` must not be sent, or `None` if it may be.
    pub fn check(&mut self, path: &Arc<Path>) -> Option<ExclusionReason> {
        if let Some(v) = self.verdicts.get(path) {
            return v.clone();
        }
        let v = self.compute(path);
        self.verdicts.insert(path.clone(), v.clone());
        v
    }

    fn root_of(&self, path: &Path) -> Option<PathBuf> {
        self.roots
            .iter()
            .filter(|r| path.starts_with(r))
            .max_by_key(|r| r.components().count())
            .cloned()
    }

    fn compute(&mut self, path: &Path) -> Option<ExclusionReason> {
        if let Some(name) = path.file_name() {
            let hits = self.secrets.matches(name);
            if let Some(&i) = hits.first() {
                return Some(ExclusionReason::Secret {
                    pattern: SECRET_PATTERNS[i].to_string(),
                });
            }
        }
        let root = self.root_of(path);
        let rel = root
            .as_ref()
            .and_then(|r| path.strip_prefix(r).ok())
            .unwrap_or(path);
        let abs_rel = path.strip_prefix("/").unwrap_or(path);
        let hits = self.deny.matches(rel);
        let hits = if hits.is_empty() {
            self.deny.matches(abs_rel)
        } else {
            hits
        };
        if let Some(&i) = hits.first() {
            return Some(ExclusionReason::Denied {
                pattern: self.deny_patterns[i].clone(),
            });
        }
        let Some(root) = root else {
            return (!self.roots.is_empty()).then_some(ExclusionReason::OutsideWorkspace);
        };
        if self.respect_gitignore && self.gitignored(&root, path) {
            return Some(ExclusionReason::Gitignored);
        }
        None
    }

    fn matcher(&mut self, dir: &Path, is_root: bool) -> Option<Arc<Gitignore>> {
        if let Some(m) = self.gitignores.get(dir) {
            return m.clone();
        }
        let mut b = GitignoreBuilder::new(dir);
        let mut any = false;
        let mut files = vec![dir.join(".gitignore")];
        if is_root {
            files.push(dir.join(".git/info/exclude"));
        }
        for f in files {
            if f.is_file() {
                // A malformed line only loses that line; the rest of the file still applies.
                let _ = b.add(&f);
                any = true;
            }
        }
        let m = if any {
            b.build().ok().map(Arc::new)
        } else {
            None
        };
        self.gitignores.insert(dir.to_path_buf(), m.clone());
        m
    }

    /// Nested `.gitignore` files, deepest first: the first that has an opinion decides.
    fn gitignored(&mut self, root: &Path, path: &Path) -> bool {
        let mut dirs: Vec<PathBuf> = path
            .ancestors()
            .skip(1)
            .take_while(|d| d.starts_with(root))
            .map(Path::to_path_buf)
            .collect();
        dirs.reverse();
        for dir in dirs.iter().rev() {
            let is_root = dir == root;
            if let Some(m) = self.matcher(dir, is_root) {
                let hit = m.matched_path_or_any_parents(path, false);
                if hit.is_ignore() {
                    return true;
                }
                if hit.is_whitelist() {
                    return false;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    #[test]
    fn secrets_deny_list_and_gitignore() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::write(root.join(".gitignore"), "target/\n*.log\n!keep.log\n").unwrap();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/.gitignore"), "local.txt\n").unwrap();
        let mut f = SecretFilter::new(
            vec![root.clone()],
            &["fixtures/private/**".into(), "*.sqlite".into()],
            true,
        )
        .unwrap();
        let mut check = |rel: &str| f.check(&Arc::from(root.join(rel).as_path()));
        let secret = |p: &str| {
            Some(ExclusionReason::Secret {
                pattern: p.to_string(),
            })
        };
        assert_eq!(check(".env"), secret(".env"));
        assert_eq!(check("app/.env.production"), secret(".env.*"));
        assert_eq!(check("certs/server.pem"), secret("*.pem"));
        assert_eq!(check("home/.ssh/id_rsa.pub"), secret("id_rsa*"));
        assert_eq!(check("aws/credentials"), secret("credentials"));
        assert_eq!(check("src/main.rs"), None);
        assert_eq!(
            check("target/debug/out.rs"),
            Some(ExclusionReason::Gitignored)
        );
        assert_eq!(check("build.log"), Some(ExclusionReason::Gitignored));
        assert_eq!(check("keep.log"), None);
        assert_eq!(check("sub/local.txt"), Some(ExclusionReason::Gitignored));
        assert_eq!(check("local.txt"), None);
        assert_eq!(
            check("fixtures/private/a.json"),
            Some(ExclusionReason::Denied {
                pattern: "fixtures/private/**".into()
            })
        );
        assert_eq!(
            check("deep/db.sqlite"),
            Some(ExclusionReason::Denied {
                pattern: "*.sqlite".into()
            })
        );
        assert_eq!(
            f.check(&Arc::from(Path::new("/elsewhere/notes.md"))),
            Some(ExclusionReason::OutsideWorkspace)
        );
    }

    #[test]
    fn bad_deny_patterns_are_reported() {
        let err = SecretFilter::new(vec![], &["a[".into()], true).unwrap_err();
        assert!(
            err.to_string().starts_with("invalid deny pattern `a[`"),
            "{err}"
        );
    }
}
