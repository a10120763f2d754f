//! Command approvals: over `tandem/approval/request`, over the `window/showMessageRequest`
//! fallback, and an unanswered one timing out as a deny.

use crate::support::{Answer, Env, TestClient, function_call, message};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

fn touch_then_done(path: &Path) -> String {
    format!(
        "{}{}",
        function_call(
            "shell",
            json!({"command": ["touch", path.to_str().unwrap()]})
        ),
        message("done")
    )
}

const UNTRUSTED: &str = "untrusted";

fn settings(timeout: f64) -> Value {
    json!({"approvalPolicy": UNTRUSTED, "sandboxMode": "danger-full-access",
           "approvalTimeoutSeconds": timeout})
}

/// The one request the server sent with `method` was cancelled with `$/cancelRequest`.
fn assert_withdrawn(c: &TestClient, method: &str) {
    let asked = c.server_request_ids(method);
    let cancelled: Vec<Value> = c
        .notifications("$/cancelRequest")
        .into_iter()
        .map(|p| p["id"].clone())
        .collect();
    assert_eq!(asked.len(), 1);
    assert_eq!(cancelled, asked);
}

async fn wait_status(c: &TestClient, task: &str, status: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let list = c.ok("tandem/task/list", json!({})).await;
        let t = list["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["taskId"] == task)
            .cloned()
            .unwrap();
        if t["status"] == status {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{task} is {}",
            t["status"]
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_custom_request_asks_and_allow_once_runs_the_command() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("made-by-agent");
    let env = Env::new(&touch_then_done(&target));
    let c = env.client(settings(30.0)).await;
    c.answer_approvals(Answer::With("allow_once".into()));
    let task = c
        .ok("tandem/task/start", json!({"prompt": "touch it"}))
        .await["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(c.wait_turn_end(&task).await, "turn.completed");
    let asked = c.server_requests("tandem/approval/request");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0]["taskId"], task.as_str());
    assert_eq!(asked[0]["kind"], "command");
    assert_eq!(
        asked[0]["command"],
        json!(["touch", target.to_str().unwrap()])
    );
    assert_eq!(
        asked[0]["options"],
        json!(["allow_once", "allow_session", "deny", "cancel"])
    );
    assert!(target.exists(), "allowed: the command ran");
    assert!(c.server_requests("window/showMessageRequest").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_client_approves_through_show_message_request() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("made-by-agent");
    let env = Env::new(&touch_then_done(&target));
    let mut c = TestClient::start(env.options());
    c.initialize(&env.root(), false, Value::Null, settings(30.0))
        .await;
    c.answer_approvals(Answer::With("Allow once".into()));
    let task = c
        .ok("tandem/task/start", json!({"prompt": "touch it"}))
        .await["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    wait_status(&c, &task, "completed").await;
    let asked = c.server_requests("window/showMessageRequest");
    assert_eq!(asked.len(), 1, "{asked:?}");
    let titles: Vec<&str> = asked[0]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Allow once", "Allow for session", "Deny"]);
    assert!(asked[0]["message"].as_str().unwrap().contains("touch"));
    assert!(target.exists(), "allowed: the command ran");
    assert!(c.server_requests("tandem/approval/request").is_empty());
    // Without `taskEvents`, progress goes to the log.
    let log: Vec<String> = c
        .notifications("window/logMessage")
        .iter()
        .map(|m| m["message"].as_str().unwrap().to_string())
        .collect();
    assert!(log.iter().any(|l| l.contains("turn completed")), "{log:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unanswered_approval_times_out_as_a_deny() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("made-by-agent");
    let env = Env::new(&touch_then_done(&target));
    let c = env.client(settings(0.3)).await;
    c.answer_approvals(Answer::Never);
    let task = c
        .ok("tandem/task/start", json!({"prompt": "touch it"}))
        .await["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(c.wait_turn_end(&task).await, "turn.completed");
    assert!(!target.exists(), "denied: the command did not run");
    let outputs = env.tool_outputs().join("\n");
    assert!(outputs.to_lowercase().contains("denied"), "{outputs}");
    let warned = c.notifications("window/showMessage");
    assert!(
        warned
            .iter()
            .any(|m| m["message"].as_str().unwrap().contains("denied")),
        "{warned:?}"
    );
    // The client is told the question is withdrawn, so its prompt does not linger.
    assert_withdrawn(&c, "tandem/approval/request");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unanswered_show_message_request_is_cancelled_too() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("made-by-agent");
    let env = Env::new(&touch_then_done(&target));
    let mut c = TestClient::start(env.options());
    c.initialize(&env.root(), false, Value::Null, settings(0.3))
        .await;
    c.answer_approvals(Answer::Never);
    let task = c
        .ok("tandem/task/start", json!({"prompt": "touch it"}))
        .await["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    wait_status(&c, &task, "completed").await;
    assert!(!target.exists(), "denied: the command did not run");
    assert_withdrawn(&c, "window/showMessageRequest");
}
