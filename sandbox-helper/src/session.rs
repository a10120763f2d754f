//! The session sandbox, library side: what the kernel holds for a whole session.
//!
//! [`SessionSandbox::start`] launches the helper in `--zygote` mode once; every
//! [`SessionSandbox::spawn`] then costs a socket round trip and a `clone3` in the already-built
//! namespaces instead of building them again. Nothing here forks the calling process, so it is
//! safe from a multithreaded tokio runtime; the blocking calls (`spawn` briefly, `wait`) belong
//! in `spawn_blocking`, or await readiness of [`SandboxedChild::status_fd`] with `AsyncFd`.

use crate::error::{Result, SandboxError};
use crate::init::{self, Report};
use crate::policy::SandboxPolicy;
use crate::sys;
use crate::wire::{self, Reader};
use crate::zygote::{self, SessionInfo, TAG_FAILED, TAG_READY, TAG_SPAWNED};
use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where a spawned command's stdin/stdout/stderr go.
#[derive(Debug, Default)]
pub enum ChildIo {
    /// `/dev/null`.
    #[default]
    Null,
    /// A new pipe; our end is in [`SandboxedChild`]'s `stdin`/`stdout`/`stderr`.
    Pipe,
    /// This descriptor (e.g. a pty slave, a log file).
    Fd(OwnedFd),
}

/// One command to run in the session.
#[derive(Debug, Default)]
pub struct SpawnRequest {
    pub argv: Vec<OsString>,
    /// Working directory inside the sandbox; `None` = the policy's cwd.
    pub cwd: Option<PathBuf>,
    /// The environment before the policy is applied; `None` = this process's environment.
    pub env: Option<Vec<(OsString, OsString)>>,
    pub stdin: ChildIo,
    pub stdout: ChildIo,
    pub stderr: ChildIo,
}

impl SpawnRequest {
    /// A request for `argv` with stdout and stderr piped and stdin from `/dev/null`.
    pub fn new<S: AsRef<OsStr>>(argv: &[S]) -> SpawnRequest {
        SpawnRequest {
            argv: argv.iter().map(|a| a.as_ref().to_owned()).collect(),
            stdout: ChildIo::Pipe,
            stderr: ChildIo::Pipe,
            ..SpawnRequest::default()
        }
    }

    pub fn cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    pub fn env(mut self, env: Vec<(OsString, OsString)>) -> Self {
        self.env = Some(env);
        self
    }

    pub fn stdin(mut self, io: ChildIo) -> Self {
        self.stdin = io;
        self
    }

    pub fn stdout(mut self, io: ChildIo) -> Self {
        self.stdout = io;
        self
    }

    pub fn stderr(mut self, io: ChildIo) -> Self {
        self.stderr = io;
        self
    }
}

/// A long-lived sandbox for one kernel session. Dropping it ends the session: every command
/// still running is killed.
pub struct SessionSandbox {
    control: Mutex<UnixStream>,
    zygote: Mutex<Child>,
    info: SessionInfo,
}

fn ioe(context: &str) -> impl FnOnce(std::io::Error) -> SandboxError + '_ {
    move |e| SandboxError::io(context, e)
}

impl SessionSandbox {
    /// Starts the zygote: `helper_exe` (the `tandem-sandbox` binary, or the kernel's own binary
    /// with `arg0 = Some("tandem-sandbox")`) in `--zygote` mode. Returns once the namespaces
    /// are built, or the reason they could not be (the same one-line reasons as exit 125).
    pub fn start(
        helper_exe: &Path,
        arg0: Option<&str>,
        policy: &SandboxPolicy,
    ) -> Result<SessionSandbox> {
        let (ours, theirs) = UnixStream::pair().map_err(ioe("creating the control socket"))?;
        let json = serde_json::to_string(policy)
            .map_err(|e| SandboxError::InvalidPolicy(e.to_string()))?;
        let mut cmd = Command::new(helper_exe);
        if let Some(a) = arg0 {
            cmd.arg0(a);
        }
        cmd.arg("--zygote")
            .arg("--policy-json")
            .arg(json)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let raw = theirs.as_raw_fd();
        // SAFETY: only async-signal-safe calls (dup2/fcntl) between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                if raw == zygote::CONTROL_FD {
                    if libc::fcntl(raw, libc::F_SETFD, 0) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                } else if libc::dup2(raw, zygote::CONTROL_FD) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().map_err(ioe("starting the zygote"))?;
        drop(theirs);
        let frame = match wire::recv(ours.as_fd()) {
            Ok(Some(f)) => f,
            Ok(None) | Err(_) => {
                let status = child.wait().map_err(ioe("waiting for the zygote"))?;
                return Err(SandboxError::SessionClosed(format!(
                    "the zygote exited during startup ({status})"
                )));
            }
        };
        let mut r = Reader(&frame.payload);
        match r.u8() {
            Ok(TAG_READY) => {
                let info: SessionInfo = r
                    .bytes()
                    .ok()
                    .and_then(|b| serde_json::from_slice(&b).ok())
                    .ok_or_else(|| SandboxError::Protocol("bad ready frame".into()))?;
                Ok(SessionSandbox {
                    control: Mutex::new(ours),
                    zygote: Mutex::new(child),
                    info,
                })
            }
            Ok(TAG_FAILED) => {
                let err = decode_failure(&mut r);
                let _ = child.wait();
                Err(err)
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                Err(SandboxError::Protocol("unexpected first frame".into()))
            }
        }
    }

    /// What the session enforces.
    pub fn info(&self) -> &SessionInfo {
        &self.info
    }

    /// The host pid of the zygote's outer process.
    pub fn zygote_pid(&self) -> Option<u32> {
        self.zygote.lock().ok().map(|c| c.id())
    }

    /// Runs one command in the session's namespaces, in a PID namespace of its own.
    pub fn spawn(&self, request: SpawnRequest) -> Result<SandboxedChild> {
        let (stdin_child, stdin_ours) = make_io(request.stdin, true)?;
        let (stdout_child, stdout_ours) = make_io(request.stdout, false)?;
        let (stderr_child, stderr_ours) = make_io(request.stderr, false)?;
        let (status_r, status_w) = sys::pipe().map_err(ioe("creating the status pipe"))?;
        let env = request.env.unwrap_or_else(|| std::env::vars_os().collect());
        let payload = zygote::encode_spawn(&request.argv, request.cwd.as_deref(), &env);
        let frame = {
            let control = self
                .control
                .lock()
                .map_err(|_| SandboxError::SessionClosed("control lock poisoned".into()))?;
            wire::send(
                control.as_fd(),
                &payload,
                &[
                    stdin_child.as_fd(),
                    stdout_child.as_fd(),
                    stderr_child.as_fd(),
                    status_w.as_fd(),
                ],
            )
            .map_err(|e| SandboxError::SessionClosed(format!("sending a request: {e}")))?;
            wire::recv(control.as_fd())
                .map_err(|e| SandboxError::SessionClosed(format!("reading a reply: {e}")))?
                .ok_or_else(|| SandboxError::SessionClosed("the zygote exited".into()))?
        };
        drop((stdin_child, stdout_child, stderr_child, status_w));
        let mut r = Reader(&frame.payload);
        match r.u8() {
            Ok(TAG_SPAWNED) => {
                let pidfd =
                    frame.fds.into_iter().next().ok_or_else(|| {
                        SandboxError::Protocol("spawn reply without pidfd".into())
                    })?;
                Ok(SandboxedChild {
                    pidfd,
                    status: File::from(status_r),
                    stdin: stdin_ours.map(File::from),
                    stdout: stdout_ours.map(File::from),
                    stderr: stderr_ours.map(File::from),
                    result: None,
                })
            }
            Ok(TAG_FAILED) => Err(decode_failure(&mut r)),
            _ => Err(SandboxError::Protocol("unexpected spawn reply".into())),
        }
    }
}

impl Drop for SessionSandbox {
    fn drop(&mut self) {
        if let Ok(control) = self.control.lock() {
            let _ = control.shutdown(std::net::Shutdown::Both);
        }
        if let Ok(mut child) = self.zygote.lock() {
            // The zygote exits on its own once the socket is closed: give it a moment.
            let deadline = Instant::now() + Duration::from_secs(2);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) | Err(_) => return,
                    Ok(None) if Instant::now() > deadline => break,
                    Ok(None) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn decode_failure(r: &mut Reader<'_>) -> SandboxError {
    let namespace = r.u8().map(|b| b != 0).unwrap_or(false);
    let message = r
        .bytes()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_else(|_| "unknown failure".into());
    SandboxError::Relayed { message, namespace }
}

/// (descriptor for the child, our end if piped).
fn make_io(io: ChildIo, input: bool) -> Result<(OwnedFd, Option<OwnedFd>)> {
    match io {
        ChildIo::Fd(fd) => Ok((fd, None)),
        ChildIo::Null => {
            let f = std::fs::OpenOptions::new()
                .read(input)
                .write(!input)
                .open("/dev/null")
                .map_err(ioe("opening /dev/null"))?;
            Ok((f.into(), None))
        }
        ChildIo::Pipe => {
            let (r, w) = sys::pipe().map_err(ioe("creating a pipe"))?;
            Ok(if input { (r, Some(w)) } else { (w, Some(r)) })
        }
    }
}

/// A command running in a [`SessionSandbox`]. Dropping it without `wait` kills the command.
pub struct SandboxedChild {
    pidfd: OwnedFd,
    status: File,
    pub stdin: Option<File>,
    pub stdout: Option<File>,
    pub stderr: Option<File>,
    result: Option<ExitStatus>,
}

impl SandboxedChild {
    /// Blocks until the command has exited and every process it started is gone. A command
    /// killed with [`SandboxedChild::kill`] reports death by SIGKILL.
    pub fn wait(&mut self) -> Result<ExitStatus> {
        if let Some(st) = self.result {
            return Ok(st);
        }
        let bytes =
            init::read_report(self.status.as_raw_fd()).map_err(ioe("reading the status"))?;
        let status = match init::parse_report(&bytes) {
            // The init killed and reaped everything else before reporting.
            Report::Exited(raw) => ExitStatus::from_raw(raw),
            Report::Nothing => {
                // Killed: the namespace is gone once the init is.
                self.wait_gone();
                ExitStatus::from_raw(libc::SIGKILL)
            }
            Report::Failed(message) | Report::NamespaceFailed(message) => {
                return Err(SandboxError::Relayed {
                    message,
                    namespace: false,
                });
            }
        };
        self.result = Some(status);
        Ok(status)
    }

    /// Returns the status if the command has finished, without blocking.
    pub fn try_wait(&mut self) -> Result<Option<ExitStatus>> {
        if self.result.is_some() {
            return self.wait().map(Some);
        }
        let mut pfd = libc::pollfd {
            fd: self.status.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, 0) };
        if n > 0 {
            self.wait().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Kills the command and everything it started (SIGKILL to its PID namespace's init).
    pub fn kill(&self) -> Result<()> {
        self.signal(libc::SIGKILL)
    }

    /// Sends a signal: SIGKILL ends the whole PID namespace; other signals reach the command's
    /// process group through its init.
    pub fn signal(&self, sig: i32) -> Result<()> {
        match sys::pidfd_send_signal(self.pidfd.as_fd(), sig) {
            Ok(()) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => Ok(()),
            Err(e) => Err(SandboxError::io("signalling the command", e)),
        }
    }

    /// The pidfd of the command's init (readable once it and all its processes are gone).
    pub fn pidfd(&self) -> BorrowedFd<'_> {
        self.pidfd.as_fd()
    }

    /// Readable when the command has finished; for async readiness (tokio `AsyncFd`).
    pub fn status_fd(&self) -> BorrowedFd<'_> {
        self.status.as_fd()
    }

    /// Host pid of the command's init (PID 1 of its namespace; the command itself is PID 2).
    pub fn pid(&self) -> Option<u32> {
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", self.pidfd.as_raw_fd()))
            .ok()?;
        info.lines()
            .find_map(|l| l.strip_prefix("Pid:"))
            .and_then(|p| p.trim().parse::<i64>().ok())
            .filter(|p| *p > 0)
            .map(|p| p as u32)
    }

    fn wait_gone(&self) {
        let mut pfd = libc::pollfd {
            fd: self.pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        loop {
            // SAFETY: one valid pollfd.
            let n = unsafe { libc::poll(&mut pfd, 1, -1) };
            if n >= 0 || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                return;
            }
        }
    }
}

impl Drop for SandboxedChild {
    fn drop(&mut self) {
        if self.result.is_none() {
            let _ = self.kill();
        }
    }
}
