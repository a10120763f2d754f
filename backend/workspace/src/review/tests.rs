//! Unit tests of the review store on its own, with files that are not open in an editor.

use super::*;
use crate::position::{Position, Range};
use pretty_assertions::assert_eq;
use std::cell::RefCell;
use std::path::PathBuf;

/// Files "on disk": nothing is open, so every buffer has no version.
#[derive(Default)]
struct Disk(RefCell<HashMap<PathBuf, String>>);

impl Disk {
    fn put(&self, path: &str, text: &str) {
        self.0
            .borrow_mut()
            .insert(PathBuf::from(path), text.to_string());
    }
}

impl BufferSource for Disk {
    fn buffer(&self, path: &Path) -> Result<Option<Buffer>, ReviewError> {
        Ok(self.0.borrow().get(path).map(|t| Buffer {
            text: Rope::from_str(t),
            version: None,
        }))
    }
}

fn update(path: &str, old: &str, new: &str) -> FileProposal {
    FileProposal {
        path: PathBuf::from(path),
        kind: ProposalKind::Update,
        old_content: Some(old.into()),
        new_content: Some(new.into()),
    }
}

const OLD: &str = "a\nb\nc\nd\n";
const NEW: &str = "a\nB\nc\nD\n";

fn lines(store: &ReviewStore) -> Vec<(String, u32, &'static str)> {
    store.list(Encoding::Utf16)[0].files[0]
        .hunks
        .iter()
        .map(|h| (h.id.clone(), h.range.start.line, h.state.as_str()))
        .collect()
}

#[test]
fn a_closed_file_changed_on_disk_is_re_read_before_a_decision() {
    let disk = Disk::default();
    disk.put("/w/f.txt", OLD);
    let mut store = ReviewStore::new();
    store
        .propose(
            ChangeOrigin::default(),
            ReviewModel::ApproveBeforeWrite,
            vec![update("/w/f.txt", OLD, NEW)],
            &disk,
        )
        .unwrap();
    disk.put("/w/f.txt", &format!("top\n{OLD}"));
    let out = store
        .accept(&Target::Hunk("c1/h2".into()), &disk, Encoding::Utf16)
        .unwrap();
    let FileEdit::Text {
        edits,
        expected_version,
        ..
    } = &out.edits[0]
    else {
        panic!("{out:?}")
    };
    assert_eq!(*expected_version, None);
    assert_eq!(
        edits[0].range,
        Range::new(Position::new(4, 0), Position::new(5, 0))
    );
    assert_eq!(
        lines(&store),
        vec![
            ("c1/h1".into(), 2, "pending"),
            ("c1/h2".into(), 4, "applying")
        ]
    );
    // The edit lands on disk; a refresh confirms it.
    disk.put("/w/f.txt", "top\na\nb\nc\nD\n");
    store.refresh_path(Path::new("/w/f.txt"), &disk).unwrap();
    assert_eq!(lines(&store)[1].2, "accepted");
}

#[test]
fn a_reopened_buffer_with_other_text_is_replayed() {
    let disk = Disk::default();
    disk.put("/w/f.txt", OLD);
    let mut store = ReviewStore::new();
    store
        .propose(
            ChangeOrigin::default(),
            ReviewModel::ApproveBeforeWrite,
            vec![update("/w/f.txt", OLD, NEW)],
            &disk,
        )
        .unwrap();
    store.on_open(Path::new("/w/f.txt"), 3, &Rope::from_str("a\nbb\nc\nd\n"));
    assert_eq!(
        lines(&store),
        vec![
            ("c1/h1".into(), 1, "conflicted"),
            ("c1/h2".into(), 3, "pending")
        ]
    );
    store.on_close(Path::new("/w/f.txt"));
    // Closed without saving: the disk still has the old text, and the conflict heals.
    store
        .accept(&Target::Hunk("c1/h2".into()), &disk, Encoding::Utf16)
        .unwrap();
    assert_eq!(lines(&store)[0].2, "pending");
}

#[test]
fn bad_proposals_are_refused() {
    let disk = Disk::default();
    let mut store = ReviewStore::new();
    let err = store
        .propose(
            ChangeOrigin::default(),
            ReviewModel::ApproveBeforeWrite,
            vec![update("rel.txt", "", "x")],
            &disk,
        )
        .unwrap_err();
    assert_eq!(err.to_string(), "change path `rel.txt` is not absolute");
    let none = FileProposal {
        path: PathBuf::from("/w/x"),
        kind: ProposalKind::Update,
        old_content: None,
        new_content: None,
    };
    let err = store
        .propose(
            ChangeOrigin::default(),
            ReviewModel::ApproveBeforeWrite,
            vec![none],
            &disk,
        )
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "a change for `/w/x` has neither old nor new content"
    );
}

#[test]
fn forgetting_a_change_stops_tracking_its_files() {
    let disk = Disk::default();
    disk.put("/w/f.txt", OLD);
    let mut store = ReviewStore::new();
    let id = store
        .propose(
            ChangeOrigin::default(),
            ReviewModel::ApproveBeforeWrite,
            vec![update("/w/f.txt", OLD, NEW)],
            &disk,
        )
        .unwrap();
    assert!(store.tracks(Path::new("/w/f.txt")));
    let generation = store.generation();
    assert!(store.forget(&id));
    assert!(!store.forget(&id));
    assert!(!store.tracks(Path::new("/w/f.txt")));
    assert!(store.generation() > generation);
    assert_eq!(store.summary(&id), None);
}

#[test]
fn the_summary_of_an_undecided_change_has_no_final_content() {
    let disk = Disk::default();
    disk.put("/w/f.txt", OLD);
    let mut store = ReviewStore::new();
    store
        .propose(
            ChangeOrigin::default(),
            ReviewModel::ApproveBeforeWrite,
            vec![update("/w/f.txt", OLD, NEW)],
            &disk,
        )
        .unwrap();
    store
        .reject(&Target::Hunk("c1/h1".into()), &disk, Encoding::Utf16)
        .unwrap();
    let summary = store.summary("c1").unwrap();
    assert!(!summary.resolved);
    assert_eq!(summary.files[0].final_content, None);
    assert_eq!(
        summary.render(),
        "Review of change c1 (approve-before-write): 0 hunk(s) accepted, 1 rejected, 1 still \
         undecided.\n/w/f.txt:\n  c1/h1 rejected: old line 2 kept; proposed line 2 not applied\n  \
         c1/h2 pending: old line 4\n"
    );
}

#[test]
fn kernel_proposals_convert_with_paths_resolved_against_the_cwd() {
    use tandem_protocol::events::ProposedFileChange;
    use tandem_protocol::items::PatchChangeKind;
    let change = ProposedFileChange {
        path: "src/a.rs".into(),
        kind: PatchChangeKind::Update,
        move_path: Some("/abs/b.rs".into()),
        old_content: Some("x\n".into()),
        new_content: Some("y\n".into()),
        unified_diff: String::new(),
    };
    assert_eq!(
        FileProposal::from_protocol(&change, Path::new("/repo")),
        FileProposal {
            path: PathBuf::from("/repo/src/a.rs"),
            kind: ProposalKind::Move {
                to: PathBuf::from("/abs/b.rs")
            },
            old_content: Some("x\n".into()),
            new_content: Some("y\n".into()),
        }
    );
}

/// Neovim's stock `workspace/applyEdit` turns one replacement into two `didChange`s; the text
/// in between is neither side of the hunk, and must not make the accepted hunk "conflicted".
#[test]
fn an_edit_that_lands_in_two_steps_still_settles_as_accepted() {
    let disk = Disk::default();
    disk.put("/w/f.txt", OLD);
    let mut store = ReviewStore::new();
    store
        .propose(
            ChangeOrigin::default(),
            ReviewModel::ApproveBeforeWrite,
            vec![update("/w/f.txt", OLD, NEW)],
            &disk,
        )
        .unwrap();
    store
        .accept(&Target::Hunk("c1/h2".into()), &disk, Encoding::Utf16)
        .unwrap();
    disk.put("/w/f.txt", "a\nb\nc\nDd\n");
    store.refresh_path(Path::new("/w/f.txt"), &disk).unwrap();
    assert_eq!(lines(&store)[1].2, "applying", "the first half of the edit");
    disk.put("/w/f.txt", "a\nb\nc\nD\n");
    store.refresh_path(Path::new("/w/f.txt"), &disk).unwrap();
    assert_eq!(lines(&store)[1].2, "accepted");
}
