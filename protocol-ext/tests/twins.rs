//! The schema twins in `wire.rs` must describe the real `tandem-protocol` types exactly: each
//! real value serialises to JSON that the twin reads and writes back unchanged. A field added
//! to a real type and not to its twin is dropped by the round trip and fails here.

use pretty_assertions::assert_eq;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tandem_protocol::events::{ApprovalKind, ErrorInfo, ThreadEvent, TurnErrorCode};
use tandem_protocol::items::{
    FileUpdateChange, ItemDetails, ItemStatus, PatchChangeKind, ThreadItem, TodoItem, TokenUsage,
};
use tandem_protocol::policy::{ApprovalPolicy, ReviewDecision, SandboxMode};
use tandem_protocol_ext::task::{TaskDelta, TaskEvent, TaskEventParams};
use tandem_protocol_ext::wire::*;

fn round_trip<Real: Serialize, Twin: Serialize + DeserializeOwned>(real: &Real) {
    let value = serde_json::to_value(real).unwrap();
    let twin: Twin = serde_json::from_value(value.clone())
        .unwrap_or_else(|e| panic!("twin cannot read {value}: {e}"));
    assert_eq!(serde_json::to_value(&twin).unwrap(), value);
}

fn item(details: ItemDetails) -> ThreadEvent {
    ThreadEvent::ItemCompleted {
        item: ThreadItem {
            id: "item_3".into(),
            details,
        },
    }
}

#[test]
fn thread_events_round_trip_through_their_twin() {
    let usage = TokenUsage {
        input_tokens: 10,
        cached_input_tokens: 2,
        output_tokens: 5,
        reasoning_output_tokens: 1,
    };
    let events = vec![
        ThreadEvent::ThreadStarted {
            thread_id: "th".into(),
            instruction_files: vec!["/r/AGENTS.md".into()],
            truncated_instruction_files: vec!["/r/big/AGENTS.md".into()],
        },
        ThreadEvent::TurnStarted,
        item(ItemDetails::AgentMessage { text: "hi".into() }),
        item(ItemDetails::Reasoning { text: "hm".into() }),
        item(ItemDetails::CommandExecution {
            command: "ls".into(),
            aggregated_output: "a\n".into(),
            exit_code: Some(0),
            status: ItemStatus::Completed,
        }),
        item(ItemDetails::FileChange {
            changes: vec![FileUpdateChange {
                path: "a.rs".into(),
                kind: PatchChangeKind::Update,
            }],
            status: ItemStatus::Declined,
        }),
        item(ItemDetails::McpToolCall {
            server: "s".into(),
            tool: "t".into(),
            arguments: json!({"x": [1, null]}),
            result: Some(json!("ok")),
            error: None,
            status: ItemStatus::Failed,
        }),
        item(ItemDetails::TodoList {
            items: vec![TodoItem {
                text: "do".into(),
                completed: false,
            }],
        }),
        item(ItemDetails::Error {
            message: "e".into(),
        }),
        ThreadEvent::TurnCompleted { usage },
        ThreadEvent::TurnFailed {
            error: ErrorInfo {
                message: "boom".into(),
                code: None,
            },
        },
        ThreadEvent::TurnFailed {
            error: ErrorInfo::new("out of rounds", TurnErrorCode::MaxToolRounds),
        },
        ThreadEvent::Error {
            message: "bad".into(),
        },
    ];
    for e in &events {
        round_trip::<_, ThreadEventWire>(e);
    }
}

#[test]
fn policy_enums_round_trip_through_their_twins() {
    for m in [
        SandboxMode::ReadOnly,
        SandboxMode::WorkspaceWrite,
        SandboxMode::DangerFullAccess,
    ] {
        round_trip::<_, SandboxModeWire>(&m);
    }
    for p in [
        ApprovalPolicy::Untrusted,
        ApprovalPolicy::OnRequest,
        ApprovalPolicy::Never,
    ] {
        round_trip::<_, ApprovalPolicyWire>(&p);
    }
    for d in [
        ReviewDecision::AllowOnce,
        ReviewDecision::AllowSession,
        ReviewDecision::Deny,
        ReviewDecision::Cancel,
    ] {
        round_trip::<_, ReviewDecisionWire>(&d);
    }
    for k in [
        ApprovalKind::Command,
        ApprovalKind::Patch,
        ApprovalKind::Network,
        ApprovalKind::Escalation,
        ApprovalKind::McpTool,
    ] {
        round_trip::<_, ApprovalKindWire>(&k);
    }
}

#[test]
fn task_events_carry_exec_json_lines_verbatim_and_deltas_beside_them() {
    let params = TaskEventParams {
        task_id: "task-1".into(),
        event: TaskEvent::Thread(ThreadEvent::TurnStarted),
    };
    assert_eq!(
        serde_json::to_value(&params).unwrap(),
        json!({"taskId": "task-1", "event": {"type": "turn.started"}})
    );
    let delta: TaskEventParams = serde_json::from_value(json!({
        "taskId": "task-1",
        "event": {"type": "item.agent_message.delta", "item_id": "item_1", "delta": "He"}
    }))
    .unwrap();
    assert_eq!(
        delta.event,
        TaskEvent::Delta(TaskDelta::AgentMessage {
            item_id: "item_1".into(),
            delta: "He".into()
        })
    );
    let back: TaskEventParams = serde_json::from_value(json!({
        "taskId": "t", "event": {"type": "turn.completed", "usage": {
            "input_tokens": 1, "cached_input_tokens": 0, "output_tokens": 2}}
    }))
    .unwrap();
    assert!(matches!(
        back.event,
        TaskEvent::Thread(ThreadEvent::TurnCompleted { .. })
    ));
}

#[test]
fn every_turn_error_code_has_a_twin() {
    use TurnErrorCode::*;
    let all = [
        MaxToolRounds,
        MissingApiKey,
        ModelUnreachable,
        Unauthorized,
        BadRequest,
        RateLimited,
        ServerError,
        StreamInterrupted,
        ContextWindowExceeded,
        ProviderError,
        BadResponse,
    ];
    for code in all {
        // A new variant fails to compile here until it is listed above (and in the twin).
        match code {
            MaxToolRounds
            | MissingApiKey
            | ModelUnreachable
            | Unauthorized
            | BadRequest
            | RateLimited
            | ServerError
            | StreamInterrupted
            | ContextWindowExceeded
            | ProviderError
            | BadResponse => round_trip::<_, TurnErrorCodeWire>(&code),
        }
    }
}
