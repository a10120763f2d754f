//! The queue pair: `Op` in, `Event` out. A [`Kernel`] owns one session and an actor task that
//! serialises everything that changes it.
//!
//! Turns run as tasks of their own, so the actor stays free to take `Interrupt` and `Approval`
//! while a turn waits on the model, a command or a person.

use crate::instructions;
use crate::rollout::{self, Rollout, SessionMeta, SessionStore};
use crate::session::{Answer, SandboxHelper, Session, SessionParts, SessionState};
use crate::turn::{self, TurnContext};
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use tandem_apply_patch::{DiskSource, FileSource};
use tandem_model::{ModelClient, ResponseItem};
use tandem_protocol::events::{Event, EventMsg, SessionConfigured};
use tandem_protocol::ops::{Op, TurnOverrides, UserInput};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error(transparent)]
    Rollout(#[from] rollout::RolloutError),
    #[error("the session has ended")]
    Closed,
}

/// How to start a kernel, beyond the config.
#[derive(Default)]
pub struct KernelOptions {
    /// Continue the session recorded at this path.
    pub resume: Option<PathBuf>,
    pub sandbox_helper: Option<SandboxHelper>,
    /// Where tools read files; the LSP server passes its open buffers. Defaults to the disk.
    pub file_source: Option<Arc<dyn FileSource + Send + Sync>>,
    /// Ask before writing any patch (the editor's approve-before-write review).
    pub approve_patches_before_write: bool,
    /// The environment commands start from (before `shell_environment_policy`). Defaults to
    /// this process's environment.
    pub base_env: Option<BTreeMap<String, String>>,
}

/// Submits ops to a kernel; cheap to clone, so several parts of a shell can hold one.
#[derive(Clone)]
pub struct OpSender(mpsc::UnboundedSender<Op>);

impl OpSender {
    pub fn submit(&self, op: Op) -> Result<(), KernelError> {
        self.0.send(op).map_err(|_| KernelError::Closed)
    }
}

pub struct Kernel {
    session_id: String,
    ops: OpSender,
    events: mpsc::UnboundedReceiver<Event>,
}

impl Kernel {
    /// Start a session. Must be called inside a tokio runtime. The first event is always
    /// `session_configured`.
    pub fn spawn(
        config: tandem_config::Config,
        options: KernelOptions,
    ) -> Result<Kernel, KernelError> {
        let config = Arc::new(config);
        let (event_tx, events) = mpsc::unbounded_channel();
        let (op_tx, op_rx) = mpsc::unbounded_channel();
        let docs = tandem_config::agents_md::discover(&config);
        let store = SessionStore::new(&config.tandem_home);

        let (id, rollout, mut state, resumed) = match &options.resume {
            Some(path) => {
                let replayed = rollout::replay(path)?;
                let id = replayed
                    .meta
                    .as_ref()
                    .map(|m| m.id.clone())
                    .unwrap_or_else(|| {
                        path.file_stem()
                            .map(|s| s.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    });
                let mut state = SessionState {
                    initial_context_len: leading_context_len(&replayed.history),
                    history: replayed.history,
                    plan: replayed.state.plan,
                    files_touched: replayed.state.files_touched.into_iter().collect(),
                    original_task: replayed.state.original_task,
                    ..SessionState::default()
                };
                state.last_input_tokens = crate::compact::estimate_tokens(&state.history);
                (id, Rollout::reopen(path)?, state, true)
            }
            None => {
                let id = uuid::Uuid::now_v7().to_string();
                let meta = SessionMeta {
                    id: id.clone(),
                    cwd: config.cwd.display().to_string(),
                    model: config.model.clone(),
                    model_provider: config.model_provider_id.clone(),
                    created_at: rollout::now_ms(),
                    cli_version: env!("CARGO_PKG_VERSION").into(),
                };
                (
                    id,
                    Rollout::create(&store, meta)?,
                    SessionState::default(),
                    false,
                )
            }
        };

        let base_env = options
            .base_env
            .unwrap_or_else(|| std::env::vars().collect());
        let command_env = config.shell_environment_policy.apply(base_env);
        // MCP servers start in the background: the first turn never waits for them.
        let (mcp, mcp_events) = if config.mcp_servers.values().any(|s| s.enabled) {
            let options = tandem_mcp::McpOptions {
                cwd: Some(config.cwd.clone()),
                ..Default::default()
            };
            let (manager, events) =
                tandem_mcp::McpManager::start_with(&config.mcp_servers, &command_env, options);
            (Some(manager), Some(events))
        } else {
            (None, None)
        };
        let session = Arc::new(Session::new(SessionParts {
            id: id.clone(),
            client: ModelClient::new(config.model_provider.clone(), config.model.clone()),
            command_env,
            mcp,
            config: config.clone(),
            sandbox_helper: options.sandbox_helper,
            file_source: options.file_source.unwrap_or_else(|| Arc::new(DiskSource)),
            approve_patches_before_write: options.approve_patches_before_write,
            rollout,
            events: event_tx,
            state: std::mem::take(&mut state),
        }));
        if !resumed {
            let mut initial = vec![instructions::environment_context(
                &config.cwd,
                config.approval_policy,
                config.sandbox_mode,
                config.sandbox_workspace_write.network_access,
                &config.sandbox_workspace_write.writable_roots,
            )];
            initial.extend(instructions::project_docs_message(&config.cwd, &docs.text));
            session.state().initial_context_len = initial.len();
            for item in initial {
                session.push_history(item);
            }
        }
        session.emit(
            None,
            EventMsg::SessionConfigured(SessionConfigured {
                session_id: id.clone(),
                model: config.model.clone(),
                model_provider: config.model_provider_id.clone(),
                cwd: config.cwd.display().to_string(),
                sandbox_mode: config.sandbox_mode,
                approval_policy: config.approval_policy,
                instruction_files: docs.files.iter().map(|p| p.display().to_string()).collect(),
                truncated_instruction_files: docs
                    .truncated
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
                rollout_path: session
                    .rollout
                    .lock()
                    .map(|r| r.path().display().to_string())
                    .unwrap_or_default(),
                resumed,
            }),
        );
        for warning in &config.warnings {
            session.emit(
                None,
                EventMsg::Warning {
                    message: warning.clone(),
                },
            );
        }
        if let Some(events) = mcp_events {
            tokio::spawn(forward_mcp_events(session.clone(), events));
        }
        tokio::spawn(actor(session, op_rx));
        Ok(Kernel {
            session_id: id,
            ops: OpSender(op_tx),
            events,
        })
    }

    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    pub fn sender(&self) -> OpSender {
        self.ops.clone()
    }

    pub fn submit(&self, op: Op) -> Result<(), KernelError> {
        self.ops.submit(op)
    }

    /// The next event; `None` once the session has shut down.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }
}

/// Items at the start of a recorded history that are initial context, not conversation.
fn leading_context_len(history: &[ResponseItem]) -> usize {
    history
        .iter()
        .take_while(|i| {
            i.message_text().is_some_and(|t| {
                t.starts_with("<environment_context>") || t.starts_with("# AGENTS.md instructions")
            })
        })
        .count()
}

/// MCP server progress becomes events; failures are also told to the model at its next
/// request, so it does not wait for tools that will not come.
async fn forward_mcp_events(
    session: Arc<Session>,
    mut events: mpsc::UnboundedReceiver<tandem_mcp::McpEvent>,
) {
    use tandem_mcp::McpEvent;
    use tandem_protocol::events::McpServerState;
    while let Some(event) = events.recv().await {
        let message = event.message();
        let status = match &event {
            McpEvent::Starting { .. } => McpServerState::Starting,
            McpEvent::Ready { .. } => McpServerState::Ready,
            McpEvent::Failed { .. } => McpServerState::Failed,
            McpEvent::Exited { .. } => McpServerState::Exited,
            McpEvent::Restarting { .. } => McpServerState::Restarting,
        };
        if matches!(status, McpServerState::Failed | McpServerState::Exited) {
            session.state().notices.push(message.clone());
        }
        session.emit(
            None,
            EventMsg::McpServerUpdate {
                server: event.server().to_string(),
                status,
                message,
            },
        );
    }
}

enum Work {
    Turn(Vec<UserInput>, TurnOverrides),
    Compact,
}

async fn actor(session: Arc<Session>, mut ops: mpsc::UnboundedReceiver<Op>) {
    let mut queue: VecDeque<Work> = VecDeque::new();
    let mut running: Option<(CancellationToken, tokio::task::JoinHandle<()>)> = None;
    loop {
        if running.is_none()
            && let Some(work) = queue.pop_front()
        {
            let cancel = CancellationToken::new();
            let ctx = TurnContext::new(
                session.clone(),
                session.next_turn_id(),
                &overrides_of(&work),
                cancel.clone(),
            );
            let handle = tokio::spawn(async move {
                match work {
                    Work::Turn(input, _) => turn::run_turn(ctx, input).await,
                    Work::Compact => crate::compact::compact(&ctx).await,
                }
            });
            running = Some((cancel, handle));
        }
        tokio::select! {
            op = ops.recv() => match op {
                Some(Op::UserTurn { input, overrides }) => queue.push_back(Work::Turn(input, overrides)),
                Some(Op::Compact) => queue.push_back(Work::Compact),
                Some(Op::Interrupt) => {
                    if let Some((cancel, _)) = &running {
                        cancel.cancel();
                    }
                }
                Some(Op::Approval { id, decision }) => session.resolve_approval(&id, Answer::Decision(decision)),
                Some(Op::ResolvePatch { id, outcome }) => session.resolve_approval(&id, Answer::Resolved(outcome)),
                Some(Op::Shutdown) | None => {
                    if let Some((cancel, handle)) = running.take() {
                        cancel.cancel();
                        let _ = handle.await;
                    }
                    session.rollout.lock().unwrap_or_else(|e| e.into_inner()).close();
                    session.emit(None, EventMsg::ShutdownComplete);
                    return;
                }
                Some(_) => {}
            },
            _ = async { running.as_mut().map(|(_, h)| h).expect("guarded by the select condition").await }, if running.is_some() => {
                running = None;
            }
        }
    }
}

fn overrides_of(work: &Work) -> TurnOverrides {
    match work {
        Work::Turn(_, o) => o.clone(),
        Work::Compact => TurnOverrides::default(),
    }
}
