//! Inline review end to end: a real kernel proposes a patch, the client accepts and rejects
//! hunks (custom requests and code actions), edits in between, and the model is told.

use crate::support::{Env, TestClient, message, patch, range_json, uri};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

const OLD: &str = "fn greet(name: &str) {\n    println!(\"hello {name}\");\n}\n\nfn a() {}\nfn b() {}\nfn c() {}\nfn d() {}\n\nfn answer() -> u32 {\n    41\n}\n";

fn scenario() -> String {
    let body = "*** Update File: src/greet.rs\n@@\n fn greet(name: &str) {\n-    println!(\"hello {name}\");\n+    println!(\"hello, {name}!\");\n }\n@@\n fn answer() -> u32 {\n-    41\n+    42\n }\n";
    format!("{}{}", patch(body), message("done"))
}

fn review_settings(policy: &str) -> Value {
    json!({"approvalPolicy": policy, "sandboxMode": "danger-full-access"})
}

fn hunk<'a>(change: &'a Value, id: &str) -> &'a Value {
    change["files"][0]["hunks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["hunkId"] == id)
        .unwrap_or_else(|| panic!("no {id} in {change:#}"))
}

async fn start(c: &TestClient) -> String {
    c.ok(
        "tandem/task/start",
        json!({"prompt": "fix greet and answer"}),
    )
    .await["taskId"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn current(c: &TestClient) -> Value {
    c.ok("tandem/review/list", json!({})).await["changes"][0].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn accept_one_hunk_reject_another_with_a_user_edit_in_between() {
    let env = Env::new(&scenario());
    let p = env.write("src/greet.rs", OLD);
    let c = env.client(review_settings("untrusted")).await;
    c.open(&p, OLD).await;
    let task = start(&c).await;
    let change = c.wait_change().await;
    assert_eq!(change["changeId"], "c1");
    assert_eq!(change["model"], "approveBeforeWrite");
    assert_eq!(change["taskId"], task.as_str());
    assert_eq!(hunk(&change, "c1/h1")["range"], range_json([1, 0, 2, 0]));
    assert_eq!(hunk(&change, "c1/h2")["range"], range_json([10, 0, 11, 0]));
    assert_eq!(c.text(&p), OLD, "approve-before-write: nothing written yet");
    assert_eq!(env.read("src/greet.rs"), OLD);

    let r = c
        .ok(
            "tandem/review/accept",
            json!({"target": {"type": "hunk", "hunkId": "c1/h1"}}),
        )
        .await;
    assert_eq!(
        r,
        json!({"applied": ["c1/h1"], "decided": [], "refused": []})
    );
    assert!(c.text(&p).contains("hello, {name}!"));
    // The buffer had no unsaved edits, so the disk follows it.
    assert!(env.read("src/greet.rs").contains("hello, {name}!"));
    let edit = &c.server_requests("workspace/applyEdit")[0];
    assert_eq!(
        edit["edit"]["documentChanges"][0]["textDocument"]["version"],
        1
    );

    // The user types three lines above h2: it moves down with them.
    c.edit(&p, [0, 0, 0, 0], "// a\n// b\n// c\n").await;
    let change = current(&c).await;
    assert_eq!(hunk(&change, "c1/h1")["state"], "accepted");
    assert_eq!(hunk(&change, "c1/h2")["range"], range_json([13, 0, 14, 0]));

    // A code action on the moved hunk offers the four actions; reject through its command.
    let actions = c
        .ok(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri(&p)}, "range": range_json([13, 2, 13, 2]),
                   "context": {"diagnostics": []}}),
        )
        .await;
    let titles: Vec<&str> = actions
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        [
            "Accept change",
            "Reject change",
            "Accept all in file",
            "Reject all in file"
        ]
    );
    let reject = &actions[1]["command"];
    let r = c
        .ok(
            "workspace/executeCommand",
            json!({"command": reject["command"], "arguments": reject["arguments"]}),
        )
        .await;
    assert_eq!(
        r,
        json!({"applied": [], "decided": ["c1/h2"], "refused": []})
    );

    assert_eq!(c.wait_turn_end(&task).await, "turn.completed");
    let report = env.tool_outputs().join("\n");
    assert!(
        report.contains("1 hunk(s) accepted, 1 rejected"),
        "{report}"
    );
    assert!(report.contains("c1/h1 accepted"), "{report}");
    assert!(report.contains("c1/h2 rejected"), "{report}");
    // The user's three lines are unsaved, so the model hears that the disk differs.
    assert!(report.contains("unsaved changes"), "{report}");
    let disk = env.read("src/greet.rs");
    assert!(disk.contains("hello, {name}!") && disk.contains("    41\n") && !disk.contains("// a"));
    // The panel heard every step, and the resolved change is gone.
    let changed = c.notifications("tandem/review/changed");
    assert!(changed.len() >= 3, "{changed:#?}");
    assert_eq!(changed.last().unwrap()["removed"], json!(["c1"]));
    assert_eq!(current(&c).await, Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_under_a_hunk_makes_it_stale_and_accepting_it_is_refused() {
    let env = Env::new(&scenario());
    let p = env.write("src/greet.rs", OLD);
    let c = env.client(review_settings("untrusted")).await;
    c.open(&p, OLD).await;
    let task = start(&c).await;
    c.wait_change().await;
    // The user edits the very line h2 replaces.
    c.edit(&p, [10, 4, 10, 6], "40").await;
    let err = c
        .request(
            "tandem/review/accept",
            json!({"target": {"type": "hunk", "hunkId": "c1/h2"}}),
        )
        .await
        .unwrap_err();
    assert_eq!(err["code"], -32901);
    assert!(
        err["message"].as_str().unwrap().contains("is stale"),
        "{err}"
    );
    assert!(c.text(&p).contains("    40\n"), "nothing applied blindly");
    assert_eq!(hunk(&current(&c).await, "c1/h2")["state"], "conflicted");
    // Only "Reject change" is offered on a conflicted hunk.
    let actions = c
        .ok(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri(&p)}, "range": range_json([10, 0, 10, 0]),
                   "context": {"diagnostics": []}}),
        )
        .await;
    assert_eq!(actions[0]["title"], "Reject change");
    // Rejecting still works, and accepting the other finishes the review.
    c.ok(
        "tandem/review/reject",
        json!({"target": {"type": "hunk", "hunkId": "c1/h2"}}),
    )
    .await;
    c.ok(
        "tandem/review/accept",
        json!({"target": {"type": "hunk", "hunkId": "c1/h1"}}),
    )
    .await;
    assert_eq!(c.wait_turn_end(&task).await, "turn.completed");
    let report = env.tool_outputs().join("\n");
    assert!(
        report.contains("c1/h1 accepted") && report.contains("c1/h2 rejected"),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_not_open_is_written_on_disk_when_accepted() {
    let env = Env::new(&scenario());
    env.write("src/greet.rs", OLD);
    let c = env
        .client(
            json!({"approvalPolicy": "on-request", "sandboxMode": "danger-full-access",
                       "reviewModel": "approveBeforeWrite"}),
        )
        .await;
    let task = start(&c).await;
    let change = c.wait_change().await;
    assert_eq!(change["model"], "approveBeforeWrite");
    let r = c
        .ok(
            "tandem/review/accept",
            json!({"target": {"type": "change", "changeId": "c1"}}),
        )
        .await;
    assert_eq!(r["applied"], json!(["c1/h1", "c1/h2"]));
    assert_eq!(c.wait_turn_end(&task).await, "turn.completed");
    let disk = env.read("src/greet.rs");
    assert!(
        disk.contains("hello, {name}!") && disk.contains("    42\n"),
        "{disk}"
    );
    let report = env.tool_outputs().join("\n");
    assert!(
        report.contains("2 hunk(s) accepted, 0 rejected"),
        "{report}"
    );
    assert!(!report.contains("unsaved"), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_then_review_writes_at_once_and_reverts_per_hunk_or_per_turn() {
    let env = Env::new(&scenario());
    let p = env.write("src/greet.rs", OLD);
    let c = env.client(review_settings("never")).await;
    c.open(&p, OLD).await;
    let task = start(&c).await;
    assert_eq!(c.wait_turn_end(&task).await, "turn.completed");
    // Written on disk by the kernel, and pushed into the open buffer.
    c.wait_until("the buffer to show the change", |c| {
        c.text(&p).contains("    42\n")
    })
    .await;
    assert!(env.read("src/greet.rs").contains("    42\n"));
    let change = c.wait_change().await;
    assert_eq!(change["model"], "applyThenReview");
    assert_eq!(hunk(&change, "c1/h2")["state"], "pending");

    // Rejecting h2 reverts it in the buffer, and on disk (the buffer had no unsaved edits).
    let r = c
        .ok(
            "tandem/review/reject",
            json!({"target": {"type": "hunk", "hunkId": "c1/h2"}}),
        )
        .await;
    assert_eq!(r["applied"], json!(["c1/h2"]));
    assert!(c.text(&p).contains("    41\n") && c.text(&p).contains("hello, {name}!"));
    assert!(env.read("src/greet.rs").contains("    41\n"));

    // Undoing the turn reverts what is left.
    let turn = change["turnId"].clone();
    c.ok("tandem/review/undoTurn", json!({"turnId": turn}))
        .await;
    assert_eq!(c.text(&p), OLD);
    assert_eq!(env.read("src/greet.rs"), OLD);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_edit_puts_the_hunk_back_to_pending() {
    let env = Env::new(&scenario());
    let p = env.write("src/greet.rs", OLD);
    let c = env.client(review_settings("untrusted")).await;
    c.open(&p, OLD).await;
    start(&c).await;
    c.wait_change().await;
    c.refuse_edits(true);
    let r = c
        .ok(
            "tandem/review/accept",
            json!({"target": {"type": "hunk", "hunkId": "c1/h1"}}),
        )
        .await;
    assert_eq!(r["applied"], json!([]));
    assert_eq!(r["refused"][0]["hunkId"], "c1/h1");
    assert!(
        r["refused"][0]["message"]
            .as_str()
            .unwrap()
            .contains("did not apply")
    );
    assert_eq!(hunk(&current(&c).await, "c1/h1")["state"], "pending");
    assert_eq!(
        env.read("src/greet.rs"),
        OLD,
        "the disk follows only applied edits"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_patch_in_the_same_turn_sees_the_first_one_written() {
    // Apply-then-review: the kernel's next patch must be planned against what it wrote, even
    // before the open buffer shows it (the server's overlay covers that moment).
    let first = "*** Update File: src/greet.rs\n@@\n fn answer() -> u32 {\n-    41\n+    42\n }\n";
    let second = "*** Update File: src/greet.rs\n@@\n fn answer() -> u32 {\n-    42\n+    43\n }\n";
    let env = Env::new(&format!(
        "{}{}{}",
        patch(first),
        patch(second),
        message("done")
    ));
    let p = env.write("src/greet.rs", OLD);
    let c = env.client(review_settings("never")).await;
    c.open(&p, OLD).await;
    let task = start(&c).await;
    assert_eq!(c.wait_turn_end(&task).await, "turn.completed");
    let outputs = env.tool_outputs().join("\n");
    assert!(!outputs.contains("apply_patch failed"), "{outputs}");
    assert!(env.read("src/greet.rs").contains("    43\n"));
    c.wait_until("the buffer to show both changes", |c| {
        c.text(&p).contains("    43\n")
    })
    .await;
    let changes = c.ok("tandem/review/list", json!({})).await["changes"].clone();
    assert_eq!(changes.as_array().unwrap().len(), 2, "{changes:#}");
}
