//! Kernel-enforced isolation for every command the agent runs.
//!
//! A model chose the command, and the model may be wrong or steered by a prompt injection, so
//! isolation must sit below the application and cover every process the command starts. This
//! crate builds it from Linux primitives directly (no bubblewrap):
//!
//! * **namespaces**: user (the command runs as the caller's uid with *no* capabilities), mount
//!   (`/` read-only, writable roots re-attached, protected paths re-bound read-only, private
//!   `/tmp`, minimal `/dev`, fresh read-only `/proc`, host socket dirs hidden and every other
//!   path socket a host daemon listens on covered), PID (one per command: when it exits,
//!   everything it started dies), IPC, and network (when off);
//! * **Landlock**: writes only under the roots, no TCP without network, signals and abstract
//!   sockets scoped to the sandbox;
//! * **seccomp**: no mount/namespace/ptrace/io_uring/bpf/keyctl/kexec…, only Unix sockets
//!   without network;
//! * **no_new_privs**, an empty capability set, and limits (processes, file size).
//!
//! If a requested layer cannot be enforced the command does not run: exit 125 and a one-line
//! reason naming the layer and the fix. The only weaker mode is the opt-in Landlock-only
//! fallback for hosts without user namespaces, which `--probe` reports.
//!
//! # How the kernel uses it
//!
//! One-shot (any mode, including the fallback):
//! ```no_run
//! use tandem_sandbox::{SandboxPolicy, command_for};
//! let exe = std::env::current_exe().unwrap();
//! let policy = SandboxPolicy::default();
//! let std_cmd = command_for(&exe, Some("tandem-sandbox"), &policy, &["cargo", "build"]);
//! // tokio::process::Command::from(std_cmd).stdout(piped()).spawn()...
//! // exit status: the command's own; 125 + one stderr line = the sandbox failed.
//! ```
//! The kernel's `main` must dispatch on argv[0] first thing, before starting any thread:
//! ```no_run
//! if std::env::args_os().next().as_deref().and_then(|a| std::path::Path::new(a).file_name())
//!     == Some(std::ffi::OsStr::new("tandem-sandbox"))
//! {
//!     tandem_sandbox::run_main();
//! }
//! ```
//!
//! Session (many commands, setup paid once): [`SessionSandbox::start`] then
//! [`SessionSandbox::spawn`] → [`SandboxedChild`] (pipes as `File`s, `wait` blocks — use
//! `spawn_blocking` — or await readability of `status_fd()`; `kill` ends the command's whole
//! PID namespace).

mod bench;
mod bpf;
mod cli;
mod env;
mod error;
mod fallback;
mod hostsockets;
mod init;
mod inspect;
mod landlock_layer;
mod mountplan;
mod mounts;
mod oneshot;
mod policy;
mod privs;
mod probe;
mod seccomp;
mod session;
mod sys;
mod timing;
mod wire;
mod zygote;

pub use cli::EXIT_SANDBOX_FAILURE;
pub use env::{EnvContext, apply_env_policy, glob_match, is_dropped};
pub use error::{Layer, Result, SandboxError};
pub use landlock_layer::{Grant, LandlockRules, namespace_rules};
pub use mountplan::{EntryKind, Facts, MountPlan, MountStep, Protected, plan};
pub use policy::{
    DEFAULT_MAX_FILE_SIZE, DEFAULT_MAX_PROCESSES, EnvPolicy, PROTECTED_NAMES, ResolvedPolicy,
    ResourceLimits, SandboxPolicy,
};
pub use probe::{Check, Enforcement, LandlockProbe, Probe, probe};
pub use seccomp::{DenyRule, When, deny_rules};
pub use session::{ChildIo, SandboxedChild, SessionSandbox, SpawnRequest};
pub use sys::landlock_abi;
pub use tandem_protocol::SandboxMode;
pub use zygote::SessionInfo;

use std::ffi::{OsStr, OsString};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

/// The name the kernel gives argv[0] when it re-executes itself as the sandbox helper.
pub const HELPER_ARG0: &str = "tandem-sandbox";

/// Parses the command line (from `std::env::args_os()`, argv[0] skipped, so the standalone
/// binary and the arg0 trick behave the same) and runs. Never returns.
///
/// Must be called from a single-threaded process: the helper clones itself into namespaces.
pub fn run_main() -> ! {
    run_main_from(std::env::args_os())
}

/// [`run_main`] with the arguments given (argv[0] first, and ignored): for a `main` that gets
/// them from C, where `std::env::args_os` may be empty (musl under `no_main`). Never returns.
pub fn run_main_from(args: impl IntoIterator<Item = OsString>) -> ! {
    timing::mark("main");
    let args = std::iter::once(OsString::from(HELPER_ARG0)).chain(args.into_iter().skip(1));
    let code = cli::main(args);
    std::process::exit(code)
}

/// Builds the invocation of the helper that runs `argv` under `policy`.
///
/// `helper_exe` is the `tandem-sandbox` binary, or the kernel's own binary with
/// `arg0 = Some("tandem-sandbox")`. The policy travels as JSON in an argument; the command's
/// environment is the returned `Command`'s (the helper applies the policy's env rules to it).
/// The kernel pipes stdio itself, e.g. through `tokio::process::Command::from`.
pub fn command_for<S: AsRef<OsStr>>(
    helper_exe: &Path,
    arg0: Option<&str>,
    policy: &SandboxPolicy,
    argv: &[S],
) -> Command {
    let mut cmd = Command::new(helper_exe);
    if let Some(a) = arg0 {
        cmd.arg0(a);
    }
    // Serialising this struct cannot fail; if it ever did, an unparsable policy makes the
    // helper refuse (exit 125) rather than run with defaults.
    let json = serde_json::to_string(policy).unwrap_or_else(|_| "invalid".into());
    // No current_dir: the helper chdirs to the policy's cwd itself, and a missing directory
    // then comes back as exit 125 with its name instead of a bare spawn error.
    cmd.arg("--policy-json").arg(json).arg("--").args(argv);
    cmd
}

/// Benchmarks the session zygote (see `scripts/bench/sandbox`).
pub use bench::{ZygoteBench, run as bench_zygote};
