//! What the kernels read: the editor's open buffers, except where a write the kernel just made
//! has not reached the buffer yet.
//!
//! Under apply-then-review the kernel writes a patch to disk and goes on; the server then
//! sends the same change to the open buffer (`workspace/applyEdit`), which comes back as a
//! `didChange` some milliseconds later (Neovim debounces it). A tool call in between would read
//! the old buffer and plan its next patch against stale text. So the written content is kept
//! here, per path, from the moment the server learns of the write until the buffer moves
//! (its next `didChange` or `didClose`) or the edit fails.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tandem_apply_patch::FileSource;
use tandem_workspace::SharedDocuments;

#[derive(Debug, Clone, Default)]
pub struct Overlay {
    pending: Arc<RwLock<HashMap<PathBuf, String>>>,
}

impl Overlay {
    pub fn set(&self, path: &Path, text: String) {
        self.pending
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.to_path_buf(), text);
    }

    /// The buffer is authoritative again. Cheap when nothing is pending (the common case, on
    /// every keystroke).
    pub fn clear(&self, path: &Path) {
        let pending = self.pending.read().unwrap_or_else(|e| e.into_inner());
        if pending.is_empty() || !pending.contains_key(path) {
            return;
        }
        drop(pending);
        self.pending
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(path);
    }

    fn get(&self, path: &Path) -> Option<String> {
        self.pending
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(path)
            .cloned()
    }
}

/// The kernel's [`FileSource`]: pending writes, then open buffers, then the disk.
pub struct KernelFiles {
    pub overlay: Overlay,
    pub docs: SharedDocuments,
}

impl FileSource for KernelFiles {
    fn read(&self, path: &Path) -> io::Result<Option<String>> {
        match self.overlay.get(path) {
            Some(text) => Ok(Some(text)),
            None => FileSource::read(&self.docs, path),
        }
    }
}
