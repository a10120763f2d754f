//! Work-done progress: a plain client that shows server-created progress sees a task begin,
//! move and end; a client with Tandem's task events does not get the same news twice.

use crate::support::{Answer, Env, TestClient, function_call, message, patch};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

fn work_done_progress() -> Value {
    json!({"window": {"workDoneProgress": true}})
}

/// The `$/progress` values of one token, in order.
fn progress(c: &TestClient, token: &str) -> Vec<Value> {
    c.notifications("$/progress")
        .into_iter()
        .filter(|p| p["token"] == token)
        .map(|p| p["value"].clone())
        .collect()
}

async fn wait_end(c: &TestClient, token: &str) -> Value {
    c.wait_until("the end of the progress", |c| {
        progress(c, token).iter().any(|v| v["kind"] == "end")
    })
    .await;
    progress(c, token).last().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plain_client_sees_a_task_begin_move_and_end_as_work_done_progress() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("made-by-agent");
    let env = Env::new(&format!(
        "{}{}{}",
        function_call(
            "shell",
            json!({"command": ["touch", target.to_str().unwrap()]})
        ),
        patch("*** Update File: src/greet.rs\n@@\n-fn greet() {}\n+fn greet() { hi() }\n"),
        message("done")
    ));
    env.write("src/greet.rs", "fn greet() {}\n");
    let c = env
        .plain_client(
            json!({"approvalPolicy": "untrusted", "sandboxMode": "danger-full-access"}),
            work_done_progress(),
        )
        .await;
    c.answer_approvals(Answer::With("Allow once".into()));
    let task = c
        .ok(
            "tandem/task/start",
            json!({"prompt": "Touch the file,\nthen make greet say hi"}),
        )
        .await["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    let token = format!("tandem/{task}");
    // The patch waits for review; accepting it lets the turn end.
    c.wait_change().await;
    c.ok(
        "tandem/review/accept",
        json!({"target": {"type": "change", "changeId": "c1"}}),
    )
    .await;
    let end = wait_end(&c, &token).await;
    assert_eq!(end, json!({"kind": "end", "message": "Completed"}));

    assert_eq!(
        c.server_requests("window/workDoneProgress/create"),
        [json!({"token": token})]
    );
    let values = progress(&c, &token);
    assert_eq!(
        values[0],
        json!({"kind": "begin", "title": "Tandem", "message": "Touch the file,", "cancellable": true})
    );
    let reports: Vec<&str> = values
        .iter()
        .filter(|v| v["kind"] == "report")
        .map(|v| v["message"].as_str().unwrap())
        .collect();
    let touch = format!("`touch {}`", target.display());
    for expected in [
        format!("Waiting for approval to run {touch}"),
        format!("Running {touch}"),
        "Proposing a change to src/greet.rs".to_string(),
        "Waiting for your review of src/greet.rs".to_string(),
    ] {
        assert!(
            reports.contains(&expected.as_str()),
            "{expected}: {reports:#?}"
        );
    }
    assert_eq!(values.iter().filter(|v| v["kind"] == "end").count(), 1);
    assert!(target.exists());
    // A plain client gets no task events (its log has the items, as before).
    assert!(c.notifications("tandem/task/event").is_empty());
}

/// A task whose model takes 15 s to answer, on a plain client, once its progress has begun.
async fn waiting_task() -> (Env, TestClient, String, String) {
    let env = Env::new(
        "[[step]]\ndelay_ms = 15000\n[[step.output]]\ntype = \"message\"\ntext = \"late\"\n",
    );
    let c = env.plain_client(json!({}), work_done_progress()).await;
    let task = c.ok("tandem/task/start", json!({"prompt": "wait"})).await["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    let token = format!("tandem/{task}");
    c.wait_until("the progress to begin", |c| !progress(c, &token).is_empty())
        .await;
    (env, c, task, token)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_task_ends_its_progress_as_cancelled() {
    let (_env, c, task, token) = waiting_task().await;
    c.ok("tandem/task/cancel", json!({"taskId": task})).await;
    assert_eq!(
        wait_end(&c, &token).await,
        json!({"kind": "end", "message": "Cancelled"})
    );
}

/// The progress's cancel button stops the task, as `tandem/task/cancel` would.
#[tokio::test(flavor = "multi_thread")]
async fn the_progress_cancel_button_cancels_the_task() {
    let (_env, c, _task, token) = waiting_task().await;
    assert_eq!(progress(&c, &token)[0]["cancellable"], true);
    c.notify("window/workDoneProgress/cancel", json!({"token": token}))
        .await;
    assert_eq!(
        wait_end(&c, &token).await,
        json!({"kind": "end", "message": "Cancelled"})
    );
    // Tokens that are not a task's are ignored.
    c.notify("window/workDoneProgress/cancel", json!({"token": 7}))
        .await;
    c.ok("tandem/task/list", json!({})).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn task_events_or_no_work_done_progress_mean_no_progress() {
    let env = Env::new(&format!("{}{}", message("one"), message("two")));
    // Task events already carry the news.
    let events = env.client_with(json!({}), work_done_progress()).await;
    let task = events
        .ok("tandem/task/start", json!({"prompt": "one"}))
        .await["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(events.wait_turn_end(&task).await, "turn.completed");
    // A plain client that does not show server-created progress keeps its log lines only.
    let plain = env.plain_client(json!({}), json!({})).await;
    plain
        .ok("tandem/task/start", json!({"prompt": "two"}))
        .await;
    plain
        .wait_until("the turn's end in the log", |c| {
            c.notifications("window/logMessage")
                .iter()
                .any(|m| m["message"].as_str().unwrap().ends_with("turn completed"))
        })
        .await;
    for c in [&events, &plain] {
        assert!(
            c.server_requests("window/workDoneProgress/create")
                .is_empty()
        );
        assert!(c.notifications("$/progress").is_empty());
    }
}
