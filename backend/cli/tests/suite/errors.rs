//! Bad input gets a clear error and loses nothing: malformed tool calls, patches that do not
//! apply, a flaky provider, a broken stream, an unreachable model, a bad config.

use super::harness::{TestEnv, call, say, tool_outputs};
use serde_json::json;

#[test]
fn malformed_tool_arguments_go_back_to_the_model() {
    let scenario = "[[step]]\n[[step.output]]\ntype = \"function_call\"\nname = \"shell\"\narguments = '{\"command\": [\"ls\"'\n".to_string()
        + &call("no_such_tool", json!({}))
        + &say("recovered");
    let env = TestEnv::new(&scenario, "responses");
    let run = env.exec_json(&["go"]);
    run.assert_ok();
    let requests = env.requests();
    let outputs = tool_outputs(&requests[1]);
    assert!(
        outputs[0].contains("failed to parse the arguments of `shell`"),
        "{outputs:?}"
    );
    let outputs = tool_outputs(&requests[2]);
    assert!(
        outputs
            .iter()
            .any(|o| o.contains("unknown tool `no_such_tool`")),
        "{outputs:?}"
    );
}

#[test]
fn a_patch_that_does_not_apply_touches_no_file() {
    let patch = "*** Begin Patch\n*** Update File: a.txt\n-one\n+ONE\n*** Update File: b.txt\n@@\n-this line is not there\n+x\n*** End Patch\n";
    let scenario = call("apply_patch", json!({"input": patch})) + &say("ok");
    let env = TestEnv::new(&scenario, "responses");
    env.write("a.txt", "one\n");
    env.write("b.txt", "two\n");
    let run = env.exec_json(&["--full-auto", "go"]);
    run.assert_ok();
    assert_eq!(
        env.read("a.txt"),
        "one\n",
        "a failed patch must change nothing"
    );
    assert_eq!(env.read("b.txt"), "two\n");
    assert_eq!(run.completed("file_change")[0]["status"], "failed");
    let outputs = tool_outputs(&env.requests()[1]);
    assert!(
        outputs[0].contains("b.txt"),
        "the model must be told which file: {outputs:?}"
    );
    assert!(outputs[0].contains("No file was changed"), "{outputs:?}");
}

#[test]
fn rate_limited_then_success() {
    let scenario =
        "[[step]]\nstatus = 429\nretry_after = \"0\"\n".to_string() + &say("after the retry");
    let env = TestEnv::new(&scenario, "responses");
    let run = env.exec_json(&["go"]);
    run.assert_ok();
    assert_eq!(run.completed("agent_message")[0]["text"], "after the retry");
    assert_eq!(env.requests().len(), 2);
}

#[test]
fn a_stream_cut_mid_item_is_retried() {
    let scenario = "[[step]]\ncut_after_events = 3\n[[step.output]]\ntype = \"message\"\ntext = \"this reply breaks off half way through\"\n".to_string()
        + &say("complete this time");
    let env = TestEnv::new(&scenario, "responses");
    let run = env.exec_json(&["go"]);
    run.assert_ok();
    assert_eq!(
        run.completed("agent_message").last().unwrap()["text"],
        "complete this time"
    );
}

#[test]
fn a_stream_that_keeps_breaking_fails_the_turn_clearly() {
    let cut = "[[step]]\ncut_after_events = 2\n[[step.output]]\ntype = \"message\"\ntext = \"broken reply\"\n";
    let env = TestEnv::new(&cut.repeat(3), "chat");
    let run = env.exec_json(&["go"]);
    assert_eq!(run.status, 1);
    let failed = run
        .events
        .iter()
        .find(|e| e["type"] == "turn.failed")
        .expect("turn.failed");
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ended early"),
        "{failed}"
    );
    assert_eq!(failed["error"]["code"], "stream_interrupted", "{failed}");
}

/// Programs reading the stream get a code for the failure, not only words.
#[test]
fn failed_turns_carry_a_code() {
    // Out of rounds.
    let plan = json!({"plan": [{"step": "x", "status": "in_progress"}]});
    let scenario = [
        call("update_plan", plan.clone()),
        call("update_plan", plan),
        say("late"),
    ]
    .concat();
    let env = TestEnv::new(&scenario, "responses");
    env.write_config("responses", "max_tool_rounds = 2");
    let run = env.exec_json(&["go"]);
    assert_eq!(run.status, 1);
    let failed = run
        .events
        .iter()
        .find(|e| e["type"] == "turn.failed")
        .expect("turn.failed");
    assert_eq!(failed["error"]["code"], "max_tool_rounds", "{failed}");
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("max_tool_rounds")
    );

    // Nobody listening.
    let env = TestEnv::new(&say("unused"), "responses");
    unreachable_model(&env);
    let run = env.exec_json(&["go"]);
    assert_eq!(run.status, 1);
    let failed = run
        .events
        .iter()
        .find(|e| e["type"] == "turn.failed")
        .expect("turn.failed");
    assert_eq!(failed["error"]["code"], "model_unreachable", "{failed}");
}

/// Points the config at a local port nobody listens on, with no retries; returns the port.
fn unreachable_model(env: &TestEnv) -> u16 {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = format!(
        "model = \"m\"\nmodel_provider = \"local\"\n[model_providers.local]\nname = \"Local\"\nbase_url = \"http://127.0.0.1:{port}/v1\"\nwire_api = \"chat\"\nrequest_max_retries = 0\n"
    );
    std::fs::write(env.home.path().join("config.toml"), config).unwrap();
    port
}

#[test]
fn an_unreachable_model_says_what_to_set() {
    let env = TestEnv::new(&say("unused"), "responses");
    let port = unreachable_model(&env);
    let out = env.command().args(["exec", "hello"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains(&format!("127.0.0.1:{port}")), "{stderr}");
}

#[test]
fn a_missing_key_names_the_variable() {
    let env = TestEnv::new(&say("unused"), "responses");
    let out = env
        .command()
        .args(["exec", "-c", "model_provider=\"openai\"", "hello"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("OPENAI_API_KEY"), "{stderr}");
    assert!(env.requests().is_empty());
}

#[test]
fn a_bad_config_names_the_file_line_and_key() {
    let env = TestEnv::new(&say("unused"), "responses");
    std::fs::write(
        env.home.path().join("config.toml"),
        "model = \"m\"\napproval_policy = \"sometimes\"\n",
    )
    .unwrap();
    let out = env.command().args(["exec", "hello"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("config.toml:2"), "{stderr}");
    assert!(stderr.contains("approval_policy"), "{stderr}");
    assert!(env.requests().is_empty());
}

#[test]
fn a_bad_override_names_the_key() {
    let env = TestEnv::new(&say("unused"), "responses");
    let out = env
        .command()
        .args(["exec", "-c", "sandbox_mode=\"wide-open\"", "hello"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr.contains("sandbox_mode"), "{stderr}");
}
