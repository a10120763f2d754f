//! The kernel's commands run in the sandbox, and a session prepares it once: every command of
//! a session runs in the same prepared namespaces (the zygote), never in the host's. On a host
//! without user namespaces the kernel refuses commands with the fix, or, when the user opted in,
//! runs them under the Landlock-only fallback and says so.

use super::harness::{Run, TestEnv, call, say};
use serde_json::json;
use std::process::Command;

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
    let run = Run::from(out);
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

/// `tandem` run as root of a fresh user namespace whose `max_user_namespaces` is 0: a host where
/// unprivileged user namespaces are disabled, as on hardened distributions.
fn exec_without_user_namespaces(env: &TestEnv, args: &[&str]) -> Run {
    let base = env.command();
    let mut c = Command::new("unshare");
    c.args(["-Ur", "bash", "-c"])
        .arg("echo 0 > /proc/sys/user/max_user_namespaces || exit 99; exec \"$0\" \"$@\"")
        .arg(env!("CARGO_BIN_EXE_tandem"))
        .args(["exec", "--json"])
        .args(args);
    if let Some(dir) = base.get_current_dir() {
        c.current_dir(dir);
    }
    for (k, v) in base.get_envs() {
        match v {
            Some(v) => c.env(k, v),
            None => c.env_remove(k),
        };
    }
    let run = Run::from(c.output().expect("unshare (util-linux) runs"));
    assert_ne!(run.status, 99, "could not disable user namespaces");
    run
}

fn fallback_workspace(scenario: &str) -> TestEnv {
    let env = TestEnv::new(scenario, "responses");
    env.write(".git/config", "[core]\n");
    env.write("src/lib.rs", "old\n");
    env
}

const FALLBACK_PROBE: &str = "echo ${TANDEM_SANDBOX_FALLBACK:-none}; \
    { echo x >> .git/config; } 2>/dev/null || echo git-blocked; \
    echo new > src/lib.rs && echo wrote";

#[test]
fn without_user_namespaces_commands_are_refused_with_the_fix() {
    let scenario = [
        call("shell", json!({"command": ["sh", "-c", FALLBACK_PROBE]})),
        say("done"),
    ]
    .concat();
    let env = fallback_workspace(&scenario);
    let run = exec_without_user_namespaces(&env, &["-s", "workspace-write", "go"]);
    run.assert_ok();
    let cmd = run.completed("command_execution")[0];
    assert_eq!(cmd["exit_code"], 125, "{cmd}");
    let output = cmd["aggregated_output"].as_str().unwrap();
    assert!(
        output.contains("user namespaces are unavailable"),
        "{output}"
    );
    assert!(output.contains("allow_landlock_only_fallback"), "{output}");
    assert!(!output.contains("wrote"), "the command ran: {output}");
    assert_eq!(env.read("src/lib.rs"), "old\n");
    assert!(
        run.stderr
            .contains("warning: the sandbox cannot be built on this host")
            && run.stderr.contains("allow_landlock_only_fallback = true"),
        "the refusal was not explained once: {}",
        run.stderr
    );
}

#[test]
fn the_opt_in_landlock_only_fallback_runs_commands_and_says_what_it_loses() {
    let scenario = [
        call("shell", json!({"command": ["sh", "-c", FALLBACK_PROBE]})),
        call("shell", json!({"command": ["true"]})),
        say("done"),
    ]
    .concat();
    let env = fallback_workspace(&scenario);
    env.write_config("responses", "allow_landlock_only_fallback = true");
    let run = exec_without_user_namespaces(&env, &["-s", "workspace-write", "go"]);
    run.assert_ok();
    let cmds = run.completed("command_execution");
    let output = cmds[0]["aggregated_output"].as_str().unwrap();
    assert_eq!(output, "landlock-only\ngit-blocked\nwrote\n");
    assert_eq!(cmds[1]["exit_code"], 0);
    assert_eq!(env.read("src/lib.rs"), "new\n");
    assert_eq!(env.read(".git/config"), "[core]\n");
    let warnings: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.contains("Landlock-only fallback"))
        .collect();
    assert_eq!(
        warnings.len(),
        1,
        "the fallback must be reported once per session: {}",
        run.stderr
    );
    assert!(warnings[0].contains("Lost:"), "{}", warnings[0]);
}
