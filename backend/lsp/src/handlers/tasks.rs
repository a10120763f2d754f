//! `tandem/task/start`, `tandem/task/cancel`, `tandem/task/list` and `tandem/task/resume`.
//! The kernels themselves are driven by [`crate::task`].

use crate::error::{LspError, Result};
use crate::handlers::lifecycle;
use crate::state::Shared;
use crate::task::{self, Spec};
use std::sync::Arc;
use tandem_core::SessionStore;
use tandem_protocol::ops::{Op, TurnOverrides};
use tandem_protocol_ext::task::{
    TaskCancelParams, TaskListResult, TaskResumeParams, TaskStartParams, TaskStartResult,
};
use tandem_protocol_ext::types::Empty;
use tower_lsp_server::lsp_types as lsp;

pub async fn start(shared: &Arc<Shared>, params: TaskStartParams) -> Result<TaskStartResult> {
    let spec = Spec {
        prompt: Some(params.prompt),
        overrides: TurnOverrides {
            sandbox_mode: params.sandbox_mode,
            approval_policy: params.approval_policy,
            model: params.model,
        },
        resume: None,
    };
    let task_id = task::start(shared, spec).await?;
    Ok(TaskStartResult { task_id })
}

pub fn cancel(shared: &Shared, params: TaskCancelParams) -> Result<Empty> {
    let mut s = shared.lock();
    let task = s
        .tasks
        .get_mut(&params.task_id)
        .ok_or_else(|| LspError::UnknownTask(params.task_id.clone()))?;
    task.cancelled = true;
    // A task whose turn already ended has no kernel left to interrupt; that is not an error.
    let _ = task.ops.submit(Op::Interrupt);
    Ok(Empty {})
}

/// `window/workDoneProgress/cancel`: the cancel button of a task's progress. A token that is
/// not a task's, or a task already gone, is ignored (it is a notification: nobody to tell).
pub fn cancel_progress(shared: &Shared, params: lsp::WorkDoneProgressCancelParams) {
    if let Some(task_id) = crate::progress::task_of(&params.token) {
        let _ = cancel(
            shared,
            TaskCancelParams {
                task_id: task_id.to_string(),
            },
        );
    }
}

pub fn list(shared: &Shared) -> TaskListResult {
    TaskListResult {
        tasks: shared.lock().tasks.infos(),
    }
}

pub async fn resume(shared: &Arc<Shared>, params: TaskResumeParams) -> Result<TaskStartResult> {
    let config = lifecycle::check_config(shared)?;
    let path = SessionStore::new(&config.tandem_home)
        .find(&params.thread_id)
        .map_err(|e| LspError::UnknownThread {
            id: params.thread_id.clone(),
            message: e.to_string(),
        })?;
    let spec = Spec {
        prompt: params.prompt,
        overrides: TurnOverrides::default(),
        resume: Some((path, params.thread_id)),
    };
    let task_id = task::start(shared, spec).await?;
    Ok(TaskStartResult { task_id })
}
