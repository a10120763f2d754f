//! `apply_patch`: the tool description, and recognising a patch sent through the shell.

use crate::policy::{self, PatchPlan};
use crate::session::Answer;
use crate::turn::{ToolOutcome, TurnContext};
use std::path::{Path, PathBuf};
use tandem_apply_patch::{ChangeKind, FileSource, PlannedChange};
use tandem_protocol::events::{ApprovalKind, ApprovalRequest, EventMsg, ProposedFileChange};
use tandem_protocol::items::{
    FileUpdateChange, ItemDetails, ItemStatus, PatchChangeKind, ThreadItem,
};
use tandem_protocol::{PatchOutcome, ReviewDecision};

/// What the model is told about the patch format. Written for models tuned on Codex's format.
pub const DESCRIPTION: &str = r#"Use the `apply_patch` tool to edit files. The patch language is a stripped-down, file-oriented diff format:

*** Begin Patch
[ one or more file sections ]
*** End Patch

Each file section starts with one of:
*** Add File: <path> - create a new file; every following line starts with + and is its content.
*** Delete File: <path> - remove an existing file; nothing follows.
*** Update File: <path> - patch an existing file in place, optionally followed by *** Move to: <new path>.

An update has one or more hunks. Each hunk starts with @@, optionally followed by a line (such as a class or function signature) that locates it; stack several @@ lines to narrow it further. Then lines start with ' ' (context), '-' (removed) or '+' (added). Show 3 lines of context above and below each change, unless another change is closer. Add *** End of File after a hunk that must match at the end of the file.

Paths are relative to the working directory. A patch is applied whole or not at all: if any hunk does not match, no file is changed and you are told which hunk and why."#;

/// `["apply_patch", PATCH]`, `["applypatch", PATCH]`, and `bash -lc "apply_patch <<'EOF' ... EOF"`,
/// optionally after `cd DIR &&`. Returns the patch text and the directory it was meant for.
pub fn patch_from_shell_command(argv: &[String]) -> Option<(String, Option<String>)> {
    match argv {
        [prog, patch] if prog == "apply_patch" || prog == "applypatch" => {
            Some((patch.clone(), None))
        }
        [shell, flag, script]
            if matches!(shell.as_str(), "bash" | "sh" | "zsh")
                && matches!(flag.as_str(), "-c" | "-lc") =>
        {
            let script = script.trim_start();
            let (script, workdir) = match script.split_once("&&") {
                Some((cd, rest)) if cd.trim_start().starts_with("cd ") => {
                    let dir = cd.trim_start()["cd ".len()..]
                        .trim()
                        .trim_matches(|c| c == '\'' || c == '"');
                    (rest.trim_start(), Some(dir.to_string()))
                }
                _ => (script, None),
            };
            let rest = script
                .strip_prefix("apply_patch")
                .or_else(|| script.strip_prefix("applypatch"))?;
            let rest = rest.trim_start();
            // The patch parser understands heredoc wrappers itself.
            rest.starts_with("<<").then(|| (rest.to_string(), workdir))
        }
        _ => None,
    }
}

pub async fn handle(ctx: &TurnContext, input: &str, workdir: Option<&str>) -> ToolOutcome {
    let item_id = ctx.session.next_item_id();
    let cwd = ctx.resolve_workdir(workdir);
    let planned = tandem_apply_patch::parse_patch(input)
        .map_err(|e| e.to_string())
        .and_then(|patch| {
            tandem_apply_patch::plan_patch(&patch, &cwd, ctx.session.file_source.as_ref())
                .map_err(|e| e.to_string())
        });
    let changes = match planned {
        Ok(changes) => changes,
        Err(message) => {
            finish(ctx, &item_id, Vec::new(), ItemStatus::Failed);
            return ToolOutcome::Output(format!(
                "apply_patch failed: {message}\nNo file was changed."
            ));
        }
    };
    let summary = summarize(&changes, &cwd);
    ctx.emit(EventMsg::ItemStarted {
        item: item(&item_id, summary.clone(), ItemStatus::InProgress),
    });

    let targets: Vec<PathBuf> = changes
        .iter()
        .flat_map(|c| {
            let mv = match &c.kind {
                ChangeKind::Update {
                    move_to: Some(to), ..
                } => Some(to.clone()),
                _ => None,
            };
            std::iter::once(c.path.clone()).chain(mv)
        })
        .collect();
    let plan = policy::plan_patch(
        ctx.approval,
        ctx.sandbox,
        &ctx.writable_roots,
        &targets,
        ctx.session.approve_patches_before_write,
    );
    match plan {
        PatchPlan::Apply => {}
        PatchPlan::Reject(message) => {
            finish(ctx, &item_id, summary, ItemStatus::Declined);
            return ToolOutcome::Output(message);
        }
        PatchPlan::Ask { reason } => {
            let request = ApprovalRequest {
                id: String::new(),
                item_id: item_id.clone(),
                kind: ApprovalKind::Patch,
                command: None,
                cwd: Some(cwd.display().to_string()),
                reason: Some(reason),
                changes: changes.iter().map(|c| proposed(c, &cwd)).collect(),
                mcp_call: None,
            };
            match ctx
                .session
                .request_answer(&ctx.turn_id, request, &ctx.cancel)
                .await
            {
                Answer::Resolved(outcome) => {
                    return resolved_by_shell(ctx, &item_id, summary, outcome);
                }
                Answer::Decision(ReviewDecision::AllowOnce | ReviewDecision::AllowSession) => {}
                Answer::Decision(ReviewDecision::Deny) => {
                    finish(ctx, &item_id, summary, ItemStatus::Declined);
                    return ToolOutcome::Output("The user rejected this patch. No file was changed. Ask the user how to proceed, or try a different change.".into());
                }
                Answer::Decision(ReviewDecision::Cancel) => {
                    finish(ctx, &item_id, summary, ItemStatus::Declined);
                    return ToolOutcome::Abort;
                }
            }
        }
    }
    if let Err(e) = tandem_apply_patch::commit_to_disk(&changes) {
        finish(ctx, &item_id, summary, ItemStatus::Failed);
        return ToolOutcome::Output(format!(
            "apply_patch failed while writing: {e}\nNo file was changed."
        ));
    }
    tell_source(ctx.session.file_source.as_ref(), &changes);
    {
        let mut state = ctx.session.state();
        for change in &summary {
            state.files_touched.insert(change.path.clone());
        }
    }
    ctx.emit(EventMsg::PatchApplied {
        item_id: item_id.clone(),
        changes: changes.iter().map(|c| proposed(c, &cwd)).collect(),
    });
    let mut text = String::from("Success. Updated the following files:\n");
    for c in &summary {
        let letter = match c.kind {
            PatchChangeKind::Add => 'A',
            PatchChangeKind::Delete => 'D',
            PatchChangeKind::Update => 'M',
        };
        text.push_str(&format!("{letter} {}\n", c.path));
    }
    finish(ctx, &item_id, summary, ItemStatus::Completed);
    ToolOutcome::Output(text)
}

/// The shell reviewed the patch hunk by hunk and wrote what was accepted itself.
fn resolved_by_shell(
    ctx: &TurnContext,
    item_id: &str,
    summary: Vec<FileUpdateChange>,
    outcome: PatchOutcome,
) -> ToolOutcome {
    ctx.session
        .state()
        .files_touched
        .extend(outcome.files.iter().cloned());
    let status = if outcome.applied {
        ItemStatus::Completed
    } else {
        ItemStatus::Declined
    };
    finish(ctx, item_id, summary, status);
    ToolOutcome::Output(format!(
        "The user reviewed this patch hunk by hunk in their editor.\n{}",
        outcome.report
    ))
}

fn finish(ctx: &TurnContext, item_id: &str, changes: Vec<FileUpdateChange>, status: ItemStatus) {
    ctx.emit(EventMsg::ItemCompleted {
        item: item(item_id, changes, status),
    });
}

/// Tells the file source what is on disk now, before anything reads again (an editor's buffers
/// catch up only later, when the shell has pushed the change to them).
fn tell_source(source: &dyn FileSource, changes: &[PlannedChange]) {
    for c in changes {
        match &c.kind {
            ChangeKind::Add { new }
            | ChangeKind::Update {
                new, move_to: None, ..
            } => source.written(&c.path, Some(new)),
            ChangeKind::Delete { .. } => source.written(&c.path, None),
            ChangeKind::Update {
                new,
                move_to: Some(to),
                ..
            } => {
                source.written(&c.path, None);
                source.written(to, Some(new));
            }
        }
    }
}

fn item(id: &str, changes: Vec<FileUpdateChange>, status: ItemStatus) -> ThreadItem {
    ThreadItem {
        id: id.to_string(),
        details: ItemDetails::FileChange { changes, status },
    }
}

fn display_path(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd).unwrap_or(path).display().to_string()
}

fn summarize(changes: &[PlannedChange], cwd: &Path) -> Vec<FileUpdateChange> {
    changes
        .iter()
        .map(|c| FileUpdateChange {
            path: display_path(&c.path, cwd),
            kind: match c.kind {
                ChangeKind::Add { .. } => PatchChangeKind::Add,
                ChangeKind::Delete { .. } => PatchChangeKind::Delete,
                ChangeKind::Update { .. } => PatchChangeKind::Update,
            },
        })
        .collect()
}

fn proposed(c: &PlannedChange, cwd: &Path) -> ProposedFileChange {
    let (kind, old, new, move_path) = match &c.kind {
        ChangeKind::Add { new } => (PatchChangeKind::Add, None, Some(new.clone()), None),
        ChangeKind::Delete { old } => (PatchChangeKind::Delete, Some(old.clone()), None, None),
        ChangeKind::Update { old, new, move_to } => (
            PatchChangeKind::Update,
            Some(old.clone()),
            Some(new.clone()),
            move_to.as_ref().map(|m| display_path(m, cwd)),
        ),
    };
    ProposedFileChange {
        path: display_path(&c.path, cwd),
        kind,
        move_path,
        old_content: old,
        new_content: new,
        unified_diff: c.unified_diff.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_heredoc_form() {
        let argv = vec![
            "bash".into(),
            "-lc".into(),
            "apply_patch <<'EOF'\n*** Begin Patch\n*** End Patch\nEOF\n".into(),
        ];
        let (patch, dir) = patch_from_shell_command(&argv).unwrap();
        assert!(patch.starts_with("<<'EOF'"));
        assert_eq!(dir, None);
        let argv = vec![
            "bash".into(),
            "-lc".into(),
            "cd sub && apply_patch <<EOF\nx\nEOF".into(),
        ];
        assert_eq!(
            patch_from_shell_command(&argv).unwrap().1.as_deref(),
            Some("sub")
        );
        assert_eq!(patch_from_shell_command(&["ls".into()]), None);
        assert_eq!(
            patch_from_shell_command(&["bash".into(), "-lc".into(), "echo apply_patch".into()]),
            None
        );
    }
}
