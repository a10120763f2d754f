//! The environment policy: which variables reach a sandboxed command. Secrets are dropped by
//! default because a model-chosen command can print or upload anything it can read, and the
//! sandbox markers are set so tools and tests can tell they run inside.

use crate::policy::EnvPolicy;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// How the command will run, as far as the environment is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvContext<'a> {
    /// danger-full-access: no markers.
    Unsandboxed,
    /// Full namespace sandbox; `/tmp` is private and writable.
    Namespaces {
        network: bool,
        writable_roots: &'a [std::path::PathBuf],
    },
    /// Landlock-only fallback; `scratch` is the private temp dir standing in for `/tmp`.
    LandlockOnly { network: bool, scratch: &'a Path },
}

/// Case-insensitive glob match with `*` as the only wildcard.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<u8> = pattern.bytes().map(|b| b.to_ascii_uppercase()).collect();
    let n: Vec<u8> = name.bytes().map(|b| b.to_ascii_uppercase()).collect();
    // Classic two-pointer wildcard matching with backtracking to the last star.
    let (mut pi, mut ni) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ni < n.len() {
        if pi < p.len() && p[pi] != b'*' && p[pi] == n[ni] {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// True when the policy drops this variable.
pub fn is_dropped(policy: &EnvPolicy, name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        // Non-UTF-8 names cannot match our ASCII patterns; keep them.
        return false;
    };
    if !policy.drop_secrets {
        return false;
    }
    if policy.keep.iter().any(|k| glob_match(k, name)) {
        return false;
    }
    policy.secret_patterns.iter().any(|p| glob_match(p, name))
}

/// Applies the policy to `vars` (usually the parent's environment) and returns the command's
/// environment, sorted by name for determinism.
pub fn apply_env_policy(
    policy: &EnvPolicy,
    vars: impl IntoIterator<Item = (OsString, OsString)>,
    ctx: EnvContext<'_>,
) -> Vec<(OsString, OsString)> {
    let mut out: Vec<(OsString, OsString)> = vars
        .into_iter()
        .filter(|(k, _)| !is_dropped(policy, k))
        .filter(|(k, _)| !k.as_bytes().starts_with(b"TANDEM_SANDBOX"))
        .collect();
    let mut set = |k: &str, v: &OsStr| {
        out.retain(|(name, _)| name != k);
        out.push((k.into(), v.to_owned()));
    };
    match ctx {
        EnvContext::Unsandboxed => {}
        EnvContext::Namespaces {
            network,
            writable_roots,
        } => {
            set("TANDEM_SANDBOX", OsStr::new("1"));
            if !network {
                set("TANDEM_SANDBOX_NETWORK_DISABLED", OsStr::new("1"));
            }
            fix_tmpdir(&mut out, writable_roots, Path::new("/tmp"));
        }
        EnvContext::LandlockOnly { network, scratch } => {
            let mut set = |k: &str, v: &OsStr| {
                out.retain(|(name, _)| name != k);
                out.push((k.into(), v.to_owned()));
            };
            set("TANDEM_SANDBOX", OsStr::new("1"));
            set("TANDEM_SANDBOX_FALLBACK", OsStr::new("landlock-only"));
            if !network {
                set("TANDEM_SANDBOX_NETWORK_DISABLED", OsStr::new("1"));
            }
            // /tmp is the host's here and not writable: point every tool at the scratch dir.
            for k in ["TMPDIR", "TMP", "TEMP"] {
                set(k, scratch.as_os_str());
            }
        }
    }
    for (k, v) in &policy.set {
        out.retain(|(name, _)| name != k.as_str());
        out.push((k.into(), v.into()));
    }
    out.sort();
    out
}

/// TMPDIR/TMP/TEMP pointing outside anything writable would break every tool that makes a
/// temp file; point them at the private `/tmp` instead, unless they are under a writable root.
fn fix_tmpdir(out: &mut [(OsString, OsString)], roots: &[std::path::PathBuf], tmp: &Path) {
    for (k, v) in out.iter_mut() {
        if !matches!(k.to_str(), Some("TMPDIR" | "TMP" | "TEMP")) {
            continue;
        }
        let p = Path::new(v.as_os_str());
        let ok = p.starts_with(tmp) || roots.iter().any(|r| p.starts_with(r));
        if !ok {
            *v = tmp.as_os_str().to_owned();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs.iter().map(|(k, v)| (k.into(), v.into())).collect()
    }

    #[test]
    fn globs() {
        assert!(glob_match("*_KEY", "OPENAI_API_KEY"));
        assert!(glob_match("*_key", "openai_api_key"));
        assert!(!glob_match("*_KEY", "KEYBOARD"));
        assert!(glob_match("*PASSWORD*", "DB_PASSWORD_FILE"));
        assert!(glob_match("*PASSWORD*", "PASSWORD"));
        assert!(glob_match("A*B*C", "AxxBxxC"));
        assert!(!glob_match("A*B*C", "AxxBxx"));
        assert!(glob_match("PATH", "path"));
    }

    #[test]
    fn secrets_are_dropped_and_markers_set() {
        let roots = [PathBuf::from("/work/ws")];
        let out = apply_env_policy(
            &EnvPolicy::default(),
            vars(&[
                ("PATH", "/usr/bin"),
                ("GITHUB_TOKEN", "t"),
                ("AWS_SECRET_ACCESS_KEY", "k"),
                ("MY_SECRET", "s"),
                ("PGPASSWORD", "p"),
                ("HOME", "/root"),
                ("TANDEM_SANDBOX", "spoofed"),
                ("TMPDIR", "/var/tmp/x"),
            ]),
            EnvContext::Namespaces {
                network: false,
                writable_roots: &roots,
            },
        );
        insta::assert_debug_snapshot!(out);
    }

    #[test]
    fn keep_and_set_override() {
        let policy = EnvPolicy {
            keep: vec!["CARGO_REGISTRY_TOKEN".into()],
            set: [("EXTRA".to_string(), "1".to_string())].into(),
            ..EnvPolicy::default()
        };
        let out = apply_env_policy(
            &policy,
            vars(&[("CARGO_REGISTRY_TOKEN", "x"), ("NPM_TOKEN", "y")]),
            EnvContext::Namespaces {
                network: true,
                writable_roots: &[],
            },
        );
        let names: Vec<_> = out.iter().map(|(k, _)| k.to_str().unwrap()).collect();
        assert_eq!(names, ["CARGO_REGISTRY_TOKEN", "EXTRA", "TANDEM_SANDBOX"]);
    }

    #[test]
    fn unsandboxed_gets_no_markers_but_still_loses_secrets() {
        let out = apply_env_policy(
            &EnvPolicy::default(),
            vars(&[("A_TOKEN", "x"), ("B", "y")]),
            EnvContext::Unsandboxed,
        );
        assert_eq!(out, vars(&[("B", "y")]));
    }

    #[test]
    fn tmpdir_under_a_root_is_kept() {
        let roots = [PathBuf::from("/w")];
        let out = apply_env_policy(
            &EnvPolicy::default(),
            vars(&[("TMPDIR", "/w/tmp")]),
            EnvContext::Namespaces {
                network: true,
                writable_roots: &roots,
            },
        );
        assert!(out.contains(&("TMPDIR".into(), "/w/tmp".into())));
    }
}
