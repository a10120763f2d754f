//! `scripts/bench/exec`: the kernel's figures, measured on the real `tandem` binary against
//! the scripted model server (a real HTTP server on loopback).
//!
//! - start-up: process start to the first byte of the first model request;
//! - per tool call: the kernel's overhead per tool round trip, as an upper bound (it includes
//!   the loopback HTTP round trip to the scripted model), and the extra cost of a `shell` call
//!   over a no-op tool, minus the spawn of the command itself;
//! - peak RSS of a 200-round session.
#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tandem_scripted_model::{Scenario, ScriptedServer};

const TANDEM: &str = env!("CARGO_BIN_EXE_tandem");

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn percentile(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn write_config(home: &Path, base_url: &str) {
    write_config_with(home, base_url, "");
}

fn write_config_with(home: &Path, base_url: &str, tables: &str) {
    let config = format!(
        "model = \"bench\"\nmodel_provider = \"scripted\"\nsandbox_mode = \"danger-full-access\"\nmax_tool_rounds = 1000\n[model_providers.scripted]\nname = \"Scripted\"\nbase_url = \"{base_url}\"\nwire_api = \"responses\"\nrequest_max_retries = 0\n{tables}"
    );
    std::fs::write(home.join("config.toml"), config).expect("config");
}

/// Process start → first byte of the first model request, on a bare TCP listener.
/// `tables` is extra config (an MCP server that is slow to start, say).
fn startup(runs: usize, tables: &str) -> Vec<f64> {
    startup_with_sessions(runs, tables, 0)
}

/// As [`startup`], with `sessions` recorded sessions already in `$TANDEM_HOME`.
fn startup_with_sessions(runs: usize, tables: &str, sessions: usize) -> Vec<f64> {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let home = tempfile::tempdir().expect("home");
    let work = tempfile::tempdir().expect("work");
    write_config_with(home.path(), &format!("http://127.0.0.1:{port}/v1"), tables);
    let dir = home.path().join("sessions");
    std::fs::create_dir_all(&dir).expect("sessions dir");
    let mut index = String::new();
    for i in 0..sessions {
        let path = dir.join(format!("old-{i:06}.jsonl"));
        std::fs::write(&path, "{\"t\":0,\"type\":\"response_item\",\"payload\":{\"type\":\"message\",\"role\":\"user\",\"content\":[]}}\n").expect("session");
        index.push_str(&format!(
            "{{\"id\":\"old-{i:06}\",\"path\":\"{}\",\"cwd\":\"/w\",\"created_at\":{i}}}\n",
            path.display()
        ));
    }
    std::fs::write(dir.join("index.jsonl"), index).expect("index");
    let mut out = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let mut child = Command::new(TANDEM)
            .args(["exec", "hi"])
            .current_dir(work.path())
            .env("TANDEM_HOME", home.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn tandem");
        let (mut conn, _) = listener.accept().expect("accept");
        let mut byte = [0u8; 1];
        conn.read_exact(&mut byte).expect("first byte");
        out.push(start.elapsed().as_secs_f64() * 1000.0);
        let mut rest = [0u8; 65536];
        conn.set_read_timeout(Some(Duration::from_millis(50))).ok();
        let _ = conn.read(&mut rest);
        let _ = conn.write_all(
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
        );
        drop(conn);
        let _ = child.wait();
    }
    out
}

struct Timed {
    wall_ms: f64,
    max_rss_kb: i64,
}

/// Run `tandem exec` against a scenario, unsandboxed.
fn run_scenario(scenario: &str) -> Timed {
    run_scenario_in(scenario, "danger-full-access")
}

/// Run `tandem exec` against a scenario; wall time and peak RSS (from wait4's rusage).
#[allow(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which also gives its rusage"
)]
fn run_scenario_in(scenario: &str, sandbox: &str) -> Timed {
    let server = ScriptedServer::start(Scenario::from_toml_str(scenario).expect("scenario"))
        .expect("server");
    let home = tempfile::tempdir().expect("home");
    let work = tempfile::tempdir().expect("work");
    write_config(home.path(), &server.base_url());
    let config = std::fs::read_to_string(home.path().join("config.toml")).expect("config");
    let config = config.replace(
        "sandbox_mode = \"danger-full-access\"",
        &format!("sandbox_mode = \"{sandbox}\""),
    );
    std::fs::write(home.path().join("config.toml"), config).expect("config");
    let start = Instant::now();
    let child = Command::new(TANDEM)
        .args(["exec", "go"])
        .current_dir(work.path())
        .env("TANDEM_HOME", home.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tandem");
    let mut status = 0;
    // SAFETY: rusage is plain data, zero is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our child's; status and usage point to live locals.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall_ms = start.elapsed().as_secs_f64() * 1000.0;
    assert!(
        pid > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "tandem exec failed: {status}"
    );
    Timed {
        wall_ms,
        max_rss_kb: usage.ru_maxrss,
    }
}

fn rounds(n: usize, name: &str, args: &str) -> String {
    format!(
        "[[step]]\nrepeat = {n}\n[[step.output]]\ntype = \"function_call\"\nname = \"{name}\"\narguments = '{args}'\n[[step]]\n[[step.output]]\ntype = \"message\"\ntext = \"done\"\n"
    )
}

fn spawn_true_ms(runs: usize) -> f64 {
    let samples = (0..runs)
        .map(|_| {
            let t = Instant::now();
            Command::new("/bin/true").status().expect("true");
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    median(samples)
}

fn main() {
    // Criterion-style flags (`--bench`) are accepted and ignored.
    let startup_ms = startup(30, "");
    println!(
        "start-up to first model request: median {:.2} ms, p90 {:.2} ms (30 runs; target < 15 ms)",
        median(startup_ms.clone()),
        percentile(startup_ms, 0.9)
    );
    // Start-up must not grow with the number of recorded sessions.
    let piled = startup_with_sessions(30, "", 10_000);
    println!(
        "start-up with 10,000 recorded sessions: median {:.2} ms",
        median(piled)
    );
    // The same with an MCP server that takes 5 s to initialise: the first turn must not wait.
    let slow = "[mcp_servers.slow]\ncommand = \"sh\"\nargs = [\"-c\", \"sleep 5; exec cat\"]\nstartup_timeout_sec = 30\n";
    let with_mcp = startup(10, slow);
    println!(
        "start-up with an MCP server that takes 5 s to initialise: median {:.2} ms (10 runs)",
        median(with_mcp)
    );

    let n = 200;
    let plan = rounds(
        n,
        "update_plan",
        r#"{"plan":[{"step":"x","status":"in_progress"}]}"#,
    );
    let shell = rounds(n, "shell", r#"{"command":["/bin/true"]}"#);
    let idle = run_scenario(&rounds(1, "update_plan", r#"{"plan":[]}"#));
    let plan_t = run_scenario(&plan);
    let shell_t = run_scenario(&shell);
    let t_true = spawn_true_ms(200);
    let per_round = (plan_t.wall_ms - idle.wall_ms) / (n as f64 - 1.0);
    let shell_extra = (shell_t.wall_ms - plan_t.wall_ms) / n as f64 - t_true;
    println!(
        "per tool round trip, kernel + loopback model (no-op tool): {per_round:.3} ms (upper bound of kernel overhead; target < 2 ms)"
    );
    println!(
        "shell call over a no-op tool, minus the command's own spawn ({t_true:.3} ms): {shell_extra:.3} ms"
    );
    // Whole sessions are noisy on a shared machine: time five pairs back to back (the order
    // swapped each time) and report the median of the per-call differences.
    let mut added = Vec::new();
    for pair in 0..5 {
        let (plain, sandboxed) = if pair % 2 == 0 {
            let p = run_scenario(&shell);
            (p, run_scenario_in(&shell, "workspace-write"))
        } else {
            let s = run_scenario_in(&shell, "workspace-write");
            (run_scenario(&shell), s)
        };
        added.push((sandboxed.wall_ms - plain.wall_ms) / n as f64);
    }
    let mut sorted = added.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    println!(
        "sandboxed shell call (workspace-write, session zygote) over an unsandboxed one: {:.3} ms median of 5 session pairs (pairs: {}; target < 1 ms)",
        median(added),
        sorted
            .iter()
            .map(|a| format!("{a:.3}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "peak RSS of a {n}-round session: {:.1} MB (target < 50 MB)",
        shell_t.max_rss_kb as f64 / 1024.0
    );
}
