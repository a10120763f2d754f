//! The MCP side: `initialize`, `tools/list`, `tools/call`, `logging/setLevel`.
//!
//! The server negotiates protocol versions up to 2025-11-25, the last one in which a server
//! may send requests (elicitation) to its client in the middle of a tool call; newer clients
//! fall back to it, so approvals keep working.
#![allow(
    deprecated,
    reason = "rmcp marks MCP logging deprecated (SEP-2577); clients still use it"
)]

use crate::UnattendedApprovals;
use crate::approval::{self, Denial};
use crate::params::{self, ReplyParams, StartParams, TOOL_REPLY, TOOL_START};
use crate::progress::{LogLevel, Reporter};
use crate::session::{Session, Sessions, TurnEnd, TurnHooks};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ProtocolVersion, ServerCapabilities, ServerConfig,
    SetLevelRequestParams,
};
use rmcp::service::{ElicitationMode, RequestContext};
use rmcp::{ErrorData, Peer, RoleServer, ServerHandler};
use serde_json::json;
use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tandem_config::ConfigOverrides;
use tandem_core::SandboxHelper;
use tandem_protocol::ReviewDecision;
use tandem_protocol::events::{ApprovalRequest, Event};
use tokio_util::sync::CancellationToken;

/// How the server was started.
pub struct ServerOptions {
    /// The config flags of `tandem mcp-server`: defaults under every call's arguments.
    pub defaults: ConfigOverrides,
    pub sandbox_helper: Option<SandboxHelper>,
    pub unattended: UnattendedApprovals,
    /// `None` waits for an elicitation answer as long as the client takes.
    pub elicitation_timeout: Option<Duration>,
}

/// The MCP server. Cheap to clone; clones share the sessions.
#[derive(Clone)]
pub struct TandemServer {
    inner: Arc<Inner>,
}

struct Inner {
    options: ServerOptions,
    sessions: Sessions,
    log_level: LogLevel,
    /// Relative `cwd` arguments are taken from here.
    server_cwd: PathBuf,
}

impl TandemServer {
    pub fn new(options: ServerOptions) -> Self {
        TandemServer {
            inner: Arc::new(Inner {
                options,
                sessions: Sessions::default(),
                log_level: LogLevel::default(),
                server_cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
            }),
        }
    }

    pub(crate) fn sessions(&self) -> Sessions {
        self.inner.sessions.clone()
    }

    async fn start(
        &self,
        params: StartParams,
        context: &RequestContext<RoleServer>,
    ) -> CallToolResult {
        let options = &self.inner.options;
        let config = params
            .overrides(&options.defaults, &self.inner.server_cwd)
            .and_then(|o| tandem_config::Config::load(o).map_err(|e| e.to_string()));
        let config = match config {
            Ok(config) => config,
            Err(message) => return error_result(None, format!("cannot start the task: {message}")),
        };
        let session = match Session::spawn(config, None, options.sandbox_helper.clone()) {
            Ok(session) => session,
            Err(e) => return error_result(None, format!("cannot start the task: {e}")),
        };
        self.inner.sessions.insert(session.clone());
        self.run(&session, params.prompt, context).await
    }

    async fn reply(
        &self,
        params: ReplyParams,
        context: &RequestContext<RoleServer>,
    ) -> CallToolResult {
        let options = &self.inner.options;
        let session = tandem_config::Config::load(options.defaults.clone())
            .map_err(|e| e.to_string())
            .and_then(|config| {
                self.inner.sessions.find_or_resume(
                    &params.thread_id,
                    config,
                    options.sandbox_helper.clone(),
                )
            });
        match session {
            Ok(session) => self.run(&session, params.prompt, context).await,
            Err(message) => error_result(
                Some(&params.thread_id),
                format!("cannot continue thread {}: {message}", params.thread_id),
            ),
        }
    }

    async fn run(
        &self,
        session: &Session,
        prompt: String,
        context: &RequestContext<RoleServer>,
    ) -> CallToolResult {
        let options = &self.inner.options;
        let can_elicit = context
            .peer
            .supported_elicitation_modes()
            .contains(&ElicitationMode::Form);
        let mut hooks = McpHooks {
            reporter: Reporter::new(
                context.peer.clone(),
                context.meta.get_progress_token(),
                session.id.clone(),
                self.inner.log_level.clone(),
            ),
            peer: context.peer.clone(),
            thread_id: session.id.clone(),
            can_elicit,
            unattended: options.unattended,
            timeout: options.elicitation_timeout,
            denied: Vec::new(),
        };
        let cancel: &CancellationToken = &context.ct;
        match session.run_turn(prompt, cancel, &mut hooks).await {
            Ok(end) => turn_result(&session.id, end, hooks.denied),
            Err(e) => error_result(Some(&session.id), format!("the session stopped: {e}")),
        }
    }
}

/// Answers approvals and streams events for one tool call.
struct McpHooks {
    reporter: Reporter,
    peer: Peer<RoleServer>,
    thread_id: String,
    can_elicit: bool,
    unattended: UnattendedApprovals,
    timeout: Option<Duration>,
    denied: Vec<Denial>,
}

impl TurnHooks for McpHooks {
    async fn on_event(&mut self, event: &Event) {
        self.reporter.event(event).await;
    }

    async fn decide(&mut self, request: &ApprovalRequest) -> ReviewDecision {
        if !self.can_elicit {
            return match self.unattended {
                UnattendedApprovals::Allow => ReviewDecision::AllowOnce,
                UnattendedApprovals::Deny => {
                    self.denied.push(Denial::new(
                        request,
                        "the MCP client does not support elicitation, so nobody could be asked; \
                         denied by the server's policy (--unattended-approvals deny)",
                    ));
                    ReviewDecision::Deny
                }
            };
        }
        let params = approval::request_params(&self.thread_id, request);
        let reply = self
            .peer
            .create_elicitation_with_timeout(params, self.timeout)
            .await;
        match reply {
            Ok(reply) => match approval::decision_from_reply(&reply) {
                Ok(ReviewDecision::Cancel) => {
                    self.denied.push(Denial::new(
                        request,
                        "cancelled by the user; the turn stopped",
                    ));
                    ReviewDecision::Cancel
                }
                Ok(decision) => decision,
                Err(why) => {
                    self.denied.push(Denial::new(request, why));
                    ReviewDecision::Deny
                }
            },
            Err(e) => {
                tracing::warn!("elicitation failed: {e}");
                self.denied.push(Denial::new(
                    request,
                    format!("no usable answer from the client ({e}); denied"),
                ));
                ReviewDecision::Deny
            }
        }
    }
}

/// `{threadId, content}` as structured content, and the final message as text.
fn turn_result(thread_id: &str, end: TurnEnd, denied: Vec<Denial>) -> CallToolResult {
    let mut code = None;
    let (content, failed) = match end {
        TurnEnd::Completed { last_message } => (last_message.unwrap_or_default(), false),
        TurnEnd::Failed(error) => {
            code = error.code;
            (format!("The turn failed: {}", error.message), true)
        }
        TurnEnd::Aborted(reason) => (format!("The turn was interrupted: {reason}"), true),
    };
    let mut blocks = vec![ContentBlock::text(content.clone())];
    let mut structured = json!({"threadId": thread_id, "content": content});
    if let Some(code) = code {
        // The same codes as `turn.failed` in `tandem exec --json`, for callers that branch.
        structured["errorCode"] = json!(code);
    }
    if !denied.is_empty() {
        let mut note = String::from("Not allowed during this turn:");
        for d in &denied {
            note.push_str(&format!("\n- {} `{}`: {}", d.kind, d.what, d.reason));
        }
        blocks.push(ContentBlock::text(note));
        structured["denied"] = json!(denied);
    }
    let mut result = if failed {
        CallToolResult::error(blocks)
    } else {
        CallToolResult::success(blocks)
    };
    result.structured_content = Some(structured);
    result
}

fn error_result(thread_id: Option<&str>, message: String) -> CallToolResult {
    let mut result = CallToolResult::error(vec![ContentBlock::text(message.clone())]);
    if let Some(id) = thread_id {
        result.structured_content = Some(json!({"threadId": id, "content": message}));
    }
    result
}

impl ServerHandler for TandemServer {
    fn get_info(&self) -> ServerConfig {
        let mut info = Implementation::new("tandem", env!("CARGO_PKG_VERSION"));
        info.title = Some("Tandem coding agent".into());
        ServerConfig::new(
            ServerCapabilities::builder()
                .enable_tools()
                .enable_logging()
                .build(),
        )
        .with_protocol_version(ProtocolVersion::V_2025_11_25)
        .with_server_info(info)
        .with_instructions(
            "Call `tandem` with a prompt (and a cwd) to have Tandem do a coding task; it returns \
             the final message and a threadId. Call `tandem-reply` with that threadId to go on.",
        )
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(ProtocolVersion::known_up_to(&ProtocolVersion::V_2025_11_25))
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(params::tools()))
    }

    async fn set_level(
        &self,
        request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.inner.log_level.set(request.level);
        Ok(())
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let result = match request.name.as_ref() {
            TOOL_START => match params::parse::<StartParams>(TOOL_START, request.arguments) {
                Ok(p) => self.start(p, &context).await,
                Err(message) => error_result(None, message),
            },
            TOOL_REPLY => match params::parse::<ReplyParams>(TOOL_REPLY, request.arguments) {
                Ok(p) => self.reply(p, &context).await,
                Err(message) => error_result(None, message),
            },
            other => {
                return Err(ErrorData::invalid_params(
                    format!(
                        "unknown tool `{other}`; this server has `{TOOL_START}` and `{TOOL_REPLY}`"
                    ),
                    None,
                ));
            }
        };
        Ok(result.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_protocol::events::{ErrorInfo, TurnErrorCode};

    #[test]
    fn completed_turns_return_the_thread_and_the_message() {
        let r = turn_result(
            "t1",
            TurnEnd::Completed {
                last_message: Some("done".into()),
            },
            vec![],
        );
        assert_eq!(r.is_error, Some(false));
        assert_eq!(
            r.structured_content,
            Some(json!({"threadId": "t1", "content": "done"}))
        );
        assert_eq!(r.content.len(), 1);
    }

    #[test]
    fn denials_are_reported_in_text_and_structure() {
        let request: ApprovalRequest = serde_json::from_value(json!({
            "id": "approval_0", "item_id": "item_1", "kind": "command",
            "command": ["touch", "x"], "cwd": "/w"
        }))
        .unwrap();
        let r = turn_result(
            "t1",
            TurnEnd::Completed { last_message: None },
            vec![Denial::new(&request, "declined by the user")],
        );
        let s = r.structured_content.unwrap();
        assert_eq!(s["denied"][0]["what"], "touch x");
        assert_eq!(s["denied"][0]["approvalId"], "approval_0");
        let text = serde_json::to_value(&r.content[1]).unwrap();
        assert!(
            text["text"]
                .as_str()
                .unwrap()
                .contains("command `touch x`: declined by the user"),
            "{text}"
        );
    }

    #[test]
    fn failures_are_errors_that_keep_the_thread_id() {
        let r = turn_result(
            "t1",
            TurnEnd::Failed(ErrorInfo::new("boom", TurnErrorCode::RateLimited)),
            vec![],
        );
        assert_eq!(r.is_error, Some(true));
        let structured = r.structured_content.unwrap();
        assert_eq!(structured["threadId"], "t1");
        assert_eq!(structured["errorCode"], "rate_limited");
    }
}
