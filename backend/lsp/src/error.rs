//! The errors a request can fail with, and their JSON-RPC codes.
//!
//! Review errors keep the codes `docs/protocol.md` promises (`STALE_HUNK`, `UNKNOWN_ID`, ...),
//! so a client can tell "this hunk is stale" from "something broke" without parsing messages.
//! Messages come from the layer that knows best (the workspace crate writes them to be shown
//! to a person as they are).

use tandem_protocol_ext::error_codes;
use tandem_workspace::{DocumentError, ReviewError};
use tower_lsp_server::jsonrpc;

#[derive(Debug, thiserror::Error)]
pub enum LspError {
    #[error(transparent)]
    Review(#[from] ReviewError),
    #[error(transparent)]
    Document(#[from] DocumentError),
    #[error("invalid params: {0}")]
    InvalidParams(String),
    #[error("no task has the id `{0}`")]
    UnknownTask(String),
    #[error("no recorded thread has the id `{id}`: {message}")]
    UnknownThread { id: String, message: String },
    /// `config.toml` (or a setting) is wrong; the message names the file, line and key.
    #[error("the Tandem config is invalid: {0}")]
    Config(String),
    #[error("{0}")]
    Internal(String),
}

impl LspError {
    pub fn code(&self) -> i64 {
        let code = match self {
            LspError::Review(e) => match e {
                ReviewError::Stale { .. } => error_codes::STALE_HUNK,
                ReviewError::UnknownChange(_)
                | ReviewError::UnknownHunk(_)
                | ReviewError::UnknownFile(_)
                | ReviewError::UnknownTurn(_) => error_codes::UNKNOWN_ID,
                ReviewError::InFlight { .. } => error_codes::IN_FLIGHT,
                ReviewError::TurnConflict { .. } => error_codes::TURN_CONFLICT,
                ReviewError::AlreadyResolved { .. } => error_codes::ALREADY_DECIDED,
                _ => -32603,
            },
            LspError::UnknownTask(_) | LspError::UnknownThread { .. } => error_codes::UNKNOWN_ID,
            LspError::InvalidParams(_) | LspError::Document(_) => -32602,
            LspError::Config(_) | LspError::Internal(_) => -32603,
        };
        i64::from(code)
    }
}

impl From<LspError> for jsonrpc::Error {
    fn from(e: LspError) -> Self {
        jsonrpc::Error {
            code: jsonrpc::ErrorCode::from(e.code()),
            message: e.to_string().into(),
            data: None,
        }
    }
}

/// What handlers return.
pub type Result<T> = std::result::Result<T, LspError>;
