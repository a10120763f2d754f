//! Approvals driven through the kernel's queue pair, as an editor would answer them: allow
//! once, allow for the session, deny, cancel, and an interrupt while a question is pending.
//! The model is the scripted server over real HTTP; commands are real processes.

use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tandem_core::{Kernel, KernelOptions, SandboxHelper};
use tandem_protocol::events::{ApprovalKind, ApprovalRequest, Event, EventMsg};
use tandem_protocol::items::ItemDetails;
use tandem_protocol::ops::{Op, UserInput};
use tandem_protocol::{ApprovalPolicy, ReviewDecision, SandboxMode};
use tandem_scripted_model::{Scenario, ScriptedServer};
use tempfile::TempDir;

struct Harness {
    kernel: Kernel,
    server: ScriptedServer,
    _home: TempDir,
    work: TempDir,
}

fn call(name: &str, args: serde_json::Value) -> String {
    format!(
        "[[step]]\n[[step.output]]\ntype = \"function_call\"\nname = \"{name}\"\narguments = '''{args}'''\n"
    )
}

fn say(text: &str) -> String {
    format!("[[step]]\n[[step.output]]\ntype = \"message\"\ntext = \"{text}\"\n")
}

/// The standalone sandbox helper, built next to this test binary by `cargo test --workspace`.
fn sandbox_helper() -> SandboxHelper {
    let exe = std::env::current_exe().expect("test exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let helper = dir.join("tandem-sandbox");
    assert!(
        helper.exists(),
        "{} is missing: build it first (`cargo build -p tandem-sandbox`)",
        helper.display()
    );
    SandboxHelper {
        exe: helper,
        arg0: None,
    }
}

fn start(scenario: &str, approval: ApprovalPolicy, sandbox: SandboxMode) -> Harness {
    start_with_helper(scenario, approval, sandbox, sandbox_helper())
}

fn start_with_helper(
    scenario: &str,
    approval: ApprovalPolicy,
    sandbox: SandboxMode,
    helper: SandboxHelper,
) -> Harness {
    let options = KernelOptions {
        sandbox_helper: Some(helper),
        ..KernelOptions::default()
    };
    start_with_options(scenario, approval, sandbox, options)
}

fn start_with_options(
    scenario: &str,
    approval: ApprovalPolicy,
    sandbox: SandboxMode,
    options: KernelOptions,
) -> Harness {
    let server = ScriptedServer::start(Scenario::from_toml_str(scenario).expect("scenario"))
        .expect("server");
    let home = tempfile::tempdir().expect("home");
    let work = tempfile::tempdir().expect("work");
    let mut config =
        tandem_config::Config::with_defaults(home.path().to_path_buf(), work.path().to_path_buf());
    config.model = "scripted".into();
    config.model_provider_id = "scripted".into();
    config.model_provider = tandem_model::ProviderInfo {
        name: "Scripted".into(),
        base_url: server.base_url(),
        env_key: None,
        wire_api: tandem_model::WireApi::Responses,
        query_params: Default::default(),
        http_headers: Default::default(),
        request_max_retries: Some(0),
        stream_idle_timeout_ms: None,
    };
    config.approval_policy = approval;
    config.sandbox_mode = sandbox;
    let kernel = Kernel::spawn(config, options).expect("kernel");
    Harness {
        kernel,
        server,
        _home: home,
        work,
    }
}

impl Harness {
    fn turn(&self, text: &str) {
        self.kernel
            .submit(Op::UserTurn {
                input: vec![UserInput::Text { text: text.into() }],
                overrides: Default::default(),
            })
            .expect("submit");
    }

    /// Events until (and including) the first that matches.
    async fn until(&mut self, mut done: impl FnMut(&EventMsg) -> bool) -> Vec<Event> {
        let mut seen = Vec::new();
        loop {
            let event = tokio::time::timeout(Duration::from_secs(20), self.kernel.next_event())
                .await
                .expect("an event within 20 s")
                .expect("the kernel is alive");
            let stop = done(&event.msg);
            seen.push(event);
            if stop {
                return seen;
            }
        }
    }

    async fn next_approval(&mut self) -> ApprovalRequest {
        let events = self
            .until(|m| {
                matches!(
                    m,
                    EventMsg::ApprovalRequest(_) | EventMsg::TurnCompleted { .. }
                )
            })
            .await;
        match events.last().map(|e| &e.msg) {
            Some(EventMsg::ApprovalRequest(r)) => r.clone(),
            other => panic!("expected an approval request, got {other:?}"),
        }
    }

    fn answer(&self, req: &ApprovalRequest, decision: ReviewDecision) {
        self.kernel
            .submit(Op::Approval {
                id: req.id.clone(),
                decision,
            })
            .expect("answer");
    }

    async fn finish(&mut self) -> Vec<Event> {
        self.until(|m| {
            matches!(
                m,
                EventMsg::TurnCompleted { .. }
                    | EventMsg::TurnFailed { .. }
                    | EventMsg::TurnAborted { .. }
            )
        })
        .await
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.work.path().join(rel)
    }

    fn tool_outputs(&self, request: usize) -> Vec<String> {
        self.server.requests()[request].tool_outputs()
    }
}

fn touch(path: &Path) -> serde_json::Value {
    json!({"command": ["touch", path.to_str().unwrap()]})
}

#[tokio::test(flavor = "multi_thread")]
async fn allow_once_runs_the_command_and_asks_again_next_time() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    let scenario = [
        call("shell", touch(&a)),
        call("shell", touch(&b)),
        say("done"),
    ]
    .concat();
    let mut h = start(
        &scenario,
        ApprovalPolicy::Untrusted,
        SandboxMode::DangerFullAccess,
    );
    h.turn("make two files");
    let req = h.next_approval().await;
    assert_eq!(req.kind, ApprovalKind::Command);
    assert_eq!(
        req.command.as_deref(),
        Some(&["touch".to_string(), a.display().to_string()][..])
    );
    assert_eq!(req.cwd.as_deref(), Some(h.work.path().to_str().unwrap()));
    assert!(req.reason.as_deref().unwrap().contains("untrusted"));
    h.answer(&req, ReviewDecision::AllowOnce);
    let second = h.next_approval().await;
    assert!(a.exists(), "allowed once: the first command ran");
    h.answer(&second, ReviewDecision::AllowOnce);
    h.finish().await;
    assert!(b.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn allow_for_session_covers_the_same_command_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = [
        call(
            "shell",
            json!({"command": ["mkdir", "-p", tmp.path().join("x").to_str().unwrap()]}),
        ),
        call(
            "shell",
            json!({"command": ["mkdir", "-p", tmp.path().join("x").to_str().unwrap()]}),
        ),
        call(
            "shell",
            json!({"command": ["touch", tmp.path().join("other").to_str().unwrap()]}),
        ),
        say("done"),
    ]
    .concat();
    let mut h = start(
        &scenario,
        ApprovalPolicy::Untrusted,
        SandboxMode::DangerFullAccess,
    );
    h.turn("go");
    let req = h.next_approval().await;
    h.answer(&req, ReviewDecision::AllowSession);
    // The same command runs without a question; a different one asks.
    let next = h.next_approval().await;
    assert_eq!(next.command.as_ref().unwrap()[0], "touch");
    h.answer(&next, ReviewDecision::Deny);
    let events = h.finish().await;
    assert!(matches!(
        events.last().unwrap().msg,
        EventMsg::TurnCompleted { .. }
    ));
    assert_eq!(h.server.requests().len(), 4);
    let outputs = h.tool_outputs(3);
    assert!(outputs[2].contains("denied"), "{outputs:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancel_at_an_approval_aborts_the_turn_and_keeps_history_valid() {
    let scenario = [
        call("shell", json!({"command": ["rm", "-rf", "build"]})),
        say("first"),
        say("second turn"),
    ]
    .concat();
    let mut h = start(
        &scenario,
        ApprovalPolicy::Untrusted,
        SandboxMode::DangerFullAccess,
    );
    h.turn("clean");
    let req = h.next_approval().await;
    h.answer(&req, ReviewDecision::Cancel);
    let events = h.finish().await;
    assert!(
        matches!(events.last().unwrap().msg, EventMsg::TurnAborted { .. }),
        "{:?}",
        events.last()
    );
    // The next turn's request answers the cancelled call, so the history stays valid.
    h.turn("next");
    h.finish().await;
    let outputs = h.tool_outputs(1);
    assert!(
        outputs
            .iter()
            .any(|o| o.contains("aborted") || o.contains("cancelled")),
        "{outputs:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn interrupt_while_a_question_is_pending() {
    let scenario = [
        call("shell", json!({"command": ["make", "install"]})),
        say("after"),
    ]
    .concat();
    let mut h = start(
        &scenario,
        ApprovalPolicy::Untrusted,
        SandboxMode::DangerFullAccess,
    );
    h.turn("install");
    let _req = h.next_approval().await;
    h.kernel.submit(Op::Interrupt).unwrap();
    let events = h.finish().await;
    assert!(matches!(
        events.last().unwrap().msg,
        EventMsg::TurnAborted { .. }
    ));
    let declined = events.iter().any(|e| matches!(&e.msg, EventMsg::ItemCompleted { item } if matches!(item.details, ItemDetails::CommandExecution { .. })));
    assert!(declined, "the command item is closed");
}

#[tokio::test(flavor = "multi_thread")]
async fn patch_approval_shows_both_sides_and_writes_only_when_allowed() {
    let patch = "*** Begin Patch\n*** Update File: f.txt\n@@\n-old\n+new\n*** End Patch\n";
    let scenario = [
        call("apply_patch", json!({"input": patch})),
        call("apply_patch", json!({"input": patch})),
        say("done"),
    ]
    .concat();
    let mut h = start(
        &scenario,
        ApprovalPolicy::Untrusted,
        SandboxMode::WorkspaceWrite,
    );
    std::fs::write(h.path("f.txt"), "old\n").unwrap();
    h.turn("edit");
    let req = h.next_approval().await;
    assert_eq!(req.kind, ApprovalKind::Patch);
    let change = &req.changes[0];
    assert_eq!(change.path, "f.txt");
    assert_eq!(change.old_content.as_deref(), Some("old\n"));
    assert_eq!(change.new_content.as_deref(), Some("new\n"));
    assert!(change.unified_diff.contains("-old") && change.unified_diff.contains("+new"));
    assert_eq!(
        std::fs::read_to_string(h.path("f.txt")).unwrap(),
        "old\n",
        "nothing is written before approval"
    );
    h.answer(&req, ReviewDecision::Deny);
    // The second proposal of the same patch: allowed.
    let req = h.next_approval().await;
    assert_eq!(
        std::fs::read_to_string(h.path("f.txt")).unwrap(),
        "old\n",
        "a denied patch writes nothing"
    );
    h.answer(&req, ReviewDecision::AllowOnce);
    h.finish().await;
    assert_eq!(std::fs::read_to_string(h.path("f.txt")).unwrap(), "new\n");
    assert!(
        h.tool_outputs(1)[0].contains("rejected"),
        "{:?}",
        h.tool_outputs(1)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn on_request_escalation_allowed_runs_outside_the_sandbox() {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("escalated");
    let args = json!({"command": ["touch", target.to_str().unwrap()], "with_escalated_permissions": true, "justification": "write the shared cache"});
    let scenario = [call("shell", args), say("done")].concat();
    let mut h = start(
        &scenario,
        ApprovalPolicy::OnRequest,
        SandboxMode::WorkspaceWrite,
    );
    h.turn("go");
    let req = h.next_approval().await;
    assert_eq!(req.kind, ApprovalKind::Escalation);
    assert_eq!(req.reason.as_deref(), Some("write the shared cache"));
    h.answer(&req, ReviewDecision::AllowOnce);
    h.finish().await;
    assert!(target.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sandbox_denial_offers_a_retry_outside_under_on_request() {
    // Not under /tmp: inside the sandbox /tmp is a private scratch directory.
    let outside = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let target = outside.path().join("needs-out");
    let scenario = [call("shell", touch(&target)), say("done")].concat();
    let mut h = start(
        &scenario,
        ApprovalPolicy::OnRequest,
        SandboxMode::WorkspaceWrite,
    );
    h.turn("go");
    let req = h.next_approval().await;
    assert!(!target.exists(), "the sandbox blocked the first attempt");
    assert_eq!(req.kind, ApprovalKind::Escalation);
    assert!(req.reason.as_deref().unwrap().contains("sandbox"));
    h.answer(&req, ReviewDecision::AllowOnce);
    h.finish().await;
    assert!(target.exists(), "the retry outside the sandbox ran");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_patch_resolved_hunk_by_hunk_by_the_shell_is_reported_verbatim() {
    let patch = "*** Begin Patch\n*** Update File: f.txt\n@@\n-a\n+A\n*** End Patch\n";
    let scenario = [call("apply_patch", json!({"input": patch})), say("done")].concat();
    // Approve-before-write: every patch waits for the shell, even where the policy would write.
    let server = ScriptedServer::start(Scenario::from_toml_str(&scenario).unwrap()).unwrap();
    let home = tempfile::tempdir().unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("f.txt"), "a\n").unwrap();
    let mut config =
        tandem_config::Config::with_defaults(home.path().to_path_buf(), work.path().to_path_buf());
    config.model_provider_id = "scripted".into();
    config.model_provider = tandem_model::ProviderInfo {
        base_url: server.base_url(),
        env_key: None,
        wire_api: tandem_model::WireApi::Chat,
        ..tandem_model::ProviderInfo::ollama()
    };
    config.approval_policy = ApprovalPolicy::OnRequest;
    config.sandbox_mode = SandboxMode::WorkspaceWrite;
    let kernel = Kernel::spawn(
        config,
        KernelOptions {
            approve_patches_before_write: true,
            sandbox_helper: Some(sandbox_helper()),
            ..KernelOptions::default()
        },
    )
    .unwrap();
    let mut h = Harness {
        kernel,
        server,
        _home: home,
        work,
    };
    h.turn("edit");
    let req = h.next_approval().await;
    assert_eq!(req.kind, ApprovalKind::Patch);
    let report = "f.txt: hunk 1 rejected (kept `a`).";
    h.kernel
        .submit(Op::ResolvePatch {
            id: req.id.clone(),
            outcome: tandem_protocol::PatchOutcome {
                applied: false,
                report: report.into(),
                files: vec![],
            },
        })
        .unwrap();
    let events = h.finish().await;
    assert_eq!(
        std::fs::read_to_string(h.path("f.txt")).unwrap(),
        "a\n",
        "the kernel writes nothing itself"
    );
    assert!(
        h.tool_outputs(1)[0].contains(report),
        "{:?}",
        h.tool_outputs(1)
    );
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.msg, EventMsg::PatchApplied { .. }))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_applied_patch_reports_both_sides_for_review() {
    let patch = "*** Begin Patch\n*** Update File: f.txt\n@@\n-a\n+A\n*** End Patch\n";
    let scenario = [call("apply_patch", json!({"input": patch})), say("done")].concat();
    let mut h = start(
        &scenario,
        ApprovalPolicy::Never,
        SandboxMode::WorkspaceWrite,
    );
    std::fs::write(h.path("f.txt"), "a\n").unwrap();
    h.turn("edit");
    let events = h.finish().await;
    let applied = events.iter().find_map(|e| match &e.msg {
        EventMsg::PatchApplied { changes, .. } => Some(changes.clone()),
        _ => None,
    });
    let changes = applied.expect("patch_applied event");
    assert_eq!(changes[0].old_content.as_deref(), Some("a\n"));
    assert_eq!(changes[0].new_content.as_deref(), Some("A\n"));
    assert_eq!(std::fs::read_to_string(h.path("f.txt")).unwrap(), "A\n");
}

/// Reads the disk and records what the kernel says it wrote.
#[derive(Default)]
struct RecordingSource {
    written: std::sync::Mutex<Vec<(String, Option<String>)>>,
}

impl tandem_apply_patch::FileSource for RecordingSource {
    fn read(&self, path: &Path) -> std::io::Result<Option<String>> {
        tandem_apply_patch::DiskSource.read(path)
    }

    fn written(&self, path: &Path, text: Option<&str>) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        self.written
            .lock()
            .unwrap()
            .push((name, text.map(str::to_string)));
    }
}

/// A shell that serves editor buffers learns of every write before the kernel reads again,
/// from the kernel itself: an event would arrive too late to keep the next patch from being
/// planned against a stale buffer.
#[tokio::test(flavor = "multi_thread")]
async fn the_file_source_is_told_of_every_write_before_the_next_read() {
    let patch = "*** Begin Patch\n*** Update File: f.txt\n@@\n-a\n+A\n*** Add File: n.txt\n+n\n*** Delete File: d.txt\n*** Update File: m.txt\n*** Move to: moved.txt\n@@\n-m\n+M\n*** End Patch\n";
    let scenario = [call("apply_patch", json!({"input": patch})), say("done")].concat();
    let source = std::sync::Arc::new(RecordingSource::default());
    let mut h = start_with_options(
        &scenario,
        ApprovalPolicy::Never,
        SandboxMode::WorkspaceWrite,
        KernelOptions {
            sandbox_helper: Some(sandbox_helper()),
            file_source: Some(source.clone()),
            ..KernelOptions::default()
        },
    );
    for (name, text) in [("f.txt", "a\n"), ("d.txt", "d\n"), ("m.txt", "m\n")] {
        std::fs::write(h.path(name), text).unwrap();
    }
    h.turn("edit");
    h.finish().await;
    let some = |s: &str| Some(s.to_string());
    assert_eq!(
        *source.written.lock().unwrap(),
        [
            ("f.txt".to_string(), some("A\n")),
            ("n.txt".to_string(), some("n\n")),
            ("d.txt".to_string(), None),
            ("m.txt".to_string(), None),
            ("moved.txt".to_string(), some("M\n")),
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sandbox_that_cannot_be_prepared_is_reported_once_and_nothing_runs_unsandboxed() {
    let tmp = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let marker = tmp.path().join("ran");
    let scenario = [
        call("shell", touch(&marker)),
        call("shell", touch(&marker)),
        say("done"),
    ]
    .concat();
    // A "helper" that cannot build anything: both the zygote and the one-shot path fail.
    let broken = SandboxHelper {
        exe: PathBuf::from("/bin/false"),
        arg0: None,
    };
    let mut h = start_with_helper(
        &scenario,
        ApprovalPolicy::Never,
        SandboxMode::WorkspaceWrite,
        broken,
    );
    h.turn("go");
    let events = h.finish().await;
    let warnings: Vec<&String> = events
        .iter()
        .filter_map(|e| match &e.msg {
            EventMsg::Warning { message } if message.contains("could not be prepared") => {
                Some(message)
            }
            _ => None,
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        !marker.exists(),
        "a command ran although its sandbox could not be built"
    );
}
