//! A small LSP client for in-process tests: it frames messages over `tokio::io::duplex` pipes,
//! keeps its own copy of the open documents (applying `workspace/applyEdit` and sending the
//! matching `didChange`, as an editor does), answers the server's other requests as each test
//! scripts, and collects notifications.
//!
//! Positions are counted in UTF-16 or UTF-8 as negotiated; the test documents are ASCII
//! unless a test says otherwise.

#![allow(dead_code)]

use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tandem_lsp::ServerOptions;
use tandem_scripted_model::{Scenario, ScriptedServer};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{Notify, oneshot};

pub const TIMEOUT: Duration = Duration::from_secs(20);

/// How the client answers `tandem/approval/request` and `window/showMessageRequest`.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Answer with this decision (`allow_once`, ...) or action title ("Allow once", ...).
    With(String),
    /// Never answer (the server must time out).
    Never,
}

#[derive(Default)]
struct Inner {
    notifications: Vec<Value>,
    /// Requests the server sent, in order.
    server_requests: Vec<Value>,
    docs: HashMap<String, (i32, String)>,
    pending: HashMap<i64, oneshot::Sender<Value>>,
    approval: Option<Answer>,
    /// Refuse `workspace/applyEdit` (as an editor whose buffer moved would).
    refuse_edits: bool,
}

pub struct TestClient {
    inner: Arc<Mutex<Inner>>,
    notify: Arc<Notify>,
    writer: Arc<tokio::sync::Mutex<tokio::io::WriteHalf<tokio::io::DuplexStream>>>,
    next_id: Mutex<i64>,
    pub utf8: bool,
}

async fn write_frame(
    w: &tokio::sync::Mutex<tokio::io::WriteHalf<tokio::io::DuplexStream>>,
    msg: &Value,
) {
    let body = serde_json::to_vec(msg).unwrap();
    let mut w = w.lock().await;
    w.write_all(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes())
        .await
        .unwrap();
    w.write_all(&body).await.unwrap();
    w.flush().await.unwrap();
}

/// Byte offset of an LSP position in `text` (UTF-16 or UTF-8 columns).
pub fn offset(text: &str, line: u64, character: u64, utf8: bool) -> usize {
    let mut start = 0;
    for _ in 0..line {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let end = text[start..].find('\n').map_or(text.len(), |i| start + i);
    let line_text = &text[start..end];
    let mut units = 0u64;
    for (i, ch) in line_text.char_indices() {
        if units >= character {
            return start + i;
        }
        units += if utf8 {
            ch.len_utf8() as u64
        } else {
            ch.len_utf16() as u64
        };
    }
    end
}

fn apply_text_edits(text: &str, edits: &[Value], utf8: bool) -> String {
    let mut spans: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            let r = &e["range"];
            let p = |p: &Value| {
                offset(
                    text,
                    p["line"].as_u64().unwrap(),
                    p["character"].as_u64().unwrap(),
                    utf8,
                )
            };
            (
                p(&r["start"]),
                p(&r["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    spans.sort_by_key(|s| std::cmp::Reverse(s.0));
    let mut out = text.to_string();
    for (a, b, t) in spans {
        out.replace_range(a..b, &t);
    }
    out
}

impl TestClient {
    /// Starts a server in process and connects to it (not yet initialized).
    pub fn start(options: ServerOptions) -> Self {
        let (client_end, server_end) = tokio::io::duplex(1 << 22);
        let (sr, sw) = tokio::io::split(server_end);
        tokio::spawn(tandem_lsp::serve(sr, sw, options));
        let (cr, cw) = tokio::io::split(client_end);
        let client = TestClient {
            inner: Arc::default(),
            notify: Arc::default(),
            writer: Arc::new(tokio::sync::Mutex::new(cw)),
            next_id: Mutex::new(0),
            utf8: false,
        };
        let (inner, notify, writer) = (
            client.inner.clone(),
            client.notify.clone(),
            client.writer.clone(),
        );
        tokio::spawn(async move {
            let mut reader = BufReader::new(cr);
            loop {
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.strip_prefix("Content-Length:") {
                        len = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; len];
                reader.read_exact(&mut body).await.unwrap();
                let msg: Value = serde_json::from_slice(&body).unwrap();
                handle(&inner, &notify, &writer, msg).await;
            }
        });
        client
    }

    pub async fn request(&self, method: &str, params: Value) -> Result<Value, Value> {
        let id = {
            let mut n = self.next_id.lock().unwrap();
            *n += 1;
            *n
        };
        let (tx, rx) = oneshot::channel();
        self.inner.lock().unwrap().pending.insert(id, tx);
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        write_frame(&self.writer, &msg).await;
        let reply = tokio::time::timeout(TIMEOUT, rx)
            .await
            .unwrap_or_else(|_| panic!("no reply to {method} within {TIMEOUT:?}"))
            .unwrap();
        match reply.get("error") {
            Some(e) => Err(e.clone()),
            None => Ok(reply["result"].clone()),
        }
    }

    pub async fn ok(&self, method: &str, params: Value) -> Value {
        self.request(method, params)
            .await
            .unwrap_or_else(|e| panic!("{method} failed: {e}"))
    }

    pub async fn notify(&self, method: &str, params: Value) {
        let msg = json!({"jsonrpc": "2.0", "method": method, "params": params});
        write_frame(&self.writer, &msg).await;
    }

    /// `initialize` + `initialized`. `utf8`: offer UTF-8 positions; `tandem`: the client's
    /// `experimental.tandem` capabilities (`Value::Null` for a plain client).
    pub async fn initialize(
        &mut self,
        root: &Path,
        utf8: bool,
        tandem: Value,
        options: Value,
    ) -> Value {
        self.initialize_with(root, utf8, tandem, options, json!({}))
            .await
    }

    /// [`Self::initialize`], with `more` merged into the client capabilities (one level deep per
    /// section: `{"window": {...}}` adds to `window`).
    pub async fn initialize_with(
        &mut self,
        root: &Path,
        utf8: bool,
        tandem: Value,
        options: Value,
        more: Value,
    ) -> Value {
        let mut caps = json!({
            "workspace": {"workspaceEdit": {"documentChanges": true}},
            "general": {"positionEncodings": if utf8 { json!(["utf-8", "utf-16"]) } else { json!(["utf-16"]) }},
        });
        if !tandem.is_null() {
            caps["experimental"] = json!({"tandem": tandem});
        }
        for (section, fields) in more.as_object().into_iter().flatten() {
            for (k, v) in fields.as_object().into_iter().flatten() {
                caps[section][k] = v.clone();
            }
        }
        let result = self
            .ok(
                "initialize",
                json!({
                    "processId": null,
                    "rootUri": uri(root),
                    "capabilities": caps,
                    "initializationOptions": options,
                }),
            )
            .await;
        self.utf8 = result["capabilities"]["positionEncoding"] == "utf-8";
        self.notify("initialized", json!({})).await;
        result
    }

    pub fn answer_approvals(&self, answer: Answer) {
        self.inner.lock().unwrap().approval = Some(answer);
    }

    pub fn refuse_edits(&self, refuse: bool) {
        self.inner.lock().unwrap().refuse_edits = refuse;
    }

    pub async fn open(&self, path: &Path, text: &str) {
        let u = uri(path);
        self.inner
            .lock()
            .unwrap()
            .docs
            .insert(u.clone(), (1, text.to_string()));
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": u, "languageId": "rust", "version": 1, "text": text}}),
        )
        .await;
    }

    /// Types `text` over the range, as one incremental `didChange`.
    pub async fn edit(&self, path: &Path, range: [u32; 4], text: &str) {
        let edit = json!({"range": range_json(range), "newText": text});
        let msg = {
            let mut inner = self.inner.lock().unwrap();
            let doc = inner.docs.get_mut(&uri(path)).expect("open");
            doc.1 = apply_text_edits(&doc.1, std::slice::from_ref(&edit), self.utf8);
            doc.0 += 1;
            did_change(&uri(path), doc.0, &[edit])
        };
        write_frame(&self.writer, &msg).await;
    }

    pub fn text(&self, path: &Path) -> String {
        self.inner.lock().unwrap().docs[&uri(path)].1.clone()
    }

    pub fn version(&self, path: &Path) -> i32 {
        self.inner.lock().unwrap().docs[&uri(path)].0
    }

    pub fn notifications(&self, method: &str) -> Vec<Value> {
        self.inner
            .lock()
            .unwrap()
            .notifications
            .iter()
            .filter(|n| n["method"] == method)
            .map(|n| n["params"].clone())
            .collect()
    }

    pub fn server_requests(&self, method: &str) -> Vec<Value> {
        self.server_request_field(method, "params")
    }

    /// The ids of the requests the server sent with `method`, in order.
    pub fn server_request_ids(&self, method: &str) -> Vec<Value> {
        self.server_request_field(method, "id")
    }

    fn server_request_field(&self, method: &str, field: &str) -> Vec<Value> {
        self.inner
            .lock()
            .unwrap()
            .server_requests
            .iter()
            .filter(|n| n["method"] == method)
            .map(|n| n[field].clone())
            .collect()
    }

    /// Waits until `pred` holds for the client's state.
    pub async fn wait_until(&self, what: &str, mut pred: impl FnMut(&TestClient) -> bool) {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            let notified = self.notify.notified();
            if pred(self) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "timed out waiting for {what}; notifications: {:#?}",
                    self.inner.lock().unwrap().notifications
                );
            }
        }
    }

    /// The task events of one task, as `tandem/task/event` carried them.
    pub fn task_events(&self, task: &str) -> Vec<Value> {
        self.notifications("tandem/task/event")
            .into_iter()
            .filter(|p| p["taskId"] == task)
            .map(|p| p["event"].clone())
            .collect()
    }

    /// Waits for the task's turn to end, and returns the type of the last event.
    pub async fn wait_turn_end(&self, task: &str) -> String {
        let ended = |c: &TestClient| {
            c.task_events(task)
                .iter()
                .any(|e| matches!(e["type"].as_str(), Some("turn.completed" | "turn.failed")))
        };
        self.wait_until(&format!("the end of {task}'s turn"), ended)
            .await;
        let events = self.task_events(task);
        events
            .iter()
            .rev()
            .find(|e| matches!(e["type"].as_str(), Some("turn.completed" | "turn.failed")))
            .map(|e| e["type"].as_str().unwrap().to_string())
            .unwrap()
    }

    /// Polls `tandem/review/list` until it has a change, and returns it.
    pub async fn wait_change(&self) -> Value {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            let list = self.ok("tandem/review/list", json!({})).await;
            if let Some(c) = list["changes"].as_array().and_then(|a| a.first()) {
                return c.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no change under review"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

pub fn range_json(r: [u32; 4]) -> Value {
    json!({"start": {"line": r[0], "character": r[1]}, "end": {"line": r[2], "character": r[3]}})
}

fn did_change(uri: &str, version: i32, edits: &[Value]) -> Value {
    let changes: Vec<Value> = edits
        .iter()
        .map(|e| json!({"range": e["range"], "text": e["newText"]}))
        .collect();
    json!({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": uri, "version": version}, "contentChanges": changes}})
}

async fn handle(
    inner: &Arc<Mutex<Inner>>,
    notify: &Notify,
    writer: &tokio::sync::Mutex<tokio::io::WriteHalf<tokio::io::DuplexStream>>,
    msg: Value,
) {
    let method = msg["method"].as_str().map(str::to_string);
    match (method, msg.get("id").cloned()) {
        (None, Some(id)) => {
            let tx = inner.lock().unwrap().pending.remove(&id.as_i64().unwrap());
            if let Some(tx) = tx {
                let _ = tx.send(msg);
            }
        }
        (Some(_), None) => {
            inner.lock().unwrap().notifications.push(msg);
        }
        (Some(method), Some(id)) => {
            inner.lock().unwrap().server_requests.push(msg.clone());
            let reply = answer(inner, writer, &method, &msg["params"]).await;
            if let Some(result) = reply {
                write_frame(
                    writer,
                    &json!({"jsonrpc": "2.0", "id": id, "result": result}),
                )
                .await;
            }
        }
        (None, None) => {}
    }
    notify.notify_waiters();
}

/// The client's side of a server request; `None` leaves it unanswered.
async fn answer(
    inner: &Arc<Mutex<Inner>>,
    writer: &tokio::sync::Mutex<tokio::io::WriteHalf<tokio::io::DuplexStream>>,
    method: &str,
    params: &Value,
) -> Option<Value> {
    match method {
        "workspace/applyEdit" => {
            let mut changes = Vec::new();
            {
                let mut inner = inner.lock().unwrap();
                if inner.refuse_edits {
                    return Some(json!({"applied": false, "failureReason": "the buffer moved"}));
                }
                for dc in params["edit"]["documentChanges"].as_array().unwrap() {
                    if dc.get("kind").is_some() {
                        match resource_op(&mut inner.docs, dc) {
                            Ok(mut msgs) => changes.append(&mut msgs),
                            Err(reason) => {
                                return Some(json!({"applied": false, "failureReason": reason}));
                            }
                        }
                        continue;
                    }
                    let u = dc["textDocument"]["uri"].as_str().unwrap().to_string();
                    let want = dc["textDocument"]["version"].as_i64();
                    let doc = inner.docs.get_mut(&u).expect("edit of an open document");
                    if want.is_some_and(|v| v != i64::from(doc.0)) {
                        return Some(
                            json!({"applied": false, "failureReason": "version mismatch"}),
                        );
                    }
                    let edits = dc["edits"].as_array().unwrap().clone();
                    // ASCII test documents: UTF-8 and UTF-16 columns agree.
                    doc.1 = apply_text_edits(&doc.1, &edits, true);
                    doc.0 += 1;
                    changes.push(did_change(&u, doc.0, &edits));
                }
            }
            // Like VS Code, the document change reaches the server before the answer.
            for c in changes {
                write_frame(writer, &c).await;
            }
            Some(json!({"applied": true}))
        }
        "tandem/approval/request" => match inner.lock().unwrap().approval.clone() {
            Some(Answer::With(d)) => Some(json!({"decision": d})),
            Some(Answer::Never) | None => None,
        },
        "window/showMessageRequest" => match inner.lock().unwrap().approval.clone() {
            Some(Answer::With(title)) => Some(json!({"title": title})),
            Some(Answer::Never) | None => None,
        },
        _ => Some(Value::Null),
    }
}

/// A create, rename or delete, done as the LSP spec says (and as Neovim does: a deleted
/// file's buffer is wiped, a renamed one follows its file by `:saveas!`, which writes the
/// buffer). Returns the `didClose`/`didOpen` the client sends, or why it refused.
fn resource_op(
    docs: &mut HashMap<String, (i32, String)>,
    op: &Value,
) -> Result<Vec<Value>, String> {
    let path = |u: &Value| PathBuf::from(u.as_str().unwrap().strip_prefix("file://").unwrap());
    let opt = |k: &str| op["options"][k].as_bool();
    let close = |u: &str| {
        json!({"jsonrpc": "2.0", "method": "textDocument/didClose",
                                 "params": {"textDocument": {"uri": u}}})
    };
    match op["kind"].as_str().unwrap() {
        "delete" => {
            let (u, p) = (op["uri"].as_str().unwrap(), path(&op["uri"]));
            if !p.exists() && opt("ignoreIfNotExists") != Some(true) {
                return Err(format!(
                    "{} does not exist and can not be deleted",
                    p.display()
                ));
            }
            let _ = std::fs::remove_file(&p);
            Ok(docs.remove(u).map(|_| close(u)).into_iter().collect())
        }
        "rename" => {
            let (old, new) = (
                op["oldUri"].as_str().unwrap(),
                op["newUri"].as_str().unwrap(),
            );
            let (from, to) = (path(&op["oldUri"]), path(&op["newUri"]));
            if to.exists() && opt("overwrite") != Some(true) {
                if opt("ignoreIfExists") == Some(true) {
                    return Ok(Vec::new());
                }
                return Err(format!("{} already exists", to.display()));
            }
            let Some((_, text)) = docs.remove(old) else {
                std::fs::rename(&from, &to).map_err(|e| e.to_string())?;
                return Ok(Vec::new());
            };
            // `:saveas!`: the buffer's text is written under the new name.
            std::fs::write(&to, &text).map_err(|e| e.to_string())?;
            let _ = std::fs::remove_file(&from);
            docs.insert(new.to_string(), (1, text.clone()));
            let open = json!({"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
                "textDocument": {"uri": new, "languageId": "rust", "version": 1, "text": text}}});
            Ok(vec![close(old), open])
        }
        kind => Err(format!("unsupported resource operation {kind}")),
    }
}

pub fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// A workspace, a `$TANDEM_HOME` whose config points at a scripted model, and the server
/// options to match.
pub struct Env {
    pub home: TempDir,
    pub work: TempDir,
    pub model: ScriptedServer,
}

pub fn function_call(name: &str, args: Value) -> String {
    format!(
        "[[step]]\n[[step.output]]\ntype = \"function_call\"\nname = \"{name}\"\narguments = '''{args}'''\n"
    )
}

pub fn message(text: &str) -> String {
    format!("[[step]]\n[[step.output]]\ntype = \"message\"\ntext = \"{text}\"\n")
}

pub fn patch(body: &str) -> String {
    function_call(
        "apply_patch",
        json!({"input": format!("*** Begin Patch\n{body}*** End Patch\n")}),
    )
}

impl Env {
    pub fn new(scenario: &str) -> Self {
        let model = ScriptedServer::start(Scenario::from_toml_str(scenario).expect("scenario"))
            .expect("scripted model");
        let home = tempfile::tempdir().unwrap();
        let work = tempfile::tempdir().unwrap();
        std::fs::write(
            home.path().join("config.toml"),
            format!(
                "model = \"scripted-model\"\nmodel_provider = \"scripted\"\n\n[model_providers.scripted]\nname = \"Scripted\"\nbase_url = \"{}\"\nwire_api = \"responses\"\nrequest_max_retries = 0\n",
                model.base_url()
            ),
        )
        .unwrap();
        Env { home, work, model }
    }

    pub fn root(&self) -> PathBuf {
        self.work.path().canonicalize().unwrap()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    pub fn options(&self) -> ServerOptions {
        ServerOptions {
            defaults: tandem_config::ConfigOverrides {
                tandem_home: Some(self.home.path().to_path_buf()),
                ..Default::default()
            },
            sandbox_helper: None,
            base_env: Some(std::env::vars().collect()),
            fallback_root: Some(self.root()),
        }
    }

    /// A client connected and initialized: UTF-16, every extension announced.
    pub async fn client(&self, settings: Value) -> TestClient {
        self.client_with(settings, json!({})).await
    }

    /// [`Self::client`], with more client capabilities (see [`TestClient::initialize_with`]).
    pub async fn client_with(&self, settings: Value, caps: Value) -> TestClient {
        let mut c = TestClient::start(self.options());
        let tandem = json!({"protocolVersion": 1, "approvalRequest": true, "reviewChanged": true, "taskEvents": true});
        c.initialize_with(&self.root(), false, tandem, settings, caps)
            .await;
        c
    }

    /// A client with no Tandem extension, and more client capabilities.
    pub async fn plain_client(&self, settings: Value, caps: Value) -> TestClient {
        let mut c = TestClient::start(self.options());
        c.initialize_with(&self.root(), false, Value::Null, settings, caps)
            .await;
        c
    }

    /// Tool outputs the model received, over all requests.
    pub fn tool_outputs(&self) -> Vec<String> {
        self.model
            .requests()
            .iter()
            .flat_map(|r| r.tool_outputs())
            .collect()
    }
}
