//! In-process tests of `tandem lsp`: a small LSP client over duplex pipes, a real kernel per
//! task, and the scripted model server over real HTTP.

mod suite;
mod support;
