//! Files deleted or moved on disk while the editor has them open: the buffer must not outlive
//! its file.
//!
//! The agent's `apply_patch` deletes files (`*** Delete File:`) and moves them (`*** Update
//! File:` with `*** Move to:`); accepting or reverting such a change in review does the same.
//! A buffer left open on the old path is a trap: saving it brings a deleted file back, or
//! writes the old path of a moved one again. It also misleads the agent, whose file reads see
//! open buffers before the disk, so a deleted file would still exist for it.
//!
//! So, once the disk has changed:
//!
//! 1. [`close`] drops the old path from the document store at once, as a `didClose` would,
//!    without awaiting anything: from then on the kernels read the disk, where the file is gone
//!    or at its new path. The new path is tracked from the client's `didOpen`, like any
//!    document, and a `didClose` the client sends for the old one is harmless.
//! 2. [`tell`] brings the client along. A client that announced the resource operation
//!    (`workspace.workspaceEdit.resourceOperations`, with `documentChanges`) gets a
//!    `workspace/applyEdit`: `DeleteFile` for a delete; `RenameFile`, followed by a `DeleteFile`
//!    of the old path when "delete" is announced too, for a move. Any other client, or one that
//!    does not apply the edit, gets a warning (`window/showMessage`) naming the buffer, so the
//!    person does not save it. (A client may apply the edit and still keep the buffer: Helix
//!    does. Nothing in the protocol tells the server; the person is not warned then.)
//!
//! # Why these options
//!
//! The edit describes something that has already happened on disk, so its options make it a
//! no-op on disk in every client: it can neither fail on the missing file nor write anything.
//!
//! - `DeleteFile` has `ignoreIfNotExists`. Without it VS Code refuses the whole edit ("does not
//!   exist and can not be deleted") and Neovim's `vim.fs.rm` raises. With it VS Code skips the
//!   file (its own file watcher already marks the editor deleted), and Neovim (0.11) skips the
//!   disk but still wipes the buffer, which is the point. Wiping a buffer with unsaved edits
//!   loses nothing: the agent read that very buffer, so it is the change's old content, which
//!   rejecting the change restores.
//! - `RenameFile` has `ignoreIfExists` and no `overwrite`. The target exists (the agent wrote
//!   it), so the spec says to skip the rename. `overwrite: true` would clobber the agent's file:
//!   Neovim renames a buffer with `:saveas!`, which writes the old text over the new file. And
//!   `overwrite` is left out rather than `false` because VS Code honours `ignoreIfExists` only
//!   when `overwrite` is absent. Neovim refuses any rename whose source is gone (with an error
//!   message, not a failed edit), which is why the `DeleteFile` of the old path follows it.

use crate::apply;
use crate::convert;
use crate::state::Shared;
use std::path::{Path, PathBuf};
use tower_lsp_server::lsp_types as lsp;

/// A file that is no longer where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gone {
    Deleted(PathBuf),
    Moved { from: PathBuf, to: PathBuf },
}

impl Gone {
    /// The path the buffer still names.
    fn old(&self) -> &Path {
        match self {
            Gone::Deleted(path) => path,
            Gone::Moved { from, .. } => from,
        }
    }
}

/// Closes the documents of `gone` that are open, and returns those (see the module docs). It
/// never awaits, so a caller can run it before a kernel can read again.
pub fn close(shared: &Shared, gone: Vec<Gone>) -> Vec<Gone> {
    let closed: Vec<Gone> = {
        let mut s = shared.lock();
        gone.into_iter()
            .filter(|g| !matches!(g, Gone::Moved { from, to } if from == to))
            .filter(|g| {
                let open = s.ws.documents().read().is_open(g.old());
                if open {
                    s.ws.did_close(g.old());
                }
                open
            })
            .collect()
    };
    for g in &closed {
        shared.overlay.clear(g.old());
    }
    closed
}

/// Tells the client about documents [`close`] closed; `by` says who changed the disk ("the
/// agent"), for the person.
pub async fn tell(shared: &Shared, closed: Vec<Gone>, by: &str) {
    let (delete, rename, root) = {
        let s = shared.lock();
        (s.caps.delete_files, s.caps.rename_files, s.root.clone())
    };
    let shown = |p: &Path| p.strip_prefix(&root).unwrap_or(p).display().to_string();
    for gone in closed {
        let (label, warning) = match &gone {
            Gone::Deleted(path) => {
                let path = shown(path);
                (
                    format!("Tandem: {by} deleted {path}"),
                    format!(
                        "Tandem: {by} deleted {path}, which is open in the editor. Close it \
                         without saving: saving it would bring the file back."
                    ),
                )
            }
            Gone::Moved { from, to } => {
                let (from, to) = (shown(from), shown(to));
                (
                    format!("Tandem: {by} moved {from} to {to}"),
                    format!(
                        "Tandem: {by} moved {from} to {to}, but {from} is still open in the \
                         editor. Close it without saving (saving it would write the old path \
                         again) and open {to}."
                    ),
                )
            }
        };
        let edit = match &gone {
            Gone::Deleted(path) if delete => operations(vec![delete_file(path)]),
            Gone::Moved { from, to } if rename => {
                let mut ops = vec![rename_file(from, to)];
                if delete {
                    ops.push(delete_file(from));
                }
                operations(ops)
            }
            _ => None,
        };
        let told = match edit {
            Some(edit) => apply::request_edit(shared, label, edit)
                .await
                .inspect_err(|reason| {
                    tracing::warn!(
                        "{}: the editor did not follow ({reason})",
                        shown(gone.old())
                    );
                })
                .is_ok(),
            None => false,
        };
        if !told {
            shared
                .client
                .show_message(lsp::MessageType::WARNING, warning)
                .await;
        }
    }
}

/// A workspace edit of resource operations; `None` if a path has no URI.
fn operations(ops: Vec<Option<lsp::ResourceOp>>) -> Option<lsp::WorkspaceEdit> {
    let ops = ops
        .into_iter()
        .map(|op| op.map(lsp::DocumentChangeOperation::Op))
        .collect::<Option<Vec<_>>>()?;
    Some(lsp::WorkspaceEdit {
        document_changes: Some(lsp::DocumentChanges::Operations(ops)),
        ..Default::default()
    })
}

fn delete_file(path: &Path) -> Option<lsp::ResourceOp> {
    Some(lsp::ResourceOp::Delete(lsp::DeleteFile {
        uri: convert::lsp_uri(path).ok()?,
        options: Some(lsp::DeleteFileOptions {
            recursive: None,
            ignore_if_not_exists: Some(true),
            annotation_id: None,
        }),
    }))
}

fn rename_file(from: &Path, to: &Path) -> Option<lsp::ResourceOp> {
    Some(lsp::ResourceOp::Rename(lsp::RenameFile {
        old_uri: convert::lsp_uri(from).ok()?,
        new_uri: convert::lsp_uri(to).ok()?,
        options: Some(lsp::RenameFileOptions {
            overwrite: None,
            ignore_if_exists: Some(true),
        }),
        annotation_id: None,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_move_is_a_rename_that_cannot_clobber_then_a_delete_that_cannot_fail() {
        let edit = operations(vec![
            rename_file(Path::new("/ws/a.rs"), Path::new("/ws/b.rs")),
            delete_file(Path::new("/ws/a.rs")),
        ])
        .unwrap();
        assert_eq!(
            serde_json::to_value(edit).unwrap(),
            json!({"documentChanges": [
                {"kind": "rename", "oldUri": "file:///ws/a.rs", "newUri": "file:///ws/b.rs",
                 "options": {"ignoreIfExists": true}},
                {"kind": "delete", "uri": "file:///ws/a.rs", "options": {"ignoreIfNotExists": true}},
            ]})
        );
    }
}
