//! AGENTS.md discovery: the instructions users leave for agents, nearest last so it wins.
//!
//! Order: the global `$TANDEM_HOME/AGENTS.override.md` (when not blank) or
//! `$TANDEM_HOME/AGENTS.md`; then, from the project root (the nearest ancestor of the cwd that
//! holds a `.git` directory *or file*, so worktrees and submodules count) down to the cwd, in
//! each directory the first of `AGENTS.override.md` and `AGENTS.md` that exists. Without a git
//! root only the cwd is searched: walking up to `/` would pick up files from unrelated places.
//!
//! Budget: the project files share `project_doc_max_bytes` (0 disables them). Unlike Codex,
//! which fills the budget from the root down and so cuts the *nearest* file, we fill it from the
//! cwd up: the nearest file is the most specific and overrides the others, so it is the one
//! that must survive intact. Farther files are truncated (head kept) and then dropped. The
//! global file is the user's own and is not counted against the project's budget; it has a
//! fixed cap of its own, [`GLOBAL_DOC_MAX_BYTES`]. Everything cut is listed in
//! [`ProjectDocs::truncated`], and the text itself carries a visible marker where it was cut.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::resolve::Config;

/// The file that, when present, replaces `AGENTS.md` in the same directory.
pub const OVERRIDE_FILENAME: &str = "AGENTS.override.md";
/// The usual instructions file.
pub const DEFAULT_FILENAME: &str = "AGENTS.md";
/// Cap on the global file, which is outside the project's budget.
pub const GLOBAL_DOC_MAX_BYTES: usize = 32 * 1024;

/// The instruction files found for a session, and their combined text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct ProjectDocs {
    /// Files whose text is (wholly or partly) in `text`: the global one first, then from the
    /// project root down to the cwd.
    pub files: Vec<PathBuf>,
    /// Files cut short or left out to fit the budget (a dropped file is not in `files`).
    pub truncated: Vec<PathBuf>,
    /// What to give the model: a one-line preamble, then each file under a header naming its
    /// path. Empty when no file was found.
    pub text: String,
    /// Files that exist but could not be read.
    pub warnings: Vec<String>,
}

/// Finds the instruction files for `config.cwd`.
pub fn discover(config: &Config) -> ProjectDocs {
    discover_in(
        &config.tandem_home,
        &config.cwd,
        config.project_doc_max_bytes,
    )
}

/// Finds the instruction files for `cwd`, with the global one from `tandem_home` and the
/// project's capped at `max_bytes`.
pub fn discover_in(tandem_home: &Path, cwd: &Path, max_bytes: usize) -> ProjectDocs {
    let mut out = ProjectDocs::default();
    let mut parts: Vec<(PathBuf, String, bool)> = Vec::new();

    let global = global_doc(tandem_home, &mut out.warnings);
    if let Some((path, text)) = &global {
        let (text, cut) = truncate(text, GLOBAL_DOC_MAX_BYTES);
        if cut {
            out.truncated.push(path.clone());
        }
        parts.push((path.clone(), text, true));
    }

    if max_bytes > 0 {
        let global_canonical = global
            .as_ref()
            .and_then(|(p, _)| std::fs::canonicalize(p).ok());
        let mut project: Vec<(PathBuf, String)> = Vec::new();
        for path in project_doc_paths(cwd) {
            if global_canonical.is_some() && std::fs::canonicalize(&path).ok() == global_canonical {
                continue;
            }
            if let Some(text) = read_doc(&path, &mut out.warnings) {
                project.push((path, text));
            }
        }
        // Nearest first: it gets the budget before the farther files do.
        let mut remaining = max_bytes;
        let mut kept: Vec<Option<(String, bool)>> = vec![None; project.len()];
        for (i, (_, text)) in project.iter().enumerate().rev() {
            let fits = cut_text_len(text, remaining);
            if fits == 0 {
                continue;
            }
            kept[i] = Some(truncate(text, remaining));
            remaining -= fits;
        }
        for ((path, _), kept) in project.into_iter().zip(kept) {
            match kept {
                Some((text, cut)) => {
                    if cut {
                        out.truncated.push(path.clone());
                    }
                    parts.push((path, text, false));
                }
                None => out.truncated.push(path),
            }
        }
    }

    if parts.is_empty() {
        return out;
    }
    let mut text = String::from(
        "Instructions from AGENTS.md files, from the most general to the most specific; where they disagree, the later file wins.\n",
    );
    for (path, body, is_global) in parts {
        let label = if is_global { " (global)" } else { "" };
        text.push_str(&format!("\n--- {}{label} ---\n{body}\n", path.display()));
        out.files.push(path);
    }
    out.text = text;
    out
}

/// The project root: the nearest ancestor of `cwd` (itself included) with a `.git` entry.
pub fn find_project_root(cwd: &Path) -> Option<PathBuf> {
    cwd.ancestors()
        .find(|dir| std::fs::symlink_metadata(dir.join(".git")).is_ok())
        .map(Path::to_path_buf)
}

/// The project instruction files that exist for `cwd`, root first, at most one per directory.
pub fn project_doc_paths(cwd: &Path) -> Vec<PathBuf> {
    let cwd = std::fs::canonicalize(cwd).unwrap_or_else(|_| cwd.to_path_buf());
    let dirs: Vec<&Path> = match find_project_root(&cwd) {
        Some(root) => {
            let depth = root.components().count();
            let mut dirs: Vec<&Path> = cwd
                .ancestors()
                .take_while(|d| d.components().count() >= depth)
                .collect();
            dirs.reverse();
            dirs
        }
        None => vec![&cwd],
    };
    dirs.into_iter()
        .filter_map(|dir| {
            [OVERRIDE_FILENAME, DEFAULT_FILENAME]
                .iter()
                .map(|name| dir.join(name))
                .find(|p| p.is_file())
        })
        .collect()
}

/// The global file: the override when it has content, else `AGENTS.md`.
fn global_doc(tandem_home: &Path, warnings: &mut Vec<String>) -> Option<(PathBuf, String)> {
    [OVERRIDE_FILENAME, DEFAULT_FILENAME]
        .iter()
        .map(|name| tandem_home.join(name))
        .filter(|p| p.is_file())
        .find_map(|p| read_doc(&p, warnings).map(|text| (p, text)))
}

/// The file's text without surrounding whitespace; `None` if blank or unreadable.
fn read_doc(path: &Path, warnings: &mut Vec<String>) -> Option<String> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes).trim().to_owned();
            (!text.is_empty()).then_some(text)
        }
        Err(e) => {
            warnings.push(format!("cannot read {}: {e}", path.display()));
            None
        }
    }
}

/// How many bytes of `text` fit in `budget` without splitting a character.
fn cut_text_len(text: &str, budget: usize) -> usize {
    if text.len() <= budget {
        return text.len();
    }
    let mut end = budget;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
}

/// `text` cut to `budget` bytes at a character boundary, with a marker saying so.
fn truncate(text: &str, budget: usize) -> (String, bool) {
    let end = cut_text_len(text, budget);
    if end == text.len() {
        return (text.to_owned(), false);
    }
    let omitted = text.len() - end;
    (
        format!(
            "{}\n[... truncated: {omitted} of {} bytes left out to fit the size limit ...]",
            &text[..end],
            text.len()
        ),
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_respects_char_boundaries() {
        let (t, cut) = truncate("héllo", 2);
        assert!(cut);
        assert!(t.starts_with("h\n[... truncated: 5 of 6 bytes"), "{t}");
        assert_eq!(truncate("abc", 3), ("abc".to_owned(), false));
    }
}
