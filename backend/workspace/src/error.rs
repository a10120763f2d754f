//! The errors of this crate. Messages are written to be shown to a person as they are.

use std::path::PathBuf;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum DocumentError {
    #[error("document path `{}` is not absolute", .0.display())]
    RelativePath(PathBuf),
    #[error("document `{}` is not open", .0.display())]
    NotOpen(PathBuf),
    #[error(
        "change to `{}` has version {received}, but the document is already at version {current}; \
         the change was not applied",
        path.display()
    )]
    StaleVersion {
        path: PathBuf,
        current: i32,
        received: i32,
    },
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ReviewError {
    #[error("no pending change has the id `{0}`")]
    UnknownChange(String),
    #[error("no pending hunk has the id `{0}`")]
    UnknownHunk(String),
    #[error("no pending change touches `{}`", .0.display())]
    UnknownFile(PathBuf),
    #[error("change path `{}` is not absolute", .0.display())]
    RelativePath(PathBuf),
    #[error("a change for `{}` has neither old nor new content", .0.display())]
    MissingContent(PathBuf),
    /// The text the hunk would replace is no longer what the buffer holds.
    #[error(
        "hunk {hunk} in `{}` is stale: {detail}; it was not applied. Reject it, or ask the agent \
         to redo the change against the current text",
        path.display()
    )]
    Stale {
        hunk: String,
        path: PathBuf,
        detail: String,
    },
    #[error("hunk {hunk} is already {state}")]
    AlreadyResolved { hunk: String, state: &'static str },
    #[error("hunk {hunk} is waiting for its edit to reach the buffer; try again when it has")]
    InFlight { hunk: String },
    #[error(
        "turn {turn} cannot be undone: the text of hunk(s) {} was edited since; revert those by \
         hand, or reject the other hunks one by one",
        .hunks.join(", ")
    )]
    TurnConflict { turn: String, hunks: Vec<String> },
    #[error("no reviewed change belongs to turn `{0}`")]
    UnknownTurn(String),
    #[error("could not read `{}`: {message}", path.display())]
    Read { path: PathBuf, message: String },
}
