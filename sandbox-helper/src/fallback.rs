//! The opt-in Landlock-only fallback, for hosts without usable user namespaces.
//!
//! What it keeps: writes only under the writable roots' existing non-protected entries and a
//! private scratch directory (TMPDIR), protected names read-only and uncreatable, no TCP and
//! no non-Unix sockets without the network, no ptrace, signals and abstract sockets scoped to
//! the sandbox (Landlock ABI ≥ 6), no_new_privs, dropped capabilities, limits, and every
//! process killed when the command ends (we are a child subreaper and sweep our descendants).
//!
//! What it loses (reported by `--probe` and in docs/sandbox.md): new top-level entries of a
//! root cannot be created or removed, `/tmp` is the host's (read-only), path sockets of host
//! daemons stay reachable, other processes of the same user are visible in `/proc`, and for
//! root there is no process-count limit (the kernel exempts uid 0 from RLIMIT_NPROC).

use crate::env::{EnvContext, apply_env_policy};
use crate::error::{Layer, Result, SandboxError};
use crate::init::{self, Exec, Report};
use crate::oneshot::{Outcome, forward_signals_to};
use crate::policy::ResolvedPolicy;
use crate::{inspect, landlock_layer, privs, seccomp, sys};
use std::ffi::OsString;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// A private scratch directory under the host's /tmp, removed when the command ends.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Result<Scratch> {
        let mut template = b"/tmp/tandem-sandbox-XXXXXX\0".to_vec();
        // SAFETY: a writable NUL-terminated template ending in XXXXXX.
        let ret = unsafe { libc::mkdtemp(template.as_mut_ptr().cast()) };
        if ret.is_null() {
            return Err(SandboxError::io(
                "creating the scratch directory",
                std::io::Error::last_os_error(),
            ));
        }
        template.pop();
        Ok(Scratch(PathBuf::from(OsString::from_vec(template))))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `argv` with Landlock + seccomp only. Landlock is mandatory here: without it and
/// without namespaces there would be no filesystem isolation at all.
pub(crate) fn run(policy: &ResolvedPolicy, argv: &[OsString]) -> Result<Outcome> {
    if sys::landlock_abi() < 1 {
        return Err(SandboxError::LandlockUnavailable {
            detail: "the Landlock-only fallback needs Landlock".into(),
        });
    }
    let prepared = inspect::prepare(policy, false)?;
    let scratch = Scratch::new()?;
    let rules = landlock_layer::fallback_rules(policy, &prepared.facts, &scratch.0)?;
    let ruleset =
        landlock_layer::build(&rules)?.ok_or_else(|| SandboxError::LandlockUnavailable {
            detail: "landlock_create_ruleset failed".into(),
        })?;
    let bpf = seccomp::compile(policy.network)?;
    let env = apply_env_policy(
        &policy.env,
        std::env::vars_os(),
        EnvContext::LandlockOnly {
            network: policy.network,
            scratch: &scratch.0,
        },
    );
    let exec = Exec::new(argv, &env, &policy.cwd)?;
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1u64, 0u64, 0u64, 0u64) };
    let (report_r, report_w) =
        sys::pipe().map_err(|e| SandboxError::io("creating the report pipe", e))?;
    // SAFETY: the helper is single-threaded.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(SandboxError::layer(
            Layer::Process,
            "fork",
            std::io::Error::last_os_error(),
        ));
    }
    if pid == 0 {
        drop(report_r);
        let fd = report_w.as_raw_fd();
        let res = (|| -> Result<()> {
            privs::die_with_parent()?;
            // SAFETY: plain syscall; the new session is also what we sweep at the end.
            unsafe { libc::setsid() };
            // SAFETY: valid C string.
            if unsafe { libc::chdir(exec.cwd.as_ptr()) } < 0 {
                return Err(SandboxError::layer(
                    Layer::Process,
                    "chdir",
                    std::io::Error::last_os_error(),
                ));
            }
            privs::apply_limits(&policy.limits)?;
            privs::drop_all_capabilities()?;
            privs::set_no_new_privs()?;
            landlock_layer::restrict(&ruleset)?;
            seccomp::install(&bpf)?;
            sys::cloexec_from(3).map_err(|e| SandboxError::layer(Layer::Process, "close_range", e))
        })();
        if let Err(e) = res {
            init::fail(fd, &e);
        }
        init::exec_command(&exec);
    }
    drop(report_w);
    forward_signals_to(pid);
    let bytes = sys::read_to_end(report_r.as_raw_fd())
        .map_err(|e| SandboxError::io("reading the sandbox report", e))?;
    let status = sys::wait_pid(pid).map_err(|e| SandboxError::io("waiting for the command", e))?;
    sweep_descendants(pid);
    match init::parse_report(&bytes) {
        Report::Failed(message) | Report::NamespaceFailed(message) => Err(SandboxError::Relayed {
            message,
            namespace: false,
        }),
        _ => Ok(Outcome::Status(status)),
    }
}

/// Kills everything the command left behind. As a child subreaper we inherit every orphan, so
/// repeatedly killing our children (and the command's process group) reaches processes that
/// double-forked or called setsid.
fn sweep_descendants(pgid: i32) {
    // SAFETY: kill with a negative pid targets the process group.
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
    let deadline = Instant::now() + Duration::from_secs(10);
    // SAFETY: getpid cannot fail.
    let me = unsafe { libc::getpid() };
    let children_file = format!("/proc/{me}/task/{me}/children");
    loop {
        let children = std::fs::read_to_string(&children_file).unwrap_or_default();
        for pid in children
            .split_whitespace()
            .filter_map(|p| p.parse::<i32>().ok())
        {
            // SAFETY: plain kill of a child of ours.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let mut status = 0;
        // SAFETY: status is a valid out pointer.
        let ret = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
        if ret < 0 {
            break; // ECHILD: nothing left.
        }
        if ret == 0 {
            if Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}
