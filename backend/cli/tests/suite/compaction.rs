//! Compaction keeps the original task, the plan and the files touched.

use super::harness::{TestEnv, call, say};
use serde_json::json;

#[test]
fn compaction_keeps_task_plan_and_files() {
    let plan = json!({"plan": [{"step": "Rename the helper", "status": "in_progress"}, {"step": "Update callers", "status": "pending"}]});
    let patch = json!({"input": "*** Begin Patch\n*** Add File: notes/helper.txt\n+renamed\n*** End Patch\n"});
    // Each step reports a large input so the next round crosses the compaction threshold.
    let scenario = format!(
        "{}{}\n[[step]]\nusage = {{ input_tokens = 9000, output_tokens = 10 }}\n[[step.output]]\ntype = \"message\"\ntext = \"SUMMARY: renamed helper; callers still to update.\"\n{}",
        call("update_plan", plan).replace(
            "[[step]]\n",
            "[[step]]\nusage = { input_tokens = 100, output_tokens = 10 }\n"
        ),
        call("apply_patch", patch).replace(
            "[[step]]\n",
            "[[step]]\nusage = { input_tokens = 9000, output_tokens = 10 }\n"
        ),
        say("done after compaction"),
    );
    let env = TestEnv::new(&scenario, "responses");
    env.write_config("responses", "model_context_window = 10000\n");
    let run = env.exec_json(&[
        "--full-auto",
        "Rename the helper function to make_widget and update every caller",
    ]);
    run.assert_ok();
    let requests = env.requests();
    assert_eq!(requests.len(), 4, "plan, patch, compaction, final");
    // The third request is the compaction request, with no tools.
    assert!(
        requests[2].to_string().contains("handoff note"),
        "{}",
        requests[2]
    );
    // The request after compaction carries the kernel's exact records.
    let after = requests[3].to_string();
    assert!(
        after.contains("Rename the helper function to make_widget and update every caller"),
        "{after}"
    );
    assert!(after.contains("[~] Rename the helper"), "{after}");
    assert!(after.contains("[ ] Update callers"), "{after}");
    assert!(after.contains("notes/helper.txt"), "{after}");
    assert!(after.contains("SUMMARY: renamed helper"), "{after}");
}
