//! Interruption: Ctrl-C during a long command stops it, closes the turn and exits non-zero.

use super::harness::{Run, TestEnv, call, say};
use serde_json::json;
use std::time::{Duration, Instant};

#[test]
fn sigint_during_a_command_aborts_the_turn_quickly() {
    let scenario = call("shell", json!({"command": ["sleep", "30"]})) + &say("never reached");
    let env = TestEnv::new(&scenario, "responses");
    let child = env
        .command()
        .args(["exec", "--json", "-s", "danger-full-access", "go"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    // Wait until the command has started, then interrupt.
    let start = Instant::now();
    while env.requests().is_empty() && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(300));
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).unwrap();
    let begun = Instant::now();
    let run = Run::from(child.wait_with_output().unwrap());
    assert!(
        begun.elapsed() < Duration::from_secs(5),
        "took {:?}",
        begun.elapsed()
    );
    assert_eq!(run.status, 1, "{}", run.stderr);
    let failed = run
        .events
        .iter()
        .find(|e| e["type"] == "turn.failed")
        .expect("turn.failed");
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .contains("interrupted"),
        "{failed}"
    );
    assert_eq!(env.requests().len(), 1, "no request after the interrupt");
}
