//! Shared fixtures for the benchmarks: deterministic text and workspaces.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use tandem_workspace::context::ContextConfig;
use tandem_workspace::review::{ChangeOrigin, FileProposal, ProposalKind, ReviewModel};
use tandem_workspace::{FocusInput, Position, Range, TextChange, Workspace};

/// A small deterministic generator (no dependency, same numbers on every machine).
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// About `bytes` of code-like text; every tenth line has CJK and an emoji, so UTF-16
/// conversion is exercised.
pub fn text(bytes: usize, seed: u64) -> String {
    let mut rng = Lcg::new(seed);
    let mut s = String::with_capacity(bytes + 128);
    let mut i = 0u64;
    while s.len() < bytes {
        i += 1;
        let indent = "    ".repeat(rng.below(3) as usize);
        if i.is_multiple_of(10) {
            s.push_str(&format!("{indent}// 日本語のコメント 😀 line {i}\n"));
        } else {
            s.push_str(&format!(
                "{indent}let value_{i} = compute({}, \"{}\");\n",
                rng.below(1000),
                rng.below(1 << 20)
            ));
        }
    }
    s
}

pub fn root() -> PathBuf {
    PathBuf::from("/bench-ws")
}

pub fn file(i: usize) -> PathBuf {
    root().join(format!("src/mod{}/file{i}.rs", i % 20))
}

/// A workspace with `n` open documents of about `bytes` each.
pub fn workspace(n: usize, bytes: usize) -> Workspace {
    let mut ws = Workspace::new(ContextConfig {
        roots: vec![root()],
        ..ContextConfig::default()
    })
    .expect("default config");
    for i in 0..n {
        let t = text(bytes, i as u64);
        ws.did_open(&file(i), 1, &t).expect("absolute path");
    }
    ws
}

/// One keystroke: insert a character at a random place, or delete the one inserted before,
/// so the document keeps its size. Returns the change for `did_change`.
pub struct Typist {
    rng: Lcg,
    last: Option<Position>,
    lines: u32,
}

impl Typist {
    pub fn new(lines: usize) -> Self {
        Self {
            rng: Lcg::new(7),
            last: None,
            lines: lines as u32,
        }
    }

    pub fn next(&mut self) -> TextChange {
        match self.last.take() {
            Some(p) => TextChange::edit(Range::new(p, Position::new(p.line, p.character + 1)), ""),
            None => {
                let p = Position::new(
                    self.rng.below(u64::from(self.lines)) as u32,
                    self.rng.below(30) as u32,
                );
                self.last = Some(p);
                TextChange::edit(Range::new(p, p), "x")
            }
        }
    }
}

pub fn focus(path: &Path, line: u32) -> FocusInput {
    FocusInput {
        path: path.to_path_buf(),
        position: Position::new(line, 4),
        selections: vec![Range::new(
            Position::new(line, 0),
            Position::new(line + 3, 0),
        )],
        visible_ranges: vec![Range::new(
            Position::new(line.saturating_sub(20), 0),
            Position::new(line + 30, 0),
        )],
    }
}

/// Proposes (before write) a change to every 2,845th line of `text`: 41 pending hunks spread
/// over the document, which every keystroke then re-anchors.
pub fn propose_40_hunks(ws: &mut Workspace, path: &Path, text: &str) {
    let lines = text.lines().count();
    let new: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i % (lines / 40) == 5 {
                format!("{l} // changed\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    ws.propose(
        ChangeOrigin::default(),
        ReviewModel::ApproveBeforeWrite,
        vec![FileProposal {
            path: path.to_path_buf(),
            kind: ProposalKind::Update,
            old_content: Some(text.to_string()),
            new_content: Some(new),
        }],
    )
    .expect("absolute path");
}
