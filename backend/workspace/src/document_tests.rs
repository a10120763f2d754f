//! Tests of the document store: versions, incremental edits in each encoding, the overlay.

use super::*;
use crate::position::Position;
use pretty_assertions::assert_eq;
use std::path::PathBuf;

fn p(name: &str) -> PathBuf {
    PathBuf::from(format!("/ws/{name}"))
}

fn range(l0: u32, c0: u32, l1: u32, c1: u32) -> Range {
    Range::new(Position::new(l0, c0), Position::new(l1, c1))
}

fn text(store: &DocumentStore, name: &str) -> String {
    store.get(&p(name)).unwrap().text().to_string()
}

#[test]
fn relative_paths_are_refused() {
    let mut store = DocumentStore::new();
    let err = store.open(Path::new("src/a.rs"), 1, "").unwrap_err();
    assert_eq!(err.to_string(), "document path `src/a.rs` is not absolute");
}

#[test]
fn incremental_changes_apply_in_order() {
    let mut store = DocumentStore::new();
    store.open(&p("a.rs"), 1, "fn main() {}\n").unwrap();
    let edits = store
        .apply_changes(
            &p("a.rs"),
            2,
            &[
                TextChange::edit(range(0, 11, 0, 11), "\n    run();\n"),
                TextChange::edit(range(0, 3, 0, 7), "start"),
            ],
            Encoding::Utf16,
        )
        .unwrap();
    assert_eq!(text(&store, "a.rs"), "fn start() {\n    run();\n}\n");
    assert_eq!(
        edits,
        vec![
            ByteEdit::new(11..11, "\n    run();\n"),
            ByteEdit::new(3..7, "start")
        ]
    );
    assert_eq!(store.get(&p("a.rs")).unwrap().version(), 2);
}

#[test]
fn edits_after_emoji_use_the_negotiated_encoding() {
    for (enc, col) in [
        (Encoding::Utf16, 3),
        (Encoding::Utf32, 2),
        (Encoding::Utf8, 5),
    ] {
        let mut store = DocumentStore::new();
        store.open(&p("e.txt"), 0, "a😀b\r\n日本\r\n").unwrap();
        store
            .apply_changes(
                &p("e.txt"),
                1,
                &[TextChange::edit(range(0, col, 0, col + 1), "B")],
                enc,
            )
            .unwrap();
        assert_eq!(text(&store, "e.txt"), "a😀B\r\n日本\r\n", "{enc:?}");
    }
}

#[test]
fn crlf_is_kept_and_lines_count_it_once() {
    let mut store = DocumentStore::new();
    store.open(&p("w.txt"), 0, "one\r\ntwo\r\n").unwrap();
    // Typing past the end of line 0 clamps to before the CR.
    store
        .apply_changes(
            &p("w.txt"),
            1,
            &[TextChange::edit(range(0, 40, 0, 40), "!")],
            Encoding::Utf16,
        )
        .unwrap();
    // Joining lines removes the whole CRLF.
    store
        .apply_changes(
            &p("w.txt"),
            2,
            &[TextChange::edit(range(0, 4, 1, 0), " ")],
            Encoding::Utf16,
        )
        .unwrap();
    assert_eq!(text(&store, "w.txt"), "one! two\r\n");
    assert_eq!(store.get(&p("w.txt")).unwrap().text().len_lines(), 2);
}

#[test]
fn a_version_not_greater_than_the_current_is_refused() {
    let mut store = DocumentStore::new();
    store.open(&p("a.rs"), 5, "x").unwrap();
    for v in [5, 4] {
        let err = store
            .apply_changes(
                &p("a.rs"),
                v,
                &[TextChange::replace_all("y")],
                Encoding::Utf16,
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "change to `/ws/a.rs` has version {v}, but the document is already at version 5; \
                 the change was not applied"
            )
        );
    }
    assert_eq!(text(&store, "a.rs"), "x");
}

#[test]
fn changes_to_closed_documents_are_refused() {
    let mut store = DocumentStore::new();
    let err = store
        .apply_changes(
            &p("a.rs"),
            1,
            &[TextChange::replace_all("y")],
            Encoding::Utf16,
        )
        .unwrap_err();
    assert_eq!(err.to_string(), "document `/ws/a.rs` is not open");
}

#[test]
fn snapshots_do_not_see_later_edits() {
    let mut store = DocumentStore::new();
    store.open(&p("a.rs"), 1, "old").unwrap();
    let snap = store.snapshot();
    let doc_snap = store.snapshot_of(&p("a.rs")).unwrap();
    store.replace(&p("a.rs"), 2, "new").unwrap();
    assert_eq!(snap.get(&p("a.rs")).unwrap().text().to_string(), "old");
    assert_eq!(doc_snap.text.to_string(), "old");
    assert_eq!(doc_snap.version, 1);
    assert_eq!(text(&store, "a.rs"), "new");
}

#[test]
fn file_source_prefers_open_buffers_then_disk() {
    let dir = tempfile::tempdir().unwrap();
    let on_disk = dir.path().join("a.txt");
    std::fs::write(&on_disk, "disk").unwrap();
    let missing = dir.path().join("missing.txt");
    let shared = SharedDocuments::default();
    assert_eq!(shared.read_file(&on_disk), Some("disk".into()));
    shared.write().open(&on_disk, 1, "unsaved").unwrap();
    assert_eq!(shared.read_file(&on_disk), Some("unsaved".into()));
    assert_eq!(
        shared.read().read(&on_disk).unwrap(),
        Some("unsaved".into())
    );
    assert_eq!(
        shared.read().snapshot().read(&on_disk).unwrap(),
        Some("unsaved".into())
    );
    assert_eq!(shared.read_file(&missing), None);
    shared.write().close(&on_disk);
    assert_eq!(shared.read_file(&on_disk), Some("disk".into()));
}

trait ReadFile {
    fn read_file(&self, path: &Path) -> Option<String>;
}

impl<T: FileSource> ReadFile for T {
    fn read_file(&self, path: &Path) -> Option<String> {
        FileSource::read(self, path).unwrap()
    }
}

#[test]
fn stores_can_be_shared_across_threads() {
    fn is<T: Send + Sync>() {}
    is::<DocumentStore>();
    is::<StoreSnapshot>();
    is::<SharedDocuments>();
}
