//! The sandbox init: PID 1 of a command's PID namespace. It applies the last layers to itself
//! (limits, capability drop, no_new_privs, Landlock, seccomp), forks the command, forwards
//! signals to it, reaps orphans, and when the command exits reports its wait status and exits,
//! which makes the kernel kill every other process left in the namespace: nothing outlives the
//! command, however it daemonised.
//!
//! Reports go to a pipe or socket (`report_fd`): `E<message>` for a setup failure, or `X` plus
//! the raw 4-byte wait status. Runs only in a freshly cloned, single-threaded child.

use crate::error::SandboxError;
use crate::policy::ResourceLimits;
use crate::sys;
use seccompiler::BpfProgram;
use std::ffi::{CString, OsStr, OsString};
use std::os::fd::{OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::sync::atomic::{AtomicI32, Ordering};

/// The layers the init applies to itself before forking the command.
pub(crate) struct Layers<'a> {
    pub limits: ResourceLimits,
    /// Landlock ruleset to restrict with (None = Landlock unavailable and allowed).
    pub landlock: Option<&'a OwnedFd>,
    pub seccomp: &'a BpfProgram,
    /// Mount a fresh /proc (we are PID 1 of a new PID namespace with our own mount namespace).
    pub mount_proc: bool,
}

/// A command ready for execve.
pub(crate) struct Exec {
    pub argv: Vec<CString>,
    pub envp: Vec<CString>,
    pub cwd: CString,
    /// PATH from the command's environment, for the lookup of a bare program name.
    pub path: Option<OsString>,
}

impl Exec {
    pub(crate) fn new(
        argv: &[OsString],
        env: &[(OsString, OsString)],
        cwd: &std::path::Path,
    ) -> Result<Exec, SandboxError> {
        let bad = |what: &str| SandboxError::InvalidPolicy(format!("{what} contains a NUL byte"));
        if argv.is_empty() {
            return Err(SandboxError::InvalidPolicy("no command given".into()));
        }
        let argv = argv
            .iter()
            .map(|a| CString::new(a.as_bytes()).map_err(|_| bad("an argument")))
            .collect::<Result<Vec<_>, _>>()?;
        let mut envp = Vec::with_capacity(env.len());
        let mut path = None;
        for (k, v) in env {
            if k == "PATH" {
                path = Some(v.clone());
            }
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            envp.push(CString::new(kv).map_err(|_| bad("the environment"))?);
        }
        let cwd = CString::new(cwd.as_os_str().as_bytes()).map_err(|_| bad("the cwd"))?;
        Ok(Exec {
            argv,
            envp,
            cwd,
            path,
        })
    }
}

/// Signals the init passes on to the command's process group.
pub(crate) const FORWARDED: &[i32] = &[
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

static COMMAND_PID: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward_signal(sig: i32) {
    let pid = COMMAND_PID.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe. The group first (the command is its leader after
        // setsid); the pid itself if setsid has not happened yet.
        unsafe {
            if libc::kill(-pid, sig) < 0 {
                libc::kill(pid, sig);
            }
        }
    }
}

/// Writes a setup failure to the report fd and exits 125. Namespace failures are tagged `N`
/// so the supervisor knows the opt-in Landlock-only fallback may take over.
pub(crate) fn fail(report_fd: RawFd, err: &SandboxError) -> ! {
    let mut msg = if err.is_namespace_unavailable() {
        b"N".to_vec()
    } else {
        b"E".to_vec()
    };
    msg.extend_from_slice(err.to_string().as_bytes());
    let _ = sys::write_all(report_fd, &msg);
    sys::exit_now(125)
}

/// Applies the layers, enters the cwd, runs the command as a child, reports its status.
pub(crate) fn run(layers: &Layers<'_>, exec: &Exec, report_fd: RawFd) -> ! {
    if let Err(e) = apply_layers(layers).and_then(|()| enter_cwd(exec)) {
        fail(report_fd, &e);
    }
    // The one-shot helper's own process holds the same stdio until it exits, so letting go of
    // the init's copies would gain nothing there.
    supervise(exec, report_fd, false)
}

/// Starts the command and stays as its init until it exits; then reports and exits, which
/// makes the kernel kill whatever the command left in the PID namespace. With `release_stdio`
/// (the session zygote's inits) the init lets go of its copies of stdin/stdout/stderr once the
/// command has started; see [`release_stdio`].
pub(crate) fn supervise(exec: &Exec, report_fd: RawFd, release_stdio: bool) -> ! {
    // Only stdio crosses into the command (the report fd may have been put on 3 just now).
    if let Err(e) = sys::cloexec_from(3) {
        fail(
            report_fd,
            &SandboxError::layer(crate::error::Layer::Process, "close_range", e),
        );
    }
    // The zygote ignores SIGCHLD (auto-reap); an ignored disposition would break our waitpid.
    sys::set_signal_handler(libc::SIGCHLD, libc::SIG_DFL);
    sys::sigmask(libc::SIG_BLOCK, FORWARDED);
    for &s in FORWARDED {
        sys::set_signal_handler(s, forward_signal as *const () as libc::sighandler_t);
    }
    let pid = match spawn_command(exec) {
        Ok(pid) => pid,
        Err(errno) => {
            let code = report_exec_error(exec, errno);
            let mut msg = vec![b'X'];
            msg.extend_from_slice(&(code << 8).to_ne_bytes());
            let _ = sys::write_all(report_fd, &msg);
            sys::exit_now(0)
        }
    };
    crate::timing::mark("spawned");
    COMMAND_PID.store(pid, Ordering::SeqCst);
    if release_stdio {
        self::release_stdio();
    }
    sys::sigmask(libc::SIG_UNBLOCK, FORWARDED);
    let status = loop {
        let mut status = 0;
        // SAFETY: status is a valid out pointer. As PID 1 we also reap re-parented orphans.
        let ret = unsafe { libc::waitpid(-1, &mut status, 0) };
        if ret == pid {
            break status;
        }
        if ret < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            break 0x7f00; // cannot happen: our own child vanished; report exit 127.
        }
    };
    crate::timing::mark("cmd-exited");
    kill_everything_else();
    crate::timing::mark("swept");
    let mut msg = vec![b'X'];
    msg.extend_from_slice(&status.to_ne_bytes());
    let _ = sys::write_all(report_fd, &msg);
    sys::exit_now(0)
}

/// Points our own stdin/stdout/stderr at `/dev/null` once the command has its copies. The
/// reader of the command's output then sees end-of-file when the last process of the command
/// closes them (at the latest when the sweep below kills it), instead of only when this init
/// has reported, been scheduled again and exited: the kernel closes an exiting task's files
/// after it has torn down its address space, a copy of the zygote's. Measured through the
/// kernel's `shell` path this halved the sandbox's added cost per command (+0.69 -> +0.35 ms).
/// With `phase-timing`, stderr stays open for the marks.
fn release_stdio() {
    // SAFETY: plain syscalls on descriptors we own; a failure leaves the old ones in place,
    // which only delays end-of-file until our exit.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC);
        if null < 0 {
            return;
        }
        let last = if cfg!(feature = "phase-timing") { 1 } else { 2 };
        for fd in 0..=last {
            libc::dup2(null, fd);
        }
        libc::close(null);
    }
}

/// Kills every other process of the PID namespace and reaps them all, *before* the status is
/// reported: whoever waits for the status knows nothing of the command is left, without also
/// waiting for our own exit (which tears down the namespaces and takes longer).
fn kill_everything_else() {
    // kill(-1) from anything but PID 1 of our own namespace would hit every process of the
    // user on the host: never do it anywhere else.
    // SAFETY: plain syscalls.
    if unsafe { libc::getpid() } != 1 {
        return;
    }
    // Usually the command left nothing behind, and then there is no need for kill(-1), which
    // walks every process on the host to find the few in our namespace. Every process of the
    // namespace descends from us (orphans are re-parented to us, or to a subreaper that itself
    // descends from us), so "no children, not even zombies" means an empty namespace.
    let mut status = 0;
    // SAFETY: status is a valid out pointer.
    let ret = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG | libc::__WALL) };
    if ret < 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ECHILD) {
        return;
    }
    // SAFETY: kill(-1) from PID 1 reaches every process of our PID namespace but us.
    unsafe { libc::kill(-1, libc::SIGKILL) };
    loop {
        let mut status = 0;
        // SAFETY: status is a valid out pointer; orphans are re-parented to us as their
        // parents die, so this ends exactly when the namespace is empty.
        let ret = unsafe { libc::waitpid(-1, &mut status, libc::__WALL) };
        if ret < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return;
        }
    }
}

/// The programs to try for `argv[0]`: itself when it has a slash, else each PATH entry.
fn candidates(exec: &Exec) -> Vec<CString> {
    let prog = exec.argv[0].as_bytes();
    if prog.contains(&b'/') {
        return vec![exec.argv[0].clone()];
    }
    if prog.is_empty() {
        return Vec::new();
    }
    let path = exec
        .path
        .clone()
        .unwrap_or_else(|| OsString::from(DEFAULT_PATH));
    path.as_bytes()
        .split(|&b| b == b':')
        .filter_map(|dir| {
            let dir = if dir.is_empty() { b".".as_slice() } else { dir };
            let mut full = dir.to_vec();
            full.push(b'/');
            full.extend_from_slice(prog);
            CString::new(full).ok()
        })
        .collect()
}

/// Starts the command with `posix_spawn` (a vfork: no copy of our page tables), in a new
/// session (no controlling terminal, so no TIOCSTI into whoever started us), with an empty
/// signal mask and default dispositions. Returns the pid, or the errno of the failed exec.
fn spawn_command(exec: &Exec) -> Result<i32, i32> {
    let mut argv: Vec<*mut libc::c_char> =
        exec.argv.iter().map(|a| a.as_ptr().cast_mut()).collect();
    argv.push(std::ptr::null_mut());
    let mut envp: Vec<*mut libc::c_char> =
        exec.envp.iter().map(|a| a.as_ptr().cast_mut()).collect();
    envp.push(std::ptr::null_mut());
    // SAFETY: the attribute object is initialised before use and destroyed after; the sets are
    // initialised by sigemptyset/sigfillset.
    unsafe {
        let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
        if libc::posix_spawnattr_init(&mut attr) != 0 {
            return Err(libc::ENOMEM);
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::posix_spawnattr_setsigmask(&mut attr, &empty);
        libc::posix_spawnattr_setsigdefault(&mut attr, &all);
        libc::posix_spawnattr_setflags(
            &mut attr,
            (libc::POSIX_SPAWN_SETSID
                | libc::POSIX_SPAWN_SETSIGMASK as libc::c_short
                | libc::POSIX_SPAWN_SETSIGDEF as libc::c_short) as libc::c_short,
        );
        let mut result = Err(libc::ENOENT);
        let mut saw_eacces = false;
        for cand in candidates(exec) {
            // Probe first: a failed posix_spawn costs a whole vfork + exec attempt.
            if libc::access(cand.as_ptr(), libc::X_OK) != 0 {
                match std::io::Error::last_os_error().raw_os_error() {
                    Some(libc::EACCES) => saw_eacces = true,
                    Some(libc::ENOENT | libc::ENOTDIR | libc::ELOOP | libc::ENAMETOOLONG) => {}
                    Some(other) => {
                        result = Err(other);
                        break;
                    }
                    None => {}
                }
                continue;
            }
            let mut pid = 0;
            let rc = libc::posix_spawn(
                &mut pid,
                cand.as_ptr(),
                std::ptr::null(),
                &attr,
                argv.as_ptr(),
                envp.as_ptr(),
            );
            match rc {
                0 => {
                    result = Ok(pid);
                    break;
                }
                libc::ENOENT | libc::ENOTDIR | libc::ELOOP | libc::ENAMETOOLONG => {}
                libc::EACCES => saw_eacces = true,
                other => {
                    result = Err(other);
                    break;
                }
            }
        }
        libc::posix_spawnattr_destroy(&mut attr);
        match result {
            Err(libc::ENOENT) if saw_eacces => Err(libc::EACCES),
            r => r,
        }
    }
}

/// Prints why the command could not start, like a shell; returns 127 (not found) or 126.
fn report_exec_error(exec: &Exec, errno: i32) -> i32 {
    let msg = format!(
        "tandem-sandbox: {}: {}\n",
        exec.argv[0].to_string_lossy(),
        std::io::Error::from_raw_os_error(errno)
    );
    let _ = sys::write_all(2, msg.as_bytes());
    if errno == libc::ENOENT { 127 } else { 126 }
}

/// Every layer the init applies to itself (and so to every process of the command).
pub(crate) fn apply_layers(layers: &Layers<'_>) -> Result<(), SandboxError> {
    if layers.mount_proc {
        crate::mounts::mount_proc(Some(layers.limits.max_processes.saturating_add(1)))?;
    }
    crate::timing::mark("proc");
    crate::privs::apply_limits(&layers.limits)?;
    crate::privs::drop_all_capabilities()?;
    crate::timing::mark("caps");
    crate::privs::set_no_new_privs()?;
    if let Some(fd) = layers.landlock {
        crate::landlock_layer::restrict(fd)?;
    }
    crate::timing::mark("landlock");
    crate::seccomp::install(layers.seccomp)?;
    crate::timing::mark("seccomp");
    // Not dumpable: the command (same uid, same Landlock domain) cannot open our descriptors
    // through /proc/1/fd (the report pipe, the ruleset). execve makes the command dumpable
    // again, as usual.
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0u64, 0u64, 0u64, 0u64) };
    sys::cloexec_from(3)
        .map_err(|e| SandboxError::layer(crate::error::Layer::Process, "close_range", e))
}

/// chdir into the command's working directory (after the mounts, so it is the sandbox's view).
pub(crate) fn enter_cwd(exec: &Exec) -> Result<(), SandboxError> {
    // SAFETY: valid C string.
    if unsafe { libc::chdir(exec.cwd.as_ptr()) } < 0 {
        return Err(SandboxError::layer(
            crate::error::Layer::Process,
            format!("chdir {}", exec.cwd.to_string_lossy()),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// execve with a PATH lookup from the command's own environment. On failure prints the reason
/// like a shell would and exits 127 (not found) or 126 (found but not executable).
pub(crate) fn exec_command(exec: &Exec) -> ! {
    // Rust ignores SIGPIPE in its own processes; ignored dispositions survive execve, and a
    // command like `yes | head` must die of SIGPIPE as usual.
    sys::set_signal_handler(libc::SIGPIPE, libc::SIG_DFL);
    let mut argv: Vec<*const libc::c_char> = exec.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = exec.envp.iter().map(|a| a.as_ptr()).collect();
    envp.push(std::ptr::null());
    let prog = exec.argv[0].as_bytes();
    let mut last = libc::ENOENT;
    let try_exec = |path: &CString| -> i32 {
        // SAFETY: NULL-terminated arrays of valid C strings that outlive the call.
        unsafe { libc::execve(path.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::ENOENT)
    };
    if prog.contains(&b'/') {
        last = try_exec(&exec.argv[0]);
    } else if !prog.is_empty() {
        let path = exec
            .path
            .clone()
            .unwrap_or_else(|| OsString::from(DEFAULT_PATH));
        let mut saw_eacces = false;
        for dir in path.as_bytes().split(|&b| b == b':') {
            let dir = if dir.is_empty() { b".".as_slice() } else { dir };
            let mut full = dir.to_vec();
            full.push(b'/');
            full.extend_from_slice(prog);
            let Ok(full) = CString::new(full) else {
                continue;
            };
            let err = try_exec(&full);
            match err {
                libc::ENOENT | libc::ENOTDIR | libc::ELOOP | libc::ENAMETOOLONG => {}
                libc::EACCES => saw_eacces = true,
                other => {
                    last = other;
                    saw_eacces = false;
                    break;
                }
            }
        }
        if saw_eacces {
            last = libc::EACCES;
        }
    }
    let msg = format!(
        "tandem-sandbox: {}: {}\n",
        OsStr::from_bytes(prog).to_string_lossy(),
        std::io::Error::from_raw_os_error(last)
    );
    let _ = sys::write_all(2, msg.as_bytes());
    sys::exit_now(if last == libc::ENOENT { 127 } else { 126 })
}

/// Reads a report: stops as soon as a complete `X` status is in (the init may still be busy
/// exiting, which only tears down its namespaces), else reads to end of file.
pub(crate) fn read_report(fd: RawFd) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        if out.first() == Some(&b'X') && out.len() >= 5 {
            return Ok(out);
        }
        let n = sys::read_some(fd, &mut buf)?;
        if n == 0 {
            return Ok(out);
        }
        out.extend_from_slice(&buf[..n]);
    }
}

/// [`read_report`] without allocating, for a supervisor that shares its memory with the init
/// (`sys::clone_vm`): reads into `buf` until a complete `X` status, or end of file (the init
/// has exited). A longer message is cut at the buffer's size, and the rest is drained so the
/// end of file is still reached. Returns the number of bytes in `buf`.
pub(crate) fn read_report_into(fd: RawFd, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    loop {
        if n >= 5 && buf[0] == b'X' {
            return Ok(n);
        }
        let got = if n < buf.len() {
            sys::read_some(fd, &mut buf[n..])?
        } else {
            let mut sink = [0u8; 256];
            match sys::read_some(fd, &mut sink)? {
                0 => 0,
                _ => continue,
            }
        };
        if got == 0 {
            return Ok(n);
        }
        n += got;
    }
}

/// What a report fd said.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Report {
    /// The command ran; raw wait status.
    Exited(i32),
    /// The sandbox could not be set up.
    Failed(String),
    /// The namespaces could not be set up (the fallback may apply).
    NamespaceFailed(String),
    /// The reporter died without a word (killed).
    Nothing,
}

/// Parses everything read from a report fd.
pub(crate) fn parse_report(bytes: &[u8]) -> Report {
    match bytes.first() {
        Some(b'X') if bytes.len() >= 5 => {
            let mut raw = [0u8; 4];
            raw.copy_from_slice(&bytes[1..5]);
            Report::Exited(i32::from_ne_bytes(raw))
        }
        Some(b'E') => Report::Failed(String::from_utf8_lossy(&bytes[1..]).into_owned()),
        Some(b'N') => Report::NamespaceFailed(String::from_utf8_lossy(&bytes[1..]).into_owned()),
        _ => Report::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_round_trip() {
        let mut x = vec![b'X'];
        x.extend_from_slice(&(42i32 << 8).to_ne_bytes());
        assert_eq!(parse_report(&x), Report::Exited(42 << 8));
        assert_eq!(
            parse_report(b"Eseccomp could not be enforced"),
            Report::Failed("seccomp could not be enforced".into())
        );
        assert_eq!(parse_report(b""), Report::Nothing);
    }

    #[test]
    fn exec_rejects_nul_bytes_and_empty_argv() {
        assert!(Exec::new(&[], &[], std::path::Path::new("/")).is_err());
        let bad = OsString::from("a\0b");
        assert!(Exec::new(&[bad], &[], std::path::Path::new("/")).is_err());
    }
}
