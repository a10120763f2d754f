//! Test cases, one module per area, and the shared harness.

mod agents_md;
mod approvals;
mod compaction;
mod errors;
mod harness;
mod interrupt;
mod loop_e2e;
mod mcp_client;
mod resume;
mod sandbox;
