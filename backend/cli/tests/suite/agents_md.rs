//! AGENTS.md files reach the model, nearest last, and `--json` reports which were loaded.

use super::harness::{TestEnv, say};

#[test]
fn loaded_instruction_files_are_reported_and_sent_in_order() {
    let env = TestEnv::new(&say("ok"), "responses");
    std::fs::create_dir_all(env.work.path().join(".git")).unwrap();
    std::fs::write(env.home.path().join("AGENTS.md"), "GLOBAL-RULE").unwrap();
    env.write("AGENTS.md", "ROOT-RULE");
    env.write("sub/AGENTS.md", "SUB-RULE");
    let run = env.exec_json(&["-C", env.work.path().join("sub").to_str().unwrap(), "hi"]);
    run.assert_ok();
    let files: Vec<String> = run.events[0]["instruction_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(files.len(), 3, "{files:?}");
    assert!(
        files[0].ends_with("AGENTS.md") && files[0].starts_with(env.home.path().to_str().unwrap())
    );
    assert!(files[2].ends_with("sub/AGENTS.md"));
    let body = env.requests()[0].to_string();
    let (g, r, s) = (
        body.find("GLOBAL-RULE").unwrap(),
        body.find("ROOT-RULE").unwrap(),
        body.find("SUB-RULE").unwrap(),
    );
    assert!(g < r && r < s, "nearest must come last");
}
