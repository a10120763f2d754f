//! The `tandem` multitool binary: `exec`, `lsp`, `mcp-server`, `acp`, and the sandbox by arg0.

fn main() {}
