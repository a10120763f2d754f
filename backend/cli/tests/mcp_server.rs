//! `tandem mcp-server` driven by real third-party MCP clients: the official Python SDK (PyPI
//! `mcp` 2.x) and the MCP Inspector's CLI, both installed by `scripts/setup-peers.sh`.
//!
//! The model is the scripted model server, so every turn is deterministic. A missing peer is
//! a failure that says how to install it, never a silent skip.

#[allow(
    dead_code,
    reason = "the shared harness has helpers only the other suite uses"
)]
#[path = "suite/harness.rs"]
mod harness;

use harness::{TestEnv, call, repo_root, say, tool_outputs};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::Command;

/// A peer installed by scripts/setup-peers.sh, or a panic that says how to get it.
fn peer(rel: &str) -> PathBuf {
    let path = repo_root().join(rel);
    assert!(
        path.exists(),
        "{} is missing: run scripts/setup-peers.sh (it installs the MCP Python SDK and the \
         MCP Inspector, pinned)",
        path.display()
    );
    path
}

/// Run the Python SDK client with a plan (see tests/peers/mcp_client.py); its JSON report.
fn python_client(env: &TestEnv, server_args: &[&str], elicitation: Value, calls: Value) -> Value {
    let python = peer(".ci/venv/bin/python");
    let script = repo_root().join("backend/cli/tests/peers/mcp_client.py");
    let plan = json!({
        "command": env!("CARGO_BIN_EXE_tandem"),
        "args": server_args,
        "env": {"TANDEM_HOME": env.home.path(), "RUST_LOG": "warn"},
        "cwd": env.work.path(),
        "elicitation": elicitation,
        "calls": calls,
    });
    let out = Command::new("timeout")
        .arg("180")
        .arg(python)
        .arg(script)
        .arg(plan.to_string())
        .output()
        .expect("run the Python MCP client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the Python MCP client failed ({:?})\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!("the client's report is not JSON ({e}):\n{stdout}\nstderr:\n{stderr}")
    })
}

fn text_of(result: &Value) -> String {
    result["content"]
        .as_array()
        .map(|blocks| {
            blocks
                .iter()
                .filter_map(|b| b["text"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

#[test]
fn python_sdk_lists_starts_continues_and_approves_through_elicitation() {
    let scenario = [
        call("shell", json!({"command": ["touch", "approved.txt"]})),
        say("Made approved.txt."),
        call("shell", json!({"command": ["ls"]})),
        say("I see approved.txt."),
    ]
    .concat();
    let env = TestEnv::new(&scenario, "responses");
    let work = env.work.path().to_str().unwrap().to_string();
    let report = python_client(
        &env,
        &["mcp-server"],
        json!("allow_once"),
        json!([
            {"tool": "tandem", "arguments": {"prompt": "make the file", "cwd": work,
                                             "sandbox": "workspace-write", "approval-policy": "untrusted"}},
            {"tool": "tandem-reply", "arguments": {"threadId": "$thread", "prompt": "now list"}}
        ]),
    );

    assert_eq!(report["server_info"]["name"], "tandem");
    let names: Vec<&str> = report["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["tandem", "tandem-reply"]);
    assert_eq!(
        report["tools"][0]["inputSchema"]["required"],
        json!(["prompt"])
    );

    // The first call: one approval, asked through elicitation and allowed.
    let first = &report["calls"][0]["result"];
    assert_eq!(first["isError"], false, "{first}");
    let thread = first["structuredContent"]["threadId"].as_str().unwrap();
    assert!(!thread.is_empty());
    assert_eq!(first["structuredContent"]["content"], "Made approved.txt.");
    assert_eq!(text_of(first), "Made approved.txt.");
    assert!(
        env.work.path().join("approved.txt").exists(),
        "the approved command did not run"
    );

    let elicitations = report["elicitations"].as_array().unwrap();
    assert_eq!(elicitations.len(), 1, "{elicitations:?}");
    let asked = &elicitations[0];
    let message = asked["message"].as_str().unwrap();
    assert!(
        message.starts_with("Allow Tandem to run `touch approved.txt` in `"),
        "{message}"
    );
    assert_eq!(asked["_meta"]["tandem/threadId"], thread);
    assert_eq!(
        asked["_meta"]["tandem/command"],
        json!(["touch", "approved.txt"])
    );
    assert_eq!(asked["_meta"]["tandem/kind"], "command");
    let options: Vec<&str> = asked["requestedSchema"]["properties"]["decision"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["const"].as_str().unwrap())
        .collect();
    assert_eq!(options, ["allow_once", "allow_session", "deny"]);

    // Progress notifications (the SDK sends a progressToken) and logging messages stream.
    let progress: Vec<&str> = report["calls"][0]["progress"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["message"].as_str())
        .collect();
    assert!(progress.contains(&"turn started"), "{progress:?}");
    assert!(
        progress
            .iter()
            .any(|p| p.starts_with("waiting for approval: touch approved.txt")),
        "{progress:?}"
    );
    assert!(progress.contains(&"turn completed"), "{progress:?}");
    let logged_types: Vec<&str> = report["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["logger"] == "tandem" && l["data"]["threadId"] == thread)
        .filter_map(|l| l["data"]["event"]["type"].as_str())
        .collect();
    assert!(logged_types.contains(&"thread.started"), "{logged_types:?}");
    assert!(logged_types.contains(&"item.completed"), "{logged_types:?}");

    // The second call continues the same thread; `ls` is read-only, so nobody is asked.
    let second = &report["calls"][1]["result"];
    assert_eq!(second["structuredContent"]["threadId"], thread);
    assert_eq!(
        second["structuredContent"]["content"],
        "I see approved.txt."
    );
    assert_eq!(report["elicitations"].as_array().unwrap().len(), 1);
    let requests = env.requests();
    assert_eq!(requests.len(), 4);
    assert!(
        requests[2].to_string().contains("make the file"),
        "history kept"
    );
    assert!(
        tool_outputs(&requests[3])
            .iter()
            .any(|o| o.contains("approved.txt")),
        "{:?}",
        tool_outputs(&requests[3])
    );
}

#[test]
fn without_elicitation_the_policy_denies_and_the_result_says_so() {
    let scenario = [
        call("shell", json!({"command": ["touch", "denied.txt"]})),
        say("I could not create it."),
    ]
    .concat();
    let env = TestEnv::new(&scenario, "responses");
    let report = python_client(
        &env,
        &["mcp-server", "-s", "workspace-write", "-a", "untrusted"],
        Value::Null,
        json!([{"tool": "tandem", "arguments": {"prompt": "make it"}}]),
    );
    let result = &report["calls"][0]["result"];
    assert_eq!(result["isError"], false);
    assert_eq!(
        result["structuredContent"]["content"],
        "I could not create it."
    );
    let denied = &result["structuredContent"]["denied"][0];
    assert_eq!(denied["what"], "touch denied.txt");
    assert_eq!(denied["kind"], "command");
    assert!(
        denied["reason"]
            .as_str()
            .unwrap()
            .contains("does not support elicitation"),
        "{denied}"
    );
    assert!(
        text_of(result).contains("Not allowed during this turn"),
        "{result}"
    );
    assert!(report["elicitations"].as_array().unwrap().is_empty());
    assert!(!env.work.path().join("denied.txt").exists());
    let outputs = tool_outputs(&env.requests()[1]);
    assert!(
        outputs[0].contains("denied"),
        "the model is told: {outputs:?}"
    );
}

#[test]
fn an_unreadable_elicitation_answer_fails_closed() {
    let scenario = [
        call("shell", json!({"command": ["touch", "nope.txt"]})),
        say("Denied, then."),
    ]
    .concat();
    let env = TestEnv::new(&scenario, "chat");
    let report = python_client(
        &env,
        &["mcp-server", "-s", "workspace-write", "-a", "untrusted"],
        json!("garbage"),
        json!([{"tool": "tandem", "arguments": {"prompt": "make it"}}]),
    );
    assert_eq!(report["elicitations"].as_array().unwrap().len(), 1);
    let denied = &report["calls"][0]["result"]["structuredContent"]["denied"][0];
    assert!(
        denied["reason"]
            .as_str()
            .unwrap()
            .contains("unknown decision"),
        "{denied}"
    );
    assert!(!env.work.path().join("nope.txt").exists());
}

#[test]
fn tandem_reply_resumes_a_recorded_session_in_a_new_server() {
    let env = TestEnv::new(&(say("first answer") + &say("second answer")), "responses");
    let first = python_client(
        &env,
        &["mcp-server"],
        Value::Null,
        json!([{"tool": "tandem", "arguments": {"prompt": "remember 4217"}}]),
    );
    let thread = first["calls"][0]["result"]["structuredContent"]["threadId"]
        .as_str()
        .unwrap()
        .to_string();
    // Another server process: the session comes back from $TANDEM_HOME/sessions.
    let second = python_client(
        &env,
        &["mcp-server"],
        Value::Null,
        json!([{"tool": "tandem-reply", "arguments": {"threadId": thread, "prompt": "which number?"}}]),
    );
    let result = &second["calls"][0]["result"];
    assert_eq!(result["structuredContent"]["threadId"], thread.as_str());
    assert_eq!(result["structuredContent"]["content"], "second answer");
    let body = env.requests()[1].to_string();
    assert!(
        body.contains("remember 4217") && body.contains("first answer"),
        "{body}"
    );

    // An unknown thread is a tool error that says so, not a protocol error.
    let unknown = python_client(
        &env,
        &["mcp-server"],
        Value::Null,
        json!([{"tool": "tandem-reply", "arguments": {"threadId": "no-such-thread", "prompt": "hi"}}]),
    );
    let result = &unknown["calls"][0]["result"];
    assert_eq!(result["isError"], true);
    assert!(
        text_of(result).contains("no session with id `no-such-thread`"),
        "{result}"
    );
}

#[test]
fn a_cancelled_call_interrupts_the_turn_and_the_thread_goes_on() {
    let scenario = [
        call("shell", json!({"command": ["sleep", "60"]})),
        say("Still here."),
    ]
    .concat();
    let env = TestEnv::new(&scenario, "responses");
    let started = std::time::Instant::now();
    let report = python_client(
        &env,
        &["mcp-server"],
        Value::Null,
        json!([
            {"tool": "tandem", "arguments": {"prompt": "wait a minute"}, "timeout": 4},
            {"tool": "tandem-reply", "arguments": {"threadId": "$thread", "prompt": "are you there?"}}
        ]),
    );
    assert!(report["calls"][0]["error"].is_string(), "{report:#}");
    let progress: Vec<&str> = report["calls"][0]["progress"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["message"].as_str())
        .collect();
    assert!(progress.contains(&"running `sleep 60`"), "{progress:?}");
    let second = &report["calls"][1]["result"];
    assert_eq!(
        second["structuredContent"]["content"], "Still here.",
        "{report:#}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(45),
        "the interrupted command was not killed"
    );
    // The model saw the command closed, then the new prompt.
    let body = env.requests()[1].to_string();
    assert!(body.contains("are you there?"), "{body}");
}

fn inspector(env: &TestEnv, args: &[&str]) -> Value {
    let bin = peer(".ci/node/node_modules/.bin/mcp-inspector");
    let home = format!("TANDEM_HOME={}", env.home.path().display());
    let out = Command::new("timeout")
        .arg("120")
        .arg(bin)
        .arg("--cli")
        .args(["-e", &home])
        .arg(env!("CARGO_BIN_EXE_tandem"))
        .arg("mcp-server")
        .args(args)
        .current_dir(env.work.path())
        .output()
        .expect("run the MCP Inspector");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "mcp-inspector --cli failed ({:?})\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

#[test]
fn mcp_inspector_cli_lists_and_calls_the_tools() {
    let env = TestEnv::new(&say("Hello from Tandem."), "responses");
    let listed = inspector(&env, &["--method", "tools/list"]);
    let names: Vec<&str> = listed["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["tandem", "tandem-reply"]);
    assert!(listed["tools"][1]["inputSchema"]["properties"]["threadId"].is_object());

    let called = inspector(
        &env,
        &[
            "--method",
            "tools/call",
            "--tool-name",
            "tandem",
            "--tool-arg",
            "prompt=say hello",
        ],
    );
    assert_eq!(
        called["structuredContent"]["content"], "Hello from Tandem.",
        "{called}"
    );
    assert!(called["structuredContent"]["threadId"].is_string());
}
