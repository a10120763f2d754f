//! `--bench-zygote N`: times N spawns through a session zygote against N bare spawns of the
//! same command, in-process, and prints the medians as JSON. Used by `scripts/bench/sandbox`
//! (hyperfine cannot time a long-lived zygote: it only runs whole processes).

use crate::error::{Result, SandboxError};
use crate::policy::SandboxPolicy;
use crate::session::{ChildIo, SandboxedChild, SessionSandbox, SpawnRequest};
use serde::Serialize;
use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// What the bench prints.
#[derive(Debug, Serialize)]
pub struct ZygoteBench {
    pub runs: usize,
    pub command: Vec<String>,
    pub bare_median_ms: f64,
    pub zygote_median_ms: f64,
    pub zygote_added_median_ms: f64,
    pub zygote_p90_ms: f64,
    /// Median time for `spawn()` alone to return (the command then runs on its own).
    pub zygote_spawn_median_ms: f64,
    pub session_start_ms: f64,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn p90(v: &[f64]) -> f64 {
    v.get(v.len() * 9 / 10).copied().unwrap_or(f64::NAN)
}

fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

/// Runs the benchmark with the helper at `helper_exe`.
pub fn run(
    helper_exe: &Path,
    policy: &SandboxPolicy,
    argv: &[OsString],
    runs: usize,
) -> Result<ZygoteBench> {
    let runs = runs.max(1);
    let mut bare = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let status = Command::new(&argv[0])
            .args(&argv[1..])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| SandboxError::io("bare spawn", e))?;
        bare.push(ms(t));
        if !status.success() {
            return Err(SandboxError::Unsupported(format!(
                "bare run failed: {status}"
            )));
        }
    }
    let t = Instant::now();
    let session = SessionSandbox::start(helper_exe, None, policy)?;
    let session_start_ms = ms(t);
    let mut zyg = Vec::with_capacity(runs);
    let mut spawn_only = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        let mut child: SandboxedChild = session.spawn(
            SpawnRequest::new(argv)
                .stdout(ChildIo::Null)
                .stderr(ChildIo::Null),
        )?;
        spawn_only.push(ms(t));
        let status = child.wait()?;
        zyg.push(ms(t));
        if !status.success() {
            return Err(SandboxError::Unsupported(format!(
                "zygote run failed: {status}"
            )));
        }
    }
    drop(session);
    let bare_median_ms = median(&mut bare);
    let zygote_median_ms = median(&mut zyg);
    Ok(ZygoteBench {
        runs,
        command: argv
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        bare_median_ms,
        zygote_median_ms,
        zygote_added_median_ms: zygote_median_ms - bare_median_ms,
        zygote_p90_ms: p90(&zyg),
        zygote_spawn_median_ms: median(&mut spawn_only),
        session_start_ms,
    })
}
