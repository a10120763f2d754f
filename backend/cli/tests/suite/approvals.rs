//! Approval paths under each policy, as a headless run sees them: nothing can be approved, so
//! every question is denied and the model is told.

use super::harness::{TestEnv, call, say, tool_outputs};
use serde_json::json;

#[test]
fn untrusted_runs_safe_commands_and_denies_the_rest() {
    let scenario = [
        call("shell", json!({"command": ["ls"]})),
        call("shell", json!({"command": ["touch", "made-by-agent"]})),
        say("ok"),
    ]
    .concat();
    let env = TestEnv::new(&scenario, "responses");
    env.write("present.txt", "x");
    let run = env.exec_json(&["-s", "workspace-write", "-a", "untrusted", "go"]);
    run.assert_ok();
    let commands = run.completed("command_execution");
    assert_eq!(commands[0]["status"], "completed");
    assert!(
        commands[0]["aggregated_output"]
            .as_str()
            .unwrap()
            .contains("present.txt")
    );
    assert_eq!(commands[1]["status"], "declined");
    assert!(!env.work.path().join("made-by-agent").exists());
    let outputs = tool_outputs(&env.requests()[2]);
    assert!(outputs[1].contains("denied"), "{outputs:?}");
}

#[test]
fn full_auto_denies_an_escalation_and_tells_the_model() {
    let scenario = [
        call("shell", json!({"command": ["touch", "/escalated"], "with_escalated_permissions": true, "justification": "needs root"})),
        say("I could not do it."),
    ]
    .concat();
    let env = TestEnv::new(&scenario, "responses");
    let run = env.exec_json(&["--full-auto", "go"]);
    run.assert_ok();
    let cmd = &run.completed("command_execution")[0];
    assert_eq!(cmd["status"], "declined");
    let outputs = tool_outputs(&env.requests()[1]);
    assert!(outputs[0].contains("denied"), "{outputs:?}");
}

#[test]
fn never_rejects_escalation_without_asking() {
    let scenario = [
        call(
            "shell",
            json!({"command": ["true"], "with_escalated_permissions": true}),
        ),
        say("ok"),
    ]
    .concat();
    let env = TestEnv::new(&scenario, "responses");
    let run = env.exec_json(&["-s", "workspace-write", "-a", "never", "go"]);
    run.assert_ok();
    assert!(
        !run.stderr.contains("approval needed"),
        "never must not ask: {}",
        run.stderr
    );
    let outputs = tool_outputs(&env.requests()[1]);
    assert!(
        outputs[0].contains("approval_policy is `never`"),
        "{outputs:?}"
    );
}

#[test]
fn read_only_default_blocks_patches_and_says_why() {
    let scenario = [
        call(
            "apply_patch",
            json!({"input": "*** Begin Patch\n*** Add File: new.txt\n+hello\n*** End Patch\n"}),
        ),
        say("ok"),
    ]
    .concat();
    let env = TestEnv::new(&scenario, "responses");
    let run = env.exec_json(&["go"]);
    run.assert_ok();
    assert!(!env.work.path().join("new.txt").exists());
    assert_eq!(run.completed("file_change")[0]["status"], "declined");
    let outputs = tool_outputs(&env.requests()[1]);
    assert!(outputs[0].contains("read-only"), "{outputs:?}");
}

#[test]
fn workspace_write_sandbox_blocks_writes_outside_the_workspace() {
    // Not under /tmp: inside the sandbox /tmp is a private scratch directory, so a write there
    // would not prove anything about the host.
    let outside = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let target = outside.path().join("escaped");
    let scenario = [
        call(
            "shell",
            json!({"command": ["touch", target.to_str().unwrap()]}),
        ),
        say("ok"),
    ]
    .concat();
    let env = TestEnv::new(&scenario, "responses");
    let run = env.exec_json(&["-s", "workspace-write", "-a", "never", "go"]);
    run.assert_ok();
    assert!(
        !target.exists(),
        "the sandbox let a command write outside the workspace"
    );
    let cmd = &run.completed("command_execution")[0];
    assert_ne!(cmd["exit_code"], 0);
    let output = cmd["aggregated_output"].as_str().unwrap();
    assert!(
        output.contains("Read-only file system") || output.contains("Permission denied"),
        "{output}"
    );
}
