//! Sessions are recorded and can be resumed by id or with --last.

use super::harness::{TestEnv, say};

#[test]
fn resume_last_continues_with_the_whole_history() {
    let env = TestEnv::new(&(say("first answer") + &say("second answer")), "responses");
    let first = env.exec_json(&["remember the number 4217"]);
    first.assert_ok();
    let thread = first.events[0]["thread_id"].as_str().unwrap().to_string();

    let second = env.exec_json(&["resume", "--last", "what number?"]);
    second.assert_ok();
    assert_eq!(second.events[0]["thread_id"], thread.as_str());
    let body = env.requests()[1].to_string();
    assert!(body.contains("remember the number 4217"), "{body}");
    assert!(body.contains("first answer"), "{body}");
    assert!(body.contains("what number?"), "{body}");
}

#[test]
fn resume_by_id_prefix() {
    let env = TestEnv::new(&(say("one") + &say("two")), "chat");
    let first = env.exec_json(&["hello"]);
    first.assert_ok();
    let thread = first.events[0]["thread_id"].as_str().unwrap().to_string();
    let second = env.exec_json(&["resume", &thread[..13], "again"]);
    second.assert_ok();
    assert_eq!(second.events[0]["thread_id"], thread.as_str());
}

#[test]
fn resume_of_an_unknown_session_is_a_clear_error() {
    let env = TestEnv::new(&say("unused"), "responses");
    let out = env
        .command()
        .args(["exec", "resume", "no-such-session", "hi"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no session with id `no-such-session`"),
        "{stderr}"
    );
}
