//! What the kernels read: the editor's open buffers, except where a write the kernel just made
//! has not reached the buffer yet.
//!
//! Under apply-then-review the kernel writes a patch to disk and goes on; the server then
//! sends the same change to the open buffer (`workspace/applyEdit`), which comes back as a
//! `didChange` some milliseconds later (Neovim debounces it). A tool call in between would read
//! the old buffer and plan its next patch against stale text. So the written content is kept
//! here, per path, from the moment of the write until the buffer moves (its next `didChange`
//! or `didClose`) or the edit fails. The kernel reports each write itself, synchronously
//! ([`FileSource::written`]), so there is no gap between the write and the next read, however
//! late the server's event loop sees the `PatchApplied` event.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tandem_apply_patch::FileSource;
use tandem_workspace::SharedDocuments;

/// Written text per path; `None` for a file the kernel removed while its buffer is open.
#[derive(Debug, Clone, Default)]
pub struct Overlay {
    pending: Arc<RwLock<HashMap<PathBuf, Option<String>>>>,
}

impl Overlay {
    fn put(&self, path: &Path, text: Option<String>) {
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

    fn get(&self, path: &Path) -> Option<Option<String>> {
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
            Some(text) => Ok(text),
            None => FileSource::read(&self.docs, path),
        }
    }

    /// Only an open buffer that differs from what was written needs covering: every other
    /// read goes to the disk, which is already right. (An entry for a file that is not open
    /// would never be cleared, and would hide later writes by commands.)
    fn written(&self, path: &Path, text: Option<&str>) {
        let differs = match self.docs.read().get(path) {
            Some(doc) => text.is_none_or(|t| doc.text() != t),
            None => false,
        };
        if differs {
            self.overlay.put(path, text.map(str::to_string));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_workspace::DocumentStore;

    fn files(dir: &Path, open: &[(&str, &str)]) -> KernelFiles {
        let mut store = DocumentStore::new();
        for (name, text) in open {
            store.open(&dir.join(name), 1, text).unwrap();
        }
        KernelFiles {
            overlay: Overlay::default(),
            docs: SharedDocuments::new(store),
        }
    }

    /// The kernel's own report of a write covers an open buffer at once: no event loop, no
    /// round trip to the editor in between.
    #[test]
    fn a_reported_write_is_read_back_until_the_buffer_catches_up() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.rs");
        std::fs::write(&a, "new\n").unwrap();
        let f = files(dir.path(), &[("a.rs", "old\n")]);
        assert_eq!(f.read(&a).unwrap().as_deref(), Some("old\n"), "the buffer");
        f.written(&a, Some("new\n"));
        assert_eq!(f.read(&a).unwrap().as_deref(), Some("new\n"));
        // The buffer's didChange arrives: it is authoritative again.
        f.overlay.clear(&a);
        assert_eq!(f.read(&a).unwrap().as_deref(), Some("old\n"));
    }

    #[test]
    fn a_removed_open_file_reads_as_gone() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.rs");
        let f = files(dir.path(), &[("a.rs", "old\n")]);
        f.written(&a, None);
        assert_eq!(f.read(&a).unwrap(), None);
    }

    /// A file that is not open reads from the disk, which is already right; keeping its text
    /// would hide a later write by a command, since no didChange would ever clear it.
    #[test]
    fn writes_to_files_that_are_not_open_or_already_match_are_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        let b = dir.path().join("b.rs");
        let same = dir.path().join("same.rs");
        let f = files(dir.path(), &[("same.rs", "x\n")]);
        f.written(&b, Some("agent\n"));
        f.written(&same, Some("x\n"));
        std::fs::write(&b, "a command wrote this\n").unwrap();
        assert_eq!(
            f.read(&b).unwrap().as_deref(),
            Some("a command wrote this\n")
        );
        assert!(f.overlay.pending.read().unwrap().is_empty());
    }
}
