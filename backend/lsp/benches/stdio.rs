//! The three figures, measured end to end through the real `tandem lsp` over stdio:
//!
//! - a one-character `didChange` on a 5 MB document: the round trip of the change followed by
//!   a no-op request (the server handles them in order, so the reply comes after the change was
//!   applied), next to the round trip of the no-op request alone;
//! - 1,000 open documents totalling 100 MB: the server's RSS over the text size;
//! - `tandem/focus` then `tandem/context/preview` with 1,000 open files: the round trip.
//!
//! Run by `scripts/bench/lsp`, which builds the release binary and passes it as `TANDEM_BIN`.

#![allow(clippy::print_stdout)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

struct Client {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    next: i64,
}

impl Client {
    fn send(&mut self, msg: &Value) {
        let body = serde_json::to_vec(msg).expect("json");
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).expect("write");
        self.stdin.write_all(&body).expect("write");
    }

    fn flush(&mut self) {
        self.stdin.flush().expect("flush");
    }

    fn read(&mut self) -> Value {
        let mut len = 0;
        loop {
            let mut line = String::new();
            assert!(
                self.stdout.read_line(&mut line).expect("read") > 0,
                "server closed"
            );
            let line = line.trim();
            if line.is_empty() {
                break;
            }
            if let Some(n) = line.strip_prefix("Content-Length: ") {
                len = n.parse().expect("length");
            }
        }
        let mut body = vec![0; len];
        self.stdout.read_exact(&mut body).expect("body");
        serde_json::from_slice(&body).expect("json")
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request (after whatever was queued) and waits for its reply.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        self.flush();
        loop {
            let msg = self.read();
            if msg["id"] == id && msg.get("method").is_none() {
                return msg["result"].clone();
            }
        }
    }
}

fn percentiles(mut v: Vec<Duration>) -> String {
    v.sort();
    let at = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
    format!(
        "p50 {:.3} ms, p99 {:.3} ms (n = {})",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        v.len()
    )
}

fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb * 1024
}

/// About `bytes` of Rust-looking ASCII text, in lines of about 80 characters.
fn text(bytes: usize, seed: usize) -> String {
    let mut s = String::with_capacity(bytes + 100);
    let mut i = seed;
    while s.len() < bytes {
        s.push_str(&format!(
            "    let value_{i} = compute(\"{i:08}\", {}) + offset; // line {i}\n",
            i % 97
        ));
        i += 1;
    }
    s
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let bin = std::env::var("TANDEM_BIN").unwrap_or_else(|_| "target/release/tandem".into());
    let root = tempfile::tempdir().expect("root");
    let home = tempfile::tempdir().expect("home");
    let mut child = Command::new(&bin)
        .arg("lsp")
        .env("TANDEM_HOME", home.path())
        .env("RUST_LOG", "error")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {bin} (set TANDEM_BIN): {e}"));
    let pid = child.id();
    let mut c = Client {
        stdin: child.stdin.take().expect("stdin"),
        stdout: BufReader::new(child.stdout.take().expect("stdout")),
        next: 0,
    };
    let root_path = root.path().canonicalize().expect("root");
    let uri = |name: &str| format!("file://{}/{name}", root_path.display());
    c.request(
        "initialize",
        json!({"processId": null, "rootUri": format!("file://{}", root_path.display()),
               "capabilities": {"general": {"positionEncodings": ["utf-16"]}}}),
    );
    c.notify("initialized", json!({}));

    // didChange on 5 MB.
    let big = text(5 << 20, 0);
    let lines = big.lines().count() as u32;
    c.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri("big.rs"), "languageId": "rust", "version": 1, "text": big}}),
    );
    drop(big);
    c.request("tandem/task/list", json!({}));
    let (mut with_change, mut alone) = (Vec::new(), Vec::new());
    for i in 0..3_000u32 {
        let line = (i.wrapping_mul(7_919)) % lines;
        let t = Instant::now();
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri("big.rs"), "version": i + 2},
                   "contentChanges": [{"range": {"start": {"line": line, "character": 4},
                                                  "end": {"line": line, "character": 4}}, "text": "x"}]}),
        );
        c.request("tandem/task/list", json!({}));
        with_change.push(t.elapsed());
        let t = Instant::now();
        c.request("tandem/task/list", json!({}));
        alone.push(t.elapsed());
    }
    println!("didChange, one character, 5 MB document, round trip with a no-op request:");
    println!("  didChange + request: {}", percentiles(with_change));
    println!("  request alone:       {}", percentiles(alone));
    c.notify(
        "textDocument/didClose",
        json!({"textDocument": {"uri": uri("big.rs")}}),
    );
    c.request("tandem/task/list", json!({}));

    // 1,000 documents of 100 KB.
    std::thread::sleep(Duration::from_millis(200));
    let before = rss_bytes(pid);
    let mut total = 0usize;
    for i in 0..1_000 {
        let t = text(100 << 10, i * 1_000);
        total += t.len();
        c.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri(&format!("src/f{i}.rs")), "languageId": "rust",
                                    "version": 1, "text": t}}),
        );
    }
    c.request("tandem/task/list", json!({}));
    std::thread::sleep(Duration::from_millis(200));
    let after = rss_bytes(pid);
    let mb = |b: u64| b as f64 / (1u64 << 20) as f64;
    println!(
        "1,000 open documents, {:.1} MB of text: RSS {:.1} MB = {:.2}x the text (before opening: {:.1} MB; growth {:.2}x)",
        mb(total as u64),
        mb(after),
        after as f64 / total as f64,
        mb(before),
        (after - before) as f64 / total as f64
    );

    // Focus -> preview with 1,000 open files.
    let mut rounds = Vec::new();
    for i in 0..300usize {
        let t = Instant::now();
        c.notify(
            "tandem/focus",
            json!({"uri": uri(&format!("src/f{}.rs", (i * 37) % 1_000)),
                   "position": {"line": 500, "character": 4},
                   "visibleRanges": [{"start": {"line": 480, "character": 0}, "end": {"line": 530, "character": 0}}]}),
        );
        let p = c.request("tandem/context/preview", json!({}));
        rounds.push(t.elapsed());
        assert!(p["items"].as_array().is_some_and(|a| !a.is_empty()), "{p}");
    }
    println!(
        "focus -> context preview, 1,000 open files, round trip: {}",
        percentiles(rounds)
    );
    c.request("shutdown", Value::Null);
    c.notify("exit", Value::Null);
    c.flush();
    let _ = child.wait();
}
