//! The kernel's wire vocabulary: what goes in (`Op`), what comes out (`Event`), and the
//! items, policies and decisions both sides talk about.
//!
//! Every shell (`tandem exec`, the LSP server, the MCP server, the ACP agent, the cloud worker)
//! speaks to the kernel only through these types, which is why they live in a crate of their
//! own with no logic and no I/O. The JSON shapes of [`events::ThreadEvent`] are compatible with
//! `codex exec --json`, so CI scripts written for one work with the other.

pub mod events;
pub mod items;
pub mod ops;
pub mod policy;

pub use events::{Event, EventMsg, ThreadEvent};
pub use items::{ItemStatus, ThreadItem, TokenUsage};
pub use ops::{Op, PatchOutcome, TurnOverrides};
pub use policy::{ApprovalPolicy, ReviewDecision, SandboxMode};
