//! Editor-facing state that knows nothing of LSP: open documents, Auto Context and inline
//! patch review. The LSP server translates to and from these types.
