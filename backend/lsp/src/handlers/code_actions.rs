//! Review through standard LSP: `textDocument/codeAction`, `textDocument/codeLens` and
//! `workspace/executeCommand`.
//!
//! The actions carry commands, not edits. A command brings the decision back to the server,
//! which runs the same path as `tandem/review/accept`: the stale check, the versioned
//! `workspace/applyEdit` against the buffer's current version, and the report to the model once
//! every hunk is decided. An action with an edit would be applied by the client without the
//! server knowing it was chosen, and a rejection before write has no edit to carry at all.
//! Both `vim.lsp.buf.code_action` and VS Code run such commands through
//! `workspace/executeCommand`, because `initialize` lists them in `executeCommandProvider`.

use crate::convert;
use crate::error::{LspError, Result};
use crate::handlers::review;
use crate::state::Shared;
use serde_json::Value;
use std::sync::Arc;
use tandem_protocol_ext::review::{ReviewDecisionParams, ReviewTarget};
use tandem_workspace::review::{HunkState, HunkView};
use tower_lsp_server::lsp_types as lsp;

/// The command ids are the method names: the argument is that method's params.
pub const ACCEPT_COMMAND: &str = "tandem/review/accept";
pub const REJECT_COMMAND: &str = "tandem/review/reject";

fn command(title: &str, accept: bool, target: ReviewTarget) -> lsp::Command {
    let params = ReviewDecisionParams { target };
    lsp::Command {
        title: title.into(),
        command: if accept {
            ACCEPT_COMMAND
        } else {
            REJECT_COMMAND
        }
        .into(),
        arguments: Some(vec![serde_json::to_value(params).unwrap_or(Value::Null)]),
    }
}

fn action(title: String, accept: bool, target: ReviewTarget) -> lsp::CodeActionOrCommand {
    lsp::CodeActionOrCommand::CodeAction(lsp::CodeAction {
        command: Some(command(&title, accept, target)),
        title,
        kind: Some(lsp::CodeActionKind::QUICKFIX),
        ..Default::default()
    })
}

fn undecided(h: &HunkView) -> bool {
    matches!(h.state, HunkState::Pending | HunkState::Conflicted)
}

pub fn code_action(
    shared: &Shared,
    params: lsp::CodeActionParams,
) -> Result<Option<lsp::CodeActionResponse>> {
    let path = convert::lsp_uri_to_path(&params.text_document.uri)?;
    let hunks: Vec<HunkView> = shared
        .lock()
        .ws
        .hunks_at(&path, convert::lsp_range(params.range))
        .into_iter()
        .filter(undecided)
        .collect();
    if hunks.is_empty() {
        return Ok(None);
    }
    // Several hunks under one selection: name them, so the titles stay distinct.
    let suffix = |h: &HunkView| {
        if hunks.len() > 1 {
            format!(" ({})", h.id)
        } else {
            String::new()
        }
    };
    let mut actions = Vec::new();
    for h in &hunks {
        let target = || ReviewTarget::Hunk {
            hunk_id: h.id.clone(),
        };
        // A conflicted hunk can only be rejected: its text is no longer what it replaces.
        if h.state == HunkState::Pending {
            actions.push(action(
                format!("Accept change{}", suffix(h)),
                true,
                target(),
            ));
        }
        actions.push(action(
            format!("Reject change{}", suffix(h)),
            false,
            target(),
        ));
    }
    let file = || ReviewTarget::File {
        uri: params.text_document.uri.as_str().to_string(),
        change_id: None,
    };
    actions.push(action("Accept all in file".into(), true, file()));
    actions.push(action("Reject all in file".into(), false, file()));
    Ok(Some(actions))
}

pub fn code_lens(
    shared: &Shared,
    params: lsp::CodeLensParams,
) -> Result<Option<Vec<lsp::CodeLens>>> {
    let path = convert::lsp_uri_to_path(&params.text_document.uri)?;
    let s = shared.lock();
    let mut lenses = Vec::new();
    for change in s.ws.review().list(s.ws.encoding()) {
        for file in change.files.iter().filter(|f| &*f.path == path.as_path()) {
            for h in file.hunks.iter().filter(|h| undecided(h)) {
                let start = convert::to_lsp_range(h.range).start;
                let range = lsp::Range::new(start, start);
                let target = || ReviewTarget::Hunk {
                    hunk_id: h.id.clone(),
                };
                if h.state == HunkState::Pending {
                    lenses.push(lsp::CodeLens {
                        range,
                        command: Some(command(&format!("Accept {}", h.id), true, target())),
                        data: None,
                    });
                }
                lenses.push(lsp::CodeLens {
                    range,
                    command: Some(command(&format!("Reject {}", h.id), false, target())),
                    data: None,
                });
            }
        }
    }
    Ok(Some(lenses))
}

pub async fn execute_command(
    shared: &Arc<Shared>,
    params: lsp::ExecuteCommandParams,
) -> Result<Option<Value>> {
    let accept = match params.command.as_str() {
        ACCEPT_COMMAND => true,
        REJECT_COMMAND => false,
        other => {
            return Err(LspError::InvalidParams(format!(
                "unknown command `{other}`"
            )));
        }
    };
    let arg = params.arguments.into_iter().next().ok_or_else(|| {
        LspError::InvalidParams(format!("`{}` needs one argument", params.command))
    })?;
    let decision: ReviewDecisionParams =
        serde_json::from_value(arg).map_err(|e| LspError::InvalidParams(e.to_string()))?;
    let result = review::decide(shared, decision, accept).await?;
    Ok(Some(
        serde_json::to_value(result).map_err(|e| LspError::Internal(e.to_string()))?,
    ))
}
