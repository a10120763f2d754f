//! Auto Context through the `Workspace`: editor positions in, kernel input blocks out, on a
//! real directory with a `.gitignore`.

use std::path::PathBuf;
use tandem_protocol::ops::UserInput;
use tandem_workspace::context::{ContextConfig, ExclusionReason, ItemKind, Severity};
use tandem_workspace::{DiagnosticInput, Encoding, FocusInput, Position, Range, Workspace};

fn range(l0: u32, c0: u32, l1: u32, c1: u32) -> Range {
    Range::new(Position::new(l0, c0), Position::new(l1, c1))
}

#[test]
fn utf16_focus_selects_the_right_text_and_gitignored_files_stay_out() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    std::fs::write(root.join(".gitignore"), "generated/\n").unwrap();
    let main = root.join("src/main.rs");
    let generated = root.join("generated/out.rs");
    let mut ws = Workspace::new(ContextConfig {
        roots: vec![root.clone()],
        deny_globs: vec!["*.secret.rs".into()],
        ..ContextConfig::default()
    })
    .unwrap();
    ws.set_encoding(Encoding::Utf16);
    ws.did_open(&main, 1, "let s = \"😀 héllo\";\nfn main() {}\n")
        .unwrap();
    ws.did_open(&generated, 1, "// generated\n").unwrap();
    ws.did_open(
        &root.join("src/api.secret.rs"),
        1,
        "const K: &str = \"k\";\n",
    )
    .unwrap();
    // UTF-16: the emoji is two units, so "héllo" spans columns 12..17.
    ws.set_focus(FocusInput {
        path: main.clone(),
        position: Position::new(0, 12),
        selections: vec![range(0, 12, 0, 17)],
        visible_ranges: vec![range(0, 0, 1, 0)],
    });
    ws.set_diagnostics(
        &main,
        vec![DiagnosticInput {
            range: range(1, 3, 1, 7),
            severity: Severity::Warning,
            message: "function `main` is never used".into(),
            source: Some("rustc".into()),
        }],
    );
    let preview = ws.context_preview();
    let selection = preview
        .items
        .iter()
        .find(|i| i.kind == ItemKind::Selection)
        .unwrap();
    assert_eq!(selection.text, "héllo");
    assert_eq!(selection.range, Some(range(0, 12, 0, 17)));
    let reasons: Vec<(PathBuf, ExclusionReason)> = preview
        .excluded
        .iter()
        .map(|e| (e.path.to_path_buf(), e.reason.clone()))
        .collect();
    assert!(
        reasons.contains(&(generated.clone(), ExclusionReason::Gitignored)),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&(
            root.join("src/api.secret.rs"),
            ExclusionReason::Denied {
                pattern: "*.secret.rs".into()
            }
        )),
        "{reasons:?}"
    );
    let inputs = ws.context_inputs();
    let UserInput::Context { label, text } = &inputs[0] else {
        panic!("{inputs:?}")
    };
    assert_eq!(label, "focus: src/main.rs lines 1-2");
    assert!(text.starts_with("let s"));
    let UserInput::Context { text, .. } = inputs.last().unwrap() else {
        panic!()
    };
    assert_eq!(
        text,
        &format!(
            "{}:2:4: warning[rustc]: function `main` is never used\n",
            main.display()
        )
    );
    ws.set_context_enabled(false);
    assert!(ws.context_inputs().is_empty());
}
