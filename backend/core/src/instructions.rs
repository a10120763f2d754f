//! What the model is told before the conversation: the base instructions, the environment,
//! and the AGENTS.md files.

use std::path::{Path, PathBuf};
use tandem_model::ResponseItem;
use tandem_protocol::{ApprovalPolicy, SandboxMode};

/// The base instructions, sent as the system prompt of every request.
pub const BASE_INSTRUCTIONS: &str = include_str!("prompt.md");

/// The facts of this session the model needs to plan well: where it is and what it may do.
pub fn environment_context(
    cwd: &Path,
    approval: ApprovalPolicy,
    sandbox: SandboxMode,
    network: bool,
    writable_roots: &[PathBuf],
) -> ResponseItem {
    let mut text = String::from("<environment_context>\n");
    text.push_str(&format!("  <cwd>{}</cwd>\n", cwd.display()));
    text.push_str(&format!(
        "  <approval_policy>{approval}</approval_policy>\n"
    ));
    text.push_str(&format!("  <sandbox_mode>{sandbox}</sandbox_mode>\n"));
    let net = if sandbox == SandboxMode::DangerFullAccess || network {
        "enabled"
    } else {
        "restricted"
    };
    text.push_str(&format!("  <network_access>{net}</network_access>\n"));
    if sandbox == SandboxMode::WorkspaceWrite {
        text.push_str("  <writable_roots>\n");
        for root in writable_roots {
            text.push_str(&format!("    <root>{}</root>\n", root.display()));
        }
        text.push_str("  </writable_roots>\n");
    }
    text.push_str("  <shell>bash</shell>\n</environment_context>");
    ResponseItem::user_text(text)
}

/// The AGENTS.md text as a user message, or nothing when there is none.
pub fn project_docs_message(cwd: &Path, text: &str) -> Option<ResponseItem> {
    (!text.trim().is_empty()).then(|| {
        ResponseItem::user_text(format!(
            "# AGENTS.md instructions for {}\n\n<INSTRUCTIONS>\n{}\n</INSTRUCTIONS>",
            cwd.display(),
            text.trim_end()
        ))
    })
}
