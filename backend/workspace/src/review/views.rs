//! Read-only views of the review store: listings, code-action lookups and summaries, with
//! ranges converted to the editor's encoding.

use super::{Change, FileReview, Hunk, ReviewStore, summary};
use crate::position::{self, Encoding};
use crate::review::ChangeSummary;
use crate::review::types::{ChangeView, FileView, HunkView};
use std::path::Path;

impl ReviewStore {
    /// Every change, oldest first.
    pub fn list(&self, enc: Encoding) -> Vec<ChangeView> {
        self.changes.values().map(|c| self.view(c, enc)).collect()
    }

    pub fn change(&self, change_id: &str, enc: Encoding) -> Option<ChangeView> {
        let seq = Self::change_seq(change_id)?;
        self.changes.get(&seq).map(|c| self.view(c, enc))
    }

    /// The hunks of `path` whose range overlaps `range` (an editor range): what a code action
    /// at the cursor or over a selection acts on. A cursor (empty range) at a hunk's start, or
    /// anywhere on an empty hunk's line, counts.
    pub fn hunks_at(&self, path: &Path, range: position::Range, enc: Encoding) -> Vec<HunkView> {
        let Some(shadow) = self.shadows.get(path) else {
            return Vec::new();
        };
        let q = position::range_to_offsets(&shadow.text, range, enc);
        let mut out = Vec::new();
        for change in self.changes.values() {
            for file in change.files.iter().filter(|f| &*f.path == path) {
                for hunk in &file.hunks {
                    let r = &hunk.range;
                    let overlaps = if r.is_empty() || q.is_empty() {
                        // Same line is enough for an empty side.
                        let line =
                            |o: usize| shadow.text.byte_to_line(o.min(shadow.text.len_bytes()));
                        (q.start <= r.end && r.start <= q.end) || line(q.start) == line(r.start)
                    } else {
                        q.start < r.end && r.start < q.end
                    };
                    if overlaps {
                        out.push(self.hunk_view(change, file, hunk, enc));
                    }
                }
            }
        }
        out
    }

    /// What became of a change, for the model. See [`ChangeSummary::render`].
    pub fn summary(&self, change_id: &str) -> Option<ChangeSummary> {
        let seq = Self::change_seq(change_id)?;
        let change = self.changes.get(&seq)?;
        Some(summary::build(
            &change.id,
            change.model,
            change.files.iter().map(|f| {
                let shadow = self.shadows.get(&f.path);
                (
                    f.path.clone(),
                    f.kind.clone(),
                    f.hunks.iter().map(|h| summary::HunkFacts {
                        id: h.id.clone(),
                        state: h.state,
                        old_line: h.old_line,
                        old_lines: h.old_lines,
                        new_line: h.new_line,
                        new_lines: h.new_lines,
                    }),
                    shadow.filter(|s| s.exists).map(|s| s.text.to_string()),
                )
            }),
        ))
    }

    fn view(&self, change: &Change, enc: Encoding) -> ChangeView {
        let files: Vec<FileView> = change
            .files
            .iter()
            .map(|f| FileView {
                path: f.path.clone(),
                kind: f.kind.clone(),
                hunks: f
                    .hunks
                    .iter()
                    .map(|h| self.hunk_view(change, f, h, enc))
                    .collect(),
            })
            .collect();
        let resolved = files
            .iter()
            .all(|f| f.hunks.iter().all(|h| h.state.is_final()));
        ChangeView {
            id: change.id.clone(),
            origin: change.origin.clone(),
            model: change.model,
            files,
            resolved,
        }
    }

    fn hunk_view(
        &self,
        change: &Change,
        file: &FileReview,
        hunk: &Hunk,
        enc: Encoding,
    ) -> HunkView {
        let range = match self.shadows.get(&file.path) {
            Some(s) => position::offsets_to_range(&s.text, hunk.range.clone(), enc),
            None => position::Range::default(),
        };
        HunkView {
            id: hunk.id.clone(),
            change_id: change.id.clone(),
            path: file.path.clone(),
            state: hunk.state,
            range,
            bytes: hunk.range.clone(),
            old_text: hunk.old_text.clone(),
            new_text: hunk.new_text.clone(),
            whole_file: hunk.whole_file,
        }
    }
}
