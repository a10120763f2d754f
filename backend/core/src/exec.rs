//! Running one command: directly, or through the sandbox helper; with a timeout, streamed
//! output, and a kill of everything it started when it ends, times out or is interrupted.

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How much output is kept in memory per command. Output beyond it is counted, and the middle
/// is dropped, since what the model sees is capped far lower anyway.
const KEEP_HEAD: usize = 512 * 1024;
const KEEP_TAIL: usize = 512 * 1024;

/// Exit status the sandbox helper uses for its own failures (never the command's).
pub const SANDBOX_FAILURE_EXIT: i32 = 125;

#[derive(Debug, Clone)]
pub struct ExecRequest {
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    /// The complete environment of the command (already filtered by the policy).
    pub env: BTreeMap<String, String>,
    pub timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct ExecOutput {
    pub exit_code: i32,
    /// stdout and stderr in arrival order.
    pub aggregated: String,
    pub stderr: String,
    pub duration: Duration,
    pub timed_out: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("failed to start `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("empty command")]
    EmptyCommand,
    #[error("interrupted")]
    Interrupted,
}

/// Keeps the head and the tail of a stream, counting what fell out of the middle.
#[derive(Default)]
struct Capped {
    head: Vec<u8>,
    tail: std::collections::VecDeque<u8>,
    dropped: usize,
}

impl Capped {
    fn push(&mut self, mut bytes: &[u8]) {
        if self.head.len() < KEEP_HEAD {
            let n = bytes.len().min(KEEP_HEAD - self.head.len());
            self.head.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
        }
        self.tail.extend(bytes);
        if self.tail.len() > KEEP_TAIL {
            let excess = self.tail.len() - KEEP_TAIL;
            self.tail.drain(..excess);
            self.dropped += excess;
        }
    }

    fn into_string(self) -> String {
        let mut out = String::from_utf8_lossy(&self.head).into_owned();
        if self.dropped > 0 {
            out.push_str(&format!("\n[... {} bytes omitted ...]\n", self.dropped));
        }
        let tail: Vec<u8> = self.tail.into_iter().collect();
        out.push_str(&String::from_utf8_lossy(&tail));
        out
    }
}

enum Chunk {
    Out(Vec<u8>),
    Err(Vec<u8>),
}

async fn pump<R: AsyncRead + Unpin>(mut reader: R, tx: mpsc::Sender<Chunk>, is_err: bool) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                let data = buf[..n].to_vec();
                let chunk = if is_err {
                    Chunk::Err(data)
                } else {
                    Chunk::Out(data)
                };
                if tx.send(chunk).await.is_err() {
                    break;
                }
            }
        }
    }
}

type BoxedReader = Box<dyn AsyncRead + Unpin + Send>;

/// A started process, however it was started: its output streams, a future for its exit
/// code, and a way to kill it and everything it started.
pub struct Process {
    stdout: Option<BoxedReader>,
    stderr: Option<BoxedReader>,
    exit: Pin<Box<dyn Future<Output = std::io::Result<i32>> + Send>>,
    kill: Box<dyn Fn() + Send + Sync>,
}

impl Process {
    /// Start `command` in its own process group, so the whole group can be killed.
    pub fn spawn_command(mut command: Command, req: &ExecRequest) -> Result<Process, ExecError> {
        let program = req.argv.first().ok_or(ExecError::EmptyCommand)?.clone();
        command
            .current_dir(&req.cwd)
            .env_clear()
            .envs(&req.env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true);
        let mut child = command
            .spawn()
            .map_err(|source| ExecError::Spawn { program, source })?;
        let pid = child.id();
        let stdout = child.stdout.take().map(|s| Box::new(s) as BoxedReader);
        let stderr = child.stderr.take().map(|s| Box::new(s) as BoxedReader);
        Ok(Process {
            stdout,
            stderr,
            exit: Box::pin(async move {
                let status = child.wait().await?;
                // The command is done; whatever it left running in its group goes too, or its
                // open pipes would keep us waiting for EOF forever.
                kill_group(pid);
                Ok(exit_code_of(status))
            }),
            kill: Box::new(move || kill_group(pid)),
        })
    }

    /// Wrap a command started by the session's sandbox zygote. Its init reaps and kills
    /// everything the command started before it reports the status.
    pub fn from_sandboxed(mut child: tandem_sandbox::SandboxedChild) -> std::io::Result<Process> {
        let pipe = |f: Option<std::fs::File>| -> std::io::Result<Option<BoxedReader>> {
            f.map(|f| {
                tokio::net::unix::pipe::Receiver::from_file(f).map(|r| Box::new(r) as BoxedReader)
            })
            .transpose()
        };
        let stdout = pipe(child.stdout.take())?;
        let stderr = pipe(child.stderr.take())?;
        let owned = child.status_fd().try_clone_to_owned()?;
        // SAFETY: `owned` is a descriptor we own (a fresh dup); the `AsyncFd` takes ownership
        // and deregisters it before closing it, which is what `register` requires.
        let status_fd =
            unsafe { tokio::io::unix::AsyncFd::register(owned) }.map_err(|e| e.into_parts().1)?;
        let child = std::sync::Arc::new(std::sync::Mutex::new(child));
        let killer = child.clone();
        Ok(Process {
            stdout,
            stderr,
            exit: Box::pin(async move {
                loop {
                    let mut ready = status_fd.readable().await?;
                    let status = child.lock().unwrap_or_else(|e| e.into_inner()).try_wait();
                    match status {
                        Ok(Some(status)) => return Ok(exit_code_of(status)),
                        Ok(None) => ready.clear_ready(),
                        Err(e) => return Err(std::io::Error::other(e.to_string())),
                    }
                }
            }),
            kill: Box::new(move || {
                let _ = killer.lock().unwrap_or_else(|e| e.into_inner()).kill();
            }),
        })
    }
}

/// Run a started process to completion.
///
/// `on_output` sees each chunk as it arrives (for live display). On timeout or cancellation the
/// process and everything it started are killed, so a stray background job cannot outlive
/// the call.
pub async fn run(
    process: Process,
    req: &ExecRequest,
    mut on_output: impl FnMut(&str),
    cancel: &CancellationToken,
) -> Result<ExecOutput, ExecError> {
    let start = Instant::now();
    let Process {
        stdout,
        stderr,
        exit,
        kill,
    } = process;
    let (tx, mut rx) = mpsc::channel(64);
    if let Some(out) = stdout {
        tokio::spawn(pump(out, tx.clone(), false));
    }
    if let Some(err) = stderr {
        tokio::spawn(pump(err, tx.clone(), true));
    }
    drop(tx);

    let mut exit = exit;
    let mut aggregated = Capped::default();
    let mut stderr = Capped::default();
    let deadline = tokio::time::sleep(req.timeout);
    tokio::pin!(deadline);
    let mut timed_out = false;
    let mut status: Option<std::io::Result<i32>> = None;
    let mut streams_open = true;
    while status.is_none() || streams_open {
        tokio::select! {
            chunk = rx.recv(), if streams_open => match chunk {
                Some(Chunk::Out(data)) => {
                    on_output(&String::from_utf8_lossy(&data));
                    aggregated.push(&data);
                }
                Some(Chunk::Err(data)) => {
                    on_output(&String::from_utf8_lossy(&data));
                    aggregated.push(&data);
                    stderr.push(&data);
                }
                None => streams_open = false,
            },
            code = &mut exit, if status.is_none() => {
                status = Some(code);
                kill();
            }
            () = &mut deadline, if status.is_none() => {
                timed_out = true;
                kill();
            }
            () = cancel.cancelled() => {
                kill();
                return Err(ExecError::Interrupted);
            }
        }
    }
    let exit_code = match status {
        Some(Ok(code)) => code,
        _ => -1,
    };
    Ok(ExecOutput {
        exit_code: if timed_out { 124 } else { exit_code },
        aggregated: aggregated.into_string(),
        stderr: stderr.into_string(),
        duration: start.elapsed(),
        timed_out,
    })
}

fn exit_code_of(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

fn kill_group(pid: Option<u32>) {
    if let Some(pid) = pid.and_then(|p| i32::try_from(p).ok()) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

/// Heuristic used by Codex and by us: did the sandbox, rather than the command's own logic,
/// make it fail? Used to offer "retry outside the sandbox" under `on-request`.
pub fn looks_like_sandbox_denial(output: &ExecOutput) -> bool {
    if output.exit_code == 0 || output.timed_out {
        return false;
    }
    if output.exit_code == SANDBOX_FAILURE_EXIT {
        return true;
    }
    let text = output.stderr.to_ascii_lowercase();
    [
        "permission denied",
        "operation not permitted",
        "read-only file system",
        "network is unreachable",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(argv: &[&str], timeout_ms: u64) -> ExecRequest {
        ExecRequest {
            argv: argv.iter().map(|s| s.to_string()).collect(),
            cwd: std::env::temp_dir(),
            env: std::env::vars().collect(),
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    fn cmd(r: &ExecRequest) -> Command {
        let mut c = Command::new(&r.argv[0]);
        c.args(&r.argv[1..]);
        c
    }

    #[tokio::test]
    async fn captures_output_and_exit_code() {
        let r = req(&["sh", "-c", "echo out; echo err >&2; exit 3"], 5000);
        let mut seen = String::new();
        let out = run(
            Process::spawn_command(cmd(&r), &r).unwrap(),
            &r,
            |s| seen.push_str(s),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert_eq!(out.exit_code, 3);
        assert!(out.aggregated.contains("out") && out.aggregated.contains("err"));
        assert_eq!(out.stderr, "err\n");
        assert_eq!(seen, out.aggregated);
    }

    #[tokio::test]
    async fn timeout_kills_the_whole_group() {
        let r = req(&["sh", "-c", "sleep 30 & sleep 30"], 200);
        let out = run(
            Process::spawn_command(cmd(&r), &r).unwrap(),
            &r,
            |_| {},
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert!(out.timed_out);
        assert_eq!(out.exit_code, 124);
        assert!(out.duration < Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_background_job_does_not_hold_the_call_open() {
        let r = req(&["sh", "-c", "sleep 30 & echo started"], 10_000);
        let out = run(
            Process::spawn_command(cmd(&r), &r).unwrap(),
            &r,
            |_| {},
            &CancellationToken::new(),
        )
        .await
        .unwrap();
        assert_eq!(out.exit_code, 0);
        assert!(out.duration < Duration::from_secs(5), "{:?}", out.duration);
    }

    #[tokio::test]
    async fn cancellation_stops_the_command() {
        let r = req(&["sleep", "30"], 60_000);
        let token = CancellationToken::new();
        let t2 = token.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(100)).await;
            t2.cancel();
        });
        let err = run(
            Process::spawn_command(cmd(&r), &r).unwrap(),
            &r,
            |_| {},
            &token,
        )
        .await
        .unwrap_err();
        assert!(matches!(err, ExecError::Interrupted));
    }

    #[test]
    fn capped_buffer_keeps_both_ends() {
        let mut c = Capped::default();
        c.push(&vec![b'a'; KEEP_HEAD]);
        c.push(&vec![b'b'; KEEP_TAIL * 2]);
        c.push(b"END");
        let s = c.into_string();
        assert!(s.starts_with('a') && s.ends_with("END"));
        assert!(s.contains("bytes omitted"));
    }
}
