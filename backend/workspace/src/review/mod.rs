//! Inline patch review: pending changes, file by file and hunk by hunk, with stable ids and
//! ranges that follow every edit.
//!
//! The store keeps, for every file under review, a *shadow*: the text it believes the buffer
//! holds (a rope clone, so it shares memory with the open document). Every buffer change is fed
//! to it ([`ReviewStore::on_change`]); when it cannot be fed edits (a reload, a closed file
//! changed on disk) it diffs the shadow against the buffer and replays the difference as edits
//! ([`ReviewStore::sync`]). Hunk ranges move through those edits ([`anchor::map_range`]); a hunk
//! whose own text was touched is re-judged by content:
//!
//! - the base text again (the old text before approval; the new text after an
//!   apply-then-review write) → pending;
//! - an in-flight hunk whose target text arrived → accepted or rejected;
//! - anything else → conflicted, which can never be applied blindly.
//!
//! Decisions are never inferred from content alone, only confirmed: a buffer that happens to
//! show the new text does not make a pending hunk accepted; accepting it then costs no edit.

mod anchor;
mod decide;
mod summary;
mod types;
mod views;

pub use summary::{ChangeSummary, FileSummary, HunkOutcome};
pub use types::*;

use crate::diff;
use crate::document::ByteEdit;
use crate::error::ReviewError;
use crate::position::Encoding;
use anchor::Touch;
use ropey::{Rope, RopeSlice};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

#[derive(Debug, Clone)]
struct Hunk {
    id: String,
    range: Range<usize>,
    old_text: String,
    new_text: String,
    state: HunkState,
    whole_file: bool,
    /// Zero-based first line and line count on each side, as proposed (for the summary).
    old_line: usize,
    old_lines: usize,
    new_line: usize,
    new_lines: usize,
}

#[derive(Debug, Clone)]
struct FileReview {
    /// Where the reviewed text lives: the file as it is before approval, or as written.
    path: Arc<Path>,
    /// The path the proposal named, and its kind (a move names the other side).
    proposal_path: Arc<Path>,
    kind: ProposalKind,
    hunks: Vec<Hunk>,
}

#[derive(Debug, Clone)]
struct Change {
    id: String,
    origin: ChangeOrigin,
    model: ReviewModel,
    files: Vec<FileReview>,
}

#[derive(Debug, Clone)]
struct Shadow {
    text: Rope,
    version: Option<i32>,
    exists: bool,
}

/// Content at a turn's boundaries, so an apply-then-review turn can be undone whole.
#[derive(Debug, Clone)]
struct Checkpoint {
    /// `None` when the file did not exist before the turn.
    before: Option<String>,
    /// What the turn's last write left; `None` when it deleted the file.
    after: Option<Rope>,
}

/// Pending changes and their hunks. See the module documentation.
#[derive(Debug, Default)]
pub struct ReviewStore {
    next_change: u64,
    changes: BTreeMap<u64, Change>,
    shadows: HashMap<Arc<Path>, Shadow>,
    checkpoints: HashMap<String, HashMap<Arc<Path>, Checkpoint>>,
    generation: u64,
}

fn slice_at<'a>(text: &'a Rope, range: &Range<usize>) -> RopeSlice<'a> {
    let len = text.len_bytes();
    text.byte_slice(range.start.min(len)..range.end.min(len))
}

/// The state a touched hunk has, judged by the text now under it.
fn settle(hunk: &Hunk, model: ReviewModel, now: RopeSlice<'_>) -> HunkState {
    let base = match model {
        ReviewModel::ApproveBeforeWrite => &hunk.old_text,
        ReviewModel::ApplyThenReview => &hunk.new_text,
    };
    match hunk.state {
        HunkState::Pending | HunkState::Conflicted if now == base.as_str() => HunkState::Pending,
        HunkState::Pending | HunkState::Conflicted => HunkState::Conflicted,
        HunkState::Applying if now == hunk.new_text.as_str() => HunkState::Accepted,
        HunkState::Reverting if now == hunk.old_text.as_str() => HunkState::Rejected,
        // An edit in flight may reach us in several steps (Neovim's stock applyEdit sends one
        // replacement as two didChanges), so text between base and target keeps it in flight
        // until the target arrives; a failed edit is reported through `edit_failed`.
        HunkState::Applying | HunkState::Reverting => hunk.state,
        HunkState::Accepted | HunkState::Rejected => hunk.state,
    }
}

fn abs(path: &Path) -> Result<Arc<Path>, ReviewError> {
    if path.is_absolute() {
        Ok(Arc::from(path))
    } else {
        Err(ReviewError::RelativePath(path.to_path_buf()))
    }
}

fn stale(hunk: &Hunk, path: &Path, shadow: &Rope) -> ReviewError {
    let len = shadow.len_bytes();
    let start = shadow.byte_to_line(hunk.range.start.min(len)) + 1;
    // A range ending at a line start ends on the line before it.
    let last = hunk
        .range
        .end
        .min(len)
        .saturating_sub(usize::from(!hunk.range.is_empty()));
    let end = (shadow.byte_to_line(last.max(hunk.range.start.min(len))) + 1).max(start);
    ReviewError::Stale {
        hunk: hunk.id.clone(),
        path: path.to_path_buf(),
        detail: format!("the text under it (lines {start}-{end}) was edited since it was proposed"),
    }
}

impl ReviewStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bumped whenever anything a frontend shows changes: a change added or forgotten, a state,
    /// a range. The LSP layer sends `tandem/review/changed` when it moves.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether a file has reviewed hunks (so buffer changes must be fed to the store).
    pub fn tracks(&self, path: &Path) -> bool {
        self.shadows.contains_key(path)
    }

    /// Registers a proposed change and returns its id (`c1`, `c2`, ...). Hunk ids are
    /// `<change>/h<n>`, numbered across the change's files, and never reused.
    ///
    /// Under approve-before-write the hunks are anchored in the buffer as it is now (if the
    /// buffer drifted from the proposal's old content, the drift is replayed onto the hunks, and
    /// the hunks it touched start out conflicted). Under apply-then-review the proposal's new
    /// content is what was written, so it becomes the shadow; the editor catches up later.
    pub fn propose(
        &mut self,
        origin: ChangeOrigin,
        model: ReviewModel,
        files: Vec<FileProposal>,
        source: &dyn BufferSource,
    ) -> Result<String, ReviewError> {
        self.next_change += 1;
        let seq = self.next_change;
        let id = format!("c{seq}");
        let mut next_hunk = 0usize;
        let mut reviews = Vec::new();
        for file in files {
            let proposal_path = abs(&file.path)?;
            if file.old_content.is_none() && file.new_content.is_none() {
                return Err(ReviewError::MissingContent(file.path));
            }
            let old = file.old_content.as_deref().unwrap_or("");
            let new = file.new_content.as_deref().unwrap_or("");
            let path = match (&file.kind, model) {
                (ProposalKind::Move { to }, ReviewModel::ApplyThenReview) => abs(to)?,
                _ => proposal_path.clone(),
            };
            let whole_file = !matches!(file.kind, ProposalKind::Update);
            let (base, written) = match model {
                ReviewModel::ApproveBeforeWrite => {
                    self.refresh(&path, source)?;
                    (old, None)
                }
                ReviewModel::ApplyThenReview => {
                    let exists = !matches!(file.kind, ProposalKind::Delete);
                    self.write_through(&path, new, exists, source)?;
                    if let Some(turn) = &origin.turn_id {
                        self.record_checkpoint(turn, &path, &file, new);
                    }
                    (new, Some(()))
                }
            };
            let mut hunks = Vec::new();
            let mut push = |range: Range<usize>, o: &str, n: &str, lines: [usize; 4]| {
                next_hunk += 1;
                hunks.push(Hunk {
                    id: format!("{id}/h{next_hunk}"),
                    range,
                    old_text: o.to_string(),
                    new_text: n.to_string(),
                    state: HunkState::Pending,
                    whole_file,
                    old_line: lines[0],
                    old_lines: lines[1],
                    new_line: lines[2],
                    new_lines: lines[3],
                });
            };
            let count = |s: &str| s.lines().count();
            if whole_file {
                let range = if written.is_some() {
                    0..new.len()
                } else {
                    0..old.len()
                };
                push(range, old, new, [0, count(old), 0, count(new)]);
            } else {
                for b in diff::blocks(old, new) {
                    let range = if written.is_some() {
                        b.new.clone()
                    } else {
                        b.old.clone()
                    };
                    push(
                        range,
                        &old[b.old.clone()],
                        &new[b.new.clone()],
                        [b.old_line, b.old_lines, b.new_line, b.new_lines],
                    );
                }
            }
            // Anchor in the shadow: replay the difference between the text the hunks were
            // computed against and the text the buffer holds.
            let shadow = &self.shadows[&path];
            let shadow_text = shadow.text.to_string();
            if shadow_text != base {
                let edits = diff::edits_between(base, &shadow_text);
                let mut touched = vec![false; hunks.len()];
                for edit in &edits {
                    for (h, t) in hunks.iter_mut().zip(touched.iter_mut()) {
                        if anchor::map_range(&mut h.range, edit, false) != Touch::Clear {
                            *t = true;
                        }
                    }
                }
                for (h, t) in hunks.iter_mut().zip(touched) {
                    if t {
                        h.state = settle(h, model, slice_at(&shadow.text, &h.range));
                    }
                }
            }
            reviews.push(FileReview {
                path,
                proposal_path,
                kind: file.kind,
                hunks,
            });
        }
        self.changes.insert(
            seq,
            Change {
                id: id.clone(),
                origin,
                model,
                files: reviews,
            },
        );
        self.generation += 1;
        Ok(id)
    }

    fn record_checkpoint(&mut self, turn: &str, path: &Arc<Path>, file: &FileProposal, new: &str) {
        let per_turn = self.checkpoints.entry(turn.to_string()).or_default();
        let after = (!matches!(file.kind, ProposalKind::Delete)).then(|| Rope::from_str(new));
        per_turn
            .entry(path.clone())
            .and_modify(|c| c.after = after.clone())
            .or_insert_with(|| Checkpoint {
                before: file.old_content.clone().filter(|_| {
                    !matches!(file.kind, ProposalKind::Add | ProposalKind::Move { .. })
                }),
                after,
            });
        if let ProposalKind::Move { .. } = file.kind {
            // The source of a move disappears; undoing the turn recreates it from `before`.
            let from: Arc<Path> = Arc::from(file.path.as_path());
            per_turn.entry(from).or_insert_with(|| Checkpoint {
                before: file.old_content.clone(),
                after: None,
            });
        }
    }

    /// The kernel wrote `new` to `path` (apply-then-review): move existing hunks through the
    /// write, and make it the shadow until the editor reports its own version.
    fn write_through(
        &mut self,
        path: &Arc<Path>,
        new: &str,
        exists: bool,
        source: &dyn BufferSource,
    ) -> Result<(), ReviewError> {
        if !self.shadows.contains_key(path) {
            let buffer = source.buffer(path)?;
            let (text, version) = match buffer {
                Some(b) if b.text == new => (b.text, b.version),
                _ => (Rope::from_str(new), None),
            };
            self.shadows.insert(
                path.clone(),
                Shadow {
                    text,
                    version,
                    exists,
                },
            );
            return Ok(());
        }
        self.sync_to(path, Rope::from_str(new), None, exists);
        Ok(())
    }

    /// Brings the shadow of `path` up to date with the buffer, if it may have drifted.
    fn refresh(&mut self, path: &Arc<Path>, source: &dyn BufferSource) -> Result<(), ReviewError> {
        let buffer = source.buffer(path)?;
        match (self.shadows.get(path), buffer) {
            (None, Some(b)) => {
                let shadow = Shadow {
                    text: b.text,
                    version: b.version,
                    exists: true,
                };
                self.shadows.insert(path.clone(), shadow);
            }
            (None, None) => {
                let shadow = Shadow {
                    text: Rope::new(),
                    version: None,
                    exists: false,
                };
                self.shadows.insert(path.clone(), shadow);
            }
            (Some(s), Some(b)) if b.version.is_some() && s.version == b.version => {}
            (Some(_), Some(b)) => self.sync_to(path, b.text, b.version, true),
            (Some(s), None) if !s.exists => {}
            (Some(_), None) => self.sync_to(path, Rope::new(), None, false),
        }
        Ok(())
    }

    /// Replaces the shadow by `text`, replaying the difference onto the hunks.
    fn sync_to(&mut self, path: &Path, text: Rope, version: Option<i32>, exists: bool) {
        let Some(shadow) = self.shadows.get(path) else {
            return;
        };
        if shadow.text != text {
            let edits = diff::edits_between(&shadow.text.to_string(), &text.to_string());
            self.move_hunks(path, &edits, &text);
        }
        let shadow = self.shadows.get_mut(path).expect("checked above");
        if shadow.version != version || shadow.exists != exists || shadow.text != text {
            self.generation += 1;
        }
        *shadow = Shadow {
            text,
            version,
            exists,
        };
    }

    /// Moves every hunk of `path` through `edits` (in order), then re-judges the touched ones
    /// against `after`, the text once all edits are applied.
    fn move_hunks(&mut self, path: &Path, edits: &[ByteEdit], after: &Rope) {
        let mut moved = false;
        for change in self.changes.values_mut() {
            let model = change.model;
            for file in change.files.iter_mut().filter(|f| &*f.path == path) {
                for hunk in &mut file.hunks {
                    let before = hunk.range.clone();
                    let mut touched = false;
                    for edit in edits {
                        let in_flight = hunk.state.is_in_flight();
                        touched |=
                            anchor::map_range(&mut hunk.range, edit, in_flight) != Touch::Clear;
                    }
                    moved |= hunk.range != before;
                    if touched {
                        let state = settle(hunk, model, slice_at(after, &hunk.range));
                        moved |= state != hunk.state;
                        hunk.state = state;
                    }
                }
            }
        }
        if moved {
            self.generation += 1;
        }
    }

    /// Feeds one buffer change: the same byte edits the document store applied, taking the
    /// buffer from `prev_version` to `version`; `after` is the buffer's text once applied.
    ///
    /// When the shadow was at `prev_version` the edits are replayed as they are (the fast path,
    /// a few comparisons per hunk). Otherwise the shadow had drifted (a write the editor had not
    /// caught up with, a reopened file) and it is diffed against `after` instead.
    pub fn on_change(
        &mut self,
        path: &Path,
        prev_version: i32,
        version: i32,
        edits: &[ByteEdit],
        after: &Rope,
    ) {
        let Some(shadow) = self.shadows.get_mut(path) else {
            return;
        };
        // A whole-text replacement (full sync) would cover every hunk: diff it instead.
        let whole = edits.iter().any(|e| {
            e.start == 0 && e.old_end >= shadow.text.len_bytes() && shadow.text.len_bytes() > 0
        });
        if shadow.version == Some(prev_version) && shadow.exists && !whole {
            for edit in edits {
                edit.apply(&mut shadow.text);
            }
            shadow.version = Some(version);
            self.move_hunks(path, edits, after);
        } else {
            self.sync_to(path, after.clone(), Some(version), true);
        }
    }

    /// The editor opened `path` with `text`: take its version, and replay any difference.
    pub fn on_open(&mut self, path: &Path, version: i32, text: &Rope) {
        if self.shadows.contains_key(path) {
            self.sync_to(path, text.clone(), Some(version), true);
        }
    }

    /// The editor closed `path`: its text now comes from the disk, checked at the next decision.
    pub fn on_close(&mut self, path: &Path) {
        if let Some(shadow) = self.shadows.get_mut(path) {
            shadow.version = None;
        }
    }

    /// Re-reads `path` from `source` and replays any difference (a file changed on disk, or an
    /// edit applied outside the editor's document sync).
    pub fn refresh_path(
        &mut self,
        path: &Path,
        source: &dyn BufferSource,
    ) -> Result<(), ReviewError> {
        let key = abs(path)?;
        if self.shadows.contains_key(&key) {
            if let Some(s) = self.shadows.get_mut(&key) {
                // Force a comparison even if the version did not move.
                s.version = None;
            }
            self.refresh(&key, source)?;
        }
        Ok(())
    }

    /// An edit handed out by a decision could not be applied (the editor refused it, the
    /// version moved): its hunks go back to pending, to be re-judged at the next decision.
    pub fn edit_failed(&mut self, edit: &FileEdit) {
        for id in edit.hunks() {
            if let Some((_, _, hunk)) = self.find_mut(id) {
                hunk.state = HunkState::Pending;
                self.generation += 1;
            }
        }
    }

    fn find_mut(&mut self, hunk_id: &str) -> Option<(ReviewModel, Arc<Path>, &mut Hunk)> {
        let seq: u64 = hunk_id.strip_prefix('c')?.split('/').next()?.parse().ok()?;
        let change = self.changes.get_mut(&seq)?;
        let model = change.model;
        change.files.iter_mut().find_map(|f| {
            let path = f.path.clone();
            f.hunks
                .iter_mut()
                .find(|h| h.id == hunk_id)
                .map(|h| (model, path, h))
        })
    }

    fn change_seq(id: &str) -> Option<u64> {
        id.strip_prefix('c')?.parse().ok()
    }

    /// The hunks a target names, as (change seq, file index, hunk index).
    fn resolve(&self, target: &Target) -> Result<Vec<(u64, usize, usize)>, ReviewError> {
        let mut out = Vec::new();
        match target {
            Target::Hunk(id) => {
                let seq = id
                    .strip_prefix('c')
                    .and_then(|r| r.split('/').next())
                    .and_then(|n| n.parse::<u64>().ok())
                    .ok_or_else(|| ReviewError::UnknownHunk(id.clone()))?;
                let change = self
                    .changes
                    .get(&seq)
                    .ok_or_else(|| ReviewError::UnknownHunk(id.clone()))?;
                for (fi, f) in change.files.iter().enumerate() {
                    if let Some(hi) = f.hunks.iter().position(|h| &h.id == id) {
                        out.push((seq, fi, hi));
                    }
                }
                if out.is_empty() {
                    return Err(ReviewError::UnknownHunk(id.clone()));
                }
            }
            Target::Change(id) => {
                let seq = Self::change_seq(id)
                    .filter(|s| self.changes.contains_key(s))
                    .ok_or_else(|| ReviewError::UnknownChange(id.clone()))?;
                for (fi, f) in self.changes[&seq].files.iter().enumerate() {
                    out.extend((0..f.hunks.len()).map(|hi| (seq, fi, hi)));
                }
            }
            Target::File { path, change } => {
                let only = match change {
                    Some(id) => Some(
                        Self::change_seq(id)
                            .filter(|s| self.changes.contains_key(s))
                            .ok_or_else(|| ReviewError::UnknownChange(id.clone()))?,
                    ),
                    None => None,
                };
                for (&seq, c) in &self.changes {
                    if only.is_some_and(|o| o != seq) {
                        continue;
                    }
                    for (fi, f) in c.files.iter().enumerate() {
                        if &*f.path == path.as_path() || &*f.proposal_path == path.as_path() {
                            out.extend((0..f.hunks.len()).map(|hi| (seq, fi, hi)));
                        }
                    }
                }
                if out.is_empty() {
                    return Err(ReviewError::UnknownFile(path.clone()));
                }
            }
        }
        Ok(out)
    }

    /// Accepts the target's hunks. See [`Outcome`] for what to do with the result; a single
    /// hunk that cannot be accepted is an error, while a file or change target reports its
    /// refusals and goes on with the rest.
    pub fn accept(
        &mut self,
        target: &Target,
        source: &dyn BufferSource,
        enc: Encoding,
    ) -> Result<Outcome, ReviewError> {
        self.decide(target, true, source, enc)
    }

    /// Rejects the target's hunks; the counterpart of [`ReviewStore::accept`].
    pub fn reject(
        &mut self,
        target: &Target,
        source: &dyn BufferSource,
        enc: Encoding,
    ) -> Result<Outcome, ReviewError> {
        self.decide(target, false, source, enc)
    }

    fn decide(
        &mut self,
        target: &Target,
        accept: bool,
        source: &dyn BufferSource,
        enc: Encoding,
    ) -> Result<Outcome, ReviewError> {
        let picked = self.resolve(target)?;
        let mut paths: Vec<Arc<Path>> = picked
            .iter()
            .map(|&(s, f, _)| self.changes[&s].files[f].path.clone())
            .collect();
        paths.dedup();
        for path in &paths {
            self.refresh(path, source)?;
        }
        let mut plan = decide::Plan::default();
        for &(seq, fi, hi) in &picked {
            let change = self.changes.get_mut(&seq).expect("resolved");
            let model = change.model;
            let file = &mut change.files[fi];
            let shadow = &self.shadows[&file.path];
            decide::one(
                &mut plan,
                model,
                accept,
                file,
                hi,
                shadow.text.clone(),
                shadow.version,
            );
        }
        self.generation += 1;
        let mut outcome = plan.finish(&self.shadows, enc);
        if let Target::Hunk(_) = target
            && let Some(refusal) = outcome.refused.first()
        {
            return Err(refusal.reason.clone());
        }
        // A file or a change means its hunks still waiting: "Accept All in File" after
        // accepting one hunk by hand is not a refusal worth showing anybody.
        outcome
            .refused
            .retain(|r| !matches!(r.reason, ReviewError::AlreadyResolved { .. }));
        Ok(outcome)
    }

    /// Undoes everything a turn's changes did that is still in the buffers: per hunk where the
    /// text is intact, or back to the turn's checkpoint where the turn's own writes overlapped
    /// and the file was not edited since. Refuses (changing nothing) if any file was edited
    /// under a hunk in a way that cannot be undone safely.
    pub fn undo_turn(
        &mut self,
        turn: &str,
        source: &dyn BufferSource,
        enc: Encoding,
    ) -> Result<Outcome, ReviewError> {
        let seqs: Vec<u64> = self
            .changes
            .iter()
            .filter(|(_, c)| c.origin.turn_id.as_deref() == Some(turn))
            .map(|(&s, _)| s)
            .collect();
        if seqs.is_empty() {
            return Err(ReviewError::UnknownTurn(turn.to_string()));
        }
        let mut paths: Vec<Arc<Path>> = seqs
            .iter()
            .flat_map(|s| self.changes[s].files.iter().map(|f| f.path.clone()))
            .collect();
        paths.sort();
        paths.dedup();
        for path in &paths {
            self.refresh(path, source)?;
        }
        let checkpoints = self.checkpoints.get(turn).cloned().unwrap_or_default();
        let plan = decide::undo_plan(&mut self.changes, &seqs, &self.shadows, &checkpoints, turn)?;
        self.generation += 1;
        Ok(plan.finish(&self.shadows, enc))
    }

    /// Drops a change (typically once resolved and summarised). Returns whether it existed.
    pub fn forget(&mut self, change_id: &str) -> bool {
        let Some(seq) = Self::change_seq(change_id) else {
            return false;
        };
        let Some(change) = self.changes.remove(&seq) else {
            return false;
        };
        if let Some(turn) = &change.origin.turn_id
            && !self
                .changes
                .values()
                .any(|c| c.origin.turn_id.as_ref() == Some(turn))
        {
            self.checkpoints.remove(turn);
        }
        let still: Vec<Arc<Path>> = self
            .changes
            .values()
            .flat_map(|c| c.files.iter().map(|f| f.path.clone()))
            .collect();
        self.shadows.retain(|p, _| still.contains(p));
        self.generation += 1;
        true
    }
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
