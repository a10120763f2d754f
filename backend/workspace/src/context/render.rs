//! The preview as the kernel receives it: one `UserInput::Context` block per item, with a
//! label that says where the text came from.

use super::{ContextPreview, ItemKind};
use std::path::Path;
use tandem_protocol::ops::UserInput;

/// The path relative to the first workspace root that contains it, for shorter labels.
fn show(path: &Path, roots: &[std::path::PathBuf]) -> String {
    roots
        .iter()
        .find_map(|r| path.strip_prefix(r).ok())
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Turns a preview into the context blocks of a turn; nothing when Auto Context is off.
///
/// Labels carry 1-based line numbers, as people and compilers count:
/// `focus: src/main.rs lines 10-50`, `selection: src/main.rs lines 12-14`,
/// `open file: src/lib.rs lines 1-40 (truncated)`, `diagnostics: src/main.rs`.
pub fn render(preview: &ContextPreview, roots: &[std::path::PathBuf]) -> Vec<UserInput> {
    if !preview.enabled {
        return Vec::new();
    }
    preview
        .items
        .iter()
        .map(|item| {
            let what = match item.kind {
                ItemKind::Focus => "focus",
                ItemKind::Selection => "selection",
                ItemKind::OpenFile => "open file",
                ItemKind::Diagnostics => "diagnostics",
            };
            let mut label = format!("{what}: {}", show(&item.path, roots));
            if let Some((a, b)) = item.lines {
                label.push_str(&format!(" lines {}-{}", a + 1, b + 1));
            }
            if item.truncated {
                label.push_str(" (truncated)");
            }
            UserInput::Context {
                label,
                text: item.text.clone(),
            }
        })
        .collect()
}
