//! A session's shared state, and the services every turn uses: emitting events, recording,
//! asking for approvals, and numbering things.

use crate::rollout::{Rollout, RolloutLine, TurnState};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tandem_apply_patch::FileSource;
use tandem_model::{ModelClient, ResponseItem};
use tandem_protocol::ReviewDecision;
use tandem_protocol::events::{ApprovalRequest, Event, EventMsg, ThreadEvent};
use tandem_protocol::items::{PlanStep, TokenUsage};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// What answers an approval request.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    Decision(ReviewDecision),
    /// A shell applied (part of) a patch itself; see `Op::ResolvePatch`.
    Resolved(tandem_protocol::PatchOutcome),
}

/// How the sandbox helper is started: usually our own binary under another name (arg0).
#[derive(Debug, Clone)]
pub struct SandboxHelper {
    pub exe: PathBuf,
    /// `Some("tandem-sandbox")` to re-execute a multitool binary as the helper.
    pub arg0: Option<String>,
}

/// Everything in a session that changes as it runs.
#[derive(Default)]
pub struct SessionState {
    pub history: Vec<ResponseItem>,
    /// How many items at the start of the history are the session's initial context
    /// (environment, AGENTS.md); compaction always keeps them.
    pub initial_context_len: usize,
    pub usage: TokenUsage,
    /// Input tokens of the last model call: our measure of how full the context window is.
    pub last_input_tokens: u64,
    pub plan: Vec<PlanStep>,
    pub files_touched: BTreeSet<String>,
    /// Every prompt the user gave, verbatim, so compaction can never lose the task.
    pub original_task: Vec<String>,
    /// Command prefixes a person allowed for the rest of the session.
    pub approved_prefixes: Vec<Vec<String>>,
    /// Things the model must hear about at its next request (an MCP server that failed).
    pub notices: Vec<String>,
}

impl SessionState {
    pub fn turn_state(&self) -> TurnState {
        TurnState {
            plan: self.plan.clone(),
            files_touched: self.files_touched.iter().cloned().collect(),
            original_task: self.original_task.clone(),
        }
    }

    pub fn is_prefix_approved(&self, argv: &[String]) -> bool {
        self.approved_prefixes.iter().any(|p| argv.starts_with(p))
    }
}

pub struct Session {
    pub id: String,
    pub config: Arc<tandem_config::Config>,
    pub client: ModelClient,
    pub sandbox_helper: Option<SandboxHelper>,
    pub file_source: Arc<dyn FileSource + Send + Sync>,
    /// When true, every patch waits for an approval before anything is written, whatever the
    /// policy (the editor's approve-before-write review).
    pub approve_patches_before_write: bool,
    /// The environment commands get, computed once from `shell_environment_policy`.
    pub command_env: BTreeMap<String, String>,
    pub rollout: Mutex<Rollout>,
    /// The session's MCP servers, when any are configured.
    pub mcp: Option<tandem_mcp::McpManager>,
    /// Sandbox zygotes, started on first use.
    pub sandboxes: crate::sandboxing::SandboxPool,
    events: mpsc::UnboundedSender<Event>,
    state: Mutex<SessionState>,
    pending_approvals: Mutex<HashMap<String, oneshot::Sender<Answer>>>,
    next_item: AtomicU64,
    next_turn: AtomicU64,
    next_approval: AtomicU64,
}

pub struct SessionParts {
    pub id: String,
    pub config: Arc<tandem_config::Config>,
    pub client: ModelClient,
    pub sandbox_helper: Option<SandboxHelper>,
    pub file_source: Arc<dyn FileSource + Send + Sync>,
    pub approve_patches_before_write: bool,
    pub command_env: BTreeMap<String, String>,
    pub rollout: Rollout,
    pub mcp: Option<tandem_mcp::McpManager>,
    pub events: mpsc::UnboundedSender<Event>,
    pub state: SessionState,
}

impl Session {
    pub fn new(p: SessionParts) -> Self {
        Session {
            id: p.id,
            config: p.config,
            client: p.client,
            sandbox_helper: p.sandbox_helper,
            file_source: p.file_source,
            approve_patches_before_write: p.approve_patches_before_write,
            command_env: p.command_env,
            rollout: Mutex::new(p.rollout),
            mcp: p.mcp,
            sandboxes: Default::default(),
            events: p.events,
            state: Mutex::new(p.state),
            pending_approvals: Mutex::new(HashMap::new()),
            next_item: AtomicU64::new(0),
            next_turn: AtomicU64::new(0),
            next_approval: AtomicU64::new(0),
        }
    }

    /// The session state. Locks are held only for short, non-awaiting sections.
    pub fn state(&self) -> MutexGuard<'_, SessionState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn next_item_id(&self) -> String {
        format!("item_{}", self.next_item.fetch_add(1, Ordering::Relaxed))
    }

    pub fn next_turn_id(&self) -> String {
        format!("turn_{}", self.next_turn.fetch_add(1, Ordering::Relaxed))
    }

    /// Send an event to the shell, and record its stable projection.
    pub fn emit(&self, turn_id: Option<&str>, msg: EventMsg) {
        let event = Event {
            turn_id: turn_id.map(String::from),
            msg,
        };
        if let Some(stable) = ThreadEvent::from_event(&event)
            && let Ok(value) = serde_json::to_value(&stable)
        {
            self.record(&RolloutLine::Event(value));
        }
        let _ = self.events.send(event);
    }

    pub fn record(&self, line: &RolloutLine) {
        self.rollout
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(line);
    }

    /// Append to the history and to the record.
    pub fn push_history(&self, item: ResponseItem) {
        self.record(&RolloutLine::ResponseItem(item.clone()));
        self.state().history.push(item);
    }

    /// Ask a person and wait for the answer. Cancelling the turn answers `Cancel`.
    pub async fn request_approval(
        &self,
        turn_id: &str,
        request: ApprovalRequest,
        cancel: &CancellationToken,
    ) -> ReviewDecision {
        match self.request_answer(turn_id, request, cancel).await {
            Answer::Decision(d) => d,
            // Only patches can be resolved by the shell; for anything else, treat a resolution
            // that applied nothing as a denial and one that applied something as consent.
            Answer::Resolved(o) if o.applied => ReviewDecision::AllowOnce,
            Answer::Resolved(_) => ReviewDecision::Deny,
        }
    }

    /// Ask, and accept either a decision or a shell's own resolution of a patch.
    pub async fn request_answer(
        &self,
        turn_id: &str,
        mut request: ApprovalRequest,
        cancel: &CancellationToken,
    ) -> Answer {
        let id = format!(
            "approval_{}",
            self.next_approval.fetch_add(1, Ordering::Relaxed)
        );
        request.id = id.clone();
        let (tx, rx) = oneshot::channel();
        self.pending_approvals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), tx);
        self.emit(Some(turn_id), EventMsg::ApprovalRequest(request));
        let answer = tokio::select! {
            answer = rx => answer.unwrap_or(Answer::Decision(ReviewDecision::Deny)),
            () = cancel.cancelled() => Answer::Decision(ReviewDecision::Cancel),
        };
        self.pending_approvals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&id);
        answer
    }

    /// Deliver an answer. Unknown ids (already answered, or cancelled) are reported, not fatal.
    pub fn resolve_approval(&self, id: &str, answer: Answer) {
        let sender = self
            .pending_approvals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
        match sender {
            Some(tx) => {
                let _ = tx.send(answer);
            }
            None => self.emit(
                None,
                EventMsg::Warning {
                    message: format!("no pending approval with id `{id}`"),
                },
            ),
        }
    }
}
