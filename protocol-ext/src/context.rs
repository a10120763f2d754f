//! Auto Context: what the editor tells the server about where the user is, and what the
//! server would attach to the next turn.

use crate::types::Range;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `tandem/focus` (client → server notification). Sent when the cursor, the selection, the
/// visible ranges or the active editor change, debounced by the client (about 150 ms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct FocusParams {
    pub uri: String,
    pub position: crate::types::Position,
    /// Selections, empty ones included (a cursor is an empty selection).
    #[serde(default)]
    #[ts(optional, as = "Option<Vec<Range>>")]
    pub selections: Vec<Range>,
    #[serde(default)]
    #[ts(optional, as = "Option<Vec<Range>>")]
    pub visible_ranges: Vec<Range>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub enum DiagnosticSeverity {
    Error,
    Warning,
    Information,
    Hint,
}

/// A diagnostic the client shows, from any language server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ForwardedDiagnostic {
    pub range: Range,
    pub severity: DiagnosticSeverity,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub source: Option<String>,
}

/// `tandem/diagnostics/forward` (client → server notification). Replaces the diagnostics the
/// server knows for `uri` (an empty list clears them). Standard `publishDiagnostics` flows the
/// other way, so clients forward what other servers told them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ForwardDiagnosticsParams {
    pub uri: String,
    pub diagnostics: Vec<ForwardedDiagnostic>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub enum ContextItemKind {
    Focus,
    Selection,
    OpenFile,
    Diagnostics,
}

/// One block of context, exactly as it would be sent to the model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ContextItem {
    pub kind: ContextItemKind,
    pub uri: String,
    /// The span the text covers; absent for diagnostics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub range: Option<Range>,
    pub text: String,
    /// Estimated tokens (about four ASCII characters, or one other character, per token).
    pub tokens: u32,
    /// The text was cut to fit the budget.
    pub truncated: bool,
}

/// Why a file was left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
#[ts(tag = "type", rename_all = "camelCase")]
pub enum ExclusionReason {
    /// Its name looks like a secret (`.env*`, `*.pem`, `id_rsa*`, ...).
    Secret {
        pattern: String,
    },
    Gitignored,
    /// The configured deny list matched it.
    Denied {
        pattern: String,
    },
    OutsideWorkspace,
    OverBudget,
    /// More recently focused files took the open-file slots.
    Limit,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ContextExclusion {
    pub uri: String,
    pub reason: ExclusionReason,
}

/// `tandem/context/preview` result: what the next turn would carry, item by item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct ContextPreviewResult {
    /// False when the user turned Auto Context off; then `items` is empty and nothing is sent.
    pub enabled: bool,
    pub items: Vec<ContextItem>,
    pub total_tokens: u32,
    pub budget: u32,
    pub excluded: Vec<ContextExclusion>,
}

/// `tandem/context/setEnabled` (client → server request): the user's Auto Context toggle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct SetContextEnabledParams {
    pub enabled: bool,
}

/// The setting now in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[ts(rename_all = "camelCase")]
pub struct SetContextEnabledResult {
    pub enabled: bool,
}
