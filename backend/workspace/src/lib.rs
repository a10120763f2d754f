//! Editor-facing state that knows nothing of LSP, URIs or JSON-RPC: the open documents
//! ([`document`]), Auto Context ([`context`]) and inline patch review ([`review`]), tied
//! together by [`Workspace`].
//!
//! Everything is keyed by absolute paths. Inside, positions are UTF-8 byte offsets or
//! [`position::LineCol`]s; editor positions in UTF-16, UTF-8 or UTF-32 are converted in exactly
//! one module, [`position`]. The LSP server converts URIs to paths and wire types to these
//! types, makes one call, and converts the answer back.

pub mod context;
pub mod document;
pub mod error;
pub mod position;
pub mod review;

mod diff;
mod workspace;

pub use document::{ByteEdit, DocumentStore, SharedDocuments, StoreSnapshot, TextChange};
pub use error::{DocumentError, ReviewError};
pub use position::{Encoding, LineCol, Position, Range};
pub use workspace::{DiagnosticInput, FocusInput, Workspace};
