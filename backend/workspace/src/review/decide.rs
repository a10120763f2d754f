//! Turning decisions (accept, reject, undo a turn) into state changes and edits.
//!
//! Each decision is judged against the text under the hunk right now; nothing is applied on
//! the strength of a remembered position alone.

use super::{Change, Checkpoint, FileReview, Hunk, Shadow, slice_at, stale};
use crate::error::ReviewError;
use crate::position::{self, Encoding};
use crate::review::types::{
    FileEdit, HunkState, Outcome, ProposalKind, Refusal, ReviewModel, TextEdit,
};
use ropey::Rope;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

/// Planned edits of one file: (byte range, new text, hunk ids), all against the same text.
#[derive(Debug, Default)]
struct TextPlan {
    version: Option<i32>,
    edits: Vec<(Range<usize>, String, Vec<String>)>,
}

#[derive(Debug, Default)]
pub(super) struct Plan {
    text: BTreeMap<Arc<Path>, TextPlan>,
    ops: Vec<FileEdit>,
    decided: Vec<String>,
    refused: Vec<Refusal>,
}

fn overlaps(a: &Range<usize>, b: &Range<usize>) -> bool {
    (a.start < b.end && b.start < a.end) || (a.start == b.start && (a.is_empty() || b.is_empty()))
}

impl Plan {
    fn refuse(&mut self, hunk: &Hunk, reason: ReviewError) {
        self.refused.push(Refusal {
            hunk: hunk.id.clone(),
            reason,
        });
    }

    /// Plans a text replacement; false if it overlaps one already planned for the same file.
    fn text_edit(
        &mut self,
        path: &Arc<Path>,
        version: Option<i32>,
        range: Range<usize>,
        text: &str,
        hunk: &str,
    ) -> bool {
        let plan = self.text.entry(path.clone()).or_default();
        plan.version = version;
        if plan.edits.iter().any(|(r, _, _)| overlaps(r, &range)) {
            return false;
        }
        plan.edits
            .push((range, text.to_string(), vec![hunk.to_string()]));
        true
    }

    /// The outcome, with ranges in the editor's encoding.
    pub(super) fn finish(self, shadows: &HashMap<Arc<Path>, Shadow>, enc: Encoding) -> Outcome {
        let mut edits = Vec::new();
        for (path, mut plan) in self.text {
            plan.edits.sort_by_key(|(r, _, _)| (r.start, r.end));
            let text = shadows
                .get(&path)
                .map(|s| s.text.clone())
                .unwrap_or_default();
            edits.push(FileEdit::Text {
                path,
                expected_version: plan.version,
                hunks: plan.edits.iter().flat_map(|(_, _, h)| h.clone()).collect(),
                edits: plan
                    .edits
                    .into_iter()
                    .map(|(bytes, new_text, _)| TextEdit {
                        range: position::offsets_to_range(&text, bytes.clone(), enc),
                        bytes,
                        new_text,
                    })
                    .collect(),
            });
        }
        edits.extend(self.ops);
        Outcome {
            edits,
            decided: self.decided,
            refused: self.refused,
        }
    }
}

/// The whole-file operation that carries a whole-file hunk forward (`forward`, accepting before
/// write) or back (rejecting after write).
fn file_op(file: &FileReview, hunk: &Hunk, forward: bool) -> FileEdit {
    let hunks = vec![hunk.id.clone()];
    match (&file.kind, forward) {
        (ProposalKind::Add, true) | (ProposalKind::Delete, false) => FileEdit::Create {
            path: file.path.clone(),
            content: if forward {
                hunk.new_text.clone()
            } else {
                hunk.old_text.clone()
            },
            hunks,
        },
        (ProposalKind::Delete, true) | (ProposalKind::Add, false) => FileEdit::Delete {
            path: file.path.clone(),
            hunks,
        },
        (ProposalKind::Move { to }, true) => FileEdit::Move {
            from: file.proposal_path.clone(),
            to: Arc::from(to.as_path()),
            content: hunk.new_text.clone(),
            hunks,
        },
        (ProposalKind::Move { .. }, false) => FileEdit::Move {
            from: file.path.clone(),
            to: file.proposal_path.clone(),
            content: hunk.old_text.clone(),
            hunks,
        },
        // Updates are never whole-file hunks; replace the whole text if one ever is.
        (ProposalKind::Update, _) => FileEdit::Create {
            path: file.path.clone(),
            content: if forward {
                hunk.new_text.clone()
            } else {
                hunk.old_text.clone()
            },
            hunks,
        },
    }
}

/// Decides one hunk. `text` and `version` describe the shadow of the hunk's file.
pub(super) fn one(
    plan: &mut Plan,
    model: ReviewModel,
    accept: bool,
    file: &mut FileReview,
    index: usize,
    text: Rope,
    version: Option<i32>,
) {
    use HunkState::*;
    let path = file.path.clone();
    let hunk = &file.hunks[index];
    let now = slice_at(&text, &hunk.range);
    let (is_old, is_new) = (now == hunk.old_text.as_str(), now == hunk.new_text.as_str());
    let state = hunk.state;
    if state.is_in_flight() {
        let id = hunk.id.clone();
        return plan.refuse(hunk, ReviewError::InFlight { hunk: id });
    }
    // Whether this decision moves the buffer (accepting before write, rejecting after it).
    let forward = model == ReviewModel::ApproveBeforeWrite;
    let writes = accept == forward;
    let (final_state, in_flight, base_ok, goal_reached, goal_text) = if accept {
        (Accepted, Applying, is_old, is_new, &hunk.new_text)
    } else {
        (Rejected, Reverting, is_new, is_old, &hunk.old_text)
    };
    // A final state is final, with one exception: after an apply-then-review write, a hunk the
    // person kept (accepted) can still be reverted.
    let revert_kept = model == ReviewModel::ApplyThenReview && !accept && state == Accepted;
    if state.is_final() && !revert_kept {
        let (id, s) = (hunk.id.clone(), state.as_str());
        return plan.refuse(hunk, ReviewError::AlreadyResolved { hunk: id, state: s });
    }
    if !writes {
        file.hunks[index].state = final_state;
        plan.decided.push(file.hunks[index].id.clone());
        return;
    }
    if hunk.whole_file && base_ok {
        plan.ops.push(file_op(file, hunk, accept));
        file.hunks[index].state = final_state;
        return;
    }
    if goal_reached {
        file.hunks[index].state = final_state;
        plan.decided.push(file.hunks[index].id.clone());
        return;
    }
    if !base_ok || state == Conflicted {
        let err = stale(hunk, &path, &text);
        if state != Accepted {
            file.hunks[index].state = Conflicted;
        }
        return plan.refuse(&file.hunks[index].clone(), err);
    }
    let (range, goal, id) = (hunk.range.clone(), goal_text.clone(), hunk.id.clone());
    if plan.text_edit(&path, version, range, &goal, &id) {
        file.hunks[index].state = in_flight;
    } else {
        plan.refuse(
            hunk,
            ReviewError::Stale {
                hunk: id,
                path: path.to_path_buf(),
                detail: "it overlaps another hunk decided in the same request".into(),
            },
        );
    }
}

/// Plans the undo of a turn without changing anything until every file is known to be safe.
pub(super) fn undo_plan(
    changes: &mut BTreeMap<u64, Change>,
    seqs: &[u64],
    shadows: &HashMap<Arc<Path>, Shadow>,
    checkpoints: &HashMap<Arc<Path>, Checkpoint>,
    turn: &str,
) -> Result<Plan, ReviewError> {
    // Hunks per file, newest change first.
    let mut by_path: BTreeMap<Arc<Path>, Vec<(u64, usize, usize)>> = BTreeMap::new();
    for &seq in seqs.iter().rev() {
        for (fi, f) in changes[&seq].files.iter().enumerate() {
            by_path
                .entry(f.path.clone())
                .or_default()
                .extend((0..f.hunks.len()).map(|hi| (seq, fi, hi)));
        }
    }
    let mut plan = Plan::default();
    let mut updates: Vec<((u64, usize, usize), HunkState)> = Vec::new();
    let mut conflicts = Vec::new();
    for (path, hunks) in &by_path {
        let shadow = &shadows[path];
        let mut local = Plan::default();
        let mut local_updates = Vec::new();
        let mut local_conflicts = Vec::new();
        for &(seq, fi, hi) in hunks {
            let file = &changes[&seq].files[fi];
            let hunk = &file.hunks[hi];
            if hunk.state == HunkState::Rejected {
                continue;
            }
            let now = slice_at(&shadow.text, &hunk.range);
            if now == hunk.old_text.as_str() && !hunk.whole_file {
                local_updates.push(((seq, fi, hi), HunkState::Rejected));
            } else if now == hunk.new_text.as_str() && !hunk.state.is_in_flight() {
                if hunk.whole_file {
                    local.ops.push(file_op(file, hunk, false));
                    local_updates.push(((seq, fi, hi), HunkState::Rejected));
                } else if local.text_edit(
                    path,
                    shadow.version,
                    hunk.range.clone(),
                    &hunk.old_text,
                    &hunk.id,
                ) {
                    local_updates.push(((seq, fi, hi), HunkState::Reverting));
                } else {
                    local_conflicts.push(hunk.id.clone());
                }
            } else {
                local_conflicts.push(hunk.id.clone());
            }
        }
        if local_conflicts.is_empty() {
            merge(&mut plan, local);
            updates.extend(local_updates);
            continue;
        }
        // The turn's own writes overlapped (or the user edited): restore the checkpoint if the
        // file is exactly as the turn left it.
        let untouched = checkpoints.get(path).filter(|c| match &c.after {
            Some(after) => shadow.exists && &shadow.text == after,
            None => !shadow.exists,
        });
        match untouched {
            Some(cp) => {
                let ids: Vec<String> = hunks
                    .iter()
                    .map(|&(s, f, h)| changes[&s].files[f].hunks[h].id.clone())
                    .collect();
                match (&cp.before, shadow.exists) {
                    (None, _) => plan.ops.push(FileEdit::Delete {
                        path: path.clone(),
                        hunks: ids,
                    }),
                    (Some(before), false) => plan.ops.push(FileEdit::Create {
                        path: path.clone(),
                        content: before.clone(),
                        hunks: ids,
                    }),
                    (Some(before), true) => {
                        let tp = plan.text.entry(path.clone()).or_default();
                        tp.version = shadow.version;
                        tp.edits
                            .push((0..shadow.text.len_bytes(), before.clone(), ids));
                    }
                }
                updates.extend(hunks.iter().map(|&k| (k, HunkState::Rejected)));
            }
            None => conflicts.extend(local_conflicts),
        }
    }
    if !conflicts.is_empty() {
        return Err(ReviewError::TurnConflict {
            turn: turn.to_string(),
            hunks: conflicts,
        });
    }
    for ((seq, fi, hi), state) in updates {
        let hunk = &mut changes.get_mut(&seq).expect("listed").files[fi].hunks[hi];
        if hunk.state != HunkState::Rejected
            && state == HunkState::Rejected
            && !plan_has(&plan, &hunk.id)
        {
            plan.decided.push(hunk.id.clone());
        }
        hunk.state = state;
    }
    Ok(plan)
}

fn plan_has(plan: &Plan, id: &str) -> bool {
    plan.ops.iter().any(|o| o.hunks().iter().any(|h| h == id))
        || plan
            .text
            .values()
            .any(|t| t.edits.iter().any(|(_, _, h)| h.iter().any(|x| x == id)))
}

fn merge(into: &mut Plan, from: Plan) {
    for (path, tp) in from.text {
        let dst = into.text.entry(path).or_default();
        dst.version = tp.version;
        dst.edits.extend(tp.edits);
    }
    into.ops.extend(from.ops);
    into.decided.extend(from.decided);
    into.refused.extend(from.refused);
}
