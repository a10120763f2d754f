//! `from_proto` and `to_proto`: wire types in, workspace types out, and back.
//!
//! Positions keep their encoding here: they are copied field by field into
//! `tandem_workspace::Position`, and the workspace converts them against the document in the
//! encoding negotiated at `initialize` (its `position` module is the only place that counts
//! columns). URIs become absolute paths here and nowhere else.

use crate::error::{LspError, Result};
use std::path::{Path, PathBuf};
use tandem_protocol_ext::{context as pc, review as pr, types as pt};
use tandem_workspace::context::{self as wc, ContextPreview, Severity};
use tandem_workspace::review::{ChangeView, HunkState, ProposalKind, ReviewModel, Target};
use tandem_workspace::{Position, Range};
use tower_lsp_server::lsp_types as lsp;

// ---- URIs and paths ------------------------------------------------------------------------

/// The absolute path of a `file://` URI, percent-decoded.
pub fn uri_to_path(uri: &str) -> Result<PathBuf> {
    let rest = uri
        .strip_prefix("file://")
        .ok_or_else(|| LspError::InvalidParams(format!("`{uri}` is not a file:// URI")))?;
    // `file://host/path`: only an empty host (or localhost) names this machine.
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|&b| hex(b)),
                bytes.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    let path = PathBuf::from(String::from_utf8_lossy(&out).into_owned());
    if !path.is_absolute() {
        return Err(LspError::InvalidParams(format!("`{uri}` is not absolute")));
    }
    Ok(path)
}

/// The `file://` URI of an absolute path, with everything but unreserved characters and `/`
/// percent-encoded (what VS Code and Neovim send, so the strings compare equal).
pub fn path_to_uri(path: &Path) -> String {
    let mut out = String::from("file://");
    for &b in path.to_string_lossy().as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn lsp_uri(path: &Path) -> Result<lsp::Uri> {
    path_to_uri(path)
        .parse()
        .map_err(|e| LspError::Internal(format!("cannot make a URI of {}: {e}", path.display())))
}

pub fn lsp_uri_to_path(uri: &lsp::Uri) -> Result<PathBuf> {
    uri_to_path(uri.as_str())
}

// ---- Positions -----------------------------------------------------------------------------

pub fn position(p: pt::Position) -> Position {
    Position::new(p.line, p.character)
}

pub fn range(r: pt::Range) -> Range {
    Range::new(position(r.start), position(r.end))
}

pub fn lsp_position(p: lsp::Position) -> Position {
    Position::new(p.line, p.character)
}

pub fn lsp_range(r: lsp::Range) -> Range {
    Range::new(lsp_position(r.start), lsp_position(r.end))
}

pub fn to_lsp_range(r: Range) -> lsp::Range {
    lsp::Range::new(
        lsp::Position::new(r.start.line, r.start.character),
        lsp::Position::new(r.end.line, r.end.character),
    )
}

pub fn to_range(r: Range) -> pt::Range {
    pt::Range {
        start: pt::Position {
            line: r.start.line,
            character: r.start.character,
        },
        end: pt::Position {
            line: r.end.line,
            character: r.end.character,
        },
    }
}

// ---- Auto Context --------------------------------------------------------------------------

pub fn severity(s: pc::DiagnosticSeverity) -> Severity {
    match s {
        pc::DiagnosticSeverity::Error => Severity::Error,
        pc::DiagnosticSeverity::Warning => Severity::Warning,
        pc::DiagnosticSeverity::Information => Severity::Information,
        pc::DiagnosticSeverity::Hint => Severity::Hint,
    }
}

fn exclusion(r: &wc::ExclusionReason) -> pc::ExclusionReason {
    match r {
        wc::ExclusionReason::Secret { pattern } => pc::ExclusionReason::Secret {
            pattern: pattern.clone(),
        },
        wc::ExclusionReason::Gitignored => pc::ExclusionReason::Gitignored,
        wc::ExclusionReason::Denied { pattern } => pc::ExclusionReason::Denied {
            pattern: pattern.clone(),
        },
        wc::ExclusionReason::OutsideWorkspace => pc::ExclusionReason::OutsideWorkspace,
        wc::ExclusionReason::OverBudget => pc::ExclusionReason::OverBudget,
        wc::ExclusionReason::Limit => pc::ExclusionReason::Limit,
    }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub fn context_preview(p: &ContextPreview) -> pc::ContextPreviewResult {
    pc::ContextPreviewResult {
        enabled: p.enabled,
        items: p
            .items
            .iter()
            .map(|i| pc::ContextItem {
                kind: match i.kind {
                    wc::ItemKind::Focus => pc::ContextItemKind::Focus,
                    wc::ItemKind::Selection => pc::ContextItemKind::Selection,
                    wc::ItemKind::OpenFile => pc::ContextItemKind::OpenFile,
                    wc::ItemKind::Diagnostics => pc::ContextItemKind::Diagnostics,
                },
                uri: path_to_uri(&i.path),
                range: i.range.map(to_range),
                text: i.text.clone(),
                tokens: clamp_u32(i.tokens),
                truncated: i.truncated,
            })
            .collect(),
        total_tokens: clamp_u32(p.total_tokens),
        budget: clamp_u32(p.budget),
        excluded: p
            .excluded
            .iter()
            .map(|e| pc::ContextExclusion {
                uri: path_to_uri(&e.path),
                reason: exclusion(&e.reason),
            })
            .collect(),
    }
}

// ---- Review --------------------------------------------------------------------------------

pub fn target(t: &pr::ReviewTarget) -> Result<Target> {
    Ok(match t {
        pr::ReviewTarget::Hunk { hunk_id } => Target::Hunk(hunk_id.clone()),
        pr::ReviewTarget::File { uri, change_id } => Target::File {
            path: uri_to_path(uri)?,
            change: change_id.clone(),
        },
        pr::ReviewTarget::Change { change_id } => Target::Change(change_id.clone()),
    })
}

fn hunk_state(s: HunkState) -> pr::HunkState {
    match s {
        HunkState::Pending => pr::HunkState::Pending,
        HunkState::Applying => pr::HunkState::Applying,
        HunkState::Reverting => pr::HunkState::Reverting,
        HunkState::Accepted => pr::HunkState::Accepted,
        HunkState::Rejected => pr::HunkState::Rejected,
        HunkState::Conflicted => pr::HunkState::Conflicted,
    }
}

pub fn review_model(m: ReviewModel) -> pr::ReviewModel {
    match m {
        ReviewModel::ApproveBeforeWrite => pr::ReviewModel::ApproveBeforeWrite,
        ReviewModel::ApplyThenReview => pr::ReviewModel::ApplyThenReview,
    }
}

pub fn review_change(c: &ChangeView) -> pr::ReviewChange {
    pr::ReviewChange {
        change_id: c.id.clone(),
        task_id: c.origin.task_id.clone(),
        turn_id: c.origin.turn_id.clone(),
        model: review_model(c.model),
        resolved: c.resolved,
        files: c
            .files
            .iter()
            .map(|f| {
                let (kind, move_to) = match &f.kind {
                    ProposalKind::Add => (pr::FileChangeKind::Add, None),
                    ProposalKind::Delete => (pr::FileChangeKind::Delete, None),
                    ProposalKind::Update => (pr::FileChangeKind::Update, None),
                    ProposalKind::Move { to } => (pr::FileChangeKind::Move, Some(path_to_uri(to))),
                };
                pr::ReviewFile {
                    uri: path_to_uri(&f.path),
                    kind,
                    move_to,
                    hunks: f
                        .hunks
                        .iter()
                        .map(|h| pr::ReviewHunk {
                            hunk_id: h.id.clone(),
                            state: hunk_state(h.state),
                            range: to_range(h.range),
                            old_text: h.old_text.clone(),
                            new_text: h.new_text.clone(),
                            whole_file: h.whole_file,
                        })
                        .collect(),
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_round_trip_with_spaces_and_unicode() {
        for p in ["/ws/a b/ü.rs", "/ws/plain.rs", "/ws/100%.txt", "/ws/#x?.rs"] {
            let uri = path_to_uri(Path::new(p));
            assert_eq!(uri_to_path(&uri).unwrap(), PathBuf::from(p), "{uri}");
        }
        assert_eq!(
            uri_to_path("file:///ws/a%20b.rs").unwrap(),
            PathBuf::from("/ws/a b.rs")
        );
        assert!(uri_to_path("untitled:1").is_err());
    }
}
