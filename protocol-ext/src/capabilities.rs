//! The version handshake: what each side announces under `experimental.tandem` in
//! `initialize`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The key under `experimental` in both capability objects.
pub const EXPERIMENTAL_KEY: &str = "tandem";

/// Sent by the server in `InitializeResult.capabilities.experimental.tandem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ServerCapabilities {
    pub protocol_version: u32,
    /// Every custom method the server handles or sends.
    pub methods: Vec<String>,
}

impl ServerCapabilities {
    pub fn current() -> Self {
        Self {
            protocol_version: crate::PROTOCOL_VERSION,
            methods: crate::METHODS
                .iter()
                .map(|m| m.method.to_string())
                .collect(),
        }
    }
}

/// Sent by the client in `InitializeParams.capabilities.experimental.tandem`. Everything
/// defaults to false, so a plain LSP client gets plain LSP fallbacks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
#[ts(rename_all = "camelCase")]
pub struct ClientCapabilities {
    #[ts(optional)]
    pub protocol_version: Option<u32>,
    /// Answers `tandem/approval/request` (otherwise: `window/showMessageRequest`).
    #[ts(optional, as = "Option<bool>")]
    pub approval_request: bool,
    /// Wants `tandem/review/changed` (otherwise: only code actions and CodeLens).
    #[ts(optional, as = "Option<bool>")]
    pub review_changed: bool,
    /// Wants `tandem/task/event` (otherwise: `window/logMessage` and `$/progress`).
    #[ts(optional, as = "Option<bool>")]
    pub task_events: bool,
}
