//! Helpers for the `tandem lsp` end-to-end tests: a temporary `$TANDEM_HOME` and workspace
//! with a scripted model, and a blocking LSP client over the real binary's stdio.
//!
//! The client behaves like an editor: it keeps the documents it opened, applies
//! `workspace/applyEdit` (checking the version) and reports the change back as `didChange`,
//! and allows approvals once. Every byte the server writes to stdout must be a framed
//! message; anything else fails the test.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tandem_scripted_model::{Scenario, ScriptedServer};
use tempfile::TempDir;

pub const TIMEOUT: Duration = Duration::from_secs(30);

pub struct Env {
    pub home: TempDir,
    pub work: TempDir,
    pub model: ScriptedServer,
}

impl Env {
    pub fn new(scenario: &str) -> Self {
        let model = ScriptedServer::start(Scenario::from_toml_str(scenario).expect("scenario"))
            .expect("scripted model");
        let home = tempfile::tempdir().expect("home");
        let work = tempfile::tempdir().expect("work");
        std::fs::write(
            home.path().join("config.toml"),
            format!(
                "model = \"scripted-model\"\nmodel_provider = \"scripted\"\n\n[model_providers.scripted]\nname = \"Scripted\"\nbase_url = \"{}\"\nwire_api = \"responses\"\nrequest_max_retries = 0\n",
                model.base_url()
            ),
        )
        .expect("config");
        Env { home, work, model }
    }

    pub fn root(&self) -> PathBuf {
        self.work.path().canonicalize().expect("root")
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
        p
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).expect("read")
    }

    /// Every tool output the model was sent.
    pub fn tool_outputs(&self) -> String {
        self.model
            .requests()
            .iter()
            .flat_map(|r| r.tool_outputs())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `tandem lsp` with this environment, stdio piped.
    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tandem"));
        c.arg("lsp")
            .current_dir(self.root())
            .env("TANDEM_HOME", self.home.path())
            .env_remove("OPENAI_API_KEY")
            .env_remove("OPENAI_BASE_URL")
            .env("RUST_LOG", "info");
        c
    }
}

pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

pub fn range(r: [u32; 4]) -> Value {
    json!({"start": {"line": r[0], "character": r[1]}, "end": {"line": r[2], "character": r[3]}})
}

pub fn function_call(name: &str, args: Value) -> String {
    format!(
        "[[step]]\n[[step.output]]\ntype = \"function_call\"\nname = \"{name}\"\narguments = '''{args}'''\n"
    )
}

pub fn message(text: &str) -> String {
    format!("[[step]]\n[[step.output]]\ntype = \"message\"\ntext = \"{text}\"\n")
}

/// The two-hunk change every review test proposes: line 2 and line 11 of `greet.rs`.
pub const OLD: &str = "fn greet(name: &str) {\n    println!(\"hello {name}\");\n}\n\nfn a() {}\nfn b() {}\nfn c() {}\nfn d() {}\n\nfn answer() -> u32 {\n    41\n}\n";

pub fn review_scenario() -> String {
    let body = "*** Update File: greet.rs\n@@\n fn greet(name: &str) {\n-    println!(\"hello {name}\");\n+    println!(\"hello, {name}!\");\n }\n@@\n fn answer() -> u32 {\n-    41\n+    42\n }\n";
    format!(
        "{}{}",
        function_call(
            "apply_patch",
            json!({"input": format!("*** Begin Patch\n{body}*** End Patch\n")})
        ),
        message("done")
    )
}

pub struct StdioClient {
    child: Child,
    stdin: ChildStdin,
    rx: mpsc::Receiver<Result<Value, String>>,
    next_id: i64,
    pub notifications: Vec<Value>,
    pub server_requests: Vec<Value>,
    docs: HashMap<String, (i64, String)>,
    stderr: std::sync::Arc<std::sync::Mutex<String>>,
}

fn read_frames(out: impl Read, tx: mpsc::Sender<Result<Value, String>>) {
    let mut r = BufReader::new(out);
    loop {
        let mut len = None;
        loop {
            let mut line = String::new();
            match r.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            let t = line.trim_end_matches(['\r', '\n']);
            if t.is_empty() {
                break;
            }
            match t.strip_prefix("Content-Length: ") {
                Some(n) => len = n.parse::<usize>().ok(),
                None if t.starts_with("Content-Type:") => {}
                None => {
                    let _ = tx.send(Err(format!("not LSP on stdout: {line:?}")));
                    return;
                }
            }
        }
        let Some(len) = len else {
            let _ = tx.send(Err("a frame without Content-Length".into()));
            return;
        };
        let mut body = vec![0; len];
        if r.read_exact(&mut body).is_err() {
            return;
        }
        let _ = tx.send(serde_json::from_slice(&body).map_err(|e| format!("bad JSON: {e}")));
    }
}

/// Byte offset of a UTF-8 position (the tests negotiate UTF-8; their text is ASCII anyway).
fn offset(text: &str, line: u64, character: u64) -> usize {
    let mut start = 0;
    for _ in 0..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    (start + character as usize).min(end)
}

impl StdioClient {
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tandem lsp");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || read_frames(stdout, tx));
        // Drain stderr as it comes, so a chatty log never fills the pipe and blocks the server.
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (mut err, sink) = (child.stderr.take().expect("stderr"), stderr.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .expect("stderr")
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        StdioClient {
            child,
            stdin,
            rx,
            next_id: 0,
            notifications: Vec::new(),
            server_requests: Vec::new(),
            docs: HashMap::new(),
            stderr,
        }
    }

    fn send(&mut self, msg: &Value) {
        let body = serde_json::to_vec(msg).expect("json");
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).expect("write");
        self.stdin.write_all(&body).expect("write");
        self.stdin.flush().expect("flush");
    }

    pub fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    pub fn open(&mut self, path: &Path, text: &str) {
        self.docs.insert(uri(path), (1, text.to_string()));
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri(path), "languageId": "rust", "version": 1, "text": text}}),
        );
    }

    pub fn text(&self, path: &Path) -> String {
        self.docs[&uri(path)].1.clone()
    }

    /// Reads one message and handles it; `None` on timeout.
    fn pump(&mut self, deadline: Instant) -> Option<Value> {
        let left = deadline.saturating_duration_since(Instant::now());
        let msg = match self.rx.recv_timeout(left) {
            Ok(Ok(m)) => m,
            Ok(Err(e)) => panic!("{e}"),
            Err(_) => return None,
        };
        if msg.get("method").is_some() && msg.get("id").is_some() {
            self.server_requests.push(msg.clone());
            let result = self.answer(&msg);
            self.send(&json!({"jsonrpc": "2.0", "id": msg["id"], "result": result}));
        } else if msg.get("method").is_some() {
            self.notifications.push(msg.clone());
        }
        Some(msg)
    }

    fn answer(&mut self, msg: &Value) -> Value {
        match msg["method"].as_str().unwrap_or_default() {
            "workspace/applyEdit" => {
                let mut changes = Vec::new();
                for dc in msg["params"]["edit"]["documentChanges"]
                    .as_array()
                    .expect("versioned")
                {
                    let u = dc["textDocument"]["uri"].as_str().expect("uri").to_string();
                    let doc = self.docs.get_mut(&u).expect("an open document");
                    if dc["textDocument"]["version"].as_i64() != Some(doc.0) {
                        return json!({"applied": false, "failureReason": "version mismatch"});
                    }
                    let mut edits: Vec<(usize, usize, String)> = dc["edits"]
                        .as_array()
                        .expect("edits")
                        .iter()
                        .map(|e| {
                            let p = |p: &Value| {
                                offset(
                                    &doc.1,
                                    p["line"].as_u64().unwrap(),
                                    p["character"].as_u64().unwrap(),
                                )
                            };
                            (
                                p(&e["range"]["start"]),
                                p(&e["range"]["end"]),
                                e["newText"].as_str().unwrap().to_string(),
                            )
                        })
                        .collect();
                    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
                    for (a, b, t) in edits {
                        doc.1.replace_range(a..b, &t);
                    }
                    doc.0 += 1;
                    changes.push(json!({"textDocument": {"uri": u, "version": doc.0},
                        "contentChanges": [{"text": doc.1}]}));
                }
                for c in changes {
                    self.notify("textDocument/didChange", c);
                }
                json!({"applied": true})
            }
            "tandem/approval/request" => json!({"decision": "allow_once"}),
            "window/showMessageRequest" => json!({"title": "Allow once"}),
            _ => Value::Null,
        }
    }

    pub fn request(&mut self, method: &str, params: Value) -> Result<Value, Value> {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let msg = self
                .pump(deadline)
                .unwrap_or_else(|| panic!("no reply to {method}"));
            if msg.get("method").is_none() && msg["id"] == id {
                return match msg.get("error") {
                    Some(e) => Err(e.clone()),
                    None => Ok(msg["result"].clone()),
                };
            }
        }
    }

    pub fn ok(&mut self, method: &str, params: Value) -> Value {
        self.request(method, params)
            .unwrap_or_else(|e| panic!("{method} failed: {e}"))
    }

    /// Handles messages until a notification matches.
    pub fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        if let Some(n) = self.notifications.iter().find(|n| pred(n)) {
            return n.clone();
        }
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let msg = self.pump(deadline).unwrap_or_else(|| {
                panic!("timed out waiting for {what}: {:#?}", self.notifications)
            });
            if msg.get("id").is_none() && pred(&msg) {
                return msg;
            }
        }
    }

    /// `shutdown`, `exit`, and the exit status; the process must end by itself.
    pub fn shutdown(mut self) -> (i32, String) {
        self.ok("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait") {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "tandem lsp did not exit after `exit`"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(50));
        let stderr = self.stderr.lock().expect("stderr").clone();
        (status.code().unwrap_or(-1), stderr)
    }
}

impl Drop for StdioClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
