//! The session zygote, helper side (`tandem-sandbox --zygote`, started by
//! [`crate::SessionSandbox::start`] with its control socket on fd 3).
//!
//! Two processes: the outer one stays in the host namespaces and waits; the inner one is PID 1 of a session PID namespace, holds the built user, mount,
//! IPC and network namespaces, the compiled seccomp filter and the Landlock ruleset, and forks
//! one command per request with `clone3(CLONE_NEWPID | CLONE_NEWNS)`: each command gets its own
//! PID namespace (killing its init kills all of it) and its own `/proc`, while the expensive
//! part (namespaces, mount plan, BPF, ruleset) is paid once per session.
//!
//! The zygote keeps one command init *warm*: already cloned, with its `/proc` mounted and every
//! layer applied, blocked on a socket. A spawn request is forwarded to it as is (payload and
//! descriptors), so the request path is two socket hops and a `posix_spawn`; the next warm
//! init is prepared while the command runs.
//!
//! If the kernel process dies, the control socket closes, the inner zygote exits, and with it
//! its PID namespace and every command in it.

use crate::env::{EnvContext, apply_env_policy};
use crate::error::{Result, SandboxError};
use crate::hostsockets::Scanner;
use crate::init::{self, Exec, Layers};
use crate::mountplan::{MountPlan, MountStep};
use crate::oneshot::{Prepped, build_mounts, landlock_fd, namespace_flags, write_id_maps};
use crate::policy::ResolvedPolicy;
use crate::sys::{self, Forked};
use crate::wire::{self, Reader, Writer};
use crate::{inspect, privs};
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use tandem_protocol::SandboxMode;

/// Frame tags.
pub(crate) const TAG_READY: u8 = b'R';
pub(crate) const TAG_FAILED: u8 = b'F';
pub(crate) const TAG_SPAWN: u8 = b'S';
pub(crate) const TAG_SPAWNED: u8 = b'O';

/// The control socket's descriptor number in the zygote.
pub(crate) const CONTROL_FD: RawFd = 3;

/// What a started session enforces, sent by the zygote when it is ready.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Always "namespaces" today (the zygote needs them).
    pub enforcement: String,
    /// The kernel's Landlock ABI (0 = none).
    pub landlock_abi: i32,
    /// Whether Landlock is part of this session's layers.
    pub landlock: bool,
    /// Whether the session has its own network namespace.
    pub network_isolated: bool,
}

/// Encodes a failure frame (`namespace` = the fallback would be relevant).
pub(crate) fn failed_frame(err: &SandboxError) -> Vec<u8> {
    Writer::default()
        .u8(TAG_FAILED)
        .u8(u8::from(err.is_namespace_unavailable()))
        .bytes(err.to_string().as_bytes())
        .0
}

/// Entry point of `--zygote`. Returns the process exit code.
pub(crate) fn serve(policy: &ResolvedPolicy) -> i32 {
    // SAFETY: fd 3 was placed there by SessionSandbox::start; we own it from now on.
    let control = unsafe { OwnedFd::from_raw_fd(CONTROL_FD) };
    match start(policy, control) {
        Ok(code) => code,
        Err((control, e)) => {
            let _ = wire::send(control.as_fd(), &failed_frame(&e), &[]);
            125
        }
    }
}

fn start(
    policy: &ResolvedPolicy,
    control: OwnedFd,
) -> std::result::Result<i32, (OwnedFd, SandboxError)> {
    if policy.mode == SandboxMode::DangerFullAccess {
        return Err((
            control,
            SandboxError::Unsupported(
                "danger-full-access has nothing to sandbox; run commands directly".into(),
            ),
        ));
    }
    if policy.force_landlock_only {
        return Err((
            control,
            SandboxError::Unsupported(
                "the session zygote needs namespaces; use one-shot command_for in the Landlock-only fallback".into(),
            ),
        ));
    }
    let prepared = match inspect::prepare_namespaced(policy) {
        Ok(p) => p,
        Err(e) => return Err((control, e)),
    };
    let prepped = match Prepped::new(policy, &prepared) {
        Ok(p) => p,
        Err(e) => return Err((control, e)),
    };
    // SAFETY: the helper is single-threaded.
    match unsafe { sys::clone3(namespace_flags(policy), false) } {
        Err(e) => Err((
            control,
            SandboxError::UserNamespacesUnavailable {
                detail: format!("clone3: {e}"),
            },
        )),
        Ok(Forked::Child) => inner(policy, &prepped, prepared.scanner.as_ref(), control),
        Ok(Forked::Parent { pid, .. }) => {
            drop(control);
            // Ignore the termination signals: the session ends when the kernel closes the
            // socket (or kills us, which the inner zygote notices through PDEATHSIG).
            for &s in init::FORWARDED {
                sys::set_signal_handler(s, libc::SIG_IGN);
            }
            let status = sys::wait_pid(pid).unwrap_or(0);
            Ok(if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                125
            })
        }
    }
}

/// The inner zygote: PID 1 of the session. Never returns.
fn inner(
    policy: &ResolvedPolicy,
    prepped: &Prepped,
    scanner: Option<&Scanner>,
    control: OwnedFd,
) -> ! {
    let setup = (|| -> Result<Option<OwnedFd>> {
        privs::die_with_parent()?;
        write_id_maps(prepped.uid, prepped.gid)?;
        build_mounts(&prepped.plan)?;
        landlock_fd(prepped, policy)
    })();
    let landlock = match setup {
        Ok(l) => l,
        Err(e) => {
            let _ = wire::send(control.as_fd(), &failed_frame(&e), &[]);
            sys::exit_now(125);
        }
    };
    // Children are reaped by the kernel; their statuses travel through each command's own
    // status pipe, written by its init.
    sys::set_signal_handler(libc::SIGCHLD, libc::SIG_IGN);
    for &s in init::FORWARDED {
        sys::set_signal_handler(s, libc::SIG_IGN);
    }
    let info = SessionInfo {
        enforcement: "namespaces".into(),
        landlock_abi: sys::landlock_abi(),
        landlock: landlock.is_some(),
        network_isolated: !policy.network,
    };
    let ready = Writer::default()
        .u8(TAG_READY)
        .bytes(&serde_json::to_vec(&info).unwrap_or_default())
        .0;
    if wire::send(control.as_fd(), &ready, &[]).is_err() {
        sys::exit_now(1);
    }
    let mut warm = make_warm(policy, prepped, landlock.as_ref()).ok();
    loop {
        let frame = match wire::recv(control.as_fd()) {
            Ok(Some(f)) => f,
            Ok(None) => sys::exit_now(0),
            Err(_) => sys::exit_now(1),
        };
        let reply = cover_new_sockets(policy, prepped, scanner, &mut warm)
            .and_then(|()| dispatch(policy, prepped, landlock.as_ref(), frame, &mut warm));
        let sent = match reply {
            Ok(pidfd) => wire::send(
                control.as_fd(),
                &Writer::default().u8(TAG_SPAWNED).0,
                &[pidfd.as_fd()],
            ),
            Err(e) => wire::send(control.as_fd(), &failed_frame(&e), &[]),
        };
        if sent.is_err() {
            sys::exit_now(1);
        }
        // Prepare the next init right away. (Waiting for an idle moment instead was measured:
        // back-to-back spawns then clone their init inline, right after the previous command's
        // namespaces were torn down, and that clone costs several times more.)
        if warm.is_none() {
            warm = make_warm(policy, prepped, landlock.as_ref()).ok();
        }
    }
}

/// Covers the host sockets that started listening since the session was built (or since the
/// last command) in the session's own mount namespace, which every command's namespace is
/// copied from. The warm init's copy predates the new covers, so it is let go (it exits when
/// its socket closes) and the next one is cloned afresh: that costs one spawn about 1 ms, only
/// when a host daemon appeared. The scan itself costs about 0.02 ms per command.
fn cover_new_sockets(
    policy: &ResolvedPolicy,
    prepped: &Prepped,
    scanner: Option<&Scanner>,
    warm: &mut Option<Warm>,
) -> Result<()> {
    let Some(scanner) = scanner else {
        return Ok(());
    };
    let paths = scanner
        .scan()
        .map_err(|e| SandboxError::io("listing the host's Unix sockets", e))?;
    let new = inspect::uncovered_sockets(policy, &prepped.socket_dirs, paths);
    if new.is_empty() {
        return Ok(());
    }
    let steps = new
        .into_iter()
        .map(|path| MountStep::MaskSocket {
            path,
            reason: "path socket bound in the host's network namespace during the session".into(),
        })
        .collect();
    *warm = None;
    crate::mounts::execute(&MountPlan { steps })
}

/// A command init waiting for its request.
struct Warm {
    pidfd: OwnedFd,
    sock: UnixStream,
}

/// Clones the next command init: its own PID and mount namespaces, then `warm_init`.
fn make_warm(
    policy: &ResolvedPolicy,
    prepped: &Prepped,
    landlock: Option<&OwnedFd>,
) -> Result<Warm> {
    let (ours, theirs) =
        UnixStream::pair().map_err(|e| SandboxError::io("creating a command socket", e))?;
    // SAFETY: the zygote is single-threaded.
    let forked = unsafe { sys::clone3((libc::CLONE_NEWPID | libc::CLONE_NEWNS) as u64, true) }
        .map_err(|e| SandboxError::layer(crate::error::Layer::Namespaces, "clone3", e))?;
    match forked {
        Forked::Child => {
            drop(ours);
            warm_init(policy, prepped, landlock, theirs)
        }
        Forked::Parent { pidfd, .. } => Ok(Warm {
            pidfd: pidfd.ok_or_else(|| {
                SandboxError::layer(crate::error::Layer::Process, "clone3", "no pidfd returned")
            })?,
            sock: ours,
        }),
    }
}

/// Checks a request and hands it to the warm init (making one if needed). Returns the pidfd
/// of the init that runs it.
fn dispatch(
    policy: &ResolvedPolicy,
    prepped: &Prepped,
    landlock: Option<&OwnedFd>,
    frame: wire::Frame,
    warm: &mut Option<Warm>,
) -> Result<OwnedFd> {
    decode(&frame.payload)
        .map_err(|e| SandboxError::Protocol(format!("bad spawn request: {e}")))?;
    if frame.fds.len() != 4 {
        return Err(SandboxError::Protocol(format!(
            "a spawn request carries 4 descriptors, got {}",
            frame.fds.len()
        )));
    }
    let fds: Vec<_> = frame.fds.iter().map(|f| f.as_fd()).collect();
    for attempt in 0..2 {
        let w = match warm.take() {
            Some(w) => w,
            None => make_warm(policy, prepped, landlock)?,
        };
        match wire::send(w.sock.as_fd(), &frame.payload, &fds) {
            Ok(()) => return Ok(w.pidfd),
            // The warm init died (killed from outside?): make a fresh one, once.
            Err(e) if attempt == 0 => drop((w, e)),
            Err(e) => return Err(SandboxError::io("handing the command to its init", e)),
        }
    }
    Err(SandboxError::Protocol("unreachable".into()))
}

/// A warm command init: applies every layer, then waits for its one request.
fn warm_init(
    policy: &ResolvedPolicy,
    prepped: &Prepped,
    landlock: Option<&OwnedFd>,
    sock: UnixStream,
) -> ! {
    // Keep only our socket (fd 3) and the ruleset (fd 4): nothing of the zygote's.
    let mut sources = vec![sock.as_raw_fd()];
    if let Some(l) = landlock {
        sources.push(l.as_raw_fd());
    }
    let remapped = remap(&sources, 3);
    std::mem::forget(sock);
    // SAFETY: remap put the ruleset on fd 4 and closed the originals.
    let landlock = landlock.map(|_| unsafe { OwnedFd::from_raw_fd(4) });
    let setup = remapped
        .map_err(|e| SandboxError::layer(crate::error::Layer::Process, "arranging descriptors", e))
        .and_then(|()| privs::die_with_parent())
        .and_then(|()| {
            init::apply_layers(&Layers {
                limits: policy.limits,
                landlock: landlock.as_ref(),
                seccomp: &prepped.seccomp,
                mount_proc: true,
            })
        });
    drop(landlock);
    // SAFETY: fd 3 is our end of the socket pair (remap put it there).
    let sock = unsafe { std::os::fd::BorrowedFd::borrow_raw(3) };
    let frame = match wire::recv(sock) {
        Ok(Some(f)) if f.fds.len() == 4 => f,
        _ => sys::exit_now(0),
    };
    let raw: Vec<RawFd> = frame.fds.iter().map(|f| f.as_raw_fd()).collect();
    if remap(&raw, 0).is_err() {
        sys::exit_now(125);
    }
    std::mem::forget(frame.fds);
    // From here the status pipe is fd 3.
    let status_fd = 3;
    if let Err(e) = setup {
        init::fail(status_fd, &e);
    }
    let exec = decode(&frame.payload)
        .map_err(|e| SandboxError::Protocol(format!("bad spawn request: {e}")))
        .and_then(|req| {
            let env = apply_env_policy(
                &policy.env,
                req.env,
                EnvContext::Namespaces {
                    network: policy.network,
                    writable_roots: &policy.writable_roots,
                },
            );
            let cwd = req.cwd.unwrap_or_else(|| policy.cwd.clone());
            Exec::new(&req.argv, &env, &cwd)
        });
    let exec = match exec {
        Ok(e) => e,
        Err(e) => init::fail(status_fd, &e),
    };
    if let Err(e) = init::enter_cwd(&exec) {
        init::fail(status_fd, &e);
    }
    init::supervise(&exec, status_fd, true)
}

/// A decoded spawn request.
struct Request {
    argv: Vec<OsString>,
    cwd: Option<PathBuf>,
    env: Vec<(OsString, OsString)>,
}

fn decode(payload: &[u8]) -> std::io::Result<Request> {
    let mut r = Reader(payload);
    if r.u8()? != TAG_SPAWN {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "not a spawn request",
        ));
    }
    let argv = r.list()?.into_iter().map(OsString::from_vec).collect();
    let cwd = r.bytes()?;
    let cwd = (!cwd.is_empty()).then(|| PathBuf::from(OsString::from_vec(cwd)));
    let env = r
        .list()?
        .into_iter()
        .map(|kv| {
            let pos = kv.iter().position(|&b| b == b'=').unwrap_or(kv.len());
            let (k, v) = kv.split_at(pos);
            (
                OsString::from_vec(k.to_vec()),
                OsString::from_vec(v.get(1..).unwrap_or_default().to_vec()),
            )
        })
        .collect();
    Ok(Request { argv, cwd, env })
}

/// Encodes a spawn request (library side).
pub(crate) fn encode_spawn(
    argv: &[OsString],
    cwd: Option<&std::path::Path>,
    env: &[(OsString, OsString)],
) -> Vec<u8> {
    let env: Vec<Vec<u8>> = env
        .iter()
        .map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            kv
        })
        .collect();
    Writer::default()
        .u8(TAG_SPAWN)
        .list(argv.iter().map(|a| a.as_bytes()))
        .bytes(cwd.map(|c| c.as_os_str().as_bytes()).unwrap_or_default())
        .list(env.iter().map(|e| e.as_slice()))
        .0
}

/// Moves `sources[i]` to descriptor `first + i` and closes everything above. Goes through high
/// numbers first so that a source already sitting on a low target is not clobbered.
fn remap(sources: &[RawFd], first: RawFd) -> std::io::Result<()> {
    let mut high = Vec::with_capacity(sources.len());
    for &s in sources {
        // SAFETY: plain fcntl.
        let h = unsafe { libc::fcntl(s, libc::F_DUPFD_CLOEXEC, 64) };
        if h < 0 {
            return Err(std::io::Error::last_os_error());
        }
        high.push(h);
    }
    for (i, &h) in high.iter().enumerate() {
        // SAFETY: plain dup2 (clears close-on-exec on the target).
        if unsafe { libc::dup2(h, first + i as RawFd) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    sys::close_from((first as usize + sources.len()) as u32)
}
