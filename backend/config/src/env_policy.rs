//! Which environment variables reach the commands the agent runs (`[shell_environment_policy]`).
//!
//! A model that can run `env` can read every secret in the agent's environment, and may paste
//! it into a log or a patch. So by default variables whose *name* looks like a secret are
//! dropped, and a user can narrow the environment further. The same policy is applied to the
//! MCP servers' child processes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The starting set of variables, before excludes and `set`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Inherit {
    /// Every variable of the agent's environment.
    #[default]
    All,
    /// Only [`CORE_VARS`]: enough for tools to find themselves, a home and a locale.
    Core,
    /// Nothing; only `set` applies.
    None,
}

/// The variables `inherit = "core"` keeps (`LC_*` matches every locale category).
pub const CORE_VARS: &[&str] = &[
    "HOME", "LOGNAME", "PATH", "SHELL", "USER", "USERNAME", "TMPDIR", "TEMP", "TMP", "LANG",
    "LC_*", "TERM",
];

/// Dropped unless `ignore_default_excludes = true`: names that usually hold credentials.
pub const DEFAULT_EXCLUDES: &[&str] = &["*KEY*", "*SECRET*", "*TOKEN*", "*PASSWORD*"];

/// The resolved `[shell_environment_policy]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ShellEnvironmentPolicy {
    pub inherit: Inherit,
    /// Keep the variables [`DEFAULT_EXCLUDES`] would drop.
    pub ignore_default_excludes: bool,
    /// Globs (`*`, `?`; case-insensitive) of names to drop.
    pub exclude: Vec<String>,
    /// Variables to set, whatever the rest of the policy says.
    pub set: BTreeMap<String, String>,
    /// When non-empty, only names matching one of these globs are kept (before `set`).
    pub include_only: Vec<String>,
}

impl ShellEnvironmentPolicy {
    /// Builds the environment of a child process from `vars` (usually `std::env::vars()`).
    ///
    /// In order: `inherit` picks the starting set; the default excludes drop secret-looking
    /// names (unless `ignore_default_excludes`); `exclude` drops more; `include_only`, when
    /// non-empty, keeps only what it matches; and `set` is applied last. Codex applies
    /// `include_only` after `set`; we do it before, so a variable the user set explicitly is
    /// never silently filtered out by their own allow-list.
    pub fn apply(
        &self,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> BTreeMap<String, String> {
        let matches_any = |name: &str, globs: &[String]| globs.iter().any(|g| glob_match(g, name));
        let mut env: BTreeMap<String, String> = vars
            .into_iter()
            .filter(|(name, _)| match self.inherit {
                Inherit::All => true,
                Inherit::Core => CORE_VARS.iter().any(|g| glob_match(g, name)),
                Inherit::None => false,
            })
            .filter(|(name, _)| {
                self.ignore_default_excludes
                    || !DEFAULT_EXCLUDES.iter().any(|g| glob_match(g, name))
            })
            .filter(|(name, _)| !matches_any(name, &self.exclude))
            .filter(|(name, _)| {
                self.include_only.is_empty() || matches_any(name, &self.include_only)
            })
            .collect();
        env.extend(self.set.iter().map(|(k, v)| (k.clone(), v.clone())));
        env
    }
}

/// Case-insensitive glob match of a whole name: `*` is any run of characters, `?` one character.
pub fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().flat_map(char::to_uppercase).collect();
    let n: Vec<char> = name.chars().flat_map(char::to_uppercase).collect();
    // Iterative matcher with one backtrack point: linear for the patterns people write.
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_are_case_insensitive_and_anchored() {
        assert!(glob_match("*KEY*", "openai_api_key"));
        assert!(glob_match("LC_*", "LC_ALL"));
        assert!(glob_match("a?c", "ABC"));
        assert!(!glob_match("LC_*", "XLC_ALL"));
        assert!(!glob_match("PATH", "PATHS"));
        assert!(glob_match("*", ""));
        assert!(glob_match("**a*", "bba"));
        assert!(!glob_match("*a*b", "aaa"));
    }
}
