//! `scripts/bench/sandbox`, kernel line: what a sandboxed command costs *as the kernel runs it*,
//! over the same command run unsandboxed, in the same process and the same minutes.
//!
//! Both sides go through the kernel's own exec path (`tandem_core::exec::Process` and
//! `exec::run`: piped stdout/stderr, the async wait, the kill of whatever is left), so the
//! difference is exactly what the sandbox adds per `shell` call: the request to the session
//! zygote, its warm init, the extra layers, and the status report. The helper is the real
//! `tandem` binary under its `tandem-sandbox` name, as the kernel starts it.
//!
//! Commands alternate (unsandboxed, sandboxed, …) so load drift hits both sides alike. Two
//! rhythms are timed: back to back, and with a pause between commands like the model round
//! trip that separates two tool calls in a real session.
//!
//! Prints one JSON object on stdout. `RUNS` (default 1000) sets the commands per side and
//! rhythm.
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use serde_json::json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tandem_core::exec::{self, ExecRequest, Process};
use tandem_sandbox::{ChildIo, SandboxPolicy, SessionSandbox, SpawnRequest};
use tokio_util::sync::CancellationToken;

const TANDEM: &str = env!("CARGO_BIN_EXE_tandem");

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn p90(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() * 9 / 10]
}

fn request(argv: &[&str], cwd: &Path) -> ExecRequest {
    ExecRequest {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        cwd: cwd.to_path_buf(),
        env: std::env::vars().collect::<BTreeMap<_, _>>(),
        timeout: Duration::from_secs(10),
    }
}

/// One unsandboxed command through the kernel's exec path, as `sandboxing::direct` starts it.
async fn direct(req: &ExecRequest) -> f64 {
    let start = Instant::now();
    let mut cmd = tokio::process::Command::new(&req.argv[0]);
    cmd.args(&req.argv[1..]);
    let process = Process::spawn_command(cmd, req).expect("spawn");
    let out = exec::run(process, req, |_| {}, &CancellationToken::new())
        .await
        .expect("run");
    assert_eq!(out.exit_code, 0, "{}", out.aggregated);
    start.elapsed().as_secs_f64() * 1000.0
}

/// One sandboxed command, as `sandboxing::sandboxed` starts it through the session zygote.
async fn sandboxed(zygote: &SessionSandbox, req: &ExecRequest) -> f64 {
    let start = Instant::now();
    let env = req.env.iter().map(|(k, v)| (k.into(), v.into())).collect();
    let child = zygote
        .spawn(
            SpawnRequest::new(&req.argv)
                .cwd(&req.cwd)
                .env(env)
                .stdin(ChildIo::Null)
                .stdout(ChildIo::Pipe)
                .stderr(ChildIo::Pipe),
        )
        .expect("zygote spawn");
    let process = Process::from_sandboxed(child).expect("wrap");
    let out = exec::run(process, req, |_| {}, &CancellationToken::new())
        .await
        .expect("run");
    assert_eq!(out.exit_code, 0, "{}", out.aggregated);
    start.elapsed().as_secs_f64() * 1000.0
}

struct Rhythm {
    direct: Vec<f64>,
    sandboxed: Vec<f64>,
}

async fn measure(zygote: &SessionSandbox, req: &ExecRequest, runs: usize, gap: Duration) -> Rhythm {
    let mut r = Rhythm {
        direct: Vec::with_capacity(runs),
        sandboxed: Vec::with_capacity(runs),
    };
    for i in 0..runs * 2 {
        if !gap.is_zero() {
            tokio::time::sleep(gap).await;
        }
        // Alternate which side goes first in each pair.
        if (i % 2 == 0) == (i / 2 % 2 == 0) {
            r.direct.push(direct(req).await);
        } else {
            r.sandboxed.push(sandboxed(zygote, req).await);
        }
    }
    r
}

fn report(name: &str, mut r: Rhythm) -> serde_json::Value {
    let d = median(&mut r.direct);
    let s = median(&mut r.sandboxed);
    json!({
        "rhythm": name,
        "unsandboxed_median_ms": d,
        "sandboxed_median_ms": s,
        "added_median_ms": s - d,
        "unsandboxed_p90_ms": p90(&mut r.direct),
        "sandboxed_p90_ms": p90(&mut r.sandboxed),
    })
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is taken from the command line.
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1000);
    let ws = tempfile::tempdir().expect("workspace");
    let ws_path: PathBuf = ws.path().canonicalize().expect("canonical");
    std::fs::create_dir_all(ws_path.join(".git")).expect(".git");
    let policy = SandboxPolicy {
        mode: tandem_protocol::SandboxMode::WorkspaceWrite,
        cwd: Some(ws_path.clone()),
        ..SandboxPolicy::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let start = Instant::now();
    let zygote = SessionSandbox::start(Path::new(TANDEM), Some("tandem-sandbox"), &policy)
        .expect("the session sandbox (run as root, or where user namespaces are allowed)");
    let session_start_ms = start.elapsed().as_secs_f64() * 1000.0;
    let req = request(&["/bin/true"], &ws_path);
    let (back_to_back, paced) = runtime.block_on(async {
        // Warm both paths (page cache, the runtime's threads) before anything is timed.
        measure(&zygote, &req, 20, Duration::ZERO).await;
        let b = measure(&zygote, &req, runs, Duration::ZERO).await;
        let p = measure(&zygote, &req, runs, Duration::from_millis(1)).await;
        (b, p)
    });
    let out = json!({
        "runs_per_side": runs,
        "command": "/bin/true",
        "helper": "tandem (arg0 tandem-sandbox), session zygote, workspace-write, network off",
        "session_start_ms": session_start_ms,
        "load": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
        "results": [report("back-to-back", back_to_back), report("1 ms apart", paced)],
    });
    println!("{out}");
}
