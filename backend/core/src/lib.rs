//! The agent kernel: a queue pair of [`Op`](tandem_protocol::Op) in and
//! [`Event`](tandem_protocol::Event) out.
//!
//! Every shell — `tandem exec`, the LSP server, the MCP server, the ACP agent — drives a
//! [`Kernel`] and nothing else. The kernel knows nothing of LSP, URIs, JSON-RPC or terminals:
//! it reads files through a [`FileSource`](tandem_apply_patch::FileSource), runs commands
//! through the sandbox helper, and reports everything as events.

pub mod compact;
pub mod exec;
mod follow;
pub mod instructions;
mod kernel;
pub mod policy;
pub mod rollout;
pub mod safe_commands;
mod sandboxing;
mod session;
pub mod tools;
pub mod truncate;
mod turn;

pub use follow::{FollowedTurn, InterruptOnDrop, TurnFollower, belongs};
pub use kernel::{Kernel, KernelError, KernelOptions, OpSender};
pub use rollout::SessionStore;
pub use session::SandboxHelper;
