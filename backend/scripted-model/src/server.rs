//! The HTTP server: routes, the scenario cursor, fault injection and the request log.
//!
//! [`ScriptedServer::start`] is a plain (blocking-free) function that binds the port and runs
//! the server on its own thread with its own single-threaded tokio runtime. That is what lets
//! both a plain `#[test]` and a `#[tokio::test]` use it: nothing runs on, or is dropped in,
//! the caller's runtime, and the port is known before `start` returns.

use crate::record::{RecordFile, RecordedRequest, wire_of_path};
use crate::scenario::{Scenario, Step, Usage, Wire};
use crate::sse_writer::{self, Reply};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How to start a server beyond the scenario itself.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// The port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
    /// Append every request to this file as JSON lines (authorization redacted).
    pub record: Option<PathBuf>,
    /// Log one line per request to stderr (for the binary and demos).
    pub log_requests: bool,
}

/// Where a scenario run stands, as served by `GET /_scenario/status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScenarioStatus {
    pub description: String,
    pub steps_total: usize,
    /// Steps consumed so far (every model request consumes one, faults included).
    pub steps_served: usize,
    /// Model requests that arrived after the last step was used.
    pub exhausted_requests: usize,
    /// Failed `expect_*` checks, one message each.
    pub failures: Vec<String>,
}

impl ScenarioStatus {
    /// Every step was served, none was asked for beyond the end, and no check failed.
    pub fn is_complete_and_clean(&self) -> bool {
        self.steps_served == self.steps_total
            && self.exhausted_requests == 0
            && self.failures.is_empty()
    }
}

struct Shared {
    scenario: Scenario,
    inner: Mutex<Inner>,
    record: Option<RecordFile>,
    log_requests: bool,
}

#[derive(Default)]
struct Inner {
    next_step: usize,
    exhausted: usize,
    failures: Vec<String>,
    requests: Vec<RecordedRequest>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn status(&self) -> ScenarioStatus {
        let inner = self.lock();
        ScenarioStatus {
            description: self.scenario.description.clone(),
            steps_total: self.scenario.steps.len(),
            steps_served: inner.next_step,
            exhausted_requests: inner.exhausted,
            failures: inner.failures.clone(),
        }
    }

    /// Records a request and, for a model request, assigns it the next step.
    fn record(&self, mut request: RecordedRequest, takes_step: bool) -> Option<usize> {
        let step = {
            let mut inner = self.lock();
            request.index = inner.requests.len();
            let step = if takes_step {
                if inner.next_step < self.scenario.steps.len() {
                    inner.next_step += 1;
                    Some(inner.next_step)
                } else {
                    inner.exhausted += 1;
                    None
                }
            } else {
                None
            };
            request.step = step;
            if let Some(n) = step {
                let failures = check(&self.scenario.steps[n - 1], n, &request);
                inner.failures.extend(failures);
            }
            inner.requests.push(request.clone());
            step
        };
        if self.log_requests {
            log_request(&request);
        }
        if let Some(file) = &self.record {
            file.append(&request);
        }
        step
    }
}

#[allow(clippy::print_stderr)] // Opt-in request log for the binary and demos.
fn log_request(request: &RecordedRequest) {
    let answer = match request.step {
        Some(n) => format!("step {n}"),
        None if request.wire().is_some() => "no step left".to_string(),
        None => "-".to_string(),
    };
    eprintln!(
        "scripted-model: #{} {} {} -> {answer}",
        request.index, request.method, request.path
    );
}

/// The `expect_*` checks of step `n` against the request it answers.
fn check(step: &Step, n: usize, request: &RecordedRequest) -> Vec<String> {
    let mut failures = Vec::new();
    if let Some(wire) = step.expect_wire
        && request.wire() != Some(wire)
    {
        failures.push(format!(
            "step {n}: expected a {wire:?} request, got {}",
            request.path
        ));
    }
    if let Some(needle) = &step.expect_last_user_contains {
        let last = request.last_user_text().unwrap_or_default();
        if !last.contains(needle.as_str()) {
            failures.push(format!(
                "step {n}: expected the last user message to contain {needle:?}, got {last:?}"
            ));
        }
    }
    if let Some(needle) = &step.expect_tool_output_contains {
        let outputs = request.recent_tool_outputs();
        if !outputs.iter().any(|o| o.contains(needle.as_str())) {
            failures.push(format!(
                "step {n}: expected a tool output containing {needle:?}, got {outputs:?}"
            ));
        }
    }
    if let Some(needle) = &step.expect_request_contains {
        let body = request.body.to_string();
        if !body.contains(needle.as_str()) {
            failures.push(format!(
                "step {n}: expected the request body to contain {needle:?}"
            ));
        }
    }
    if let Some(tools) = &step.expect_tools {
        let offered = request.tool_names();
        let missing: Vec<&String> = tools.iter().filter(|t| !offered.contains(t)).collect();
        if !missing.is_empty() {
            failures.push(format!(
                "step {n}: expected tools {missing:?} to be offered, got {offered:?}"
            ));
        }
    }
    failures
}

/// A running scripted model server. Dropping it stops the server.
pub struct ScriptedServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for ScriptedServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScriptedServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl ScriptedServer {
    /// Starts a server for `scenario` on a free port of 127.0.0.1.
    ///
    /// Usable from synchronous and asynchronous tests alike: it does not block and does not
    /// need (or touch) a tokio runtime; the server runs on its own thread.
    pub fn start(scenario: Scenario) -> std::io::Result<ScriptedServer> {
        Self::start_with(scenario, ServerOptions::default())
    }

    /// Starts a server with explicit options.
    pub fn start_with(
        scenario: Scenario,
        options: ServerOptions,
    ) -> std::io::Result<ScriptedServer> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, options.port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let record = options
            .record
            .as_deref()
            .map(RecordFile::open)
            .transpose()?;
        let shared = Arc::new(Shared {
            scenario,
            inner: Mutex::new(Inner::default()),
            record,
            log_requests: options.log_requests,
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(shared.clone());
        let thread = std::thread::Builder::new()
            .name("scripted-model".into())
            .spawn(move || {
                runtime.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => listener,
                        Err(_) => return,
                    };
                    tokio::select! {
                        _ = axum::serve(listener, app) => {}
                        _ = shutdown_rx => {}
                    }
                });
                // Dropping the runtime here, on our own thread, cancels open connections.
            })?;
        Ok(ScriptedServer {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        })
    }

    /// The base URL to configure a provider with, e.g. `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in arrival order (introspection endpoints excluded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// Only the model requests (`/responses` and `/chat/completions`).
    pub fn model_requests(&self) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.wire().is_some())
            .collect()
    }

    pub fn status(&self) -> ScenarioStatus {
        self.shared.status()
    }

    /// Failed `expect_*` checks so far.
    pub fn failures(&self) -> Vec<String> {
        self.shared.lock().failures.clone()
    }

    /// Blocks until the server stops, which it does only when its thread ends (for the
    /// binary, which serves until killed).
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        // Not joined: a stalled stream may keep a connection open for a while, and a drop
        // inside an async test must not block the test's runtime.
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/_requests", get(list_requests))
        .route("/_scenario/status", get(scenario_status))
        .fallback(handle)
        .with_state(shared)
}

async fn list_requests(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(shared.lock().requests.clone()).into_response()
}

async fn scenario_status(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(shared.status()).into_response()
}

fn error_response(status: StatusCode, message: &str, kind: &str, code: Option<&str>) -> Response {
    let body = json!({"error": {"message": message, "type": kind, "code": code, "param": null}});
    (status, axum::Json(body)).into_response()
}

/// Every other request: recorded, then answered by path.
async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let wire = wire_of_path(uri.path()).filter(|_| method == Method::POST);
    let parsed_body: Result<Value, ()> = if body.is_empty() {
        Ok(Value::Null)
    } else {
        serde_json::from_slice(&body).map_err(|_| ())
    };
    let request = RecordedRequest {
        index: 0,
        method: method.to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        headers: header_map(&headers),
        body: parsed_body
            .clone()
            .unwrap_or_else(|()| Value::String(String::from_utf8_lossy(&body).into_owned())),
        step: None,
    };
    let is_model_request = wire.is_some() && parsed_body.as_ref().is_ok_and(Value::is_object);
    let step_no = shared.record(request, is_model_request);

    let Some(wire) = wire else {
        let path = uri.path().trim_start_matches("/v1");
        if method == Method::GET && path == "/models" {
            return axum::Json(json!({"object": "list", "data": [
                {"id": "scripted", "object": "model", "owned_by": "tandem-scripted-model"}
            ]}))
            .into_response();
        }
        return error_response(
            StatusCode::NOT_FOUND,
            &format!(
                "the scripted model server does not serve {method} {}",
                uri.path()
            ),
            "invalid_request_error",
            None,
        );
    };
    let Ok(Value::Object(_)) = &parsed_body else {
        return error_response(
            StatusCode::BAD_REQUEST,
            "the request body is not a JSON object",
            "invalid_request_error",
            None,
        );
    };
    let body_json = parsed_body.unwrap_or(Value::Null);
    let Some(step_no) = step_no else {
        let total = shared.scenario.steps.len();
        return error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!(
                "scenario exhausted: all {total} step(s) of the scripted model's scenario have \
                 been used, and this request has no step to answer it"
            ),
            "scenario_exhausted",
            Some("scenario_exhausted"),
        );
    };
    let step = &shared.scenario.steps[step_no - 1];
    if let Some(ms) = step.delay_ms {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
    if let Some(status) = step.status.filter(|s| !(200..300).contains(s)) {
        return scripted_error(step, step_no, status);
    }
    let usage = step
        .usage
        .unwrap_or_else(|| estimated_usage(step, body.len()));
    let model = body_json
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("scripted")
        .to_string();
    let reply = Reply {
        step,
        step_no,
        model,
        usage,
        created: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        reasoning_field: shared.scenario.chat_reasoning_field,
    };
    let streaming = body_json.get("stream").and_then(Value::as_bool) == Some(true);
    if !streaming {
        let json = match wire {
            Wire::Responses => sse_writer::responses_json(&reply),
            Wire::Chat => sse_writer::chat_json(&reply),
        };
        return axum::Json(json).into_response();
    }
    let frames = match wire {
        Wire::Responses => sse_writer::responses_events(&reply),
        Wire::Chat => {
            let include_usage = body_json
                .pointer("/stream_options/include_usage")
                .and_then(Value::as_bool)
                == Some(true);
            sse_writer::chat_chunks(&reply, include_usage)
        }
    };
    sse_response(frames, step)
}

fn scripted_error(step: &Step, step_no: usize, status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let default_message = format!("scripted failure: step {step_no} answers HTTP {status}");
    let kind = match status {
        429 => "rate_limit_error",
        400..=499 => "invalid_request_error",
        _ => "server_error",
    };
    let mut response = error_response(
        code,
        step.error_message.as_deref().unwrap_or(&default_message),
        kind,
        step.error_code.as_deref(),
    );
    let headers = response.headers_mut();
    if let Some(value) = step
        .retry_after
        .as_deref()
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        headers.insert(header::RETRY_AFTER, value);
    }
    if let Some(ms) = step.retry_after_ms {
        headers.insert("retry-after-ms", HeaderValue::from(ms));
    }
    response
}

/// About one token per four bytes, so that longer histories report more input tokens (which
/// is what a kernel's compaction logic watches).
fn estimated_usage(step: &Step, request_bytes: usize) -> Usage {
    use crate::scenario::OutputItem;
    let tokens = |chars: usize| (chars as u64).div_ceil(4);
    let mut output = 0;
    let mut reasoning = 0;
    for item in &step.output {
        match item {
            OutputItem::Message { text } => output += tokens(text.len()),
            OutputItem::Reasoning { text } => reasoning += tokens(text.len()),
            OutputItem::FunctionCall {
                name, arguments, ..
            } => output += tokens(name.len() + arguments.to_wire().len()),
        }
    }
    Usage {
        input_tokens: tokens(request_bytes),
        cached_input_tokens: 0,
        output_tokens: output + reasoning,
        reasoning_output_tokens: reasoning,
    }
}

/// Streams `frames`, applying the step's stall and cut.
fn sse_response(mut frames: Vec<String>, step: &Step) -> Response {
    if let Some(cut) = step.cut_after_events {
        frames.truncate(cut);
    }
    let stall = step.stall_ms.map(Duration::from_millis);
    let stall_at = step.stall_after_events.unwrap_or(1);
    let stream = futures::stream::unfold(
        (frames.into_iter(), 0usize, stall),
        move |(mut frames, sent, mut stall)| async move {
            // Checked before taking the next frame, so a stall after the last event (or
            // after a cut) happens too.
            if sent == stall_at
                && let Some(pause) = stall.take()
            {
                tokio::time::sleep(pause).await;
            }
            let frame = frames.next()?;
            Some((
                Ok::<_, std::convert::Infallible>(Bytes::from(frame)),
                (frames, sent + 1, stall),
            ))
        },
    );
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn header_map(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut map: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        map.entry(name.as_str().to_string())
            .and_modify(|existing| {
                existing.push_str(", ");
                existing.push_str(&value);
            })
            .or_insert(value);
    }
    map
}
