//! The wire shapes of a few representative messages, as a client sees them.

use pretty_assertions::assert_eq;
use serde_json::json;
use tandem_protocol_ext::approval::ApprovalRequestResult;
use tandem_protocol_ext::capabilities::{ClientCapabilities, ServerCapabilities};
use tandem_protocol_ext::context::{ExclusionReason, FocusParams};
use tandem_protocol_ext::review::{ReviewDecisionParams, ReviewTarget};
use tandem_protocol_ext::task::TaskStartParams;
use tandem_protocol_ext::{Direction, Kind, METHODS, Method, PROTOCOL_VERSION};

#[test]
fn method_names_are_unique_and_namespaced() {
    let mut names: Vec<&str> = METHODS.iter().map(|m| m.method).collect();
    assert!(names.iter().all(|n| n.starts_with("tandem/")));
    names.sort();
    names.dedup();
    assert_eq!(names.len(), METHODS.len());
    assert_eq!(
        tandem_protocol_ext::ApprovalRequest::METHOD,
        "tandem/approval/request"
    );
    assert_eq!(
        tandem_protocol_ext::ApprovalRequest::DIRECTION,
        Direction::ServerToClient
    );
    assert_eq!(tandem_protocol_ext::Focus::KIND, Kind::Notification);
}

#[test]
fn params_are_camel_case_with_type_tagged_unions() {
    let focus: FocusParams = serde_json::from_value(json!({
        "uri": "file:///a.rs", "position": {"line": 1, "character": 2}
    }))
    .unwrap();
    assert!(focus.selections.is_empty() && focus.visible_ranges.is_empty());
    assert_eq!(
        serde_json::to_value(ReviewDecisionParams {
            target: ReviewTarget::File {
                uri: "file:///a.rs".into(),
                change_id: Some("c2".into())
            }
        })
        .unwrap(),
        json!({"target": {"type": "file", "uri": "file:///a.rs", "changeId": "c2"}})
    );
    assert_eq!(
        serde_json::to_value(ExclusionReason::Secret {
            pattern: ".env".into()
        })
        .unwrap(),
        json!({"type": "secret", "pattern": ".env"})
    );
    let start: TaskStartParams = serde_json::from_value(json!({
        "prompt": "fix it", "sandboxMode": "workspace-write", "approvalPolicy": "on-request"
    }))
    .unwrap();
    assert_eq!(start.sandbox_mode.unwrap().as_str(), "workspace-write");
    let answer: ApprovalRequestResult =
        serde_json::from_value(json!({"decision": "allow_session"})).unwrap();
    assert!(answer.decision.is_allowed());
}

#[test]
fn capabilities_default_to_plain_lsp() {
    let client: ClientCapabilities = serde_json::from_value(json!({})).unwrap();
    assert!(!client.approval_request && !client.review_changed);
    let server = serde_json::to_value(ServerCapabilities::current()).unwrap();
    assert_eq!(server["protocolVersion"], PROTOCOL_VERSION);
    assert_eq!(server["methods"].as_array().unwrap().len(), METHODS.len());
}
