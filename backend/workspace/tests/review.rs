//! Inline review, end to end through the `Workspace`: proposals, decisions, the edits coming
//! back as document changes, re-anchoring, stale refusals, both models and turn undo.

mod support;

use pretty_assertions::assert_eq;
use support::{Editor, fixture, path, range};
use tandem_workspace::review::{
    ChangeOrigin, FileEdit, FileProposal, HunkState, ProposalKind, ReviewModel, Target,
};
use tandem_workspace::{Encoding, ReviewError, TextChange};

fn update(name: &str, old: &str, new: &str) -> FileProposal {
    FileProposal {
        path: path(name),
        kind: ProposalKind::Update,
        old_content: Some(old.into()),
        new_content: Some(new.into()),
    }
}

fn turn(id: &str) -> ChangeOrigin {
    ChangeOrigin {
        task_id: Some("t1".into()),
        turn_id: Some(id.into()),
        item_id: None,
    }
}

fn hunk(id: &str) -> Target {
    Target::Hunk(id.into())
}

fn state(ed: &Editor, change: &str, id: &str) -> HunkState {
    let view = ed.ws.review().change(change, Encoding::Utf16).unwrap();
    view.files
        .iter()
        .flat_map(|f| f.hunks.iter())
        .find(|h| h.id == id)
        .unwrap()
        .state
}

/// Opens greeter.rs with the old text and proposes the fixture change before write.
fn greeter(ed: &mut Editor) -> String {
    let p = path("greeter.rs");
    ed.open(&p, &fixture("review/greeter.old.txt"));
    ed.ws
        .propose(
            turn("turn-1"),
            ReviewModel::ApproveBeforeWrite,
            vec![update(
                "greeter.rs",
                &fixture("review/greeter.old.txt"),
                &fixture("review/greeter.new.txt"),
            )],
        )
        .unwrap()
}

#[test]
fn hunks_of_a_proposal_have_stable_ids_and_ranges() {
    let mut ed = Editor::new();
    let c = greeter(&mut ed);
    assert_eq!(c, "c1");
    insta::assert_snapshot!("greeter_proposed", ed.listing());
}

#[test]
fn accept_one_reject_another_then_the_buffer_has_exactly_the_accepted_hunks() {
    let mut ed = Editor::new();
    greeter(&mut ed);
    let p = path("greeter.rs");
    let out = ed.ws.accept(&hunk("c1/h1")).unwrap();
    assert_eq!(out.edits.len(), 1);
    assert_eq!(state(&ed, "c1", "c1/h1"), HunkState::Applying);
    assert!(ed.apply(&out).is_empty());
    assert_eq!(state(&ed, "c1", "c1/h1"), HunkState::Accepted);

    let out = ed.ws.reject(&hunk("c1/h2")).unwrap();
    assert_eq!(
        (out.edits.len(), out.decided.clone()),
        (0, vec!["c1/h2".to_string()])
    );

    // h3 moved down one line when h1's line was inserted; its edit must say so.
    let out = ed.ws.accept(&hunk("c1/h3")).unwrap();
    let FileEdit::Text {
        edits,
        expected_version,
        ..
    } = &out.edits[0]
    else {
        panic!("{out:?}")
    };
    assert_eq!(*expected_version, Some(ed.version(&p)));
    assert_eq!(edits[0].range, range(10, 0, 11, 0));
    ed.apply(&out);

    assert_eq!(
        ed.text(&p),
        fixture("review/greeter.accept1-reject2-accept3.txt")
    );
    let summary = ed.ws.review().summary("c1").unwrap();
    assert!(summary.resolved);
    assert_eq!(summary.ids(HunkState::Accepted), vec!["c1/h1", "c1/h3"]);
    assert_eq!(summary.ids(HunkState::Rejected), vec!["c1/h2"]);
    assert_eq!(
        summary.files[0].final_content.as_deref(),
        Some(fixture("review/greeter.accept1-reject2-accept3.txt").as_str())
    );
    insta::assert_snapshot!("greeter_summary", summary.render());
}

#[test]
fn user_lines_inserted_above_a_pending_hunk_move_it() {
    let mut ed = Editor::new();
    greeter(&mut ed);
    let p = path("greeter.rs");
    let before = ed.ws.review().generation();
    ed.type_at(&p, range(0, 0, 0, 0), "// one\n// two\n// three\n");
    assert!(ed.ws.review().generation() > before);
    insta::assert_snapshot!("greeter_after_user_insert", ed.listing());
    // Accepting the hunk now edits the moved lines, and the result is right.
    let out = ed.ws.accept(&hunk("c1/h2")).unwrap();
    ed.apply(&out);
    let text = ed.text(&p);
    assert!(
        text.starts_with("// one\n// two\n// three\nfn greet"),
        "{text}"
    );
    assert!(text.contains("println!(\"hello, {name}!\");"), "{text}");
    assert_eq!(state(&ed, "c1", "c1/h2"), HunkState::Accepted);
}

#[test]
fn an_accept_whose_base_text_changed_is_refused() {
    let mut ed = Editor::new();
    greeter(&mut ed);
    let p = path("greeter.rs");
    // The user edits the line h2 would replace.
    ed.type_at(&p, range(1, 4, 1, 11), "eprintln");
    assert_eq!(state(&ed, "c1", "c1/h2"), HunkState::Conflicted);
    let err = ed.ws.accept(&hunk("c1/h2")).unwrap_err();
    assert!(matches!(err, ReviewError::Stale { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "hunk c1/h2 in `/ws/greeter.rs` is stale: the text under it (lines 2-2) was edited since \
         it was proposed; it was not applied. Reject it, or ask the agent to redo the change \
         against the current text"
    );
    assert!(ed.text(&p).contains("eprintln!(\"hello {name}\")"));
    // Undoing the user's edit heals the hunk; rejecting always works.
    ed.type_at(&p, range(1, 4, 1, 12), "println");
    assert_eq!(state(&ed, "c1", "c1/h2"), HunkState::Pending);
    ed.ws.reject(&hunk("c1/h2")).unwrap();
    assert_eq!(state(&ed, "c1", "c1/h2"), HunkState::Rejected);
}

#[test]
fn an_edit_applied_against_an_old_version_is_refused_and_the_hunk_returns_to_pending() {
    let mut ed = Editor::new();
    greeter(&mut ed);
    let p = path("greeter.rs");
    let out = ed.ws.accept(&hunk("c1/h3")).unwrap();
    // The user types before the client applies the edit: the versioned edit fails.
    ed.type_at(&p, range(0, 0, 0, 0), "\n");
    let failed = ed.apply(&out);
    assert_eq!(failed.len(), 1);
    assert_eq!(state(&ed, "c1", "c1/h3"), HunkState::Pending);
    // Trying again uses the new version and the moved range.
    let out = ed.ws.accept(&hunk("c1/h3")).unwrap();
    assert!(ed.apply(&out).is_empty());
    assert!(ed.text(&p).contains("    42\n"));
}

#[test]
fn in_flight_hunks_resolve_from_a_full_document_sync_too() {
    let mut ed = Editor::new();
    greeter(&mut ed);
    let p = path("greeter.rs");
    ed.ws.accept(&hunk("c1/h2")).unwrap();
    let mut text = ed.text(&p);
    text = text.replace("hello {name}", "hello, {name}!");
    ed.change(&p, vec![TextChange::replace_all(text)]);
    assert_eq!(state(&ed, "c1", "c1/h2"), HunkState::Accepted);
    assert_eq!(state(&ed, "c1", "c1/h1"), HunkState::Pending);
}

/// Deciding a whole file or change decides what still waits: hunks decided before are skipped
/// without a refusal (a single hunk decided twice is still an error).
#[test]
fn a_file_decision_after_a_hunk_decision_skips_the_decided_hunk_quietly() {
    let mut ed = Editor::new();
    greeter(&mut ed);
    let p = path("greeter.rs");
    let out = ed.ws.accept(&hunk("c1/h2")).unwrap();
    ed.apply(&out);
    assert!(ed.ws.accept(&hunk("c1/h2")).is_err());
    let out = ed
        .ws
        .accept(&Target::File {
            path: p.clone(),
            change: None,
        })
        .unwrap();
    assert_eq!(out.refused, vec![]);
    ed.apply(&out);
    assert_eq!(ed.text(&p), fixture("review/greeter.new.txt"));
    assert_eq!(state(&ed, "c1", "c1/h1"), HunkState::Accepted);
    let out = ed.ws.reject(&Target::Change("c1".into())).unwrap();
    assert_eq!(out.refused, vec![], "everything was decided already");
}

#[test]
fn crlf_documents_keep_their_line_endings() {
    let mut ed = Editor::new().encoding(Encoding::Utf8);
    let p = path("w.txt");
    let (old, new) = (
        fixture("review/crlf.old.txt"),
        fixture("review/crlf.new.txt"),
    );
    ed.open(&p, &old);
    ed.ws
        .propose(
            ChangeOrigin::default(),
            ReviewModel::ApproveBeforeWrite,
            vec![update("w.txt", &old, &new)],
        )
        .unwrap();
    insta::assert_snapshot!("crlf_proposed", ed.listing());
    let out = ed
        .ws
        .accept(&Target::File {
            path: p.clone(),
            change: None,
        })
        .unwrap();
    assert_eq!(out.refused, vec![]);
    ed.apply(&out);
    assert_eq!(ed.text(&p), new);
    assert!(
        ed.ws
            .review()
            .change("c1", Encoding::Utf8)
            .unwrap()
            .resolved
    );
}

#[test]
fn drift_between_the_proposal_and_the_buffer_is_replayed_onto_the_hunks() {
    let mut ed = Editor::new();
    let p = path("greeter.rs");
    let old = fixture("review/greeter.old.txt");
    // The buffer gained two lines at the top after the agent read the file.
    ed.open(&p, &format!("use a;\nuse b;\n{old}"));
    ed.ws
        .propose(
            ChangeOrigin::default(),
            ReviewModel::ApproveBeforeWrite,
            vec![update(
                "greeter.rs",
                &old,
                &fixture("review/greeter.new.txt"),
            )],
        )
        .unwrap();
    let out = ed.ws.accept(&Target::Change("c1".into())).unwrap();
    ed.apply(&out);
    assert_eq!(
        ed.text(&p),
        format!("use a;\nuse b;\n{}", fixture("review/greeter.new.txt"))
    );
}

#[test]
fn apply_then_review_reverts_rejected_hunks() {
    let mut ed = Editor::new();
    let p = path("greeter.rs");
    let (old, new) = (
        fixture("review/greeter.old.txt"),
        fixture("review/greeter.new.txt"),
    );
    // The kernel already wrote the new text; the editor shows it.
    ed.open(&p, &new);
    ed.ws
        .propose(
            turn("turn-7"),
            ReviewModel::ApplyThenReview,
            vec![update("greeter.rs", &old, &new)],
        )
        .unwrap();
    insta::assert_snapshot!("apply_then_review_proposed", ed.listing());
    let out = ed.ws.reject(&hunk("c1/h1")).unwrap();
    ed.apply(&out);
    assert_eq!(state(&ed, "c1", "c1/h1"), HunkState::Rejected);
    let out = ed.ws.accept(&hunk("c1/h2")).unwrap();
    assert!(out.edits.is_empty());
    let out = ed.ws.reject(&hunk("c1/h3")).unwrap();
    ed.apply(&out);
    assert_eq!(ed.text(&p), old.replace("hello {name}", "hello, {name}!"),);
    let summary = ed.ws.review().summary("c1").unwrap();
    assert_eq!(summary.ids(HunkState::Rejected), vec!["c1/h1", "c1/h3"]);
    insta::assert_snapshot!("apply_then_review_summary", summary.render());
}

#[test]
fn apply_then_review_waits_for_the_editor_to_reload() {
    let mut ed = Editor::new();
    let p = path("greeter.rs");
    let (old, new) = (
        fixture("review/greeter.old.txt"),
        fixture("review/greeter.new.txt"),
    );
    ed.open(&p, &old);
    // Written to disk by the kernel; the buffer still shows the old text until it reloads.
    ed.write_disk(&p, &new);
    ed.ws
        .propose(
            turn("t"),
            ReviewModel::ApplyThenReview,
            vec![update("greeter.rs", &old, &new)],
        )
        .unwrap();
    ed.change(&p, vec![TextChange::replace_all(new.clone())]);
    assert_eq!(state(&ed, "c1", "c1/h2"), HunkState::Pending);
    let out = ed.ws.reject(&hunk("c1/h2")).unwrap();
    ed.apply(&out);
    assert_eq!(state(&ed, "c1", "c1/h2"), HunkState::Rejected);
}

#[test]
fn undoing_a_turn_reverts_every_hunk_and_keeps_user_edits_elsewhere() {
    let mut ed = Editor::new();
    let p = path("greeter.rs");
    let (old, new) = (
        fixture("review/greeter.old.txt"),
        fixture("review/greeter.new.txt"),
    );
    ed.open(&p, &new);
    ed.ws
        .propose(
            turn("turn-3"),
            ReviewModel::ApplyThenReview,
            vec![update("greeter.rs", &old, &new)],
        )
        .unwrap();
    ed.ws.accept(&hunk("c1/h2")).unwrap();
    // The user adds a line in main(), away from every hunk.
    ed.type_at(&p, range(7, 0, 7, 0), "    greet(\"you\");\n");
    let out = ed.ws.undo_turn("turn-3").unwrap();
    ed.apply(&out);
    assert_eq!(
        ed.text(&p),
        old.replace(
            "    greet(\"world\");\n",
            "    greet(\"world\");\n    greet(\"you\");\n"
        )
    );
    let summary = ed.ws.review().summary("c1").unwrap();
    assert_eq!(
        summary.ids(HunkState::Rejected),
        vec!["c1/h1", "c1/h2", "c1/h3"]
    );
}

#[test]
fn undoing_a_turn_whose_writes_overlap_restores_the_checkpoint() {
    let mut ed = Editor::new();
    let p = path("a.txt");
    let v0 = "one\ntwo\nthree\n";
    let v1 = "one\nTWO\nthree\n";
    let v2 = "one\nTWO!\nthree\nfour\n";
    ed.open(&p, v0);
    for (old, new) in [(v0, v1), (v1, v2)] {
        ed.change(&p, vec![TextChange::replace_all(new)]);
        ed.ws
            .propose(
                turn("turn-9"),
                ReviewModel::ApplyThenReview,
                vec![update("a.txt", old, new)],
            )
            .unwrap();
    }
    // The second write changed c1's line again, so c1/h1 cannot be reverted on its own.
    assert_eq!(state(&ed, "c1", "c1/h1"), HunkState::Conflicted);
    let out = ed.ws.undo_turn("turn-9").unwrap();
    ed.apply(&out);
    assert_eq!(ed.text(&p), v0);

    // Had the user edited the file since, the undo would be refused and nothing touched.
    let mut ed = Editor::new();
    ed.open(&p, v0);
    for (old, new) in [(v0, v1), (v1, v2)] {
        ed.change(&p, vec![TextChange::replace_all(new)]);
        ed.ws
            .propose(
                turn("turn-9"),
                ReviewModel::ApplyThenReview,
                vec![update("a.txt", old, new)],
            )
            .unwrap();
    }
    ed.type_at(&p, range(0, 0, 0, 0), "x");
    let err = ed.ws.undo_turn("turn-9").unwrap_err();
    assert_eq!(
        err,
        ReviewError::TurnConflict {
            turn: "turn-9".into(),
            hunks: vec!["c1/h1".into()]
        }
    );
    assert_eq!(ed.text(&p), format!("x{v2}"));
}

#[test]
fn whole_file_changes_are_decided_as_file_operations() {
    let mut ed = Editor::new();
    let (added, gone, moved, dest) = (path("new.rs"), path("old.rs"), path("m.rs"), path("n.rs"));
    ed.write_disk(&gone, "bye\n");
    ed.write_disk(&moved, "mod m;\n");
    ed.ws
        .propose(
            ChangeOrigin::default(),
            ReviewModel::ApproveBeforeWrite,
            vec![
                FileProposal {
                    path: added.clone(),
                    kind: ProposalKind::Add,
                    old_content: None,
                    new_content: Some("hi\n".into()),
                },
                FileProposal {
                    path: gone.clone(),
                    kind: ProposalKind::Delete,
                    old_content: Some("bye\n".into()),
                    new_content: None,
                },
                FileProposal {
                    path: moved.clone(),
                    kind: ProposalKind::Move { to: dest.clone() },
                    old_content: Some("mod m;\n".into()),
                    new_content: Some("mod n;\n".into()),
                },
            ],
        )
        .unwrap();
    let out = ed.ws.accept(&Target::Change("c1".into())).unwrap();
    assert_eq!(out.edits.len(), 3, "{out:?}");
    ed.apply(&out);
    assert_eq!(ed.disk_text(&added).as_deref(), Some("hi\n"));
    assert_eq!(ed.disk_text(&gone), None);
    assert_eq!(
        (ed.disk_text(&moved), ed.disk_text(&dest).as_deref()),
        (None, Some("mod n;\n"))
    );
    assert!(
        ed.ws
            .review()
            .change("c1", Encoding::Utf16)
            .unwrap()
            .resolved
    );
}

#[test]
fn code_actions_find_the_hunks_under_the_cursor_or_selection() {
    let mut ed = Editor::new();
    greeter(&mut ed);
    let p = path("greeter.rs");
    let ids = |r| {
        ed.ws
            .hunks_at(&p, r)
            .into_iter()
            .map(|h| h.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(range(1, 3, 1, 3)), vec!["c1/h2"]);
    assert_eq!(ids(range(0, 0, 0, 0)), vec!["c1/h1"]);
    assert_eq!(ids(range(0, 5, 10, 0)), vec!["c1/h1", "c1/h2", "c1/h3"]);
    assert!(ids(range(5, 0, 5, 4)).is_empty());
    assert!(
        ed.ws
            .hunks_at(&path("other.rs"), range(0, 0, 0, 0))
            .is_empty()
    );
}

#[test]
fn decided_hunks_cannot_be_decided_again() {
    let mut ed = Editor::new();
    greeter(&mut ed);
    ed.ws.reject(&hunk("c1/h2")).unwrap();
    let err = ed.ws.accept(&hunk("c1/h2")).unwrap_err();
    assert_eq!(err.to_string(), "hunk c1/h2 is already rejected");
    let err = ed.ws.accept(&hunk("c1/h9")).unwrap_err();
    assert_eq!(err.to_string(), "no pending hunk has the id `c1/h9`");
    let out = ed.ws.accept(&hunk("c1/h1")).unwrap();
    let err = ed.ws.reject(&hunk("c1/h1")).unwrap_err();
    assert!(matches!(err, ReviewError::InFlight { .. }), "{err}");
    ed.apply(&out);
    // "Reject all in file" decides what still waits, and passes the decided ones by quietly.
    let out = ed
        .ws
        .reject(&Target::File {
            path: path("greeter.rs"),
            change: None,
        })
        .unwrap();
    assert_eq!(out.decided, vec!["c1/h3".to_string()]);
    assert_eq!(out.refused, vec![]);
    assert!(ed.ws.forget_change("c1"));
    assert!(ed.ws.review().list(Encoding::Utf16).is_empty());
}
