//! Carrying review decisions out, and telling everyone what became of them.
//!
//! # Buffers and the disk
//!
//! The agent's file reads see the editor's buffers; its commands (builds, tests) see the disk.
//! A decision's edit goes where the file lives:
//!
//! - a file open in the editor gets a versioned `workspace/applyEdit` against the buffer's
//!   current version (never a blind edit). If the buffer had no unsaved edits (it equalled the
//!   disk), the disk is written with the buffer's new text as soon as the client applied the
//!   edit, so commands see the same thing; otherwise the disk is left alone and the model is
//!   told the file is unsaved;
//! - a file not open in the editor is written on disk directly (atomically), and the review
//!   re-reads it;
//! - adds, deletes and moves (whole-file hunks) are done on disk; a deleted or moved file's
//!   buffer is closed and the client told (see [`crate::file_ops`]).
//!
//! Under apply-then-review the kernel has already written the disk; [`push_written`] brings
//! the open buffers up to the written text, and [`crate::overlay`] covers the moment between.
//!
//! # Resolution
//!
//! [`sync_review`] runs after anything that may move the review (a decision, a document
//! change, a proposal). It tells the client (`tandem/review/changed`) when the generation
//! moved, and for every change whose hunks are all decided it builds the report the model
//! reads (`ChangeSummary::render`, plus a line per file left unsaved), answers the waiting
//! kernel with `Op::ResolvePatch`, and forgets the change.

use crate::convert;
use crate::file_ops::{self, Gone};
use crate::server::Ext;
use crate::state::{ReviewLink, Shared, State};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use tandem_protocol::ops::{Op, PatchOutcome};
use tandem_protocol_ext::review::{ReviewChangedParams, ReviewDecisionResult, ReviewRefusal};
use tandem_protocol_ext::task::TaskStatus;
use tandem_workspace::review::{
    FileEdit, FileProposal, HunkState, Outcome, ProposalKind, TextEdit,
};
use tandem_workspace::{Encoding, position};
use tower_lsp_server::lsp_types as lsp;

/// Who changed the disk, as [`file_ops::tell`] names it to the person.
const AGENT: &str = "the agent";
const REVIEW: &str = "a review decision";

/// Applies every edit of a decision, then reports what happened.
pub async fn carry_out(shared: &Arc<Shared>, outcome: Outcome) -> ReviewDecisionResult {
    let mut result = ReviewDecisionResult {
        applied: Vec::new(),
        decided: outcome.decided.clone(),
        refused: outcome
            .refused
            .iter()
            .map(|r| ReviewRefusal {
                hunk_id: r.hunk.clone(),
                message: r.reason.to_string(),
            })
            .collect(),
    };
    for edit in &outcome.edits {
        match apply_edit(shared, edit).await {
            Ok(()) => result.applied.extend(edit.hunks().iter().cloned()),
            Err(message) => {
                tracing::warn!("review edit failed: {message}");
                shared.lock().ws.edit_failed(edit);
                result
                    .refused
                    .extend(edit.hunks().iter().map(|h| ReviewRefusal {
                        hunk_id: h.clone(),
                        message: message.clone(),
                    }));
            }
        }
    }
    sync_review(shared).await;
    result
}

/// Applies byte edits that all refer to `text` and do not overlap.
fn apply_bytes(text: &str, edits: &[TextEdit]) -> String {
    let mut sorted: Vec<&TextEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| std::cmp::Reverse(e.bytes.start));
    let mut out = text.to_string();
    for e in sorted {
        let r = e.bytes.start.min(out.len())..e.bytes.end.min(out.len());
        out.replace_range(r, &e.new_text);
    }
    out
}

/// Writes a file atomically (a sibling temporary file, then a rename), creating its parents.
pub fn write_disk(path: &Path, text: &str) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
    let dir = path.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(dir).map_err(fail)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tandem-{}", std::process::id()));
    std::fs::write(&tmp, text).map_err(fail)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}

fn lsp_edits(edits: &[TextEdit]) -> Vec<lsp::TextEdit> {
    edits
        .iter()
        .map(|e| lsp::TextEdit::new(convert::to_lsp_range(e.range), e.new_text.clone()))
        .collect()
}

/// A workspace edit of one document, versioned when the client supports it.
fn workspace_edit(
    uri: lsp::Uri,
    version: i32,
    edits: Vec<lsp::TextEdit>,
    versioned: bool,
) -> lsp::WorkspaceEdit {
    if versioned {
        lsp::WorkspaceEdit {
            document_changes: Some(lsp::DocumentChanges::Edits(vec![lsp::TextDocumentEdit {
                text_document: lsp::OptionalVersionedTextDocumentIdentifier {
                    uri,
                    version: Some(version),
                },
                edits: edits.into_iter().map(lsp::OneOf::Left).collect(),
            }])),
            ..Default::default()
        }
    } else {
        lsp::WorkspaceEdit {
            changes: Some(HashMap::from([(uri, edits)])),
            ..Default::default()
        }
    }
}

/// Sends one edit to the client; `Err` carries the client's reason for not applying it.
pub async fn request_edit(
    shared: &Shared,
    label: String,
    edit: lsp::WorkspaceEdit,
) -> Result<(), String> {
    use lsp::request::ApplyWorkspaceEdit;
    let params = lsp::ApplyWorkspaceEditParams {
        label: Some(label),
        edit,
    };
    match shared
        .client
        .send_request::<ApplyWorkspaceEdit>(params)
        .await
    {
        Ok(r) if r.applied => Ok(()),
        Ok(r) => Err(r.failure_reason.unwrap_or_else(|| "no reason given".into())),
        Err(e) => Err(e.message.into_owned()),
    }
}

/// Sends one hunk's edit; `Err` is the refusal the person reads.
async fn send_edit(shared: &Shared, label: String, edit: lsp::WorkspaceEdit) -> Result<(), String> {
    request_edit(shared, label, edit).await.map_err(|reason| {
        format!("the editor did not apply the edit ({reason}); the hunk is pending again")
    })
}

async fn apply_edit(shared: &Arc<Shared>, edit: &FileEdit) -> Result<(), String> {
    match edit {
        FileEdit::Text {
            path,
            expected_version: Some(version),
            edits,
            hunks,
        } => {
            let (after, versioned) = {
                let s = shared.lock();
                let docs = s.ws.documents().read();
                let doc = docs.get(path).ok_or_else(|| {
                    format!("{} was closed before the edit was sent", path.display())
                })?;
                // The buffer had no unsaved edits: the disk follows it.
                let clean = std::fs::read_to_string(path.as_ref())
                    .is_ok_and(|disk| doc.text() == disk.as_str());
                let after = clean.then(|| apply_bytes(&doc.text().to_string(), edits));
                (after, s.caps.document_changes)
            };
            let uri = convert::lsp_uri(path).map_err(|e| e.to_string())?;
            let label = format!("Tandem: {}", hunks.join(", "));
            send_edit(
                shared,
                label,
                workspace_edit(uri, *version, lsp_edits(edits), versioned),
            )
            .await?;
            if let Some(text) = after {
                write_disk(path, &text)?;
            }
            Ok(())
        }
        FileEdit::Text { path, edits, .. } => {
            let text = match std::fs::read_to_string(path.as_ref()) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
            };
            write_disk(path, &apply_bytes(&text, edits))?;
            refresh(shared, path)
        }
        FileEdit::Create { path, content, .. } => {
            write_disk(path, content)?;
            refresh(shared, path)
        }
        FileEdit::Delete { path, .. } => {
            match std::fs::remove_file(path.as_ref()) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("cannot delete {}: {e}", path.display())),
            }
            let closed = file_ops::close(shared, vec![Gone::Deleted(path.to_path_buf())]);
            file_ops::tell(shared, closed, REVIEW).await;
            refresh(shared, path)
        }
        FileEdit::Move {
            from, to, content, ..
        } => {
            write_disk(to, content)?;
            if let Err(e) = std::fs::remove_file(from.as_ref())
                && e.kind() != std::io::ErrorKind::NotFound
            {
                return Err(format!("cannot remove {}: {e}", from.display()));
            }
            let gone = Gone::Moved {
                from: from.to_path_buf(),
                to: to.to_path_buf(),
            };
            let closed = file_ops::close(shared, vec![gone]);
            file_ops::tell(shared, closed, REVIEW).await;
            refresh(shared, from)?;
            refresh(shared, to)
        }
    }
}

fn refresh(shared: &Shared, path: &Path) -> Result<(), String> {
    shared.lock().ws.refresh(path).map_err(|e| e.to_string())
}

/// Edits that turn `old` into `new`, line by line, all against `old` (as LSP wants), in the
/// negotiated encoding.
fn edits_between(old: &ropey::Rope, new: &str, enc: Encoding) -> Vec<lsp::TextEdit> {
    let old_text = old.to_string();
    let diff = similar::TextDiff::configure()
        .algorithm(similar::Algorithm::Patience)
        .timeout(std::time::Duration::from_millis(500))
        .diff_lines(old_text.as_str(), new);
    let starts = |slices: Vec<&str>| {
        let mut v = vec![0usize];
        for s in slices {
            v.push(v.last().copied().unwrap_or(0) + s.len());
        }
        v
    };
    let old_starts = starts(diff.iter_old_slices().collect());
    let new_starts = starts(diff.iter_new_slices().collect());
    let mut out = Vec::new();
    let mut open: Option<(std::ops::Range<usize>, std::ops::Range<usize>)> = None;
    let mut close = |open: &mut Option<(std::ops::Range<usize>, std::ops::Range<usize>)>| {
        if let Some((o, n)) = open.take() {
            let bytes = old_starts[o.start]..old_starts[o.end];
            let range = position::offsets_to_range(old, bytes, enc);
            let text = &new[new_starts[n.start]..new_starts[n.end]];
            out.push(lsp::TextEdit::new(
                convert::to_lsp_range(range),
                text.to_string(),
            ));
        }
    };
    for op in diff.ops() {
        let (tag, o, n) = op.as_tag_tuple();
        if tag == similar::DiffTag::Equal {
            close(&mut open);
            continue;
        }
        open = Some(match open.take() {
            Some((oo, nn)) => (oo.start..o.end, nn.start..n.end),
            None => (o, n),
        });
    }
    close(&mut open);
    out
}

/// Apply-then-review: the kernel wrote these files; bring the open buffers up to them, and close
/// those of files it deleted or moved away (see [`crate::file_ops`]).
pub async fn push_written(shared: &Arc<Shared>, files: &[FileProposal]) {
    // First, synchronously, stop serving the buffers of files that are gone (the written text of
    // the others is already in the overlay: see `crate::overlay`).
    let gone = files
        .iter()
        .filter_map(|f| match &f.kind {
            ProposalKind::Delete => Some(Gone::Deleted(f.path.clone())),
            ProposalKind::Move { to } => Some(Gone::Moved {
                from: f.path.clone(),
                to: to.clone(),
            }),
            ProposalKind::Add | ProposalKind::Update => None,
        })
        .collect();
    let closed = file_ops::close(shared, gone);
    let mut sends = Vec::new();
    {
        let s = shared.lock();
        let enc = s.ws.encoding();
        let docs = s.ws.documents().read();
        for f in files {
            let target = match &f.kind {
                ProposalKind::Move { to } => to.clone(),
                _ => f.path.clone(),
            };
            let (Some(doc), Some(new)) = (docs.get(&target), &f.new_content) else {
                continue;
            };
            if doc.text() == new.as_str() {
                continue;
            }
            // The kernel already put `new` in the overlay when it wrote it
            // (`FileSource::written`); it stays there until this edit reaches the buffer.
            let edits = edits_between(doc.text(), new, enc);
            sends.push((target, doc.version(), edits, s.caps.document_changes));
        }
    }
    for (path, version, edits, versioned) in sends {
        let Ok(uri) = convert::lsp_uri(&path) else {
            shared.overlay.clear(&path);
            continue;
        };
        let edit = workspace_edit(uri, version, edits, versioned);
        if let Err(e) = send_edit(shared, "Tandem: apply the agent's change".into(), edit).await {
            // The buffer and the written file now differ; the review store diffs them at the
            // next change and marks the hunks the difference touches as conflicted.
            tracing::warn!("{}: {e}", path.display());
            shared.overlay.clear(&path);
        }
    }
    file_ops::tell(shared, closed, AGENT).await;
}

/// What to tell a kernel about a resolved change.
struct Resolution {
    link: ReviewLink,
    outcome: PatchOutcome,
    rejected_any: bool,
}

fn rel(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd).unwrap_or(path).display().to_string()
}

fn resolve(s: &State, change_id: &str, link: ReviewLink) -> Option<Resolution> {
    let summary = s.ws.review().summary(change_id)?;
    let mut report = summary.render();
    let mut files = Vec::new();
    let docs = s.ws.documents().read();
    for file in &summary.files {
        let accepted = file.hunks.iter().any(|h| h.state == HunkState::Accepted);
        if accepted {
            files.push(rel(&file.path, &link.cwd));
        }
        let Some(doc) = docs.get(&file.path) else {
            continue;
        };
        let on_disk = std::fs::read_to_string(&file.path).ok();
        if on_disk.as_deref().is_none_or(|d| doc.text() != d) {
            report.push_str(&format!(
                "Note: {} is open in the editor with unsaved changes, so the buffer (which your \
                 file reads see) differs from the file on disk (which commands such as builds \
                 and tests read) until the user saves it.\n",
                rel(&file.path, &link.cwd)
            ));
        }
    }
    let rejected_any = !summary.ids(HunkState::Rejected).is_empty();
    Some(Resolution {
        outcome: PatchOutcome {
            applied: !summary.ids(HunkState::Accepted).is_empty(),
            report,
            files,
        },
        link,
        rejected_any,
    })
}

/// Tells the client what moved, and the kernels what was resolved. See the module docs.
pub async fn sync_review(shared: &Arc<Shared>) {
    let (notice, resolutions, refresh_lens) = {
        let mut s = shared.lock();
        let enc = s.ws.encoding();
        let resolved: Vec<String> =
            s.ws.review()
                .list(enc)
                .into_iter()
                .filter(|c| c.resolved)
                .map(|c| c.id)
                .collect();
        let mut resolutions = Vec::new();
        for id in resolved {
            if let Some(link) = s.reviews.remove(&id)
                && let Some(r) = resolve(&s, &id, link)
            {
                resolutions.push(r);
            }
            s.ws.forget_change(&id);
        }
        let generation = s.ws.review().generation();
        if generation == s.told_generation {
            (None, resolutions, false)
        } else {
            s.told_generation = generation;
            let changes: Vec<_> =
                s.ws.review()
                    .list(enc)
                    .iter()
                    .map(convert::review_change)
                    .collect();
            let now: BTreeSet<String> = changes.iter().map(|c| c.change_id.clone()).collect();
            let removed = s.told_changes.difference(&now).cloned().collect();
            s.told_changes = now;
            let notice = s.caps.tandem.review_changed.then_some(ReviewChangedParams {
                generation,
                changes,
                removed,
            });
            (notice, resolutions, s.caps.code_lens_refresh)
        }
    };
    if let Some(notice) = notice {
        type Changed = Ext<tandem_protocol_ext::ReviewChanged>;
        shared.client.send_notification::<Changed>(notice).await;
    }
    if refresh_lens {
        let client = shared.client.clone();
        tokio::spawn(async move {
            let _ = client.code_lens_refresh().await;
        });
    }
    for r in resolutions {
        deliver(shared, r);
    }
}

fn deliver(shared: &Shared, r: Resolution) {
    let Resolution {
        link,
        outcome,
        rejected_any,
    } = r;
    match (&link.approval_id, &link.kernel) {
        (Some(id), Some(kernel)) => {
            let op = Op::ResolvePatch {
                id: id.clone(),
                outcome,
            };
            if kernel.submit(op).is_err() {
                tracing::warn!("task {} ended before its review was resolved", link.task_id);
            }
            let mut s = shared.lock();
            if let Some(t) = s.tasks.get_mut(&link.task_id)
                && t.status == TaskStatus::WaitingForReview
            {
                t.status = TaskStatus::Running;
            }
        }
        // Written already: the model hears about reverted hunks at its thread's next turn.
        _ if rejected_any => {
            if let Some(thread) = &link.thread_id {
                let mut s = shared.lock();
                s.notes
                    .entry(thread.clone())
                    .or_default()
                    .push(outcome.report);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_edits_turn_the_old_text_into_the_new() {
        let old = ropey::Rope::from_str("a\nb\nc\nd\n");
        let edits = edits_between(&old, "a\nB\nc\nd\ne\n", Encoding::Utf16);
        let ranges: Vec<_> = edits
            .iter()
            .map(|e| (e.range.start.line, e.range.end.line, e.new_text.as_str()))
            .collect();
        assert_eq!(ranges, vec![(1, 2, "B\n"), (4, 4, "e\n")]);
    }

    #[test]
    fn byte_edits_apply_back_to_front() {
        let mk = |a: usize, b: usize, t: &str| TextEdit {
            range: Default::default(),
            bytes: a..b,
            new_text: t.into(),
        };
        assert_eq!(
            apply_bytes("hello world", &[mk(0, 5, "HI"), mk(6, 11, "there")]),
            "HI there"
        );
    }
}
