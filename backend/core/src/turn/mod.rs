//! One turn: from the user's input to the model's final answer, through any number of tool
//! rounds. Split by phase: [`sampling`] streams one model call, [`dispatch`] runs its tool calls.

mod dispatch;
mod sampling;

use crate::compact;
use crate::session::Session;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tandem_model::{ModelClient, ResponseItem};
use tandem_protocol::events::{ErrorInfo, EventMsg, TurnErrorCode};
use tandem_protocol::items::{ItemDetails, ThreadItem, TokenUsage};
use tandem_protocol::ops::{TurnOverrides, UserInput};
use tandem_protocol::{ApprovalPolicy, SandboxMode};
use tokio_util::sync::CancellationToken;

/// What a tool call produced for the model, or a request to stop the turn.
#[derive(Debug)]
pub enum ToolOutcome {
    Output(String),
    Abort,
}

/// The settings and services of one turn.
pub struct TurnContext {
    pub session: Arc<Session>,
    pub turn_id: String,
    pub cwd: PathBuf,
    pub approval: ApprovalPolicy,
    pub sandbox: SandboxMode,
    pub writable_roots: Vec<PathBuf>,
    pub network: bool,
    pub cancel: CancellationToken,
    pub client: ModelClient,
    /// The `todo_list` item of this turn, once `update_plan` was called.
    pub plan_item: Mutex<Option<String>>,
}

impl TurnContext {
    pub fn new(
        session: Arc<Session>,
        turn_id: String,
        overrides: &TurnOverrides,
        cancel: CancellationToken,
    ) -> Self {
        let config = &session.config;
        let cwd = config.cwd.clone();
        let mut writable_roots = vec![cwd.clone()];
        for root in &config.sandbox_workspace_write.writable_roots {
            let root = if root.is_absolute() {
                root.clone()
            } else {
                cwd.join(root)
            };
            if !writable_roots.contains(&root) {
                writable_roots.push(root);
            }
        }
        let client = match &overrides.model {
            Some(model) if *model != config.model => {
                ModelClient::new(config.model_provider.clone(), model.clone())
            }
            _ => session.client.clone(),
        };
        TurnContext {
            turn_id,
            cwd,
            approval: overrides.approval_policy.unwrap_or(config.approval_policy),
            sandbox: overrides.sandbox_mode.unwrap_or(config.sandbox_mode),
            writable_roots,
            network: config.sandbox_workspace_write.network_access,
            cancel,
            client,
            plan_item: Mutex::new(None),
            session,
        }
    }

    pub fn emit(&self, msg: EventMsg) {
        self.session.emit(Some(&self.turn_id), msg);
    }

    pub fn resolve_workdir(&self, workdir: Option<&str>) -> PathBuf {
        match workdir {
            Some(dir) if Path::new(dir).is_absolute() => PathBuf::from(dir),
            Some(dir) => crate::policy::normalize(&self.cwd.join(dir)),
            None => self.cwd.clone(),
        }
    }

    /// How many bytes of a tool's output the model sees.
    pub fn output_cap(&self) -> usize {
        self.session.config.tool_output_max_bytes
    }
}

/// Run a whole turn. Emits `turn_started` first and exactly one of `turn_completed`,
/// `turn_failed` or `turn_aborted` last.
pub async fn run_turn(ctx: TurnContext, input: Vec<UserInput>) {
    let session = ctx.session.clone();
    ctx.emit(EventMsg::TurnStarted);
    let text = render_input(&input);
    session.state().original_task.push(first_chars(&text, 4000));
    session.push_history(ResponseItem::user_text(text));

    let mut usage = TokenUsage::default();
    let result = turn_loop(&ctx, &mut usage).await;
    close_dangling_calls(&session);
    session.record(&crate::rollout::RolloutLine::TurnState(
        session.state().turn_state(),
    ));
    if let Some(plan_item) = ctx
        .plan_item
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take()
    {
        let items = crate::tools::update_plan::todo_items(&session.state().plan);
        ctx.emit(EventMsg::ItemCompleted {
            item: ThreadItem {
                id: plan_item,
                details: ItemDetails::TodoList { items },
            },
        });
    }
    match result {
        Ok(last_agent_message) => ctx.emit(EventMsg::TurnCompleted {
            usage,
            last_agent_message,
        }),
        Err(TurnEnd::Aborted(reason)) => ctx.emit(EventMsg::TurnAborted { reason }),
        Err(TurnEnd::Failed(error)) => ctx.emit(EventMsg::TurnFailed { error }),
    }
}

pub(crate) enum TurnEnd {
    Aborted(String),
    Failed(ErrorInfo),
}

async fn turn_loop(ctx: &TurnContext, usage: &mut TokenUsage) -> Result<Option<String>, TurnEnd> {
    let max_rounds = ctx.session.config.max_tool_rounds.max(1);
    for _round in 0..max_rounds {
        if ctx.cancel.is_cancelled() {
            return Err(TurnEnd::Aborted("interrupted by the user".into()));
        }
        if compact::needs_compaction(&ctx.session) {
            compact::compact(ctx).await;
        }
        let sampled = sampling::sample(ctx, usage).await?;
        if sampled.calls.is_empty() {
            return Ok(sampled.last_message);
        }
        if dispatch::run_calls(ctx, sampled.calls).await.is_break() {
            return Err(TurnEnd::Aborted("cancelled at an approval".into()));
        }
    }
    Err(TurnEnd::Failed(ErrorInfo::new(
        format!(
            "the turn reached its limit of {max_rounds} model round trips (max_tool_rounds) without a final answer"
        ),
        TurnErrorCode::MaxToolRounds,
    )))
}

/// Give every function call an output, so the history stays valid for the next request even
/// after an interruption.
fn close_dangling_calls(session: &Session) {
    let missing: Vec<String> = {
        let state = session.state();
        let answered: std::collections::HashSet<&str> = state
            .history
            .iter()
            .filter_map(|i| match i {
                ResponseItem::FunctionCallOutput { call_id, .. } => Some(call_id.as_str()),
                _ => None,
            })
            .collect();
        state
            .history
            .iter()
            .filter_map(|i| match i {
                ResponseItem::FunctionCall { call_id, .. }
                    if !answered.contains(call_id.as_str()) =>
                {
                    Some(call_id.clone())
                }
                _ => None,
            })
            .collect()
    };
    for call_id in missing {
        session.push_history(ResponseItem::FunctionCallOutput {
            call_id,
            output: "aborted: the turn was interrupted before this call finished".into(),
        });
    }
}

fn render_input(input: &[UserInput]) -> String {
    let mut text = String::new();
    for part in input {
        match part {
            UserInput::Text { text: t } => {
                text.push_str(t);
                text.push('\n');
            }
            UserInput::Context { label, text: t } => {
                text.push_str(&format!("<context source=\"{label}\">\n{t}\n</context>\n"));
            }
        }
    }
    text.trim_end().to_string()
}

fn first_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}
