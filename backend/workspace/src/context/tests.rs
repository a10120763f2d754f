//! Auto Context: what goes in, in what order, within what budget, and what never does.

use super::*;
use pretty_assertions::assert_eq;

fn p(name: &str) -> PathBuf {
    PathBuf::from(format!("/ws/{name}"))
}

fn numbered(n: usize, prefix: &str) -> String {
    (1..=n).map(|i| format!("{prefix} line {i}\n")).collect()
}

fn engine(config: ContextConfig) -> ContextEngine {
    ContextEngine::new(ContextConfig {
        roots: vec![PathBuf::from("/ws")],
        respect_gitignore: false,
        ..config
    })
    .unwrap()
}

fn focus(name: &str, line: u32) -> Focus {
    Focus {
        path: p(name),
        cursor: LineCol::new(line, 0),
        selections: vec![],
        visible_lines: vec![],
    }
}

/// One line per item and exclusion: kind, file, lines, tokens.
fn outline(preview: &ContextPreview) -> String {
    let mut out = format!(
        "enabled={} total={} budget={}\n",
        preview.enabled, preview.total_tokens, preview.budget
    );
    for i in &preview.items {
        out.push_str(&format!(
            "{} {} {:?} tokens={}{}\n",
            i.kind.as_str(),
            i.path.display(),
            i.lines,
            i.tokens,
            if i.truncated { " truncated" } else { "" }
        ));
    }
    for e in &preview.excluded {
        out.push_str(&format!(
            "excluded {} {}\n",
            e.path.display(),
            e.reason.describe()
        ));
    }
    out
}

#[test]
fn focus_selection_diagnostics_and_recent_files_in_order() {
    let mut docs = DocumentStore::new();
    docs.open(&p("main.rs"), 1, &numbered(200, "main")).unwrap();
    docs.open(&p("lib.rs"), 1, &numbered(30, "lib")).unwrap();
    docs.open(&p("old.rs"), 1, &numbered(5, "old")).unwrap();
    docs.open(&p(".env"), 1, "API_KEY=hunter2\n").unwrap();
    docs.open(&p("keys/server.pem"), 1, "-----BEGIN-----\n")
        .unwrap();
    let mut ctx = engine(ContextConfig::default());
    ctx.set_focus(focus("old.rs", 1));
    ctx.set_focus(focus("lib.rs", 10));
    ctx.set_focus(Focus {
        selections: vec![(LineCol::new(100, 0), LineCol::new(101, 4))],
        visible_lines: vec![(80, 130)],
        ..focus("main.rs", 100)
    });
    ctx.set_diagnostics(
        &p("lib.rs"),
        vec![Diagnostic {
            start: LineCol::new(2, 4),
            end: LineCol::new(2, 8),
            severity: Severity::Warning,
            message: "unused variable".into(),
            source: Some("rustc".into()),
        }],
    );
    ctx.set_diagnostics(
        &p("main.rs"),
        vec![Diagnostic {
            start: LineCol::new(99, 0),
            end: LineCol::new(99, 3),
            severity: Severity::Error,
            message: "mismatched types\nexpected u32".into(),
            source: None,
        }],
    );
    let preview = ctx.preview(&docs, Encoding::Utf16);
    insta::assert_snapshot!("context_outline", outline(&preview));
    let selection = &preview.items[1];
    assert_eq!(selection.kind, ItemKind::Selection);
    assert_eq!(selection.text, "main line 101\nmain");
    // The secrets are named as excluded, and their text is nowhere.
    let all: String = preview.items.iter().map(|i| i.text.as_str()).collect();
    assert!(!all.contains("hunter2") && !all.contains("BEGIN"));
    let rendered = render(&preview, &[PathBuf::from("/ws")]);
    let labels: Vec<String> = rendered
        .iter()
        .map(|i| match i {
            tandem_protocol::ops::UserInput::Context { label, .. } => label.clone(),
            other => format!("{other:?}"),
        })
        .collect();
    insta::assert_snapshot!("context_labels", labels.join("\n"));
}

#[test]
fn a_secret_focused_file_sends_nothing_of_itself() {
    let mut docs = DocumentStore::new();
    docs.open(&p("config/.env.local"), 1, "TOKEN=abc\n")
        .unwrap();
    let mut ctx = engine(ContextConfig::default());
    ctx.set_focus(Focus {
        selections: vec![(LineCol::new(0, 0), LineCol::new(0, 9))],
        ..focus("config/.env.local", 0)
    });
    ctx.set_diagnostics(
        &p("config/.env.local"),
        vec![Diagnostic {
            start: LineCol::new(0, 0),
            end: LineCol::new(0, 1),
            severity: Severity::Error,
            message: "TOKEN=abc is bad".into(),
            source: None,
        }],
    );
    let preview = ctx.preview(&docs, Encoding::Utf16);
    assert!(preview.items.is_empty(), "{preview:?}");
    assert_eq!(
        preview.excluded,
        vec![Exclusion {
            path: Arc::from(p("config/.env.local").as_path()),
            reason: ExclusionReason::Secret {
                pattern: ".env.*".into()
            }
        }]
    );
}

#[test]
fn the_budget_truncates_and_excludes() {
    let mut docs = DocumentStore::new();
    docs.open(&p("big.rs"), 1, &numbered(500, "big")).unwrap();
    docs.open(&p("a.rs"), 1, &numbered(100, "a")).unwrap();
    docs.open(&p("b.rs"), 1, &numbered(100, "b")).unwrap();
    let mut ctx = engine(ContextConfig {
        budget_tokens: 300,
        ..ContextConfig::default()
    });
    ctx.set_focus(Focus {
        visible_lines: vec![(0, 400)],
        ..focus("big.rs", 250)
    });
    let preview = ctx.preview(&docs, Encoding::Utf16);
    assert!(preview.total_tokens <= 300, "{}", outline(&preview));
    insta::assert_snapshot!("context_budget", outline(&preview));
}

#[test]
fn turning_it_off_sends_nothing() {
    let mut docs = DocumentStore::new();
    docs.open(&p("a.rs"), 1, "fn a() {}\n").unwrap();
    let mut ctx = engine(ContextConfig::default());
    ctx.set_focus(focus("a.rs", 0));
    ctx.set_enabled(false);
    let preview = ctx.preview(&docs, Encoding::Utf16);
    assert_eq!(
        preview,
        ContextPreview {
            enabled: false,
            items: vec![],
            total_tokens: 0,
            budget: 8_000,
            excluded: vec![],
        }
    );
    assert!(render(&preview, &[]).is_empty());
    ctx.set_enabled(true);
    assert_eq!(ctx.preview(&docs, Encoding::Utf16).items.len(), 1);
}

#[test]
fn open_file_slots_are_limited_and_closed_files_leave() {
    let mut docs = DocumentStore::new();
    for i in 0..5 {
        docs.open(&p(&format!("f{i}.rs")), 1, "x\n").unwrap();
    }
    let mut ctx = engine(ContextConfig {
        max_open_files: 2,
        ..ContextConfig::default()
    });
    for i in 0..5 {
        ctx.set_focus(focus(&format!("f{i}.rs"), 0));
    }
    let preview = ctx.preview(&docs, Encoding::Utf16);
    let files: Vec<String> = preview
        .items
        .iter()
        .map(|i| i.path.display().to_string())
        .collect();
    assert_eq!(files, vec!["/ws/f4.rs", "/ws/f3.rs", "/ws/f2.rs"]);
    assert_eq!(
        preview
            .excluded
            .iter()
            .filter(|e| e.reason == ExclusionReason::Limit)
            .count(),
        2
    );
    docs.close(&p("f4.rs"));
    ctx.closed(&p("f4.rs"));
    let preview = ctx.preview(&docs, Encoding::Utf16);
    assert_eq!(preview.items[0].kind, ItemKind::OpenFile);
    assert_eq!(&*preview.items[0].path, p("f3.rs").as_path());
}
