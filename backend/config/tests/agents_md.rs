//! AGENTS.md discovery: ordering (global, root, …, cwd), overrides, git roots, and the budget.
//!
//! Every test builds its own tree in a temporary directory and passes `TANDEM_HOME` explicitly,
//! so nothing depends on (or touches) the real `~/.tandem`.

use std::fs;
use std::path::{Path, PathBuf};

use pretty_assertions::assert_eq;
use tandem_config::agents_md::{ProjectDocs, discover, discover_in, find_project_root};
use tandem_config::{Config, ConfigOverrides};

struct Tree {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Tree {
    /// A temporary directory holding `home/` (the TANDEM_HOME) and `repo/`.
    fn new() -> Tree {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        fs::create_dir_all(root.join("home")).unwrap();
        fs::create_dir_all(root.join("repo/a/b")).unwrap();
        Tree { _tmp: tmp, root }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    fn write(&self, rel: &str, text: &str) -> &Self {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
        self
    }

    fn discover(&self, cwd: &str, max: usize) -> ProjectDocs {
        discover_in(&self.path("home"), &self.path(cwd), max)
    }

    /// `files` relative to the tree root, for readable assertions.
    fn rel(&self, files: &[PathBuf]) -> Vec<String> {
        files
            .iter()
            .map(|p| p.strip_prefix(&self.root).unwrap().display().to_string())
            .collect()
    }
}

#[test]
fn order_is_global_then_root_down_to_cwd() {
    let t = Tree::new();
    fs::create_dir(t.path("repo/.git")).unwrap();
    t.write("home/AGENTS.md", "global rules")
        .write("repo/AGENTS.md", "root rules")
        .write("repo/a/AGENTS.md", "a rules")
        .write("repo/a/b/AGENTS.md", "b rules");
    let docs = t.discover("repo/a/b", 32 * 1024);
    assert_eq!(
        t.rel(&docs.files),
        [
            "home/AGENTS.md",
            "repo/AGENTS.md",
            "repo/a/AGENTS.md",
            "repo/a/b/AGENTS.md"
        ]
    );
    assert!(docs.truncated.is_empty());
    let positions: Vec<usize> = ["global rules", "root rules", "a rules", "b rules"]
        .iter()
        .map(|s| docs.text.find(s).unwrap())
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{}", docs.text);
    assert!(docs.text.starts_with("Instructions from AGENTS.md files"));
    assert!(docs.text.contains("the later file wins"));
    let header = format!("--- {} (global) ---", t.path("home/AGENTS.md").display());
    assert!(docs.text.contains(&header), "{}", docs.text);
    let header = format!(
        "--- {} ---\nb rules",
        t.path("repo/a/b/AGENTS.md").display()
    );
    assert!(docs.text.contains(&header), "{}", docs.text);
}

#[test]
fn nothing_found_gives_empty_text() {
    let t = Tree::new();
    let docs = t.discover("repo", 1024);
    assert_eq!(docs, ProjectDocs::default());
}

#[test]
fn override_replaces_agents_md_in_its_directory_only() {
    let t = Tree::new();
    fs::create_dir(t.path("repo/.git")).unwrap();
    t.write("repo/AGENTS.md", "root")
        .write("repo/AGENTS.override.md", "root override")
        .write("repo/a/AGENTS.md", "a");
    let docs = t.discover("repo/a", 1024);
    assert_eq!(
        t.rel(&docs.files),
        ["repo/AGENTS.override.md", "repo/a/AGENTS.md"]
    );
    assert!(!docs.text.contains("\nroot\n"));
}

#[test]
fn global_override_wins_unless_blank() {
    let t = Tree::new();
    t.write("home/AGENTS.md", "plain")
        .write("home/AGENTS.override.md", "override");
    assert_eq!(
        t.rel(&t.discover("repo", 1024).files),
        ["home/AGENTS.override.md"]
    );
    t.write("home/AGENTS.override.md", "  \n\t\n");
    assert_eq!(t.rel(&t.discover("repo", 1024).files), ["home/AGENTS.md"]);
}

#[test]
fn a_git_file_marks_the_root_too() {
    // Worktrees and submodules have a `.git` file, not a directory.
    let t = Tree::new();
    t.write("repo/.git", "gitdir: /elsewhere/.git/worktrees/repo")
        .write("repo/AGENTS.md", "root")
        .write("repo/a/b/AGENTS.md", "b");
    assert_eq!(find_project_root(&t.path("repo/a/b")), Some(t.path("repo")));
    let docs = t.discover("repo/a/b", 1024);
    assert_eq!(t.rel(&docs.files), ["repo/AGENTS.md", "repo/a/b/AGENTS.md"]);
}

#[test]
fn without_a_git_root_only_the_cwd_is_searched() {
    let t = Tree::new();
    t.write("repo/AGENTS.md", "parent")
        .write("repo/a/AGENTS.md", "cwd");
    let docs = t.discover("repo/a", 1024);
    assert_eq!(t.rel(&docs.files), ["repo/a/AGENTS.md"]);
}

#[test]
fn nothing_above_the_git_root_is_read() {
    let t = Tree::new();
    t.write("AGENTS.md", "above the root")
        .write("repo/a/AGENTS.md", "a");
    fs::create_dir(t.path("repo/.git")).unwrap();
    let docs = t.discover("repo/a", 1024);
    assert_eq!(t.rel(&docs.files), ["repo/a/AGENTS.md"]);
}

#[test]
fn blank_files_are_skipped_and_text_is_trimmed() {
    let t = Tree::new();
    fs::create_dir(t.path("repo/.git")).unwrap();
    t.write("repo/AGENTS.md", "\n\n   \n")
        .write("repo/a/AGENTS.md", "\n  keep me  \n\n");
    let docs = t.discover("repo/a", 1024);
    assert_eq!(t.rel(&docs.files), ["repo/a/AGENTS.md"]);
    assert!(docs.text.ends_with("---\nkeep me\n"), "{:?}", docs.text);
}

#[test]
fn over_budget_the_farthest_files_are_cut_first() {
    let t = Tree::new();
    fs::create_dir(t.path("repo/.git")).unwrap();
    t.write("repo/AGENTS.md", &"r".repeat(100))
        .write("repo/a/AGENTS.md", &"a".repeat(100))
        .write("repo/a/b/AGENTS.md", &"b".repeat(100));
    // 250 bytes: b and a whole, root cut to 50, reported.
    let docs = t.discover("repo/a/b", 250);
    assert_eq!(
        t.rel(&docs.files),
        ["repo/AGENTS.md", "repo/a/AGENTS.md", "repo/a/b/AGENTS.md"]
    );
    assert_eq!(t.rel(&docs.truncated), ["repo/AGENTS.md"]);
    assert!(docs.text.contains(&format!(
        "{}\n[... truncated: 50 of 100 bytes left out to fit the size limit ...]",
        "r".repeat(50)
    )));
    assert!(docs.text.contains(&"b".repeat(100)));
    assert!(docs.text.contains(&"a".repeat(100)));

    // 150 bytes: b whole, a cut to 50, root dropped (not in `files`, but reported).
    let docs = t.discover("repo/a/b", 150);
    assert_eq!(
        t.rel(&docs.files),
        ["repo/a/AGENTS.md", "repo/a/b/AGENTS.md"]
    );
    assert_eq!(
        t.rel(&docs.truncated),
        ["repo/AGENTS.md", "repo/a/AGENTS.md"]
    );
    assert!(!docs.text.contains('r'.to_string().repeat(2).as_str()));

    // 60 bytes: only the nearest survives, cut.
    let docs = t.discover("repo/a/b", 60);
    assert_eq!(t.rel(&docs.files), ["repo/a/b/AGENTS.md"]);
    assert_eq!(
        t.rel(&docs.truncated),
        ["repo/AGENTS.md", "repo/a/AGENTS.md", "repo/a/b/AGENTS.md"]
    );
}

#[test]
fn truncation_keeps_whole_characters() {
    let t = Tree::new();
    t.write("repo/AGENTS.md", "ééééé"); // 10 bytes
    let docs = t.discover("repo", 5);
    assert!(
        docs.text.contains("éé\n[... truncated: 6 of 10 bytes"),
        "{}",
        docs.text
    );
    assert_eq!(t.rel(&docs.truncated), ["repo/AGENTS.md"]);
}

#[test]
fn zero_budget_disables_project_docs_but_not_the_global_file() {
    let t = Tree::new();
    t.write("home/AGENTS.md", "global")
        .write("repo/AGENTS.md", "project");
    let docs = t.discover("repo", 0);
    assert_eq!(t.rel(&docs.files), ["home/AGENTS.md"]);
    assert!(docs.truncated.is_empty());
}

#[test]
fn the_global_file_has_its_own_cap() {
    let t = Tree::new();
    t.write("home/AGENTS.md", &"g".repeat(40 * 1024))
        .write("repo/AGENTS.md", "p");
    let docs = t.discover("repo", 1);
    assert_eq!(t.rel(&docs.files), ["home/AGENTS.md", "repo/AGENTS.md"]);
    assert_eq!(t.rel(&docs.truncated), ["home/AGENTS.md"]);
}

#[test]
fn discover_uses_the_config() {
    let t = Tree::new();
    fs::create_dir(t.path("repo/.git")).unwrap();
    t.write("home/config.toml", "project_doc_max_bytes = 3\n")
        .write("repo/AGENTS.md", "abcdef");
    let config = Config::load_with_env(
        ConfigOverrides {
            cwd: Some(t.path("repo")),
            tandem_home: Some(t.path("home")),
            ..Default::default()
        },
        |_| None,
    )
    .unwrap();
    let docs = discover(&config);
    assert_eq!(t.rel(&docs.truncated), ["repo/AGENTS.md"]);
    assert!(docs.text.contains("abc\n[... truncated: 3 of 6 bytes"));
}

#[cfg(unix)]
#[test]
fn a_symlinked_cwd_is_resolved_to_find_the_root() {
    let t = Tree::new();
    fs::create_dir(t.path("repo/.git")).unwrap();
    t.write("repo/AGENTS.md", "root")
        .write("repo/a/AGENTS.md", "a");
    let link = t.path("link");
    std::os::unix::fs::symlink(t.path("repo/a"), &link).unwrap();
    let docs = discover_in(&t.path("home"), Path::new(&link), 1024);
    assert_eq!(t.rel(&docs.files), ["repo/AGENTS.md", "repo/a/AGENTS.md"]);
}
