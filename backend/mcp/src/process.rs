//! The child process of a stdio server: spawning it with a controlled environment, capturing its
//! stderr, and making sure it and its own children die with it.
//!
//! We spawn the process ourselves and hand its stdin/stdout to `rmcp` as a plain async
//! reader/writer, instead of using `rmcp`'s `TokioChildProcess`, for three reasons:
//! - we need the exit status (and the last lines of stderr) to tell people *why* a server died;
//! - servers are often launchers (`npx`, `uvx`, shell scripts) whose real server is a
//!   grandchild, so the whole process group has to be signalled, not just the direct child;
//! - stderr must never be inherited: stdout and stderr belong to the shells (`exec --json`
//!   prints events on stdout), so the child's stderr goes to `tracing` instead.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// Lines of stderr kept to explain a crash.
const TAIL_LINES: usize = 12;
/// A single kept line is cut to this many bytes, so a minified stack trace cannot flood events.
const TAIL_LINE_MAX: usize = 400;

/// What to run, already resolved from the config.
#[derive(Debug, Clone)]
pub(crate) struct SpawnSpec<'a> {
    pub server: &'a str,
    pub command: &'a str,
    pub args: &'a [String],
    /// The complete environment of the child (nothing else is inherited).
    pub env: BTreeMap<String, String>,
    pub cwd: Option<PathBuf>,
}

/// A running server process; dropping it kills its whole process group.
#[derive(Debug)]
pub(crate) struct ServerProcess {
    child: Child,
    pgid: Option<Pid>,
    tail: Arc<Mutex<VecDeque<String>>>,
    /// Set once the exit status has been collected; later waits return it again.
    exit: Option<String>,
}

/// Starts the process, or explains in a sentence what to fix.
pub(crate) fn spawn(
    spec: SpawnSpec<'_>,
) -> Result<(ServerProcess, ChildStdout, ChildStdin), String> {
    if let Some(cwd) = &spec.cwd
        && !cwd.is_dir()
    {
        return Err(format!(
            "the working directory `{}` does not exist; fix `cwd` in [mcp_servers.{}]",
            cwd.display(),
            spec.server
        ));
    }
    let mut cmd = Command::new(spec.command);
    cmd.args(spec.args)
        .env_clear()
        .envs(&spec.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // A group of its own: we can signal the server and everything it started, and a
        // Ctrl-C in the terminal reaches us, not the servers behind our back.
        .process_group(0)
        .kill_on_drop(true);
    if let Some(cwd) = &spec.cwd {
        cmd.current_dir(cwd);
    }
    let mut child = cmd.spawn().map_err(|e| spawn_error(&spec, &e))?;
    let pgid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw);
    let (Some(stdout), Some(stdin), Some(stderr)) =
        (child.stdout.take(), child.stdin.take(), child.stderr.take())
    else {
        return Err("the child process has no stdio pipes".to_owned());
    };
    let tail = Arc::new(Mutex::new(VecDeque::with_capacity(TAIL_LINES)));
    tokio::spawn(pump_stderr(
        spec.server.to_owned(),
        stderr,
        Arc::clone(&tail),
    ));
    Ok((
        ServerProcess {
            child,
            pgid,
            tail,
            exit: None,
        },
        stdout,
        stdin,
    ))
}

fn spawn_error(spec: &SpawnSpec<'_>, e: &std::io::Error) -> String {
    let server = spec.server;
    let command = spec.command;
    match e.kind() {
        std::io::ErrorKind::NotFound => {
            let path = spec.env.get("PATH").map_or("(unset)", String::as_str);
            let hint = if Path::new(command).components().count() > 1 {
                "the file does not exist".to_owned()
            } else {
                format!("it is not on the PATH given to MCP servers ({path})")
            };
            format!(
                "could not start `{command}`: {hint}; install it, or fix `command` in [mcp_servers.{server}]"
            )
        }
        std::io::ErrorKind::PermissionDenied => format!(
            "could not start `{command}`: permission denied (is it executable?); fix `command` in [mcp_servers.{server}]"
        ),
        _ => format!("could not start `{command}`: {e}"),
    }
}

/// Forwards stderr to `tracing`, line by line, keeping the last lines for error messages.
async fn pump_stderr(
    server: String,
    stderr: tokio::process::ChildStderr,
    tail: Arc<Mutex<VecDeque<String>>>,
) {
    let mut lines = BufReader::new(stderr).lines();
    loop {
        match lines.next_line().await {
            Ok(Some(line)) => {
                tracing::info!(target: "tandem_mcp::stderr", server = %server, "{line}");
                let mut kept = line;
                if kept.len() > TAIL_LINE_MAX {
                    let mut cut = TAIL_LINE_MAX;
                    while !kept.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    kept.truncate(cut);
                    kept.push('…');
                }
                let mut tail = tail.lock().unwrap_or_else(|p| p.into_inner());
                if tail.len() == TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(kept);
            }
            Ok(None) => break,
            Err(e) => {
                tracing::debug!(server = %server, "reading the server's stderr failed: {e}");
                break;
            }
        }
    }
}

impl ServerProcess {
    /// Waits for the process to exit and describes how it did ("exited with status 1").
    pub async fn wait(&mut self) -> String {
        if let Some(exit) = &self.exit {
            return exit.clone();
        }
        let exit = match self.child.wait().await {
            Ok(status) => match status.code() {
                Some(code) => format!("exited with status {code}"),
                None => format!("was killed ({status})"),
            },
            Err(e) => format!("could not be waited for: {e}"),
        };
        self.exit = Some(exit.clone());
        exit
    }

    /// The exit description if the process exits within `grace`, else `None`.
    pub async fn exit_within(&mut self, grace: Duration) -> Option<String> {
        tokio::time::timeout(grace, self.wait()).await.ok()
    }

    /// The last lines the server wrote on stderr, as ` — stderr: ...` to append to a message,
    /// or an empty string.
    pub fn stderr_tail(&self) -> String {
        let tail = self.tail.lock().unwrap_or_else(|p| p.into_inner());
        if tail.is_empty() {
            return String::new();
        }
        let lines: Vec<&str> = tail.iter().map(String::as_str).collect();
        format!(" — its stderr ended with: {}", lines.join(" | "))
    }

    /// Ends the process group: `SIGTERM`, a grace period, then `SIGKILL`.
    ///
    /// Call after closing stdin (which polite servers take as the signal to exit).
    pub async fn terminate(&mut self, grace: Duration) {
        if self.exit.is_some() {
            self.signal_group(Signal::SIGKILL);
            return;
        }
        self.signal_group(Signal::SIGTERM);
        if self.exit_within(grace).await.is_none() {
            self.signal_group(Signal::SIGKILL);
            let _ = self.exit_within(grace).await;
        }
    }

    fn signal_group(&self, signal: Signal) {
        if let Some(pgid) = self.pgid {
            // ESRCH (the group is already gone) is the expected case after a clean exit.
            let _ = killpg(pgid, signal);
        }
    }
}

impl Drop for ServerProcess {
    /// Whatever happens to the connection (a start-up timeout drops the half-made one, a task
    /// is aborted), no server process outlives it, grandchildren included.
    fn drop(&mut self) {
        self.signal_group(Signal::SIGKILL);
    }
}
