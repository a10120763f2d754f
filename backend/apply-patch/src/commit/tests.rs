//! Unit tests of `commit_to_disk`: success paths, rollback after a failure in
//! the swap phase (which the fixtures cannot reach through `plan_patch`),
//! permissions and symlinks.

use std::collections::BTreeSet;

use pretty_assertions::assert_eq;

use super::*;

fn update(path: &Path, old: &str, new: &str, move_to: Option<PathBuf>) -> PlannedChange {
    PlannedChange {
        path: path.to_path_buf(),
        kind: ChangeKind::Update {
            old: old.into(),
            new: new.into(),
            move_to,
        },
        unified_diff: String::new(),
    }
}

fn add(path: &Path, new: &str) -> PlannedChange {
    PlannedChange {
        path: path.to_path_buf(),
        kind: ChangeKind::Add { new: new.into() },
        unified_diff: String::new(),
    }
}

fn delete(path: &Path) -> PlannedChange {
    PlannedChange {
        path: path.to_path_buf(),
        kind: ChangeKind::Delete { old: String::new() },
        unified_diff: String::new(),
    }
}

/// All entries under `root`, relative, directories with a trailing `/`.
fn entries(root: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().display().to_string();
            if p.is_dir() && !p.is_symlink() {
                out.insert(format!("{rel}/"));
                walk(root, &p, out);
            } else {
                out.insert(rel);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(root, root, &mut out);
    out
}

#[test]
fn applies_every_kind_of_change() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::write(root.join("u.txt"), "old\n").unwrap();
    fs::write(root.join("d.txt"), "bye\n").unwrap();
    fs::write(root.join("m.txt"), "move me\n").unwrap();
    commit_to_disk(&[
        update(&root.join("u.txt"), "old\n", "new\n", None),
        delete(&root.join("d.txt")),
        add(&root.join("n/e/w.txt"), "fresh\n"),
        update(
            &root.join("m.txt"),
            "move me\n",
            "moved\n",
            Some(root.join("to/m.txt")),
        ),
    ])
    .unwrap();
    assert_eq!(
        entries(root),
        ["n/", "n/e/", "n/e/w.txt", "to/", "to/m.txt", "u.txt"]
            .into_iter()
            .map(String::from)
            .collect()
    );
    assert_eq!(fs::read_to_string(root.join("u.txt")).unwrap(), "new\n");
    assert_eq!(
        fs::read_to_string(root.join("n/e/w.txt")).unwrap(),
        "fresh\n"
    );
    assert_eq!(
        fs::read_to_string(root.join("to/m.txt")).unwrap(),
        "moved\n"
    );
}

#[test]
fn later_changes_to_the_same_path_win() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("x.txt");
    fs::write(&p, "one\n").unwrap();
    commit_to_disk(&[delete(&p), add(&p, "two\n")]).unwrap();
    assert_eq!(fs::read_to_string(&p).unwrap(), "two\n");
    commit_to_disk(&[add(&p, "three\n"), delete(&p)]).unwrap();
    assert!(!p.exists());
}

#[test]
fn failure_in_the_swap_phase_restores_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::write(root.join("a.txt"), "original a\n").unwrap();
    fs::write(root.join("b.txt"), "original b\n").unwrap();
    fs::create_dir(root.join("dir")).unwrap();
    let before = entries(root);
    // a.txt and b.txt are swapped before the delete of a directory fails.
    let err = commit_to_disk(&[
        update(&root.join("a.txt"), "original a\n", "changed a\n", None),
        delete(&root.join("b.txt")),
        add(&root.join("new/deep/c.txt"), "c\n"),
        delete(&root.join("dir")),
    ])
    .unwrap_err();
    assert!(matches!(err, ApplyError::Commit { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: could not delete a directory: it is a directory; the patch was not applied and no \
             file was changed",
            root.join("dir").display()
        )
    );
    assert_eq!(
        entries(root),
        before,
        "stray files or directories were left"
    );
    assert_eq!(
        fs::read_to_string(root.join("a.txt")).unwrap(),
        "original a\n"
    );
    assert_eq!(
        fs::read_to_string(root.join("b.txt")).unwrap(),
        "original b\n"
    );
}

#[test]
fn failure_while_staging_removes_created_directories() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::write(root.join("file"), "in the way\n").unwrap();
    let before = entries(root);
    let err = commit_to_disk(&[
        add(&root.join("x/y/z.txt"), "z\n"),
        add(&root.join("file/child.txt"), "c\n"),
    ])
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("a file with that name is in the way"),
        "{err}"
    );
    assert_eq!(entries(root), before);
}

#[cfg(unix)]
#[test]
fn permissions_are_kept_and_moves_carry_them() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("run.sh");
    fs::write(&script, "echo hi\n").unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    commit_to_disk(&[update(&script, "echo hi\n", "echo bye\n", None)]).unwrap();
    assert_eq!(
        fs::metadata(&script).unwrap().permissions().mode() & 0o777,
        0o755
    );

    let moved = tmp.path().join("bin/run.sh");
    commit_to_disk(&[update(
        &script,
        "echo bye\n",
        "echo moved\n",
        Some(moved.clone()),
    )])
    .unwrap();
    assert_eq!(
        fs::metadata(&moved).unwrap().permissions().mode() & 0o777,
        0o755
    );
}

#[cfg(unix)]
#[test]
fn symlinked_targets_are_written_through() {
    let tmp = tempfile::tempdir().unwrap();
    let real = tmp.path().join("real.txt");
    let link = tmp.path().join("link.txt");
    fs::write(&real, "a\n").unwrap();
    std::os::unix::fs::symlink(&real, &link).unwrap();
    commit_to_disk(&[update(&link, "a\n", "b\n", None)]).unwrap();
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read_to_string(&real).unwrap(), "b\n");
}

#[test]
fn unique_siblings_do_not_collide() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("f.txt");
    let a = unique_sibling(&target, "tmp");
    fs::write(&a, "").unwrap();
    let b = unique_sibling(&target, "tmp");
    assert_ne!(a, b);
    assert_eq!(a.parent(), target.parent());
    assert!(
        a.file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with(".f.txt.tandem-")
    );
}
