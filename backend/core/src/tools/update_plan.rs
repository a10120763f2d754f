//! `update_plan`: the model's checklist. It changes nothing; shells show it.

use crate::turn::{ToolOutcome, TurnContext};
use tandem_protocol::events::EventMsg;
use tandem_protocol::items::{ItemDetails, ThreadItem};
use tandem_protocol::items::{PlanStep, StepStatus, TodoItem};

/// The checklist form of a plan, as the `todo_list` item carries it.
pub fn todo_items(plan: &[PlanStep]) -> Vec<TodoItem> {
    plan.iter()
        .map(|s| TodoItem {
            text: s.step.clone(),
            completed: s.status == StepStatus::Completed,
        })
        .collect()
}

/// Reject plans that break the one rule the schema cannot express.
pub fn validate(plan: &[PlanStep]) -> Result<(), String> {
    let in_progress = plan
        .iter()
        .filter(|s| s.status == StepStatus::InProgress)
        .count();
    if in_progress > 1 {
        return Err(format!(
            "at most one step can be in_progress; {in_progress} are"
        ));
    }
    Ok(())
}

/// The plan as plain text, for handoff notes.
pub fn render(plan: &[PlanStep]) -> String {
    plan.iter()
        .map(|s| {
            let mark = match s.status {
                StepStatus::Completed => "[x]",
                StepStatus::InProgress => "[~]",
                StepStatus::Pending => "[ ]",
            };
            format!("- {mark} {}\n", s.step)
        })
        .collect()
}

pub fn handle(ctx: &TurnContext, explanation: Option<String>, plan: Vec<PlanStep>) -> ToolOutcome {
    if let Err(message) = validate(&plan) {
        return ToolOutcome::Output(format!("update_plan failed: {message}"));
    }
    ctx.session.state().plan = plan.clone();
    ctx.emit(EventMsg::PlanUpdated {
        explanation,
        plan: plan.clone(),
    });
    let items = todo_items(&plan);
    let mut slot = ctx.plan_item.lock().unwrap_or_else(|e| e.into_inner());
    match slot.as_ref() {
        Some(id) => ctx.emit(EventMsg::ItemUpdated {
            item: ThreadItem {
                id: id.clone(),
                details: ItemDetails::TodoList { items },
            },
        }),
        None => {
            let id = ctx.session.next_item_id();
            ctx.emit(EventMsg::ItemStarted {
                item: ThreadItem {
                    id: id.clone(),
                    details: ItemDetails::TodoList { items },
                },
            });
            *slot = Some(id);
        }
    }
    ToolOutcome::Output("Plan updated".into())
}
