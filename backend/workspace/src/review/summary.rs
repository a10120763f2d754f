//! What became of a change, told so the model can continue: which hunks were accepted and
//! which rejected, file by file, and the final content once every hunk is decided.

use crate::review::types::{HunkState, ProposalKind, ReviewModel};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

/// One hunk's fate, with its line spans as proposed (1-based starts, as people count).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HunkOutcome {
    pub id: String,
    pub state: HunkState,
    /// First line and count in the old text.
    pub old_lines: (usize, usize),
    /// First line and count in the proposed new text.
    pub new_lines: (usize, usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileSummary {
    pub path: Arc<Path>,
    pub kind: ProposalKind,
    pub hunks: Vec<HunkOutcome>,
    /// The file's text now, once all its hunks are decided; `None` before that, or when the
    /// file does not exist.
    pub final_content: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSummary {
    pub change_id: String,
    pub model: ReviewModel,
    pub files: Vec<FileSummary>,
    /// Every hunk of every file is accepted or rejected.
    pub resolved: bool,
}

pub(super) struct HunkFacts {
    pub id: String,
    pub state: HunkState,
    pub old_line: usize,
    pub old_lines: usize,
    pub new_line: usize,
    pub new_lines: usize,
}

pub(super) fn build(
    change_id: &str,
    model: ReviewModel,
    files: impl Iterator<
        Item = (
            Arc<Path>,
            ProposalKind,
            impl Iterator<Item = HunkFacts>,
            Option<String>,
        ),
    >,
) -> ChangeSummary {
    let files: Vec<FileSummary> = files
        .map(|(path, kind, hunks, text)| {
            let hunks: Vec<HunkOutcome> = hunks
                .map(|h| HunkOutcome {
                    id: h.id,
                    state: h.state,
                    old_lines: (h.old_line + 1, h.old_lines),
                    new_lines: (h.new_line + 1, h.new_lines),
                })
                .collect();
            let done = hunks.iter().all(|h| h.state.is_final());
            FileSummary {
                path,
                kind,
                hunks,
                final_content: if done { text } else { None },
            }
        })
        .collect();
    let resolved = files
        .iter()
        .all(|f| f.hunks.iter().all(|h| h.state.is_final()));
    ChangeSummary {
        change_id: change_id.to_string(),
        model,
        files,
        resolved,
    }
}

fn span((start, count): (usize, usize)) -> String {
    match count {
        0 => format!("nothing (an insertion before line {start})"),
        1 => format!("line {start}"),
        n => format!("lines {start}-{}", start + n - 1),
    }
}

impl ChangeSummary {
    /// Ids of the hunks in a state, across files.
    pub fn ids(&self, state: HunkState) -> Vec<&str> {
        self.files
            .iter()
            .flat_map(|f| f.hunks.iter())
            .filter(|h| h.state == state)
            .map(|h| h.id.as_str())
            .collect()
    }

    /// A plain-text report for the model. It lists every hunk's fate with the line spans the
    /// model proposed, and, for every decided file where something was rejected, the file's
    /// final content: the model must not assume its proposal is what the file holds.
    pub fn render(&self) -> String {
        let count = |s| self.ids(s).len();
        let mut out = format!(
            "Review of change {} ({}): {} hunk(s) accepted, {} rejected",
            self.change_id,
            self.model.as_str(),
            count(HunkState::Accepted),
            count(HunkState::Rejected),
        );
        let open = self
            .files
            .iter()
            .flat_map(|f| &f.hunks)
            .filter(|h| !h.state.is_final())
            .count();
        if open > 0 {
            let _ = write!(out, ", {open} still undecided");
        }
        out.push_str(".\n");
        for file in &self.files {
            let _ = writeln!(out, "{}:", file.path.display());
            for h in &file.hunks {
                let what = match h.state {
                    HunkState::Accepted => format!(
                        "accepted: old {} became new {}",
                        span(h.old_lines),
                        span(h.new_lines)
                    ),
                    HunkState::Rejected => format!(
                        "rejected: old {} kept; proposed {} not applied",
                        span(h.old_lines),
                        span(h.new_lines)
                    ),
                    other => format!("{}: old {}", other.as_str(), span(h.old_lines)),
                };
                let _ = writeln!(out, "  {} {what}", h.id);
            }
            let rejected = file.hunks.iter().any(|h| h.state == HunkState::Rejected);
            match (&file.final_content, rejected) {
                (Some(text), true) => {
                    let nl = if text.ends_with('\n') { "" } else { "\n" };
                    let _ = writeln!(out, "  final content:\n```\n{text}{nl}```");
                }
                (None, true) if file.hunks.iter().all(|h| h.state.is_final()) => {
                    let _ = writeln!(out, "  the file does not exist");
                }
                _ => {}
            }
        }
        out
    }
}
