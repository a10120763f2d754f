//! The scripted model server over real HTTP: routes, faults, recording, and the binary.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use tandem_scripted_model::{RecordedRequest, Scenario, ScriptedServer, ServerOptions};

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture() -> PathBuf {
    workspace_root().join("fixtures/scenarios/model-read-patch-answer.toml")
}

fn server(toml: &str) -> ScriptedServer {
    ScriptedServer::start(Scenario::from_toml_str(toml).unwrap()).unwrap()
}

const ONE_MESSAGE: &str = "[[step]]\n[[step.output]]\ntype = \"message\"\ntext = \"hi\"\n";

/// A plain `#[test]` (no runtime of its own) can run the server and talk to it.
#[test]
fn a_synchronous_test_can_use_the_server() {
    let server = server(ONE_MESSAGE);
    let mut stream = std::net::TcpStream::connect(server.addr()).unwrap();
    write!(
        stream,
        "GET /_scenario/status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let body = response.split("\r\n\r\n").nth(1).unwrap();
    let status: Value = serde_json::from_str(body).unwrap();
    assert_eq!(status["steps_total"], 1);
    assert_eq!(status["steps_served"], 0);
    // Introspection is not recorded.
    assert!(server.requests().is_empty());
}

#[tokio::test]
async fn every_fixture_scenario_parses() {
    let dir = workspace_root().join("fixtures/scenarios");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            if let Err(err) = Scenario::from_toml_file(&path) {
                panic!("{err}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 1, "no scenarios in {}", dir.display());
}

#[tokio::test]
async fn both_paths_with_and_without_v1_and_non_streamed_replies() {
    let server = server(&format!("{ONE_MESSAGE}{ONE_MESSAGE}"));
    let http = reqwest::Client::new();
    let base = format!("http://{}", server.addr());
    let chat: Value = http
        .post(format!("{base}/chat/completions"))
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": "hey"}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(chat["object"], "chat.completion");
    assert_eq!(chat["choices"][0]["message"]["content"], "hi");
    assert_eq!(chat["choices"][0]["finish_reason"], "stop");
    let responses: Value = http
        .post(format!("{base}/v1/responses"))
        .json(&json!({"model": "m", "input": "hey"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(responses["object"], "response");
    assert_eq!(responses["output"][0]["content"][0]["text"], "hi");
    let steps: Vec<Option<usize>> = server.requests().iter().map(|r| r.step).collect();
    assert_eq!(steps, vec![Some(1), Some(2)]);
    assert!(server.status().is_complete_and_clean());
}

#[tokio::test]
async fn an_exhausted_scenario_answers_a_clear_500() {
    let server = server(ONE_MESSAGE);
    let http = reqwest::Client::new();
    let url = format!("{}/responses", server.base_url());
    let body = json!({"model": "m", "input": [], "stream": true});
    let first = http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(
        first.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    let text = first.text().await.unwrap();
    assert!(
        text.starts_with("event: response.created\ndata: "),
        "{text}"
    );
    assert!(text.contains("event: response.completed"), "{text}");
    let second = http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(second.status(), 500);
    let error: Value = second.json().await.unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("scenario exhausted"), "{message}");
    assert_eq!(error["error"]["code"], "scenario_exhausted");
    let status = server.status();
    assert_eq!(status.exhausted_requests, 1);
    assert!(!status.is_complete_and_clean());
}

#[tokio::test]
async fn fault_steps_send_status_headers_and_error_bodies() {
    let server = server(
        "[[step]]\nstatus = 429\nretry_after = \"2\"\nretry_after_ms = 1500\nerror_code = \"rate_limit_exceeded\"\n",
    );
    let response = reqwest::Client::new()
        .post(format!("{}/chat/completions", server.base_url()))
        .json(&json!({"model": "m", "messages": [], "stream": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "2");
    assert_eq!(response.headers()["retry-after-ms"], "1500");
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body,
        json!({"error": {
            "message": "scripted failure: step 1 answers HTTP 429",
            "type": "rate_limit_error",
            "code": "rate_limit_exceeded",
            "param": null,
        }})
    );
}

#[tokio::test]
async fn other_requests_are_recorded_and_answered_sensibly() {
    let server = server(ONE_MESSAGE);
    let http = reqwest::Client::new();
    let base = server.base_url();
    let models: Value = http
        .get(format!("{base}/models"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(models["data"][0]["id"], "scripted");
    let missing = http.get(format!("{base}/nope")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let bad = http
        .post(format!("{base}/responses"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    // A bad body does not use up the step.
    assert_eq!(server.status().steps_served, 0);
    let listed: Vec<RecordedRequest> = http
        .get(format!("http://{}/_requests", server.addr()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed, server.requests());
    let summary: Vec<(usize, &str, &str, &Value)> = listed
        .iter()
        .map(|r| (r.index, r.method.as_str(), r.path.as_str(), &r.body))
        .collect();
    assert_eq!(
        summary,
        vec![
            (0, "GET", "/v1/models", &Value::Null),
            (1, "GET", "/v1/nope", &Value::Null),
            (2, "POST", "/v1/responses", &json!("not json")),
        ]
    );
}

/// The binary: one stdout line, a plain notice on stderr, a JSONL record with the key
/// redacted.
#[test]
fn the_binary_serves_a_scenario_file_and_records() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("requests.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tandem-scripted-model"))
        .arg("--scenario")
        .arg(fixture())
        .arg("--record")
        .arg(&record)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut notice = String::new();
    stderr.read_line(&mut notice).unwrap();

    let result = std::panic::catch_unwind(|| {
        let url = line
            .strip_prefix("listening on ")
            .and_then(|rest| rest.strip_suffix('\n'))
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
        assert!(
            url.starts_with("http://127.0.0.1:") && url.ends_with("/v1"),
            "{url}"
        );
        assert!(notice.contains("SCRIPTED model"), "{notice}");
        assert!(notice.contains("4 step(s)"), "{notice}");

        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async {
            let response: Value = reqwest::Client::new()
                .post(format!("{url}/chat/completions"))
                .bearer_auth("sk-secret")
                .json(&json!({"model": "m", "messages": [{"role": "user", "content": "please fix the bug"}], "tools": [{"type": "function", "function": {"name": "shell"}}]}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let call = &response["choices"][0]["message"]["tool_calls"][0];
            assert_eq!(call["function"]["name"], "shell");
            assert_eq!(call["function"]["arguments"], r#"{"command":["cat","src/lib.rs"]}"#);
            assert_eq!(
                response["choices"][0]["message"]["reasoning_content"],
                "I should look at the file first."
            );
            let status: Value = reqwest::get(format!("{}/_scenario/status", url.trim_end_matches("/v1")))
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(status["steps_served"], 1);
            assert_eq!(status["failures"], json!([]));
        });
        let recorded = std::fs::read_to_string(&record).unwrap();
        let lines: Vec<RecordedRequest> = recorded
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].headers["authorization"], "<redacted>");
        assert_eq!(lines[0].step, Some(1));
        assert!(!recorded.contains("sk-secret"));
    });
    let _ = child.kill();
    let _ = child.wait();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn the_binary_rejects_bad_input_plainly() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[step]]\nstatsu = 500\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tandem-scripted-model"))
        .arg("--scenario")
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.toml"), "{stderr}");
    assert!(stderr.contains("statsu"), "{stderr}");
    let output = Command::new(env!("CARGO_BIN_EXE_tandem-scripted-model"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--scenario FILE is required"));
}

#[test]
fn start_with_a_fixed_port_and_a_record_file() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("r.jsonl");
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let server = ScriptedServer::start_with(
        Scenario::from_toml_file(fixture()).unwrap(),
        ServerOptions {
            port,
            record: Some(record.clone()),
            log_requests: false,
        },
    )
    .unwrap();
    assert_eq!(server.base_url(), format!("http://127.0.0.1:{port}/v1"));
    assert!(record.exists());
}
