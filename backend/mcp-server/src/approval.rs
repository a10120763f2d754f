//! Approvals as MCP elicitation: the question a person sees, the form they answer, and how the
//! answer becomes a [`ReviewDecision`].
//!
//! The request is a form elicitation with one required field, `decision`, a titled single
//! select of `allow_once`, `allow_session` and `deny`. Everything a client needs to correlate
//! it with the running task (thread, approval and item ids, the command, its cwd, the files)
//! is under `_meta`, with `tandem/` keys.
//!
//! Failing closed is the rule: a reply that cannot be read, an error, or a timeout is a denial.
//! `decline` is a denial the turn survives; `cancel` stops the turn.

use rmcp::model::{ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationSchema};
use rmcp::model::{MetaObject, RequestMetaObject};
use serde::Serialize;
use serde_json::{Value, json};
use tandem_protocol::ReviewDecision;
use tandem_protocol::events::{ApprovalKind, ApprovalRequest};

/// Unified diffs longer than this are cut in the question (the client gets every file's diff
/// in `_meta` anyway).
const MAX_DIFF_IN_MESSAGE: usize = 4000;

/// An approval that was not granted, as the tool result reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Denial {
    pub approval_id: String,
    pub kind: String,
    /// The command, or the files of a patch.
    pub what: String,
    /// Why: the person declined, the client could not be asked, the reply was unreadable, ...
    pub reason: String,
}

impl Denial {
    pub(crate) fn new(request: &ApprovalRequest, reason: impl Into<String>) -> Self {
        Denial {
            approval_id: request.id.clone(),
            kind: kind_name(request.kind).into(),
            what: subject(request),
            reason: reason.into(),
        }
    }
}

fn kind_name(kind: ApprovalKind) -> &'static str {
    match kind {
        ApprovalKind::Command => "command",
        ApprovalKind::Patch => "patch",
        ApprovalKind::Network => "network",
        ApprovalKind::Escalation => "escalation",
        ApprovalKind::McpTool => "mcp_tool",
    }
}

/// What the approval is about, in one line: the command, the MCP tool, or the files of a patch.
pub(crate) fn subject(request: &ApprovalRequest) -> String {
    if let Some(call) = &request.mcp_call {
        return format!("{}/{}", call.server, call.tool);
    }
    match &request.command {
        Some(argv) if !argv.is_empty() => shell_words(argv),
        _ if !request.changes.is_empty() => request
            .changes
            .iter()
            .map(|c| c.path.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        _ => kind_name(request.kind).to_string(),
    }
}

/// A command line for people: words with spaces or quotes are single-quoted.
pub(crate) fn shell_words(argv: &[String]) -> String {
    argv.iter()
        .map(|w| {
            if !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The question, as Codex words it: "Allow Tandem to run `cmd` in `cwd`?", plus the reason.
pub(crate) fn message(request: &ApprovalRequest) -> String {
    let cwd = request.cwd.as_deref().unwrap_or(".");
    let mut text = match request.kind {
        ApprovalKind::Patch => {
            let mut t = format!("Allow Tandem to write these files in `{cwd}`?\n");
            let mut budget = MAX_DIFF_IN_MESSAGE;
            for change in &request.changes {
                t.push_str(&format!("\n{:?} {}\n", change.kind, change.path).to_lowercase());
                let diff = &change.unified_diff;
                if diff.len() <= budget {
                    t.push_str(diff);
                    budget -= diff.len();
                } else if budget > 0 {
                    let cut = floor_char_boundary(diff, budget);
                    t.push_str(&diff[..cut]);
                    t.push_str("\n… (diff cut)\n");
                    budget = 0;
                }
            }
            t
        }
        ApprovalKind::McpTool => {
            let mut t = format!("Allow Tandem to call the MCP tool `{}`?", subject(request));
            if let Some(call) = &request.mcp_call {
                let args = call.arguments.to_string();
                let cut = floor_char_boundary(&args, 500);
                t.push_str(&format!("\n\nArguments: {}", &args[..cut]));
                if cut < args.len() {
                    t.push('…');
                }
            }
            t
        }
        ApprovalKind::Network => format!(
            "Allow Tandem to run `{}` in `{cwd}` with network access?",
            subject(request)
        ),
        ApprovalKind::Command | ApprovalKind::Escalation => {
            format!("Allow Tandem to run `{}` in `{cwd}`?", subject(request))
        }
    };
    if let Some(reason) = request.reason.as_deref().filter(|r| !r.trim().is_empty()) {
        text.push_str(&format!("\n\nReason: {reason}"));
    }
    text
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The form: one required `decision`.
pub(crate) fn schema() -> ElicitationSchema {
    let schema = json!({
        "type": "object",
        "properties": {
            "decision": {
                "type": "string",
                "title": "Decision",
                "description": "Allow this once, allow it (and the same command prefix) for the rest of the session, or deny it.",
                "oneOf": [
                    {"const": "allow_once", "title": "Allow once"},
                    {"const": "allow_session", "title": "Allow for this session"},
                    {"const": "deny", "title": "Deny"}
                ]
            }
        },
        "required": ["decision"]
    });
    match schema {
        Value::Object(map) => ElicitationSchema::from_json_schema(map).unwrap_or_else(|_| {
            ElicitationSchema::builder()
                .required_string("decision")
                .build_unchecked()
        }),
        _ => ElicitationSchema::builder()
            .required_string("decision")
            .build_unchecked(),
    }
}

/// The whole `elicitation/create` request for an approval.
pub(crate) fn request_params(thread_id: &str, request: &ApprovalRequest) -> ElicitRequestParams {
    let mut meta = MetaObject::default();
    let mut put = |k: &str, v: Value| {
        meta.0.insert(format!("tandem/{k}"), v);
    };
    put("threadId", json!(thread_id));
    put("approvalId", json!(request.id));
    put("itemId", json!(request.item_id));
    put("kind", json!(kind_name(request.kind)));
    if let Some(command) = &request.command {
        put("command", json!(command));
    }
    if let Some(cwd) = &request.cwd {
        put("cwd", json!(cwd));
    }
    if let Some(reason) = &request.reason {
        put("reason", json!(reason));
    }
    if let Some(call) = &request.mcp_call {
        put(
            "mcpCall",
            json!({"server": call.server, "tool": call.tool, "arguments": call.arguments}),
        );
    }
    if !request.changes.is_empty() {
        put(
            "changes",
            json!(
                request
                    .changes
                    .iter()
                    .map(|c| json!({"path": c.path, "kind": c.kind, "unifiedDiff": c.unified_diff}))
                    .collect::<Vec<_>>()
            ),
        );
    }
    ElicitRequestParams::FormElicitationParams {
        meta: Some(RequestMetaObject(meta)),
        message: message(request),
        requested_schema: schema(),
    }
}

/// The decision in a client's reply. `Err` carries why it is a denial, for the report.
pub(crate) fn decision_from_reply(reply: &ElicitResult) -> Result<ReviewDecision, String> {
    match reply.action {
        ElicitationAction::Decline => Err("declined by the user".into()),
        ElicitationAction::Cancel => Ok(ReviewDecision::Cancel),
        ElicitationAction::Accept => {
            let decision = reply
                .content
                .as_ref()
                .and_then(|c| c.get("decision"))
                .and_then(Value::as_str);
            match decision {
                Some("allow_once") | Some("approved") => Ok(ReviewDecision::AllowOnce),
                Some("allow_session") | Some("approved_for_session") => {
                    Ok(ReviewDecision::AllowSession)
                }
                Some("deny") | Some("denied") => Err("denied by the user".into()),
                // Codex's spelling of "stop the turn".
                Some("abort") | Some("cancel") => Ok(ReviewDecision::Cancel),
                Some(other) => Err(format!("unknown decision `{other}` in the reply (denied)")),
                None => Err("the reply carried no decision (denied)".into()),
            }
        }
        // A future action this version does not know: fail closed.
        _ => Err("unreadable reply (denied)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Built from JSON, so additive changes to the protocol do not break these tests.
    fn command(argv: &[&str]) -> ApprovalRequest {
        serde_json::from_value(json!({
            "id": "approval_0", "item_id": "item_3", "kind": "command", "command": argv,
            "cwd": "/w", "reason": "not a known read-only command"
        }))
        .unwrap()
    }

    fn reply(action: ElicitationAction, content: Option<Value>) -> ElicitResult {
        let r = ElicitResult::new(action);
        match content {
            Some(c) => r.with_content(c),
            None => r,
        }
    }

    #[test]
    fn the_question_names_the_command_the_cwd_and_the_reason() {
        let m = message(&command(&["touch", "a b"]));
        assert_eq!(
            m,
            "Allow Tandem to run `touch 'a b'` in `/w`?\n\nReason: not a known read-only command"
        );
    }

    #[test]
    fn patch_questions_show_the_diff() {
        let req: ApprovalRequest = serde_json::from_value(json!({
            "id": "approval_0", "item_id": "item_3", "kind": "patch", "cwd": "/w",
            "changes": [{"path": "a.txt", "kind": "add", "new_content": "hi\n", "unified_diff": "+hi\n"}]
        }))
        .unwrap();
        let m = message(&req);
        assert!(
            m.starts_with("Allow Tandem to write these files in `/w`?"),
            "{m}"
        );
        assert!(m.contains("add a.txt\n+hi"), "{m}");
        assert_eq!(subject(&req), "a.txt");
    }

    #[test]
    fn mcp_tool_questions_name_the_server_and_the_tool() {
        let req: ApprovalRequest = serde_json::from_value(json!({
            "id": "approval_2", "item_id": "item_5", "kind": "mcp_tool",
            "mcp_call": {"server": "docs", "tool": "search", "arguments": {"q": "x"}}
        }))
        .unwrap();
        assert_eq!(
            message(&req),
            "Allow Tandem to call the MCP tool `docs/search`?\n\nArguments: {\"q\":\"x\"}"
        );
        let v = serde_json::to_value(request_params("t", &req)).unwrap();
        assert_eq!(v["_meta"]["tandem/mcpCall"]["tool"], "search");
    }

    #[test]
    fn the_request_carries_correlation_fields_and_a_decision_form() {
        let params = request_params("thread-1", &command(&["ls"]));
        let v = serde_json::to_value(&params).unwrap();
        assert_eq!(v["mode"], "form");
        assert_eq!(v["_meta"]["tandem/threadId"], "thread-1");
        assert_eq!(v["_meta"]["tandem/approvalId"], "approval_0");
        assert_eq!(v["_meta"]["tandem/command"], json!(["ls"]));
        assert_eq!(v["_meta"]["tandem/cwd"], "/w");
        let decision = &v["requestedSchema"]["properties"]["decision"];
        assert_eq!(decision["oneOf"][0]["const"], "allow_once", "{v}");
        assert_eq!(v["requestedSchema"]["required"], json!(["decision"]));
    }

    #[test]
    fn replies_map_and_fail_closed() {
        use ElicitationAction::*;
        let ok = |a, c| decision_from_reply(&reply(a, c));
        assert_eq!(
            ok(Accept, Some(json!({"decision": "allow_once"}))),
            Ok(ReviewDecision::AllowOnce)
        );
        assert_eq!(
            ok(Accept, Some(json!({"decision": "allow_session"}))),
            Ok(ReviewDecision::AllowSession)
        );
        assert_eq!(
            ok(Accept, Some(json!({"decision": "approved"}))),
            Ok(ReviewDecision::AllowOnce)
        );
        assert_eq!(ok(Cancel, None), Ok(ReviewDecision::Cancel));
        assert!(ok(Decline, None).is_err());
        assert!(ok(Accept, Some(json!({"decision": "deny"}))).is_err());
        assert!(ok(Accept, None).is_err());
        assert!(ok(Accept, Some(json!({"decision": 1}))).is_err());
        assert!(ok(Accept, Some(json!({"decision": "yes please"}))).is_err());
    }
}
