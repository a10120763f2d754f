//! `plan_patch` through the public API: custom file sources (the LSP case),
//! the shape of planned changes, and their unified diffs.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use pretty_assertions::assert_eq;
#[path = "support/workload.rs"]
mod workload;

use tandem_apply_patch::{
    ApplyError, ChangeKind, FileSource, PlannedChange, parse_patch, plan_patch,
};

/// Files held in memory, like open editor buffers.
struct Buffers(HashMap<PathBuf, String>);

impl FileSource for Buffers {
    fn read(&self, path: &Path) -> io::Result<Option<String>> {
        if path.ends_with("unreadable.txt") {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "denied for the test",
            ));
        }
        Ok(self.0.get(path).cloned())
    }
}

fn buffers(files: &[(&str, &str)]) -> Buffers {
    Buffers(
        files
            .iter()
            .map(|(p, c)| (PathBuf::from(p), c.to_string()))
            .collect(),
    )
}

fn plan(text: &str, source: &Buffers) -> Result<Vec<PlannedChange>, ApplyError> {
    plan_patch(&parse_patch(text).unwrap(), Path::new("/proj"), source)
}

#[test]
fn plans_against_the_source_without_touching_disk() {
    // /proj does not exist on disk; everything comes from the buffers.
    let src = buffers(&[("/proj/src/a.rs", "fn a() {\n    1\n}\n")]);
    let changes = plan(
        "*** Begin Patch\n*** Update File: src/a.rs\n@@ fn a() {\n-    1\n+    2\n*** End Patch",
        &src,
    )
    .unwrap();
    assert_eq!(
        changes,
        vec![PlannedChange {
            path: PathBuf::from("/proj/src/a.rs"),
            kind: ChangeKind::Update {
                old: "fn a() {\n    1\n}\n".into(),
                new: "fn a() {\n    2\n}\n".into(),
                move_to: None,
            },
            unified_diff:
                "--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1,3 +1,3 @@\n fn a() {\n-    1\n+    2\n }\n"
                    .into(),
        }]
    );
    assert!(!Path::new("/proj").exists());
}

#[test]
fn add_delete_and_move_diffs() {
    let src = buffers(&[("/proj/old.txt", "x\ny\n"), ("/proj/gone.txt", "bye\n")]);
    let changes = plan(
        "*** Begin Patch\n\
         *** Add File: new.txt\n+hello\n\
         *** Delete File: gone.txt\n\
         *** Update File: old.txt\n*** Move to: dir/../moved.txt\n@@\n x\n-y\n+z\n\
         *** End Patch",
        &src,
    )
    .unwrap();
    let diffs: Vec<&str> = changes.iter().map(|c| c.unified_diff.as_str()).collect();
    assert_eq!(
        diffs,
        [
            "--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+hello\n",
            "--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n",
            "--- a/old.txt\n+++ b/moved.txt\n@@ -1,2 +1,2 @@\n x\n-y\n+z\n",
        ]
    );
    assert_eq!(
        changes[2].kind,
        ChangeKind::Update {
            old: "x\ny\n".into(),
            new: "x\nz\n".into(),
            move_to: Some(PathBuf::from("/proj/moved.txt")),
        }
    );
}

#[test]
fn a_plain_rename_has_a_header_only_diff() {
    let src = buffers(&[("/proj/a.txt", "same\n")]);
    let changes = plan(
        "*** Begin Patch\n*** Update File: a.txt\n*** Move to: b.txt\n*** End Patch",
        &src,
    )
    .unwrap();
    assert_eq!(changes[0].unified_diff, "--- a/a.txt\n+++ b/b.txt\n");
    assert_eq!(
        changes[0].kind,
        ChangeKind::Update {
            old: "same\n".into(),
            new: "same\n".into(),
            move_to: Some(PathBuf::from("/proj/b.txt")),
        }
    );
}

#[test]
fn overwrites_are_announced_in_the_diff() {
    let src = buffers(&[
        ("/proj/a.txt", "old\n"),
        ("/proj/b.txt", "in the way\n"),
        ("/proj/c.txt", "c\n"),
    ]);
    let changes = plan(
        "*** Begin Patch\n\
         *** Add File: a.txt\n+new\n\
         *** Update File: c.txt\n*** Move to: b.txt\n@@\n-c\n+C\n\
         *** End Patch",
        &src,
    )
    .unwrap();
    assert_eq!(
        changes[0].unified_diff,
        "note: '*** Add File: a.txt' replaces the existing file\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-old\n+new\n"
    );
    assert!(
        changes[1].unified_diff.starts_with(
            "note: '*** Move to: b.txt' replaces the existing file\n--- a/c.txt\n+++ b/b.txt\n"
        ),
        "{}",
        changes[1].unified_diff
    );
}

#[test]
fn later_operations_see_earlier_ones() {
    let src = buffers(&[("/proj/a.txt", "1\n")]);
    let changes = plan(
        "*** Begin Patch\n\
         *** Update File: a.txt\n*** Move to: b.txt\n@@\n-1\n+2\n\
         *** Update File: b.txt\n@@\n-2\n+3\n\
         *** Delete File: b.txt\n\
         *** End Patch",
        &src,
    )
    .unwrap();
    assert_eq!(changes.len(), 3);
    assert_eq!(changes[2].kind, ChangeKind::Delete { old: "3\n".into() });
    // The source was moved away, so updating it again fails.
    let err = plan(
        "*** Begin Patch\n*** Update File: a.txt\n*** Move to: b.txt\n@@\n-1\n+2\n*** Update File: a.txt\n@@\n-1\n+2\n*** End Patch",
        &src,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "a.txt: cannot update: the file does not exist (use '*** Add File:' to create it)"
    );
}

#[test]
fn read_errors_name_the_file() {
    let src = buffers(&[]);
    let err = plan(
        "*** Begin Patch\n*** Delete File: sub/unreadable.txt\n*** End Patch",
        &src,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "sub/unreadable.txt: cannot read: denied for the test"
    );
}

#[test]
fn crlf_diff_is_shown_without_carriage_returns() {
    let src = buffers(&[("/proj/w.txt", "a\r\nb\r\n")]);
    let changes = plan(
        "*** Begin Patch\n*** Update File: w.txt\n@@\n a\n-b\n+c\n*** End Patch",
        &src,
    )
    .unwrap();
    assert_eq!(
        changes[0].unified_diff,
        "--- a/w.txt\n+++ b/w.txt\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
    );
    let ChangeKind::Update { new, .. } = &changes[0].kind else {
        panic!("not an update")
    };
    assert_eq!(new, "a\r\nc\r\n");
}

#[test]
fn missing_lines_error_quotes_a_long_hunk_briefly() {
    let file: String = (0..100).map(|i| format!("line {i}\n")).collect();
    let src = buffers(&[("/proj/long.txt", &file)]);
    let mut patch = String::from("*** Begin Patch\n*** Update File: long.txt\n@@\n");
    for i in 0..60 {
        patch.push_str(&format!("-other {i}\n"));
    }
    patch.push_str("*** End Patch");
    let err = plan(&patch, &src).unwrap_err().to_string();
    assert!(
        err.starts_with(
            "long.txt: hunk 1 (patch line 3): could not find these lines:\n  other 0\n"
        ),
        "{err}"
    );
    assert!(err.contains("\n  ... (20 more lines) ...\n"), "{err}");
    assert!(err.ends_with("  other 59"), "{err}");
}

#[test]
fn fifty_hunks_on_twenty_thousand_lines_plan_correctly() {
    // The benchmark's workload, checked for correctness rather than speed.
    let (file, patch, expected) = workload::fifty_hunks_twenty_thousand_lines();
    let src = buffers(&[("/proj/big.rs", &file)]);
    let changes = plan(&patch, &src).unwrap();
    let ChangeKind::Update { new, .. } = &changes[0].kind else {
        panic!("not an update")
    };
    assert!(*new == expected, "big file differs");
    assert_eq!(changes[0].unified_diff.matches("\n@@ ").count(), 50);
}
