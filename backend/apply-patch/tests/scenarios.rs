//! Data-driven end-to-end scenarios for `apply_patch`.
//!
//! Each directory under `tests/fixtures/scenarios/NNN_name/` holds:
//!
//! * `input/`: the starting tree (missing means empty);
//! * `patch.txt`: the patch text; `{ROOT}` is replaced by the temp directory,
//!   so absolute paths can be tested;
//! * exactly one of `expected/` (the tree afterwards) or `expected_error.txt`
//!   (the exact error message, with the temp directory shown as `{ROOT}`;
//!   a single trailing newline of the file is ignored).
//!
//! The runner copies `input/` to a temp directory, applies the patch there,
//! and compares whole trees: the set of files and their bytes. On error the
//! tree, directories included, must be exactly as before, which is how
//! atomicity is checked. Fixture bytes are kept verbatim by `.gitattributes`
//! (CRLF files stay CRLF).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use pretty_assertions::assert_eq;
use tandem_apply_patch::apply_patch;

/// Every file (`Some(bytes)`) and directory (`None`) under a root, by
/// relative path with `/` separators.
type Tree = BTreeMap<String, Option<Vec<u8>>>;

fn snapshot(root: &Path) -> Tree {
    let mut tree = Tree::new();
    if root.exists() {
        walk(root, root, &mut tree);
    }
    tree
}

fn walk(root: &Path, dir: &Path, tree: &mut Tree) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        if path.is_dir() {
            tree.insert(rel, None);
            walk(root, &path, tree);
        } else {
            tree.insert(rel, Some(fs::read(&path).unwrap()));
        }
    }
}

/// Only the files of a tree (git cannot store empty directories, so
/// `expected/` trees are compared on files).
fn files(tree: &Tree) -> BTreeMap<String, String> {
    tree.iter()
        .filter_map(|(k, v)| {
            v.as_ref()
                .map(|bytes| (k.clone(), String::from_utf8_lossy(bytes).into_owned()))
        })
        .collect()
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            fs::create_dir_all(&dest).unwrap();
            copy_tree(&path, &dest);
        } else {
            fs::copy(&path, &dest).unwrap();
        }
    }
}

fn scenario_dirs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/scenarios");
    let mut dirs: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn run_scenario(dir: &Path) {
    let name = dir.file_name().unwrap().to_string_lossy().into_owned();
    let expected_dir = dir.join("expected");
    let expected_error = dir.join("expected_error.txt");
    assert!(
        expected_dir.is_dir() != expected_error.is_file(),
        "{name}: needs exactly one of expected/ and expected_error.txt"
    );

    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    fs::create_dir(&work).unwrap();
    if dir.join("input").is_dir() {
        copy_tree(&dir.join("input"), &work);
    }
    let root = work.display().to_string();
    let patch = fs::read_to_string(dir.join("patch.txt"))
        .unwrap()
        .replace("{ROOT}", &root);
    let before = snapshot(&work);

    let result = apply_patch(&patch, &work);

    let after = snapshot(&work);
    if expected_error.is_file() {
        let want = fs::read_to_string(&expected_error).unwrap();
        let want = want.strip_suffix('\n').unwrap_or(&want);
        match result {
            Ok(changes) => panic!("{name}: expected an error, but the patch applied: {changes:#?}"),
            Err(e) => assert_eq!(
                e.to_string().replace(&root, "{ROOT}"),
                want,
                "{name}: error message"
            ),
        }
        assert_eq!(
            after, before,
            "{name}: the tree changed although the patch failed"
        );
    } else {
        if let Err(e) = result {
            panic!("{name}: expected success, got error:\n{e}");
        }
        assert_eq!(
            files(&after),
            files(&snapshot(&expected_dir)),
            "{name}: resulting tree"
        );
    }
}

#[test]
fn all_scenarios() {
    let dirs = scenario_dirs();
    assert!(dirs.len() >= 45, "only {} scenarios", dirs.len());
    // Run every scenario and report all failures together, so one broken
    // fixture does not hide others.
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|dir| {
            std::panic::catch_unwind(|| run_scenario(dir))
                .err()
                .map(|panic| {
                    let msg = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    format!("{}:\n{msg}", dir.display())
                })
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n\n{}",
        failures.len(),
        dirs.len(),
        failures.join("\n\n")
    );
}

#[test]
fn runner_detects_a_wrong_tree() {
    // Guard against a runner that cannot fail: a scenario whose expected tree
    // differs from the result must panic.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("000_self_check");
    fs::create_dir_all(dir.join("expected")).unwrap();
    fs::write(
        dir.join("patch.txt"),
        "*** Begin Patch\n*** Add File: a.txt\n+one\n*** End Patch\n",
    )
    .unwrap();
    fs::write(dir.join("expected/a.txt"), "two\n").unwrap();
    assert!(std::panic::catch_unwind(|| run_scenario(&dir)).is_err());
    fs::write(dir.join("expected/a.txt"), "one\n").unwrap();
    run_scenario(&dir);
}

#[test]
fn runner_detects_a_wrong_error_message() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("000_self_check");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("patch.txt"), "").unwrap();
    fs::write(dir.join("expected_error.txt"), "some other message\n").unwrap();
    assert!(std::panic::catch_unwind(|| run_scenario(&dir)).is_err());
}
