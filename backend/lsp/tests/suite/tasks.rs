//! Tasks: streamed events, Auto Context in the first turn, cancel, two at once, resume.

use crate::support::{Env, message, uri};
use pretty_assertions::assert_eq;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn a_task_streams_exec_json_events_and_deltas_with_auto_context() {
    let env = Env::new(&message("Hello from the scripted model"));
    let c = env.client(json!({})).await;
    let main = env.write("src/main.rs", "fn main() {}\n");
    c.open(&main, "fn main() { /* unsaved */ }\n").await;
    c.notify(
        "tandem/focus",
        json!({"uri": uri(&main), "position": {"line": 0, "character": 3}}),
    )
    .await;
    let r = c
        .ok("tandem/task/start", json!({"prompt": "say hello"}))
        .await;
    let task = r["taskId"].as_str().unwrap().to_string();
    assert_eq!(c.wait_turn_end(&task).await, "turn.completed");
    let events = c.task_events(&task);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types[..2], ["thread.started", "turn.started"]);
    assert!(types.contains(&"item.agent_message.delta"), "{types:?}");
    let done = events
        .iter()
        .find(|e| e["type"] == "item.completed")
        .unwrap();
    assert_eq!(done["item"]["type"], "agent_message");
    assert_eq!(done["item"]["text"], "Hello from the scripted model");
    let deltas: String = events
        .iter()
        .filter(|e| e["type"] == "item.agent_message.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(deltas, "Hello from the scripted model");
    // The first turn carried the prompt and the unsaved buffer as Auto Context.
    let body = env.model.requests()[0].body.to_string();
    assert!(body.contains("say hello"), "{body}");
    assert!(body.contains("/* unsaved */"), "{body}");
    let list = c.ok("tandem/task/list", json!({})).await;
    assert_eq!(list["tasks"][0]["taskId"], task);
    assert_eq!(list["tasks"][0]["status"], "completed");
    assert!(list["tasks"][0]["threadId"].is_string());
}

fn slow(text: &str, ms: u64) -> String {
    format!("[[step]]\ndelay_ms = {ms}\n[[step.output]]\ntype = \"message\"\ntext = \"{text}\"\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_interrupts_the_running_turn() {
    let env = Env::new(&slow("too late", 15_000));
    let c = env.client(json!({})).await;
    let task = c.ok("tandem/task/start", json!({"prompt": "wait"})).await["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    c.wait_until("turn.started", |c| {
        c.task_events(&task)
            .iter()
            .any(|e| e["type"] == "turn.started")
    })
    .await;
    c.ok("tandem/task/cancel", json!({"taskId": task})).await;
    assert_eq!(c.wait_turn_end(&task).await, "turn.failed");
    let failed = c.task_events(&task).into_iter().last().unwrap();
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("interrupted"),
        "{failed}"
    );
    let list = c.ok("tandem/task/list", json!({})).await;
    assert_eq!(list["tasks"][0]["status"], "cancelled");
    let err = c
        .request("tandem/task/cancel", json!({"taskId": "task-99"}))
        .await
        .unwrap_err();
    assert_eq!(err["code"], -32902);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_tasks_run_at_once() {
    let env = Env::new(&format!(
        "{}{}",
        slow("first", 1_500),
        slow("second", 1_500)
    ));
    let c = env.client(json!({})).await;
    let a = c.ok("tandem/task/start", json!({"prompt": "one"})).await["taskId"].clone();
    let b = c.ok("tandem/task/start", json!({"prompt": "two"})).await["taskId"].clone();
    assert_ne!(a, b);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let list = c.ok("tandem/task/list", json!({})).await;
    let statuses: Vec<&str> = list["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["running", "running"]);
    let started = std::time::Instant::now();
    assert_eq!(c.wait_turn_end(a.as_str().unwrap()).await, "turn.completed");
    assert_eq!(c.wait_turn_end(b.as_str().unwrap()).await, "turn.completed");
    // Both model calls overlapped: together they took about one delay (1.5 s), not two.
    assert!(
        started.elapsed() < Duration::from_millis(2_500),
        "{:?}",
        started.elapsed()
    );
    let texts: Vec<String> = [a, b]
        .iter()
        .map(|t| {
            c.task_events(t.as_str().unwrap())
                .iter()
                .find(|e| e["type"] == "item.completed")
                .map(|e| e["item"]["text"].as_str().unwrap().to_string())
                .unwrap()
        })
        .collect();
    let mut sorted = texts.clone();
    sorted.sort();
    assert_eq!(sorted, ["first", "second"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_thread_resumes_as_a_new_task() {
    let env = Env::new(&format!("{}{}", message("one"), message("two")));
    let c = env.client(json!({"autoContext": false})).await;
    let a = c.ok("tandem/task/start", json!({"prompt": "first"})).await["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    c.wait_turn_end(&a).await;
    let thread = c.ok("tandem/task/list", json!({})).await["tasks"][0]["threadId"].clone();
    let b = c
        .ok(
            "tandem/task/resume",
            json!({"threadId": thread, "prompt": "again"}),
        )
        .await["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(c.wait_turn_end(&b).await, "turn.completed");
    // The second request carries the first turn's history.
    let body = env.model.requests()[1].body.to_string();
    assert!(body.contains("first") && body.contains("again"), "{body}");
    let err = c
        .request("tandem/task/resume", json!({"threadId": "nope"}))
        .await
        .unwrap_err();
    assert_eq!(err["code"], -32902);
}
