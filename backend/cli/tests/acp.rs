//! `tandem acp` driven by a real ACP client: a small client on the official ACP TypeScript SDK
//! (`@agentclientprotocol/sdk`, installed by `scripts/setup-peers.sh`), see
//! `tests/peers/acp_client.mjs`.
//!
//! The model is the scripted model server. A missing peer is a failure that says how to
//! install it, never a silent skip.

#[allow(
    dead_code,
    reason = "the shared harness has helpers only the other suite uses"
)]
#[path = "suite/harness.rs"]
mod harness;

use harness::{TestEnv, call, repo_root, say};
use serde_json::{Value, json};
use std::process::Command;

/// Run the Node ACP client with a plan; its JSON report.
fn acp_client(env: &TestEnv, agent_args: &[&str], plan: Value) -> Value {
    let node_dir = repo_root().join(".ci/node");
    assert!(
        node_dir
            .join("node_modules/@agentclientprotocol/sdk/package.json")
            .exists(),
        "@agentclientprotocol/sdk is missing from {}: run scripts/setup-peers.sh",
        node_dir.display()
    );
    let mut full = json!({
        "command": env!("CARGO_BIN_EXE_tandem"),
        "args": agent_args,
        "env": {"TANDEM_HOME": env.home.path(), "RUST_LOG": "warn"},
        "nodeDir": node_dir,
        "cwd": env.work.path().canonicalize().unwrap(),
    });
    for (k, v) in plan.as_object().unwrap() {
        full[k] = v.clone();
    }
    let out = Command::new("timeout")
        .arg("180")
        .arg("node")
        .arg(repo_root().join("backend/cli/tests/peers/acp_client.mjs"))
        .arg(full.to_string())
        .env_remove("OPENAI_API_KEY")
        .env_remove("OPENAI_BASE_URL")
        .output()
        .expect("run node (apt-get install nodejs)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the ACP client failed ({:?})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    let report: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\nstderr:\n{stderr}"));
    assert_eq!(report["ok"], true, "{report:#}\nstderr:\n{stderr}");
    assert_eq!(report["agentExitCode"], 0, "stderr:\n{stderr}");
    report
}

/// The `sessionUpdate` kinds of a list of notifications, in order.
fn kinds(updates: &Value) -> Vec<String> {
    updates
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["update"]["sessionUpdate"].as_str().unwrap().to_string())
        .collect()
}

fn updates_of<'a>(updates: &'a Value, kind: &str) -> Vec<&'a Value> {
    updates
        .as_array()
        .unwrap()
        .iter()
        .map(|n| &n["update"])
        .filter(|u| u["sessionUpdate"] == kind)
        .collect()
}

fn message_text(updates: &Value) -> String {
    updates_of(updates, "agent_message_chunk")
        .iter()
        .filter_map(|u| u["content"]["text"].as_str())
        .collect()
}

#[test]
fn typescript_sdk_client_prompts_approves_and_cancels() {
    let escalated = |file: &str| {
        call(
            "shell",
            json!({"command": ["touch", file], "with_escalated_permissions": true,
                   "justification": "the test wants it outside the sandbox"}),
        )
    };
    let scenario = [
        // Prompt 1: a permission, an edit, a plan, an answer.
        escalated("escalated.txt"),
        call(
            "apply_patch",
            json!({"input": "*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch\n"}),
        ),
        call(
            "update_plan",
            json!({"plan": [{"step": "make the files", "status": "completed"},
                            {"step": "report", "status": "in_progress"}]}),
        ),
        say("Made both files."),
        // Prompt 2: cancelled while a command runs.
        call("shell", json!({"command": ["sleep", "30"]})),
        // Prompt 3: cancelled while the permission question is open.
        escalated("never.txt"),
        // Prompt 4: the session goes on.
        say("Still here."),
    ]
    .concat();
    let env = TestEnv::new(&scenario, "responses");
    let report = acp_client(
        &env,
        &["acp", "-s", "workspace-write", "-a", "on-request"],
        json!({"prompts": [
            {"text": "make the files", "permission": "allow_once"},
            {"text": "now wait", "cancelOnToolCall": "sleep"},
            {"text": "ask again", "permission": "cancel"},
            {"text": "are you there"},
        ]}),
    );

    // initialize and session/new.
    assert_eq!(report["initialize"]["protocolVersion"], 1);
    assert_eq!(
        report["initialize"]["agentCapabilities"]["loadSession"],
        true
    );
    assert_eq!(report["initialize"]["agentInfo"]["name"], "tandem");
    let session = report["newSession"]["sessionId"].as_str().unwrap();
    assert_eq!(report["newSession"]["_meta"]["tandem"]["threadId"], session);

    // Prompt 1: tool calls with statuses, the permission answered, a diff, a plan.
    let p1 = &report["prompts"][0];
    assert_eq!(p1["stopReason"], "end_turn", "{p1:#}");
    let u1 = &p1["updates"];
    let asked = &p1["permissions"][0];
    assert_eq!(p1["permissions"].as_array().unwrap().len(), 1);
    assert_eq!(asked["sessionId"], session);
    assert_eq!(asked["toolCall"]["title"], "touch escalated.txt");
    let options: Vec<&str> = asked["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["kind"].as_str().unwrap())
        .collect();
    assert_eq!(options, ["allow_once", "allow_always", "reject_once"]);
    assert!(
        env.work.path().join("escalated.txt").exists(),
        "allowed command did not run"
    );
    let touch_id = asked["toolCall"]["toolCallId"].as_str().unwrap();
    let calls = updates_of(u1, "tool_call");
    let touch = calls
        .iter()
        .find(|c| c["toolCallId"] == touch_id)
        .expect("the command's tool_call");
    assert_eq!(touch["kind"], "execute");
    assert_eq!(touch["status"], "in_progress");
    let done = updates_of(u1, "tool_call_update");
    let touch_done = done.iter().find(|c| c["toolCallId"] == touch_id).unwrap();
    assert_eq!(touch_done["status"], "completed");
    assert_eq!(touch_done["_meta"]["tandem"]["itemId"], touch_id);

    let edit = calls
        .iter()
        .find(|c| c["kind"] == "edit")
        .expect("an edit tool_call");
    let edit_done = done
        .iter()
        .find(|c| c["toolCallId"] == edit["toolCallId"])
        .unwrap();
    assert_eq!(edit_done["status"], "completed");
    let diff = &edit_done["content"][0];
    assert_eq!(diff["type"], "diff");
    assert_eq!(
        diff["path"],
        env.work
            .path()
            .canonicalize()
            .unwrap()
            .join("hello.txt")
            .display()
            .to_string()
    );
    assert_eq!(diff["newText"], "hello\n");
    assert_eq!(diff["oldText"], Value::Null);

    let plan = updates_of(u1, "plan");
    let entries = &plan.last().expect("a plan update")["entries"];
    assert_eq!(entries[0]["content"], "make the files");
    assert_eq!(entries[0]["status"], "completed");
    assert_eq!(entries[1]["status"], "in_progress");
    assert_eq!(message_text(u1), "Made both files.");

    // Prompt 2: session/cancel while `sleep 30` runs.
    let p2 = &report["prompts"][1];
    assert_eq!(p2["stopReason"], "cancelled", "{p2:#}");
    let sleep = updates_of(&p2["updates"], "tool_call");
    assert_eq!(sleep[0]["title"], "sleep 30");

    // Prompt 3: session/cancel while the question is open; the command never runs.
    let p3 = &report["prompts"][2];
    assert_eq!(p3["stopReason"], "cancelled", "{p3:#}");
    assert_eq!(p3["permissions"].as_array().unwrap().len(), 1);
    assert!(!env.work.path().join("never.txt").exists());

    // Prompt 4: the session still works.
    let p4 = &report["prompts"][3];
    assert_eq!(p4["stopReason"], "end_turn", "{p4:#}");
    assert_eq!(message_text(&p4["updates"]), "Still here.");
    assert!(
        kinds(&p4["updates"])
            .iter()
            .all(|k| k == "agent_message_chunk")
    );

    // session/load, from another agent process: the history is replayed before the response.
    let loaded = acp_client(&env, &["acp"], json!({"load": session, "prompts": []}));
    assert!(loaded["load"].is_object(), "{loaded:#}");
    let replay = &loaded["loadUpdates"];
    let users: Vec<&str> = updates_of(replay, "user_message_chunk")
        .iter()
        .filter_map(|u| u["content"]["text"].as_str())
        .collect();
    assert_eq!(
        users,
        ["make the files", "now wait", "ask again", "are you there"]
    );
    let replayed_calls: Vec<&str> = updates_of(replay, "tool_call")
        .iter()
        .filter_map(|u| u["title"].as_str())
        .collect();
    assert!(
        replayed_calls.contains(&"touch escalated.txt"),
        "{replayed_calls:?}"
    );
    assert!(
        replayed_calls.contains(&"Edit hello.txt"),
        "{replayed_calls:?}"
    );
    // The replayed edit shows the patch that made it, as a diff.
    let edit = updates_of(replay, "tool_call")
        .into_iter()
        .find(|u| u["title"] == "Edit hello.txt")
        .unwrap();
    assert_eq!(edit["content"][0]["type"], "diff", "{edit:#}");
    assert_eq!(edit["content"][0]["newText"], "hello\n");
    assert!(
        edit["content"][0]["path"]
            .as_str()
            .unwrap()
            .ends_with("/hello.txt")
    );
    assert!(message_text(replay).contains("Made both files."));
    assert!(message_text(replay).contains("Still here."));
}

#[test]
fn a_loaded_session_continues_with_its_history() {
    let env = TestEnv::new(&(say("first answer") + &say("second answer")), "chat");
    let first = acp_client(
        &env,
        &["acp"],
        json!({"prompts": [{"text": "remember 4217"}]}),
    );
    let session = first["newSession"]["sessionId"]
        .as_str()
        .unwrap()
        .to_string();
    let second = acp_client(
        &env,
        &["acp"],
        json!({"load": session, "prompts": [{"text": "which number?"}]}),
    );
    assert_eq!(second["prompts"][0]["stopReason"], "end_turn");
    assert_eq!(
        message_text(&second["prompts"][0]["updates"]),
        "second answer"
    );
    let body = env.server.requests()[1].body.to_string();
    assert!(
        body.contains("remember 4217") && body.contains("first answer"),
        "{body}"
    );
}

#[test]
fn unknown_sessions_and_relative_paths_are_errors() {
    let env = TestEnv::new(&say("unused"), "responses");
    let report = acp_client(&env, &["acp"], json!({"load": "no-such-session"}));
    let error = report["sessionError"].as_str().unwrap();
    assert!(
        error.contains("no session with id `no-such-session`"),
        "{error}"
    );

    let report = acp_client(&env, &["acp"], json!({"sessionCwd": "relative/dir"}));
    let error = report["sessionError"].as_str().unwrap();
    assert!(error.contains("must be an absolute path"), "{error}");
}

#[test]
fn client_mcp_servers_are_accepted() {
    let env = TestEnv::new(&say("ok"), "responses");
    let report = acp_client(
        &env,
        &["acp"],
        json!({
            "mcpServers": [{"name": "docs", "command": "/bin/true", "args": [], "env": []}],
            "prompts": [{"text": "hi"}],
        }),
    );
    assert!(report["newSession"]["sessionId"].is_string(), "{report:#}");
    assert_eq!(report["prompts"][0]["stopReason"], "end_turn");
}
