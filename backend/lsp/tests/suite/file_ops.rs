//! Files the agent deletes or moves while they are open: the client is brought along with
//! resource operations that cannot fail or clobber, or warned when it cannot do them, and the
//! server stops treating the old buffers as the files.

use crate::support::{Env, TestClient, message, patch, uri};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const DELETE_AND_MOVE: &str = "*** Delete File: src/old.rs\n*** Update File: src/a.rs\n*** Move to: src/b.rs\n@@\n-fn a() {}\n+fn b() {}\n";

fn settings(policy: &str) -> Value {
    json!({"approvalPolicy": policy, "sandboxMode": "danger-full-access"})
}

/// Neovim's and VS Code's announcement.
fn resource_operations() -> Value {
    json!({"workspace": {"workspaceEdit": {"documentChanges": true,
                                            "resourceOperations": ["create", "rename", "delete"]}}})
}

/// The resource operations of every `workspace/applyEdit` the server sent, one array per edit.
fn resource_edits(c: &TestClient) -> Vec<Value> {
    c.server_requests("workspace/applyEdit")
        .into_iter()
        .filter_map(|p| p["edit"]["documentChanges"].as_array().cloned())
        .filter(|ops| ops.iter().any(|op| op.get("kind").is_some()))
        .map(Value::Array)
        .collect()
}

/// The documents the server holds open, as Auto Context lists them.
async fn open_in_server(c: &TestClient) -> Vec<String> {
    let preview = c.ok("tandem/context/preview", json!({})).await;
    let mut uris: Vec<String> = preview["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "openFile")
        .map(|i| i["uri"].as_str().unwrap().to_string())
        .collect();
    uris.sort();
    uris
}

fn warnings(c: &TestClient) -> Vec<String> {
    c.notifications("window/showMessage")
        .iter()
        .filter(|m| m["type"] == 2)
        .map(|m| m["message"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_with_resource_operations_gets_a_delete_and_a_rename_that_cannot_clobber() {
    let env = Env::new(&format!("{}{}", patch(DELETE_AND_MOVE), message("done")));
    let old = env.write("src/old.rs", "fn old() {}\n");
    let a = env.write("src/a.rs", "fn a() {}\n");
    let b = env.path("src/b.rs");
    let c = env
        .client_with(settings("never"), resource_operations())
        .await;
    c.open(&old, "fn old() {}\n").await;
    c.open(&a, "fn a() {}\n").await;
    let task = c
        .ok("tandem/task/start", json!({"prompt": "tidy up"}))
        .await["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(c.wait_turn_end(&task).await, "turn.completed");
    c.wait_until("both resource edits", |c| resource_edits(c).len() == 2)
        .await;
    assert_eq!(
        resource_edits(&c),
        [
            json!([{"kind": "delete", "uri": uri(&old), "options": {"ignoreIfNotExists": true}}]),
            json!([
                {"kind": "rename", "oldUri": uri(&a), "newUri": uri(&b),
                 "options": {"ignoreIfExists": true}},
                {"kind": "delete", "uri": uri(&a), "options": {"ignoreIfNotExists": true}},
            ]),
        ]
    );
    let labels: Vec<Value> = c
        .server_requests("workspace/applyEdit")
        .iter()
        .map(|p| p["label"].clone())
        .collect();
    assert_eq!(
        labels,
        [
            json!("Tandem: the agent deleted src/old.rs"),
            json!("Tandem: the agent moved src/a.rs to src/b.rs")
        ]
    );
    // The edits applied (nothing refused them), and the agent's moved file was not clobbered
    // by the old buffer.
    assert!(warnings(&c).is_empty(), "{:?}", warnings(&c));
    assert_eq!(env.read("src/b.rs"), "fn b() {}\n");
    assert!(!old.exists() && !a.exists());
    // The client wiped both buffers; the new path is tracked once it is opened.
    c.open(&b, "fn b() {}\n").await;
    assert_eq!(open_in_server(&c).await, [uri(&b)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_without_resource_operations_is_warned_and_the_server_drops_the_old_buffers() {
    let env = Env::new(&format!("{}{}", patch(DELETE_AND_MOVE), message("done")));
    let old = env.write("src/old.rs", "fn old() {}\n");
    let a = env.write("src/a.rs", "fn a() {}\n");
    let keep = env.write("src/keep.rs", "fn keep() {}\n");
    let c = env.client(settings("never")).await;
    c.open(&old, "fn old() {}\n").await;
    c.open(&a, "fn a() {}\n").await;
    c.open(&keep, "fn keep() {}\n").await;
    let task = c
        .ok("tandem/task/start", json!({"prompt": "tidy up"}))
        .await["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(c.wait_turn_end(&task).await, "turn.completed");
    c.wait_until("two warnings", |c| warnings(c).len() == 2)
        .await;
    assert_eq!(
        warnings(&c),
        [
            "Tandem: the agent deleted src/old.rs, which is open in the editor. Close it without \
             saving: saving it would bring the file back.",
            "Tandem: the agent moved src/a.rs to src/b.rs, but src/a.rs is still open in the \
             editor. Close it without saving (saving it would write the old path again) and \
             open src/b.rs.",
        ]
    );
    assert!(resource_edits(&c).is_empty());
    // The client still shows them, but they no longer stand for files: the agent reads the
    // disk for those paths.
    assert_eq!(open_in_server(&c).await, [uri(&keep)]);
}

#[tokio::test(flavor = "multi_thread")]
async fn accepting_a_delete_in_review_closes_the_buffer_too() {
    let env = Env::new(&format!(
        "{}{}",
        patch("*** Delete File: src/old.rs\n"),
        message("done")
    ));
    let old = env.write("src/old.rs", "fn old() {}\n");
    let c = env
        .client_with(settings("untrusted"), resource_operations())
        .await;
    c.open(&old, "fn old() {}\n").await;
    let task = c
        .ok("tandem/task/start", json!({"prompt": "drop it"}))
        .await["taskId"]
        .as_str()
        .unwrap()
        .to_string();
    c.wait_change().await;
    assert!(old.exists(), "approve-before-write: nothing deleted yet");
    let r = c
        .ok(
            "tandem/review/accept",
            json!({"target": {"type": "change", "changeId": "c1"}}),
        )
        .await;
    assert_eq!(r["applied"], json!(["c1/h1"]));
    assert_eq!(c.wait_turn_end(&task).await, "turn.completed");
    assert!(!old.exists());
    assert_eq!(
        resource_edits(&c),
        [json!([{"kind": "delete", "uri": uri(&old), "options": {"ignoreIfNotExists": true}}])]
    );
    assert!(open_in_server(&c).await.is_empty());
}
