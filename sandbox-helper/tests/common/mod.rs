//! Shared helpers for the integration tests: the real binary, throwaway workspaces, tools that
//! must exist (a missing tool fails the test with the fix, it never skips), and small servers
//! on the host for the network and socket attacks.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// The binary under test: this build's, or `TANDEM_SANDBOX_BIN` (e.g. the static musl build
/// that `scripts/bench/sandbox` measures; see docs/sandbox.md).
pub fn bin() -> PathBuf {
    match std::env::var_os("TANDEM_SANDBOX_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_tandem-sandbox")),
    }
}

/// Fails the test (never skips) when a tool the setup script installs is missing.
pub fn require_tool(name: &str) -> PathBuf {
    for dir in ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    if let Ok(out) = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        && out.status.success()
    {
        let p = String::from_utf8_lossy(&out.stdout).trim().to_string();
        if !p.is_empty() {
            return PathBuf::from(p);
        }
    }
    panic!(
        "required tool `{name}` is missing: run `bash scripts/setup-sandbox.sh` (it installs everything these tests need)"
    );
}

/// A directory that is deleted at the end of the test. `path` is canonical.
pub struct Dir {
    _tmp: tempfile::TempDir,
    pub path: PathBuf,
}

impl Dir {
    pub fn join(&self, p: &str) -> PathBuf {
        self.path.join(p)
    }
    pub fn s(&self) -> String {
        self.path.display().to_string()
    }
}

fn dir_in(base: &Path) -> Dir {
    std::fs::create_dir_all(base).unwrap();
    let tmp = tempfile::Builder::new()
        .prefix("sbx")
        .tempdir_in(base)
        .unwrap();
    let path = std::fs::canonicalize(tmp.path()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    Dir { _tmp: tmp, path }
}

/// A workspace outside /tmp (the sandbox replaces /tmp, so "outside" paths for attacks must
/// live elsewhere to be visible at all).
pub fn workspace() -> Dir {
    dir_in(Path::new(env!("CARGO_TARGET_TMPDIR")))
}

/// A directory outside every writable root, visible (read-only) inside the sandbox.
pub fn outside() -> Dir {
    dir_in(Path::new(env!("CARGO_TARGET_TMPDIR")))
}

/// A workspace inside `base` (e.g. inside an `outside()` directory, to attack its parent).
pub fn workspace_in(base: &Path) -> Dir {
    dir_in(base)
}

/// A workspace under the host's /tmp (exercises re-attaching roots under the private /tmp).
pub fn tmp_workspace() -> Dir {
    dir_in(Path::new("/tmp"))
}

/// Runs `tandem-sandbox ARGS -- bash -c SCRIPT` in `cwd`.
pub fn sandbox_sh(cwd: &Path, args: &[&str], script: &str) -> Output {
    let mut cmd = Command::new(bin());
    cmd.arg("--cwd").arg(cwd).args(args).arg("--");
    cmd.arg(require_tool("bash")).arg("-c").arg(script);
    run_output(cmd)
}

/// Runs `tandem-sandbox ARGS -- ARGV...`.
pub fn sandbox(cwd: &Path, args: &[&str], argv: &[&str]) -> Output {
    let mut cmd = Command::new(bin());
    cmd.arg("--cwd").arg(cwd).args(args).arg("--").args(argv);
    run_output(cmd)
}

/// Runs python3 code in the sandbox (`python3 -c CODE`).
pub fn sandbox_py(cwd: &Path, args: &[&str], code: &str) -> Output {
    let py = python3();
    let mut cmd = Command::new(bin());
    cmd.arg("--cwd").arg(cwd).args(args).arg("--");
    cmd.arg(py).arg("-c").arg(code);
    run_output(cmd)
}

/// Runs the same script with no sandbox at all (danger-full-access), for control runs that
/// prove an attack would work without the sandbox (so the test can fail).
pub fn unsandboxed_sh(cwd: &Path, script: &str) -> Output {
    sandbox_sh(cwd, &["--mode", "danger-full-access"], script)
}

pub fn python3() -> PathBuf {
    // Debian's python3 (what the setup script installs); a pyenv shim would need writes.
    let p = Path::new("/usr/bin/python3");
    if p.exists() {
        return p.to_path_buf();
    }
    require_tool("python3")
}

fn run_output(mut cmd: Command) -> Output {
    cmd.stdin(Stdio::null());
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tandem-sandbox");
    wait_with_timeout(child, Duration::from_secs(120))
}

/// Waits for a child with a deadline; a hung sandbox fails the test instead of hanging CI.
pub fn wait_with_timeout(mut child: std::process::Child, timeout: Duration) -> Output {
    let out = child.stdout.take();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        if let Some(mut out) = out {
            let _ = out.read_to_end(&mut v);
        }
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("sandboxed command did not finish within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output {
        status,
        stdout: t_out.join().unwrap(),
        stderr: t_err.join().unwrap(),
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the sandbox itself worked (exit status is not 125) and returns stdout.
#[track_caller]
pub fn ran(o: &Output) -> String {
    assert_ne!(o.status.code(), Some(125), "sandbox failure: {}", stderr(o));
    stdout(o)
}

/// A TCP server on 127.0.0.1 in the host's network namespace that counts connections and
/// answers HTTP 200.
pub struct TcpServer {
    pub port: u16,
    pub hits: Arc<AtomicUsize>,
}

pub fn tcp_server() -> TcpServer {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(mut c) = conn else { continue };
            h.fetch_add(1, Ordering::SeqCst);
            let _ = c.set_read_timeout(Some(Duration::from_millis(200)));
            let mut buf = [0u8; 1024];
            let _ = c.read(&mut buf);
            let _ = c.write_all(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok");
        }
    });
    TcpServer { port, hits }
}

/// A Unix socket server at `path` (a host daemon stand-in) that counts connections.
pub struct UnixServer {
    pub path: PathBuf,
    pub hits: Arc<AtomicUsize>,
}

impl Drop for UnixServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

pub fn unix_server(path: PathBuf) -> UnixServer {
    let _ = std::fs::remove_file(&path);
    let l = UnixListener::bind(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o777)).unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    std::thread::spawn(move || {
        for mut c in l.incoming().flatten() {
            h.fetch_add(1, Ordering::SeqCst);
            let _ = c.write_all(b"hello from the host\n");
        }
    });
    UnixServer { path, hits }
}

/// A host process (sleep) to attack; killed on drop.
pub struct Victim(pub std::process::Child);

impl Victim {
    pub fn new(cwd: &Path) -> Victim {
        Victim(
            Command::new("sleep")
                .arg("600")
                .current_dir(cwd)
                .spawn()
                .unwrap(),
        )
    }
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
    pub fn alive(&mut self) -> bool {
        self.0.try_wait().unwrap().is_none()
    }
}

impl Drop for Victim {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Number of host processes whose command line contains `marker`.
pub fn count_processes_with(marker: &str) -> usize {
    let mut n = 0;
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if !e
            .file_name()
            .to_string_lossy()
            .chars()
            .all(|c| c.is_ascii_digit())
        {
            continue;
        }
        if let Ok(cmd) = std::fs::read(e.path().join("cmdline"))
            && String::from_utf8_lossy(&cmd).contains(marker)
        {
            n += 1;
        }
    }
    n
}

/// Runs `attack` (a bash condition) in the sandbox and asserts it failed.
#[track_caller]
pub fn blocked(ws: &Dir, args: &[&str], attack: &str) -> String {
    let script = format!("if {attack}; then echo ESCAPED; else echo blocked; fi");
    let out = sandbox_sh(&ws.path, args, &script);
    let so = ran(&out);
    assert!(
        so.contains("blocked") && !so.contains("ESCAPED"),
        "attack `{attack}` was not blocked\nstdout: {so}\nstderr: {}",
        stderr(&out)
    );
    stderr(&out)
}

/// The same attack without any sandbox must succeed (so `blocked` is a real test).
#[track_caller]
pub fn control_succeeds(ws: &Dir, attack: &str) {
    let script = format!("if {attack}; then echo ESCAPED; else echo blocked; fi");
    let out = unsandboxed_sh(&ws.path, &script);
    assert!(
        stdout(&out).contains("ESCAPED"),
        "control run of `{attack}` failed, so the test proves nothing: {}",
        stderr(&out)
    );
}

pub const PY_SYSCALL: &str = "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\nlibc.syscall.restype = ctypes.c_long\ndef sc(*a):\n    r = libc.syscall(*[ctypes.c_long(x) if isinstance(x, int) else x for x in a])\n    return r, ctypes.get_errno()\n";

/// Runs python with the `sc` helper; the code must print "blocked" or "ESCAPED".
#[track_caller]
pub fn py_blocked(ws: &Dir, args: &[&str], body: &str) -> String {
    let out = sandbox_py(&ws.path, args, &format!("{PY_SYSCALL}{body}"));
    let so = ran(&out);
    assert!(
        so.contains("blocked") && !so.contains("ESCAPED"),
        "not blocked: {so}\n{}",
        stderr(&out)
    );
    so
}
