//! Tasks: one kernel each, driven by its own tokio task that turns kernel events into client
//! notifications, review proposals and approval questions.
//!
//! A task runs one turn and then shuts its kernel down (the session stays recorded, and
//! `tandem/task/resume` continues it as a new task). Several tasks run at once; they share the
//! workspace, so they see the same buffers and their changes land in the same review.

use crate::apply;
use crate::error::{LspError, Result};
use crate::handlers::approvals;
use crate::overlay::KernelFiles;
use crate::progress::TaskProgress;
use crate::server::Ext;
use crate::settings::ReviewModelSetting;
use crate::state::{ReviewLink, Shared};
use std::path::PathBuf;
use std::sync::Arc;
use tandem_core::{Kernel, KernelOptions, OpSender};
use tandem_protocol::events::{ApprovalKind, ApprovalRequest, Event, EventMsg, ThreadEvent};
use tandem_protocol::ops::{Op, TurnOverrides, UserInput};
use tandem_protocol::{ApprovalPolicy, ReviewDecision};
use tandem_protocol_ext::task::{TaskDelta, TaskEvent, TaskEventParams, TaskInfo, TaskStatus};
use tandem_workspace::review::{ChangeOrigin, FileProposal, ReviewModel};
use tokio_util::sync::CancellationToken;
use tower_lsp_server::lsp_types as lsp;

pub struct TaskEntry {
    pub id: String,
    pub thread_id: Option<String>,
    pub prompt: String,
    pub status: TaskStatus,
    pub started_at: i64,
    pub ops: OpSender,
    /// The person asked to cancel: the turn's end is reported as `cancelled`.
    pub cancelled: bool,
}

/// The tasks of this connection, oldest first.
#[derive(Default)]
pub struct Tasks {
    next: u64,
    entries: Vec<TaskEntry>,
}

impl Tasks {
    pub fn next_id(&mut self) -> String {
        self.next += 1;
        format!("task-{}", self.next)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut TaskEntry> {
        self.entries.iter_mut().find(|t| t.id == id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &TaskEntry> {
        self.entries.iter()
    }

    pub fn infos(&self) -> Vec<TaskInfo> {
        self.entries
            .iter()
            .rev()
            .map(|t| TaskInfo {
                task_id: t.id.clone(),
                thread_id: t.thread_id.clone(),
                prompt: t.prompt.clone(),
                status: t.status,
                started_at: t.started_at,
            })
            .collect()
    }
}

/// What a new task starts from.
pub struct Spec {
    pub prompt: Option<String>,
    pub overrides: TurnOverrides,
    /// Continue this recorded session.
    pub resume: Option<(PathBuf, String)>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Loads the config as it is now (so new settings apply), spawns a kernel and its driver, and
/// submits the first turn with Auto Context attached.
pub async fn start(shared: &Arc<Shared>, spec: Spec) -> Result<String> {
    let (overrides, review, docs) = {
        let s = shared.lock();
        let mut base = shared.options.defaults.clone();
        base.cwd = Some(s.root.clone());
        let mut o = s.settings.overrides(base);
        if spec.overrides.sandbox_mode.is_some() {
            o.sandbox_mode = spec.overrides.sandbox_mode;
        }
        if spec.overrides.approval_policy.is_some() {
            o.approval_policy = spec.overrides.approval_policy;
        }
        if spec.overrides.model.is_some() {
            o.model.clone_from(&spec.overrides.model);
        }
        (o, s.settings.review_model, s.ws.documents().clone())
    };
    let config = match tandem_config::Config::load(overrides) {
        Ok(c) => c,
        Err(e) => {
            let e = LspError::Config(e.to_string());
            shared
                .client
                .show_message(lsp::MessageType::ERROR, format!("Tandem: {e}"))
                .await;
            return Err(e);
        }
    };
    let approve_before_write = config.approval_policy == ApprovalPolicy::OnRequest
        && review == ReviewModelSetting::ApproveBeforeWrite;
    let cwd = config.cwd.clone();
    let files = KernelFiles {
        overlay: shared.overlay.clone(),
        docs,
    };
    let kernel = Kernel::spawn(
        config,
        KernelOptions {
            resume: spec.resume.as_ref().map(|(p, _)| p.clone()),
            sandbox_helper: shared.options.sandbox_helper.clone(),
            file_source: Some(Arc::new(files)),
            approve_patches_before_write: approve_before_write,
            base_env: shared.options.base_env.clone(),
        },
    )
    .map_err(|e| LspError::Internal(format!("cannot start the task: {e}")))?;
    let ops = kernel.sender();
    let thread = spec
        .resume
        .as_ref()
        .map(|(_, id)| id.clone())
        .unwrap_or_else(|| kernel.session_id().to_string());
    let id = {
        let mut s = shared.lock();
        let id = s.tasks.next_id();
        if let Some(prompt) = &spec.prompt {
            let mut input = vec![UserInput::Text {
                text: prompt.clone(),
            }];
            for note in s.notes.remove(&thread).unwrap_or_default() {
                input.push(UserInput::Context {
                    label: "the user's review of your earlier changes".into(),
                    text: note,
                });
            }
            input.extend(s.ws.context_inputs());
            ops.submit(Op::UserTurn {
                input,
                overrides: spec.overrides,
            })
            .map_err(|e| LspError::Internal(e.to_string()))?;
        }
        s.tasks.entries.push(TaskEntry {
            id: id.clone(),
            thread_id: Some(thread),
            prompt: spec.prompt.clone().unwrap_or_default(),
            status: if spec.prompt.is_some() {
                TaskStatus::Running
            } else {
                TaskStatus::Completed
            },
            started_at: now(),
            ops: ops.clone(),
            cancelled: false,
        });
        id
    };
    let progress = spec
        .prompt
        .as_deref()
        .and_then(|prompt| TaskProgress::start(shared, &id, prompt));
    let driver = Driver {
        shared: shared.clone(),
        task_id: id.clone(),
        ops,
        cwd,
        turn: CancellationToken::new(),
        progress,
    };
    let idle = spec.prompt.is_none();
    tokio::spawn(driver.run(kernel, idle));
    Ok(id)
}

/// Turns one kernel's events into client messages. See the module docs.
struct Driver {
    shared: Arc<Shared>,
    task_id: String,
    ops: OpSender,
    cwd: PathBuf,
    /// Cancelled when the turn ends, so questions still open are withdrawn.
    turn: CancellationToken,
    /// Work-done progress, for a client without task events (see [`crate::progress`]).
    progress: Option<TaskProgress>,
}

impl Driver {
    fn set_status(&self, status: TaskStatus) {
        if let Some(t) = self.shared.lock().tasks.get_mut(&self.task_id) {
            t.status = status;
        }
    }

    async fn run(mut self, mut kernel: Kernel, idle: bool) {
        if idle {
            // Resumed without a prompt: the session is loaded, recorded and done.
            let _ = self.ops.submit(Op::Shutdown);
        }
        while let Some(event) = kernel.next_event().await {
            self.forward(&event).await;
            if let Some(progress) = &self.progress {
                progress.event(&event.msg);
            }
            let turn_id = event.turn_id.clone();
            match event.msg {
                EventMsg::SessionConfigured(c) => {
                    if let Some(t) = self.shared.lock().tasks.get_mut(&self.task_id) {
                        t.thread_id = Some(c.session_id);
                    }
                }
                EventMsg::TurnStarted => self.set_status(TaskStatus::Running),
                EventMsg::ApprovalRequest(req) if req.kind == ApprovalKind::Patch => {
                    self.review_before_write(turn_id, req).await;
                }
                EventMsg::ApprovalRequest(req) => self.ask(req),
                EventMsg::PatchApplied { item_id, changes } => {
                    let files = changes
                        .iter()
                        .map(|c| FileProposal::from_protocol(c, &self.cwd))
                        .collect();
                    self.review_after_write(turn_id, item_id, files).await;
                }
                EventMsg::TurnCompleted { .. } => {
                    self.end_turn(TaskStatus::Completed, "Completed".into())
                        .await;
                }
                EventMsg::TurnFailed { error } => {
                    let outcome = format!("Failed: {}", error.message);
                    self.end_turn(TaskStatus::Failed, outcome).await;
                }
                EventMsg::TurnAborted { reason } => {
                    let cancelled = self
                        .shared
                        .lock()
                        .tasks
                        .get_mut(&self.task_id)
                        .is_some_and(|t| t.cancelled);
                    let (status, outcome) = if cancelled {
                        (TaskStatus::Cancelled, "Cancelled".into())
                    } else {
                        let outcome = format!("Failed: turn interrupted: {reason}");
                        (TaskStatus::Failed, outcome)
                    };
                    self.end_turn(status, outcome).await;
                }
                EventMsg::ShutdownComplete => break,
                _ => {}
            }
        }
        // The kernel is gone: reviews of this task can no longer answer it.
        let mut s = self.shared.lock();
        for link in s.reviews.values_mut().filter(|l| l.task_id == self.task_id) {
            link.kernel = None;
        }
    }

    /// `tandem/task/event` for clients that asked for it; a log line for the others.
    async fn forward(&self, event: &Event) {
        let wants = self.shared.lock().caps.tandem.task_events;
        if wants {
            let payload = ThreadEvent::from_event(event)
                .map(TaskEvent::Thread)
                .or_else(|| delta(&event.msg).map(TaskEvent::Delta));
            if let Some(event) = payload {
                let params = TaskEventParams {
                    task_id: self.task_id.clone(),
                    event,
                };
                type Notification = Ext<tandem_protocol_ext::TaskEventNotification>;
                self.shared
                    .client
                    .send_notification::<Notification>(params)
                    .await;
            }
        } else if let Some(line) = log_line(&event.msg) {
            self.shared
                .client
                .log_message(
                    lsp::MessageType::INFO,
                    format!("[tandem {}] {line}", self.task_id),
                )
                .await;
        }
    }

    fn ask(&self, req: ApprovalRequest) {
        self.set_status(TaskStatus::WaitingForApproval);
        let (shared, task_id, ops) = (self.shared.clone(), self.task_id.clone(), self.ops.clone());
        let withdrawn = self.turn.clone();
        tokio::spawn(async move {
            let decision: ReviewDecision = tokio::select! {
                d = approvals::ask(&shared, &task_id, &req) => d,
                () = withdrawn.cancelled() => return,
            };
            let _ = ops.submit(Op::Approval {
                id: req.id.clone(),
                decision,
            });
            if let Some(t) = shared.lock().tasks.get_mut(&task_id)
                && t.status == TaskStatus::WaitingForApproval
            {
                t.status = TaskStatus::Running;
            }
        });
    }

    fn origin(&self, turn_id: Option<String>, item_id: String) -> ChangeOrigin {
        ChangeOrigin {
            task_id: Some(self.task_id.clone()),
            turn_id,
            item_id: Some(item_id),
        }
    }

    fn link(&self, approval_id: Option<String>) -> ReviewLink {
        let thread_id = self
            .shared
            .lock()
            .tasks
            .get_mut(&self.task_id)
            .and_then(|t| t.thread_id.clone());
        ReviewLink {
            task_id: self.task_id.clone(),
            kernel: Some(self.ops.clone()),
            approval_id,
            cwd: self.cwd.clone(),
            thread_id,
        }
    }

    /// Approve-before-write: the patch becomes a pending change; the kernel waits until every
    /// hunk is decided (see [`apply::sync_review`]).
    async fn review_before_write(&self, turn_id: Option<String>, req: ApprovalRequest) {
        let files: Vec<FileProposal> = req
            .changes
            .iter()
            .map(|c| FileProposal::from_protocol(c, &self.cwd))
            .collect();
        let origin = self.origin(turn_id, req.item_id.clone());
        let link = self.link(Some(req.id.clone()));
        let proposed = {
            let mut s = self.shared.lock();
            let r = s.ws.propose(origin, ReviewModel::ApproveBeforeWrite, files);
            if let Ok(change) = &r {
                s.reviews.insert(change.clone(), link);
                if let Some(t) = s.tasks.get_mut(&self.task_id) {
                    t.status = TaskStatus::WaitingForReview;
                }
            }
            r.map(|c| (c, s.caps.tandem.review_changed))
        };
        match proposed {
            Ok((change, has_panel)) => {
                if !has_panel {
                    self.announce(&change, &req).await;
                }
                apply::sync_review(&self.shared).await;
            }
            Err(e) => {
                let outcome = tandem_protocol::ops::PatchOutcome {
                    applied: false,
                    report: format!(
                        "The editor could not put this change under review ({e}). No file was \
                         changed."
                    ),
                    files: Vec::new(),
                };
                let _ = self.ops.submit(Op::ResolvePatch {
                    id: req.id,
                    outcome,
                });
            }
        }
    }

    /// A client without a review panel still has code actions: say where to use them.
    async fn announce(&self, change: &str, req: &ApprovalRequest) {
        let files: Vec<&str> = req.changes.iter().map(|c| c.path.as_str()).collect();
        let message = format!(
            "Tandem ({}) proposes change {change} to {}: review it with the code actions \
             \"Accept change\" / \"Reject change\" on the changed lines.",
            self.task_id,
            files.join(", ")
        );
        self.shared
            .client
            .show_message(lsp::MessageType::INFO, message)
            .await;
    }

    /// Apply-then-review: the kernel wrote the change; review it in place, and bring the open
    /// buffers up to it.
    async fn review_after_write(
        &self,
        turn_id: Option<String>,
        item_id: String,
        files: Vec<FileProposal>,
    ) {
        let origin = self.origin(turn_id, item_id);
        let link = self.link(None);
        let proposed = {
            let mut s = self.shared.lock();
            let r =
                s.ws.propose(origin, ReviewModel::ApplyThenReview, files.clone());
            if let Ok(change) = &r {
                s.reviews.insert(change.clone(), link);
            }
            r
        };
        if let Err(e) = proposed {
            tracing::warn!("cannot review a written change: {e}");
        }
        apply::push_written(&self.shared, &files).await;
        apply::sync_review(&self.shared).await;
    }

    /// The turn is over: withdraw open questions, drop reviews nobody waits for any more, end
    /// the progress with `outcome`, and shut the kernel down (the session stays recorded for
    /// `tandem/task/resume`).
    async fn end_turn(&mut self, status: TaskStatus, outcome: String) {
        self.turn.cancel();
        self.turn = CancellationToken::new();
        self.set_status(status);
        if let Some(progress) = self.progress.take() {
            progress.end(outcome);
        }
        {
            let mut s = self.shared.lock();
            let orphaned: Vec<String> = s
                .reviews
                .iter()
                .filter(|(_, l)| l.task_id == self.task_id && l.approval_id.is_some())
                .map(|(id, _)| id.clone())
                .collect();
            for id in orphaned {
                s.reviews.remove(&id);
                s.ws.forget_change(&id);
            }
        }
        apply::sync_review(&self.shared).await;
        let _ = self.ops.submit(Op::Shutdown);
    }
}

fn delta(msg: &EventMsg) -> Option<TaskDelta> {
    Some(match msg {
        EventMsg::AgentMessageDelta { item_id, delta } => TaskDelta::AgentMessage {
            item_id: item_id.clone(),
            delta: delta.clone(),
        },
        EventMsg::ReasoningDelta { item_id, delta } => TaskDelta::Reasoning {
            item_id: item_id.clone(),
            delta: delta.clone(),
        },
        EventMsg::CommandOutputDelta { item_id, chunk } => TaskDelta::CommandOutput {
            item_id: item_id.clone(),
            chunk: chunk.clone(),
        },
        _ => return None,
    })
}

/// What a plain client's log shows of a task: items as they complete, and the turn's end.
fn log_line(msg: &EventMsg) -> Option<String> {
    use tandem_protocol::items::ItemDetails;
    Some(match msg {
        EventMsg::ItemCompleted { item } => match &item.details {
            ItemDetails::AgentMessage { text } => text.clone(),
            ItemDetails::CommandExecution {
                command, exit_code, ..
            } => format!("ran `{command}` (exit {})", exit_code.unwrap_or(-1)),
            ItemDetails::FileChange { changes, status } => {
                let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
                format!("file change {status:?}: {}", paths.join(", "))
            }
            ItemDetails::Error { message } => format!("error: {message}"),
            _ => return None,
        },
        EventMsg::TurnCompleted { .. } => "turn completed".into(),
        EventMsg::TurnFailed { error } => format!("turn failed: {}", error.message),
        EventMsg::TurnAborted { reason } => format!("turn interrupted: {reason}"),
        EventMsg::Error { message } | EventMsg::Warning { message } => message.clone(),
        _ => return None,
    })
}
