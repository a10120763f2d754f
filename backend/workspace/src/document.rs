//! The open documents: a versioned rope per absolute path, and cheap snapshots of them.
//!
//! This is the overlay the agent reads through ([`tandem_apply_patch::FileSource`]): an open
//! buffer wins over the disk, so unsaved edits are what the agent sees and patches.
//!
//! # Why ropey 1.6 and not 2.0
//!
//! ropey 2.0 is byte-indexed, which would suit our byte offsets, but it is still a beta whose
//! API moves between releases. 1.6 is stable, is what helix ships, and its `cr_lines` feature
//! (with `unicode_lines` off) counts exactly LSP's line breaks (`\n`, `\r\n`, `\r`), which 2.0
//! also offers but only as a beta. The price of 1.6 is a byte-to-char conversion per edit,
//! which is O(log n) and costs well under a microsecond; see `benches/`.
//!
//! Cloning a `Rope` shares its tree, so a [`DocumentSnapshot`] costs a reference count, and a
//! [`StoreSnapshot`] costs one per open document.

use crate::error::DocumentError;
use crate::position::{self, Encoding, Range};
use ropey::Rope;
use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};
use tandem_apply_patch::{DiskSource, FileSource};

/// One change as an editor sends it: a range in the editor's encoding, or `None` to replace
/// the whole text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextChange {
    pub range: Option<Range>,
    pub text: String,
}

impl TextChange {
    pub fn replace_all(text: impl Into<String>) -> Self {
        Self {
            range: None,
            text: text.into(),
        }
    }

    pub fn edit(range: Range, text: impl Into<String>) -> Self {
        Self {
            range: Some(range),
            text: text.into(),
        }
    }
}

/// A change after conversion: bytes `start..old_end` of the text before it were replaced by
/// `text`. Edits of one batch apply in order, each to the text the previous one left.
///
/// The review store consumes exactly these, so the buffer and the review anchors move in step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteEdit {
    pub start: usize,
    pub old_end: usize,
    pub text: String,
}

impl ByteEdit {
    pub fn new(range: std::ops::Range<usize>, text: impl Into<String>) -> Self {
        Self {
            start: range.start,
            old_end: range.end,
            text: text.into(),
        }
    }

    /// The end of the inserted text, in the text after the edit.
    pub fn new_end(&self) -> usize {
        self.start + self.text.len()
    }

    /// Applies the edit to a rope. The range must lie on character boundaries.
    pub fn apply(&self, rope: &mut Rope) {
        let start = rope.byte_to_char(self.start);
        let end = rope.byte_to_char(self.old_end);
        if end > start {
            rope.remove(start..end);
        }
        if !self.text.is_empty() {
            rope.insert(start, &self.text);
        }
    }
}

/// An open document. The text is the editor's, byte for byte.
#[derive(Debug, Clone)]
pub struct Document {
    version: i32,
    text: Rope,
}

impl Document {
    pub fn version(&self) -> i32 {
        self.version
    }

    pub fn text(&self) -> &Rope {
        &self.text
    }
}

/// An immutable view of one document, for background readers.
#[derive(Debug, Clone)]
pub struct DocumentSnapshot {
    pub path: Arc<Path>,
    pub version: i32,
    pub text: Rope,
}

/// The documents open in the editor, keyed by absolute path.
#[derive(Debug, Default, Clone)]
pub struct DocumentStore {
    docs: HashMap<Arc<Path>, Document>,
}

fn check_absolute(path: &Path) -> Result<(), DocumentError> {
    if path.is_absolute() {
        Ok(())
    } else {
        Err(DocumentError::RelativePath(path.to_path_buf()))
    }
}

impl DocumentStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens (or reopens) a document. Reopening replaces the text and the version: editors
    /// reopen a buffer after a rename or a reload, and refusing would leave us with stale text.
    pub fn open(&mut self, path: &Path, version: i32, text: &str) -> Result<(), DocumentError> {
        check_absolute(path)?;
        let doc = Document {
            version,
            text: Rope::from_str(text),
        };
        match self.docs.get_mut(path) {
            Some(existing) => *existing = doc,
            None => {
                self.docs.insert(Arc::from(path), doc);
            }
        }
        Ok(())
    }

    /// Closes a document; afterwards reads of its path go to the disk. Returns whether it was
    /// open.
    pub fn close(&mut self, path: &Path) -> bool {
        self.docs.remove(path).is_some()
    }

    pub fn is_open(&self, path: &Path) -> bool {
        self.docs.contains_key(path)
    }

    pub fn get(&self, path: &Path) -> Option<&Document> {
        self.docs.get(path)
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// The open paths, in no particular order.
    pub fn paths(&self) -> impl Iterator<Item = &Arc<Path>> {
        self.docs.keys()
    }

    /// The sum of the open documents' sizes, in bytes.
    pub fn total_bytes(&self) -> usize {
        self.docs.values().map(|d| d.text.len_bytes()).sum()
    }

    /// Replaces the whole text (full document sync).
    pub fn replace(
        &mut self,
        path: &Path,
        version: i32,
        text: &str,
    ) -> Result<Vec<ByteEdit>, DocumentError> {
        self.apply_changes(
            path,
            version,
            &[TextChange::replace_all(text)],
            Encoding::Utf8,
        )
    }

    /// Applies one `didChange` batch: the changes in order, then the new version.
    ///
    /// The version must be greater than the current one; otherwise nothing is applied, since a
    /// late or replayed batch applied twice would corrupt the text silently. Returns the edits
    /// in bytes, for the review store.
    pub fn apply_changes(
        &mut self,
        path: &Path,
        version: i32,
        changes: &[TextChange],
        enc: Encoding,
    ) -> Result<Vec<ByteEdit>, DocumentError> {
        let doc = self
            .docs
            .get_mut(path)
            .ok_or_else(|| DocumentError::NotOpen(path.to_path_buf()))?;
        if version <= doc.version {
            return Err(DocumentError::StaleVersion {
                path: path.to_path_buf(),
                current: doc.version,
                received: version,
            });
        }
        let mut edits = Vec::with_capacity(changes.len());
        for change in changes {
            let edit = match change.range {
                Some(range) => ByteEdit::new(
                    position::range_to_offsets(&doc.text, range, enc),
                    &*change.text,
                ),
                None => ByteEdit::new(0..doc.text.len_bytes(), &*change.text),
            };
            if edit.start == 0 && edit.old_end == doc.text.len_bytes() {
                // A whole replacement builds a fresh, compact rope rather than editing one.
                doc.text = Rope::from_str(&edit.text);
            } else {
                edit.apply(&mut doc.text);
            }
            edits.push(edit);
        }
        doc.version = version;
        Ok(edits)
    }

    /// A snapshot of one document.
    pub fn snapshot_of(&self, path: &Path) -> Option<DocumentSnapshot> {
        self.docs
            .get_key_value(path)
            .map(|(k, d)| DocumentSnapshot {
                path: k.clone(),
                version: d.version,
                text: d.text.clone(),
            })
    }

    /// A snapshot of every open document, for readers on other threads.
    pub fn snapshot(&self) -> StoreSnapshot {
        StoreSnapshot {
            docs: Arc::new(self.docs.clone()),
        }
    }
}

/// An immutable copy of the store; cheap, since ropes share their trees.
#[derive(Debug, Clone, Default)]
pub struct StoreSnapshot {
    docs: Arc<HashMap<Arc<Path>, Document>>,
}

impl StoreSnapshot {
    pub fn get(&self, path: &Path) -> Option<&Document> {
        self.docs.get(path)
    }

    pub fn len(&self) -> usize {
        self.docs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }
}

fn read_through(doc: Option<&Document>, path: &Path) -> io::Result<Option<String>> {
    match doc {
        Some(doc) => Ok(Some(doc.text.to_string())),
        None => DiskSource.read(path),
    }
}

/// Open buffers first, then the disk.
impl FileSource for DocumentStore {
    fn read(&self, path: &Path) -> io::Result<Option<String>> {
        read_through(self.get(path), path)
    }
}

/// Open buffers (as they were when the snapshot was taken) first, then the disk.
impl FileSource for StoreSnapshot {
    fn read(&self, path: &Path) -> io::Result<Option<String>> {
        read_through(self.get(path), path)
    }
}

/// A store shared between the editor side (which writes) and agent tools (which read the live
/// buffers through [`FileSource`]). A lock held only for a lookup and a rope clone.
#[derive(Debug, Clone, Default)]
pub struct SharedDocuments {
    inner: Arc<RwLock<DocumentStore>>,
}

impl SharedDocuments {
    pub fn new(store: DocumentStore) -> Self {
        Self {
            inner: Arc::new(RwLock::new(store)),
        }
    }

    /// Reads the store. A poisoned lock is recovered: the store holds plain data, and a panic
    /// elsewhere leaves it consistent (every mutation is a single assignment or rope edit).
    pub fn read(&self) -> RwLockReadGuard<'_, DocumentStore> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, DocumentStore> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl FileSource for SharedDocuments {
    fn read(&self, path: &Path) -> io::Result<Option<String>> {
        // Clone the rope under the lock, build the string outside it.
        let text = self.read().get(path).map(|d| d.text.clone());
        match text {
            Some(text) => Ok(Some(text.to_string())),
            None => DiskSource.read(path),
        }
    }
}

#[cfg(test)]
#[path = "document_tests.rs"]
mod tests;
