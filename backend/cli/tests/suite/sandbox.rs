//! The kernel's commands run in the sandbox, and a session prepares it once: every command of
//! a session runs in the same prepared namespaces (the zygote), never in the host's.

use super::harness::{TestEnv, call, say};
use serde_json::json;

#[test]
fn commands_of_a_session_share_one_prepared_sandbox() {
    let netns = json!({"command": ["readlink", "/proc/self/ns/net"]});
    let scenario = [
        call("shell", netns.clone()),
        call("shell", netns),
        say("done"),
    ]
    .concat();
    let env = TestEnv::new(&scenario, "responses");
    let run = env.exec_json(&["-s", "workspace-write", "go"]);
    run.assert_ok();
    let outputs: Vec<String> = run
        .completed("command_execution")
        .iter()
        .map(|c| c["aggregated_output"].as_str().unwrap().trim().to_string())
        .collect();
    let host = std::fs::read_link("/proc/self/ns/net")
        .unwrap()
        .display()
        .to_string();
    assert!(outputs[0].starts_with("net:["), "{outputs:?}");
    assert_ne!(
        outputs[0], host,
        "the command ran in the host's network namespace"
    );
    assert_eq!(
        outputs[0], outputs[1],
        "each command paid for a new sandbox: {outputs:?}"
    );
}

#[test]
fn sandboxed_commands_see_the_sandbox_markers_and_no_secrets() {
    let scenario = [
        call("shell", json!({"command": ["sh", "-c", "env | sort"]})),
        say("done"),
    ]
    .concat();
    let env = TestEnv::new(&scenario, "responses");
    let out = env
        .command()
        .args(["exec", "--json", "-s", "workspace-write", "go"])
        .env("MY_SERVICE_TOKEN", "hunter2")
        .output()
        .unwrap();
    let run = super::harness::Run::from(out);
    run.assert_ok();
    let output = run.completed("command_execution")[0]["aggregated_output"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(output.contains("TANDEM_SANDBOX=1"), "{output}");
    assert!(
        output.contains("TANDEM_SANDBOX_NETWORK_DISABLED=1"),
        "{output}"
    );
    assert!(
        !output.contains("hunter2"),
        "a secret reached the command: {output}"
    );
}
