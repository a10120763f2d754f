//! A pretend editor around a [`Workspace`]: it opens buffers, types, and applies the edits a
//! review decision hands out the way an LSP client applies `workspace/applyEdit` (checking the
//! version, then reporting the change back as `didChange`).

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tandem_apply_patch::FileSource;
use tandem_workspace::context::ContextConfig;
use tandem_workspace::review::{FileEdit, Outcome};
use tandem_workspace::{Encoding, Position, Range, TextChange, Workspace};

/// Files "on disk", in memory.
#[derive(Default)]
pub struct MemDisk(pub Mutex<HashMap<PathBuf, String>>);

impl FileSource for MemDisk {
    fn read(&self, path: &Path) -> std::io::Result<Option<String>> {
        Ok(self.0.lock().unwrap().get(path).cloned())
    }
}

pub struct Editor {
    pub ws: Workspace,
    pub disk: Arc<MemDisk>,
    versions: HashMap<PathBuf, i32>,
}

pub fn path(name: &str) -> PathBuf {
    PathBuf::from(format!("/ws/{name}"))
}

pub fn fixture(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn pos(line: u32, character: u32) -> Position {
    Position::new(line, character)
}

pub fn range(l0: u32, c0: u32, l1: u32, c1: u32) -> Range {
    Range::new(pos(l0, c0), pos(l1, c1))
}

impl Editor {
    pub fn new() -> Self {
        Self::with_config(ContextConfig {
            roots: vec![PathBuf::from("/ws")],
            respect_gitignore: false,
            ..ContextConfig::default()
        })
    }

    pub fn with_config(config: ContextConfig) -> Self {
        let disk = Arc::new(MemDisk::default());
        let ws = Workspace::new(config).unwrap().with_disk(disk.clone());
        Self {
            ws,
            disk,
            versions: HashMap::new(),
        }
    }

    pub fn encoding(mut self, enc: Encoding) -> Self {
        self.ws.set_encoding(enc);
        self
    }

    pub fn write_disk(&self, p: &Path, text: &str) {
        self.disk
            .0
            .lock()
            .unwrap()
            .insert(p.to_path_buf(), text.to_string());
    }

    pub fn disk_text(&self, p: &Path) -> Option<String> {
        self.disk.0.lock().unwrap().get(p).cloned()
    }

    pub fn open(&mut self, p: &Path, text: &str) {
        self.versions.insert(p.to_path_buf(), 1);
        self.ws.did_open(p, 1, text).unwrap();
    }

    pub fn version(&self, p: &Path) -> i32 {
        self.versions[p]
    }

    /// One `didChange` with the given changes.
    pub fn change(&mut self, p: &Path, changes: Vec<TextChange>) {
        let v = self.versions.get_mut(p).expect("open");
        *v += 1;
        self.ws.did_change(p, *v, &changes).unwrap();
    }

    pub fn type_at(&mut self, p: &Path, r: Range, text: &str) {
        self.change(p, vec![TextChange::edit(r, text)]);
    }

    pub fn text(&self, p: &Path) -> String {
        match self.ws.documents().read().get(p) {
            Some(d) => d.text().to_string(),
            None => self.disk_text(p).unwrap_or_default(),
        }
    }

    /// Applies every edit of an outcome as a client would. Returns the edits refused because
    /// the version had moved (they are reported with `edit_failed`).
    pub fn apply(&mut self, outcome: &Outcome) -> Vec<FileEdit> {
        let mut failed = Vec::new();
        for edit in &outcome.edits {
            match edit {
                FileEdit::Text {
                    path,
                    expected_version,
                    edits,
                    ..
                } => {
                    let p = path.to_path_buf();
                    if let Some(v) = self.versions.get(&p).copied() {
                        if *expected_version != Some(v) {
                            self.ws.edit_failed(edit);
                            failed.push(edit.clone());
                            continue;
                        }
                        // All ranges refer to the same text: apply from the end backwards.
                        let changes = edits
                            .iter()
                            .rev()
                            .map(|e| TextChange::edit(e.range, e.new_text.clone()))
                            .collect();
                        self.change(&p, changes);
                    } else {
                        let mut text = self.disk_text(&p).unwrap_or_default();
                        for e in edits.iter().rev() {
                            text.replace_range(e.bytes.clone(), &e.new_text);
                        }
                        self.write_disk(&p, &text);
                        self.ws.refresh(&p).unwrap();
                    }
                }
                FileEdit::Create { path, content, .. } => {
                    self.write_disk(path, content);
                    self.ws.refresh(path).unwrap();
                }
                FileEdit::Delete { path, .. } => {
                    self.disk.0.lock().unwrap().remove(&path.to_path_buf());
                    self.ws.refresh(path).unwrap();
                }
                FileEdit::Move {
                    from, to, content, ..
                } => {
                    self.disk.0.lock().unwrap().remove(&from.to_path_buf());
                    self.write_disk(to, content);
                    self.ws.refresh(from).unwrap();
                    self.ws.refresh(to).unwrap();
                }
            }
        }
        failed
    }

    /// A compact listing of every hunk: id, state, current lines, and both sides.
    pub fn listing(&self) -> String {
        let mut out = String::new();
        for change in self.ws.review().list(self.ws.encoding()) {
            out.push_str(&format!(
                "{} {} resolved={}\n",
                change.id,
                change.model.as_str(),
                change.resolved
            ));
            for file in change.files {
                out.push_str(&format!("  {} {:?}\n", file.path.display(), file.kind));
                for h in file.hunks {
                    out.push_str(&format!(
                        "    {} {} {}:{}-{}:{} old={:?} new={:?}\n",
                        h.id,
                        h.state.as_str(),
                        h.range.start.line,
                        h.range.start.character,
                        h.range.end.line,
                        h.range.end.character,
                        h.old_text,
                        h.new_text
                    ));
                }
            }
        }
        out
    }
}
