//! `tandem/review/list`, `tandem/review/accept`, `tandem/review/reject` and
//! `tandem/review/undoTurn`. The code actions and CodeLens commands end up here too.
//!
//! A decision is made by the workspace (which checks that the text under each hunk is still
//! what the hunk replaces) and carried out by [`crate::apply`], which sends the edits and
//! only then answers, so `applied` hunks are in the buffer when the client reads the result.

use crate::apply;
use crate::convert;
use crate::error::Result;
use crate::state::Shared;
use std::sync::Arc;
use tandem_protocol_ext::review::{
    ReviewDecisionParams, ReviewDecisionResult, ReviewListParams, ReviewListResult,
    ReviewUndoTurnParams,
};

pub fn list(shared: &Shared, params: ReviewListParams) -> Result<ReviewListResult> {
    let only = params
        .uri
        .as_deref()
        .map(convert::uri_to_path)
        .transpose()?;
    let s = shared.lock();
    let changes =
        s.ws.review()
            .list(s.ws.encoding())
            .iter()
            .filter(|c| {
                only.as_ref()
                    .is_none_or(|p| c.files.iter().any(|f| &*f.path == p.as_path()))
            })
            .map(convert::review_change)
            .collect();
    Ok(ReviewListResult {
        generation: s.ws.review().generation(),
        changes,
    })
}

/// Accepts (`accept`) or rejects the target, then carries the decision out.
pub async fn decide(
    shared: &Arc<Shared>,
    params: ReviewDecisionParams,
    accept: bool,
) -> Result<ReviewDecisionResult> {
    let target = convert::target(&params.target)?;
    let outcome = {
        let mut s = shared.lock();
        if accept {
            s.ws.accept(&target)
        } else {
            s.ws.reject(&target)
        }
    };
    match outcome {
        Ok(outcome) => Ok(apply::carry_out(shared, outcome).await),
        Err(e) => {
            // A refusal may still have changed a state (a hunk found stale is now conflicted).
            apply::sync_review(shared).await;
            Err(e.into())
        }
    }
}

pub async fn undo_turn(
    shared: &Arc<Shared>,
    params: ReviewUndoTurnParams,
) -> Result<ReviewDecisionResult> {
    let outcome = shared.lock().ws.undo_turn(&params.turn_id)?;
    Ok(apply::carry_out(shared, outcome).await)
}
