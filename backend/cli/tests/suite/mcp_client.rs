//! MCP tools through the whole loop: the real `@modelcontextprotocol/server-everything`,
//! started from config.toml, called by the scripted model through `tandem exec`.

use super::harness::{TestEnv, call, repo_root, say, tool_outputs};
use serde_json::json;

fn server_everything() -> String {
    let bin = repo_root().join(".ci/node/node_modules/.bin/mcp-server-everything");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/setup-mcp.sh",
        bin.display()
    );
    bin.display().to_string()
}

#[test]
fn the_model_calls_an_mcp_tool_and_reads_its_result() {
    // The tool list is sampled per request, so the server must be ready by the second one:
    // the first step is a plan update that gives it time to start.
    let scenario = [
        "[[step]]\ndelay_ms = 1500\n[[step.output]]\ntype = \"function_call\"\nname = \"update_plan\"\narguments = '{\"plan\":[{\"step\":\"echo\",\"status\":\"in_progress\"}]}'\n".to_string(),
        call("mcp__everything__echo", json!({"message": "hello from the model"})),
        say("echoed"),
    ]
    .concat();
    let env = TestEnv::new(&scenario, "responses");
    env.write_config(
        "responses",
        &format!(
            "[mcp_servers.everything]\ncommand = \"{}\"\n",
            server_everything()
        ),
    );
    let run = env.exec_json(&["-a", "never", "echo something"]);
    run.assert_ok();
    let item = &run.completed("mcp_tool_call")[0];
    assert_eq!(item["server"], "everything");
    assert_eq!(item["tool"], "echo");
    assert_eq!(item["status"], "completed");
    let outputs = tool_outputs(&env.requests()[2]);
    assert!(
        outputs
            .iter()
            .any(|o| o.contains("Echo: hello from the model")),
        "{outputs:?}"
    );
    // The MCP tools were offered to the model under their qualified names.
    assert!(
        env.requests()[1]
            .to_string()
            .contains("mcp__everything__echo")
    );
}

#[test]
fn a_server_that_never_starts_does_not_hold_up_the_turn() {
    let env = TestEnv::new(&say("no wait"), "responses");
    env.write_config(
        "responses",
        "[mcp_servers.stuck]\ncommand = \"sleep\"\nargs = [\"1000\"]\nstartup_timeout_sec = 600\n",
    );
    let run = env.exec_json(&["hi"]);
    run.assert_ok();
    assert_eq!(run.completed("agent_message")[0]["text"], "no wait");
}

#[test]
fn untrusted_asks_before_an_mcp_call_and_the_denial_reaches_the_model() {
    let scenario = [
        "[[step]]\ndelay_ms = 1500\n[[step.output]]\ntype = \"function_call\"\nname = \"update_plan\"\narguments = '{\"plan\":[{\"step\":\"sum\",\"status\":\"in_progress\"}]}'\n".to_string(),
        call("mcp__everything__get-sum", json!({"a": 2, "b": 40})),
        say("ok"),
    ]
    .concat();
    let env = TestEnv::new(&scenario, "responses");
    env.write_config(
        "responses",
        &format!(
            "[mcp_servers.everything]\ncommand = \"{}\"\n",
            server_everything()
        ),
    );
    let run = env.exec_json(&["-a", "untrusted", "add"]);
    run.assert_ok();
    assert_eq!(run.completed("mcp_tool_call")[0]["status"], "declined");
    let outputs = tool_outputs(&env.requests()[2]);
    assert!(outputs.iter().any(|o| o.contains("denied")), "{outputs:?}");
}

#[test]
fn mcp_add_list_check_and_remove_manage_config_toml() {
    let env = TestEnv::new(&say("unused"), "responses");
    let tandem = |args: &[&str]| env.command().args(args).output().unwrap();
    let out = tandem(&["mcp", "add", "everything", "--", &server_everything()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = tandem(&["mcp", "add", "broken", "--", "/nonexistent/server"]);
    assert!(out.status.success());
    let config = std::fs::read_to_string(env.home.path().join("config.toml")).unwrap();
    assert!(
        config.contains("[mcp_servers.everything]")
            && config.contains("[model_providers.scripted]"),
        "{config}"
    );

    let out = tandem(&["mcp", "list", "--check"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed server makes --check fail: {stdout}"
    );
    assert!(stdout.contains("everything: ready, 13 tools"), "{stdout}");
    assert!(
        stdout.contains("broken: failed: could not start `/nonexistent/server`"),
        "{stdout}"
    );

    assert!(tandem(&["mcp", "remove", "broken"]).status.success());
    assert_eq!(tandem(&["mcp", "remove", "broken"]).status.code(), Some(1));
    let out = tandem(&["mcp", "list"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("broken") && stdout.contains("everything"),
        "{stdout}"
    );
}
