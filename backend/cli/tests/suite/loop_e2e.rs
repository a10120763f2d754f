//! The whole loop: read → plan → patch → test → answer, in both wire APIs.

use super::harness::{TestEnv, tool_outputs};

fn multi_step(wire: &str) {
    let env = TestEnv::from_fixture("fix-calc.toml", wire).with_repo("calc");
    let run = env.exec_json(&["--full-auto", "Fix the failing test in calc"]);
    run.assert_ok();

    // The file was fixed on disk, and the tests the agent ran passed.
    assert!(
        env.read("calc.py").contains("return a + b"),
        "{}",
        env.read("calc.py")
    );
    let commands = run.completed("command_execution");
    assert_eq!(commands.len(), 2, "{:#?}", run.events);
    assert_eq!(commands[0]["command"], "cat calc.py");
    assert_eq!(commands[0]["exit_code"], 0);
    assert_eq!(
        commands[1]["exit_code"], 0,
        "{}",
        commands[1]["aggregated_output"]
    );
    let patches = run.completed("file_change");
    assert_eq!(
        patches[0]["changes"][0],
        serde_json::json!({"path": "calc.py", "kind": "update"})
    );
    assert_eq!(patches[0]["status"], "completed");
    let messages = run.completed("agent_message");
    assert!(
        messages.last().unwrap()["text"]
            .as_str()
            .unwrap()
            .contains("Fixed `add()`")
    );

    // The event stream has the codex shape from start to end.
    let types = run.types();
    assert_eq!(types.first().map(String::as_str), Some("thread.started"));
    assert_eq!(types[1], "turn.started");
    assert_eq!(types.last().map(String::as_str), Some("turn.completed"));
    let plan = run
        .events
        .iter()
        .find(|e| e["item"]["type"] == "todo_list")
        .expect("a todo_list item");
    assert_eq!(plan["item"]["items"][0]["text"], "Read calc.py");

    // What the agent sent: four requests, each carrying the previous tool outputs.
    let requests = env.requests();
    assert_eq!(requests.len(), 4);
    let outputs = tool_outputs(&requests[1]);
    assert!(
        outputs.iter().any(|o| o.contains("return a - b")),
        "{outputs:?}"
    );
    let outputs = tool_outputs(&requests[3]);
    assert!(outputs.iter().any(|o| o.contains("OK")), "{outputs:?}");
    // The tools were offered with Codex-compatible names.
    let body = requests[0].to_string();
    for tool in ["\"shell\"", "\"apply_patch\"", "\"update_plan\""] {
        assert!(body.contains(tool), "{tool} missing from {body}");
    }
}

#[test]
fn multi_step_task_over_the_responses_api() {
    multi_step("responses");
}

#[test]
fn multi_step_task_over_chat_completions() {
    multi_step("chat");
}

#[test]
fn human_output_puts_the_answer_on_stdout_and_progress_on_stderr() {
    let env = TestEnv::from_fixture("fix-calc.toml", "responses").with_repo("calc");
    let out = env
        .command()
        .args(["exec", "--full-auto", "Fix the failing test"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stdout.trim(),
        "Fixed `add()` in calc.py: it subtracted instead of adding. `python3 -m unittest -q` now passes (2 tests)."
    );
    assert!(stderr.contains("$ cat calc.py"), "{stderr}");
    assert!(stderr.contains("patch applied:"), "{stderr}");
    assert!(stderr.contains("M calc.py"), "{stderr}");
}

#[test]
fn output_last_message_writes_the_answer() {
    let env = TestEnv::new(&super::harness::say("All done."), "responses");
    let file = env.work.path().join("last.txt");
    let run = env.exec_json(&["--output-last-message", file.to_str().unwrap(), "hi"]);
    run.assert_ok();
    assert_eq!(std::fs::read_to_string(file).unwrap(), "All done.");
}
