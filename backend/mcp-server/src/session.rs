//! Sessions held by the server, and the loop that runs one turn of a session to its end.
//!
//! A session is a [`Kernel`] behind an async mutex: a turn holds the lock from its prompt to
//! its last event, so two `tandem-reply` calls on one thread queue up instead of mixing their
//! events. Interrupts and approvals go through a cloned [`OpSender`], which needs no lock.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tandem_core::{
    FollowedTurn, InterruptOnDrop, Kernel, KernelError, KernelOptions, OpSender, SandboxHelper,
    SessionStore, TurnFollower,
};
use tandem_protocol::ReviewDecision;
use tandem_protocol::events::{ApprovalRequest, ErrorInfo, Event, EventMsg};
use tandem_protocol::ops::{Op, UserInput};
use tokio_util::sync::CancellationToken;

/// How a turn ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TurnEnd {
    Completed { last_message: Option<String> },
    Failed(ErrorInfo),
    Aborted(String),
}

/// What a turn driver is told, and asked.
pub(crate) trait TurnHooks {
    /// Every event of the turn, in order (approval requests included, before `decide`).
    async fn on_event(&mut self, event: &Event);
    /// The answer to an approval request. Cancel-safe: dropped if the call is cancelled.
    async fn decide(&mut self, request: &ApprovalRequest) -> ReviewDecision;
}

pub(crate) struct Session {
    pub id: String,
    driver: tokio::sync::Mutex<TurnFollower>,
    ops: OpSender,
}

impl Session {
    /// Start (or resume) a kernel. The first events (`session_configured`, warnings) wait in
    /// its queue and reach the client with the first turn.
    pub(crate) fn spawn(
        config: tandem_config::Config,
        resume: Option<PathBuf>,
        sandbox_helper: Option<SandboxHelper>,
    ) -> Result<Arc<Session>, KernelError> {
        let kernel = Kernel::spawn(
            config,
            KernelOptions {
                resume,
                sandbox_helper,
                ..KernelOptions::default()
            },
        )?;
        Ok(Arc::new(Session {
            id: kernel.session_id().to_string(),
            ops: kernel.sender(),
            driver: tokio::sync::Mutex::new(TurnFollower::new(kernel)),
        }))
    }

    /// Run one turn with `prompt` to its end. `cancel` interrupts it (the client cancelled the
    /// request); the turn then ends `Aborted` once the kernel has closed it cleanly. If this
    /// future is dropped instead (the transport gave up on the call), the turn is interrupted
    /// all the same.
    pub(crate) async fn run_turn(
        &self,
        prompt: String,
        cancel: &CancellationToken,
        hooks: &mut impl TurnHooks,
    ) -> Result<TurnEnd, KernelError> {
        let mut driver = self.driver.lock().await;
        let mut turn = driver.submit(vec![UserInput::Text { text: prompt }], Default::default())?;
        let mut guard = InterruptOnDrop::new(self.ops.clone());
        let result = self.drive(&mut driver, &mut turn, cancel, hooks).await;
        guard.disarm();
        result
    }

    async fn drive(
        &self,
        driver: &mut TurnFollower,
        turn: &mut FollowedTurn,
        cancel: &CancellationToken,
        hooks: &mut impl TurnHooks,
    ) -> Result<TurnEnd, KernelError> {
        let mut interrupted = false;
        loop {
            let event = tokio::select! {
                event = driver.next_event(turn) => event?,
                () = cancel.cancelled(), if !interrupted => {
                    interrupted = true;
                    self.ops.submit(Op::Interrupt)?;
                    continue;
                }
            };
            let Some(event) = event else {
                return Ok(TurnEnd::Failed(ErrorInfo {
                    message: "the session ended unexpectedly".into(),
                    code: None,
                }));
            };
            hooks.on_event(&event).await;
            match event.msg {
                EventMsg::ApprovalRequest(request) => {
                    let decision = if interrupted {
                        ReviewDecision::Cancel
                    } else {
                        tokio::select! {
                            decision = hooks.decide(&request) => decision,
                            () = cancel.cancelled() => {
                                // The interrupt cancels the pending approval inside the kernel.
                                interrupted = true;
                                self.ops.submit(Op::Interrupt)?;
                                continue;
                            }
                        }
                    };
                    self.ops.submit(Op::Approval {
                        id: request.id,
                        decision,
                    })?;
                }
                EventMsg::TurnCompleted {
                    last_agent_message, ..
                } => {
                    return Ok(TurnEnd::Completed {
                        last_message: last_agent_message,
                    });
                }
                EventMsg::TurnFailed { error } => return Ok(TurnEnd::Failed(error)),
                EventMsg::TurnAborted { reason } => return Ok(TurnEnd::Aborted(reason)),
                EventMsg::ShutdownComplete => {
                    return Ok(TurnEnd::Failed(ErrorInfo {
                        message: "the session was shut down".into(),
                        code: None,
                    }));
                }
                _ => {}
            }
        }
    }

    /// Ask the kernel to flush its record and stop; waits a little for it.
    async fn shutdown(&self) {
        if self.ops.submit(Op::Shutdown).is_err() {
            return;
        }
        let Ok(mut driver) = tokio::time::timeout(Duration::from_secs(2), self.driver.lock()).await
        else {
            return;
        };
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(event) = driver.kernel.next_event().await {
                if matches!(event.msg, EventMsg::ShutdownComplete) {
                    break;
                }
            }
        })
        .await;
    }
}

/// Every session this server started or resumed, by thread id.
#[derive(Clone, Default)]
pub(crate) struct Sessions {
    inner: Arc<Mutex<HashMap<String, Arc<Session>>>>,
}

impl Sessions {
    pub(crate) fn get(&self, id: &str) -> Option<Arc<Session>> {
        self.lock().get(id).cloned()
    }

    pub(crate) fn insert(&self, session: Arc<Session>) {
        self.lock().insert(session.id.clone(), session);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Find a session: in memory, or recorded under `$TANDEM_HOME/sessions` (then resumed with
    /// `config`, whose cwd is replaced by the recorded one).
    pub(crate) fn find_or_resume(
        &self,
        id: &str,
        mut config: tandem_config::Config,
        sandbox_helper: Option<SandboxHelper>,
    ) -> Result<Arc<Session>, String> {
        if let Some(session) = self.get(id) {
            return Ok(session);
        }
        let store = SessionStore::new(&config.tandem_home);
        let path = store.find(id).map_err(|e| e.to_string())?;
        // A unique prefix may have matched a session already running here.
        if let Some(stem) = path.file_stem().and_then(|s| s.to_str())
            && let Some(session) = self.get(stem)
        {
            return Ok(session);
        }
        let replayed = tandem_core::rollout::replay(&path).map_err(|e| e.to_string())?;
        if let Some(meta) = &replayed.meta {
            let recorded = PathBuf::from(&meta.cwd);
            if recorded.is_dir() {
                config.cwd = recorded;
            }
        }
        let session = Session::spawn(config, Some(path), sandbox_helper)
            .map_err(|e| format!("cannot resume session {id}: {e}"))?;
        self.insert(session.clone());
        Ok(session)
    }

    /// Shut every session down, so their records are complete.
    pub(crate) async fn shutdown_all(&self) {
        let all: Vec<Arc<Session>> = self.lock().drain().map(|(_, s)| s).collect();
        for session in all {
            session.shutdown().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_core::belongs;

    fn ev(turn_id: Option<&str>) -> Event {
        Event {
            turn_id: turn_id.map(String::from),
            msg: EventMsg::TurnStarted,
        }
    }

    #[test]
    fn events_of_other_turns_are_not_this_calls() {
        assert!(belongs(&ev(None), None));
        assert!(belongs(&ev(None), Some("turn_1")));
        assert!(belongs(&ev(Some("turn_1")), Some("turn_1")));
        assert!(!belongs(&ev(Some("turn_0")), Some("turn_1")));
        assert!(!belongs(&ev(Some("turn_0")), None));
    }
}
