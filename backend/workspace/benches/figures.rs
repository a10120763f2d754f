//! The figures the issue asks for, measured directly: p50/p99/max of a one-character
//! `didChange` on a 5 MB document (bare, and with pending review hunks), RSS over text size with 1,000 documents of 100 KB, and
//! p50/p99 of focus → context preview with 1,000 open files.
//!
//! `cargo bench -p tandem-workspace --bench figures -- <didchange|didchange-review|rss|preview|all>`. Run `rss`
//! in a process of its own (the script does), so nothing else inflates the resident set.

#![allow(clippy::print_stdout)]

mod common;

use std::time::{Duration, Instant};

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    (at(0.50), at(0.99), *samples.last().expect("samples"))
}

/// CPU time of this thread: unlike wall time, it does not count the time another process
/// held the core (the machines are shared, with two cores).
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec, and the clock id is a constant Linux knows.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// Runs `f`, recording its wall time and its thread CPU time.
fn timed(wall: &mut Vec<Duration>, cpu: &mut Vec<Duration>, f: impl FnOnce()) {
    let (t, c) = (Instant::now(), thread_cpu());
    f();
    cpu.push(thread_cpu() - c);
    wall.push(t.elapsed());
}

fn summary(wall: Vec<Duration>, cpu: Vec<Duration>) -> String {
    let (p50, p99, max) = percentiles(wall);
    let (c50, c99, _) = percentiles(cpu);
    format!(
        "wall p50 {}, p99 {}, max {}; thread CPU p50 {}, p99 {}",
        us(p50),
        us(p99),
        us(max),
        us(c50),
        us(c99)
    )
}

fn us(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

fn did_change(with_review: bool) {
    let mut ws = common::workspace(0, 0);
    let path = common::file(0);
    let text = common::text(5 << 20, 1);
    let lines = text.lines().count();
    ws.did_open(&path, 1, &text).expect("open");
    if with_review {
        common::propose_40_hunks(&mut ws, &path, &text);
    }
    let mut typist = common::Typist::new(lines);
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for version in 2..20_002 {
        let change = typist.next();
        timed(&mut wall, &mut cpu, || {
            ws.did_change(&path, version, &[change]).expect("change");
        });
    }
    println!(
        "didChange 1 char on a {:.1} MB document ({} lines){}, 20,000 edits: {} (target: p99 < 1 ms)",
        text.len() as f64 / 1e6,
        lines,
        if with_review {
            " with 41 pending hunks"
        } else {
            ""
        },
        summary(wall, cpu)
    );
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn rss() {
    let before = rss_kib();
    let ws = common::workspace(1_000, 100 * 1024);
    let text = ws.documents().read().total_bytes() as f64;
    let after = rss_kib();
    let mib = |kib: u64| kib as f64 / 1024.0;
    println!(
        "1,000 documents, {:.1} MiB of text: RSS {:.1} MiB ({:.2}x the text; {:.2}x counting only what the documents added; baseline {:.1} MiB) (target: < 1.5x)",
        text / 1048576.0,
        mib(after),
        after as f64 * 1024.0 / text,
        (after - before) as f64 * 1024.0 / text,
        mib(before)
    );
    drop(ws);
}

fn preview() {
    let mut ws = common::workspace(1_000, 10 * 1024);
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    let mut tokens = 0;
    for k in 0..2_000usize {
        let i = (k * 7) % 1_000;
        timed(&mut wall, &mut cpu, || {
            ws.set_focus(common::focus(&common::file(i), 100));
            tokens = ws.context_preview().total_tokens;
        });
    }
    println!(
        "focus -> context preview, 1,000 open files of 10 KiB ({tokens} tokens sent): {} (target: < 10 ms)",
        summary(wall, cpu)
    );
}

fn main() {
    // `cargo bench` passes `--bench`; take the first other argument as the figure to measure.
    let which = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_else(|| "all".into());
    match which.as_str() {
        "didchange" => did_change(false),
        "didchange-review" => did_change(true),
        "rss" => rss(),
        "preview" => preview(),
        _ => {
            did_change(false);
            did_change(true);
            preview();
            rss();
        }
    }
}
