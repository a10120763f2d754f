//! One command, one sandbox: what `tandem-sandbox [options] -- COMMAND` does.
//!
//! The helper process (the supervisor) stays in the host namespaces. It clones the sandbox init
//! straight into new user + mount + PID + IPC (+ network) namespaces with one `clone`; the init
//! maps its own uid, builds the mount plan, mounts `/proc`, applies the remaining layers and
//! runs the command. The supervisor forwards signals, waits, and exits with the command's
//! status unchanged: the same code, or death by the same signal.
//!
//! The init shares the supervisor's memory (`CLONE_VM`, see `sys::clone_vm`): no page tables
//! to copy and no copy-on-write faults while it builds the sandbox, and the supervisor's exit
//! leaves the address space to the init instead of tearing it down on the command's critical
//! path. Sharing is safe because the supervisor only waits (plain syscalls, no allocation) until
//! the init has reported, and the init only exits after that. Isolation is unaffected:
//! credentials, namespaces, Landlock and seccomp are per task, and the command itself is a new
//! program (`execve`) with an address space of its own.

use crate::env::{EnvContext, apply_env_policy};
use crate::error::{Layer, Result, SandboxError};
use crate::init::{self, Exec, Layers, Report};
use crate::inspect::{self, Prepared};
use crate::mountplan::{self, MountPlan};
use crate::policy::ResolvedPolicy;
use crate::sys;
use crate::{fallback, landlock_layer, seccomp};
use seccompiler::BpfProgram;
use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicI32, Ordering};
use tandem_protocol::SandboxMode;

/// How a sandboxed run ended, as far as the supervisor's own exit is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Raw wait status of the command.
    Status(i32),
}

/// Everything the init needs, prepared in the supervisor before cloning.
pub(crate) struct Prepped {
    pub plan: MountPlan,
    /// The host directories replaced by empty ones (for the session's later socket covers).
    pub socket_dirs: Vec<std::path::PathBuf>,
    pub landlock_rules: landlock_layer::LandlockRules,
    pub seccomp: BpfProgram,
    pub uid: u32,
    pub gid: u32,
}

impl Prepped {
    pub(crate) fn new(policy: &ResolvedPolicy, prepared: &Prepared) -> Result<Prepped> {
        Ok(Prepped {
            plan: mountplan::plan(policy, &prepared.facts),
            socket_dirs: prepared.facts.socket_dirs.clone(),
            landlock_rules: landlock_layer::namespace_rules(policy),
            seccomp: seccomp::compile(policy.network)?,
            // SAFETY: getuid/getgid cannot fail.
            uid: unsafe { libc::getuid() },
            gid: unsafe { libc::getgid() },
        })
    }
}

/// The clone flags of a sandbox (session or one-shot).
pub(crate) fn namespace_flags(policy: &ResolvedPolicy) -> u64 {
    let mut flags =
        (libc::CLONE_NEWUSER | libc::CLONE_NEWNS | libc::CLONE_NEWPID | libc::CLONE_NEWIPC) as u64;
    if !policy.network {
        flags |= libc::CLONE_NEWNET as u64;
    }
    flags
}

/// Maps our own uid/gid into the new user namespace (the only mapping an unprivileged process
/// may write, and the one that keeps file ownership in the workspace natural).
pub(crate) fn write_id_maps(uid: u32, gid: u32) -> Result<()> {
    let nerr = |what: &str, e| SandboxError::layer(Layer::UserNamespace, what, e);
    sys::write_file(c"/proc/self/setgroups", b"deny").map_err(|e| nerr("setgroups", e))?;
    sys::write_file(c"/proc/self/uid_map", format!("{uid} {uid} 1").as_bytes())
        .map_err(|e| nerr("uid_map", e))?;
    sys::write_file(c"/proc/self/gid_map", format!("{gid} {gid} 1").as_bytes())
        .map_err(|e| nerr("gid_map", e))
}

/// Maps the first mount failure (making `/` private) to a namespace failure: that is how a
/// user namespace without real capabilities (AppArmor's restriction on Ubuntu) shows up.
pub(crate) fn build_mounts(plan: &MountPlan) -> Result<()> {
    crate::mounts::execute(plan).map_err(|e| match e {
        SandboxError::Layer {
            layer: Layer::Mounts,
            detail,
        } if detail.starts_with("making / private") => SandboxError::Layer {
            layer: Layer::Namespaces,
            detail,
        },
        other => other,
    })
}

/// Builds the Landlock ruleset inside the new mount namespace (rules bind to the inodes the
/// paths resolve to there: our tmpfs `/tmp`, the re-attached roots).
pub(crate) fn landlock_fd(prepped: &Prepped, policy: &ResolvedPolicy) -> Result<Option<OwnedFd>> {
    match landlock_layer::build(&prepped.landlock_rules)? {
        Some(fd) => Ok(Some(fd)),
        None if policy.allow_without_landlock => Ok(None),
        None => Err(SandboxError::LandlockUnavailable {
            detail: "landlock_create_ruleset is not supported".into(),
        }),
    }
}

static CHILD_PID: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward_to_child(sig: i32) {
    let pid = CHILD_PID.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    }
}

/// Forwards the usual termination signals from the supervisor to `pid`.
pub(crate) fn forward_signals_to(pid: i32) {
    CHILD_PID.store(pid, Ordering::SeqCst);
    for &s in init::FORWARDED {
        sys::set_signal_handler(s, forward_to_child as *const () as libc::sighandler_t);
    }
}

/// Runs `argv` under `policy`. Returns the command's raw wait status.
pub(crate) fn run(policy: &ResolvedPolicy, argv: &[OsString]) -> Result<Outcome> {
    if policy.mode == SandboxMode::DangerFullAccess {
        let env = apply_env_policy(&policy.env, std::env::vars_os(), EnvContext::Unsandboxed);
        let exec = Exec::new(argv, &env, &policy.cwd)?;
        // SAFETY: valid C string.
        if unsafe { libc::chdir(exec.cwd.as_ptr()) } < 0 {
            return Err(SandboxError::io(
                format!("chdir {}", policy.cwd.display()),
                std::io::Error::last_os_error(),
            ));
        }
        init::exec_command(&exec);
    }
    if policy.force_landlock_only {
        return fallback::run(policy, argv);
    }
    let prepared = inspect::prepare_namespaced(policy)?;
    crate::timing::mark("inspected");
    match run_namespaced(policy, argv, &prepared) {
        Err(e) if e.is_namespace_unavailable() && policy.allow_landlock_only_fallback => {
            fallback::run(policy, argv)
        }
        other => other,
    }
}

fn run_namespaced(
    policy: &ResolvedPolicy,
    argv: &[OsString],
    prepared: &Prepared,
) -> Result<Outcome> {
    let prepped = Prepped::new(policy, prepared)?;
    crate::timing::mark("prepped");
    let env = apply_env_policy(
        &policy.env,
        std::env::vars_os(),
        EnvContext::Namespaces {
            network: policy.network,
            writable_roots: &policy.writable_roots,
        },
    );
    let exec = Exec::new(argv, &env, &policy.cwd)?;
    crate::timing::mark("exec-built");
    let (report_r, report_w) =
        sys::pipe().map_err(|e| SandboxError::io("creating the report pipe", e))?;
    let stack = sys::ChildStack::new(INIT_STACK_SIZE)
        .map_err(|e| SandboxError::io("mapping the sandbox init's stack", e))?;
    let args = InitArgs {
        policy,
        prepped: &prepped,
        exec: &exec,
        report_r: report_r.as_raw_fd(),
        report_w: report_w.as_raw_fd(),
    };
    // All namespaces in one clone, sharing our memory (see `sys::clone_vm`). (Building the
    // network namespace in a parallel helper was measured: it wins a little on an idle machine
    // and loses a lot on a loaded one, where the init waits a whole time slice for the helper
    // to be scheduled.)
    // SAFETY: the helper is single-threaded (run_main's contract); `args` lives in this frame,
    // which stays put until the init has reported (then it only exits) or has exited, and until
    // then we only make plain syscalls: no allocation on the heap the init is using.
    let cloned = unsafe {
        sys::clone_vm(
            namespace_flags(policy),
            &stack,
            init_entry,
            &args as *const InitArgs<'_> as *mut libc::c_void,
        )
    };
    let pid = match cloned {
        Ok(pid) => pid,
        Err(e) => {
            return Err(SandboxError::UserNamespacesUnavailable {
                detail: format!("clone: {e}"),
            });
        }
    };
    crate::timing::mark("cloned");
    drop(report_w);
    forward_signals_to(pid);
    let mut buf = [0u8; 4096];
    let read = init::read_report_into(report_r.as_raw_fd(), &mut buf);
    crate::timing::mark("report-read");
    // The init killed and reaped everything else before reporting a status, so we do not wait
    // for its own exit (the namespace teardown); it is reaped by whoever inherits it.
    if let Ok(n) = read
        && let Report::Exited(st) = init::parse_report(&buf[..n])
    {
        return Ok(Outcome::Status(st));
    }
    // Anything else ends with the init's exit: from here on we may allocate again.
    let status = sys::wait_pid(pid).map_err(|e| SandboxError::io("waiting for the sandbox", e))?;
    let n = read.map_err(|e| SandboxError::io("reading the sandbox report", e))?;
    match init::parse_report(&buf[..n]) {
        Report::Exited(st) => Ok(Outcome::Status(st)),
        Report::Failed(message) => Err(SandboxError::Relayed {
            message,
            namespace: false,
        }),
        Report::NamespaceFailed(message) => Err(SandboxError::Relayed {
            message,
            namespace: true,
        }),
        // The init was killed (e.g. SIGKILL to the helper's process group).
        Report::Nothing => Ok(Outcome::Status(status)),
    }
}

/// Stack of the one-shot init. It runs the mount plan, Landlock and the command's spawn; a few
/// dozen KiB are used, the rest is never touched (and so never backed by memory).
const INIT_STACK_SIZE: usize = 1 << 20;

/// What the init needs from the supervisor's frame (shared memory, see `run_namespaced`).
struct InitArgs<'a> {
    policy: &'a ResolvedPolicy,
    prepped: &'a Prepped,
    exec: &'a Exec,
    report_r: RawFd,
    report_w: RawFd,
}

/// Entry point of the cloned init.
extern "C" fn init_entry(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `InitArgs` in `run_namespaced`'s frame, alive while we use it.
    let args = unsafe { &*(arg as *const InitArgs<'_>) };
    crate::timing::mark("init-start");
    // SAFETY: our copy of the read end (the descriptor table was copied, not shared).
    unsafe { libc::close(args.report_r) };
    sandbox_init(args.policy, args.prepped, args.exec, args.report_w)
}

/// The cloned child: PID 1 of the new namespaces.
fn sandbox_init(policy: &ResolvedPolicy, prepped: &Prepped, exec: &Exec, fd: RawFd) -> ! {
    let res = (|| -> Result<Option<OwnedFd>> {
        crate::privs::die_with_parent()?;
        write_id_maps(prepped.uid, prepped.gid)?;
        crate::timing::mark("idmaps");
        build_mounts(&prepped.plan)?;
        crate::timing::mark("mounts");
        landlock_fd(prepped, policy)
    })();
    crate::timing::mark("landlock-ruleset");
    let landlock = match res {
        Ok(l) => l,
        Err(e) => init::fail(fd, &e),
    };
    let layers = Layers {
        limits: policy.limits,
        landlock: landlock.as_ref(),
        seccomp: &prepped.seccomp,
        mount_proc: true,
    };
    init::run(&layers, exec, fd)
}
