//! Following one submitted turn on a kernel that successive callers share (an MCP tool call,
//! an ACP prompt): which events are this turn's, and which are the tail of a turn its caller
//! abandoned.
//!
//! Turns start in the order their `UserTurn`s were submitted, so the n-th submission owns the
//! n-th `turn_started`, and then every event carrying that turn's id. Session-wide events (no
//! turn id) belong to whoever is listening.

use crate::{Kernel, KernelError, OpSender};
use tandem_protocol::ReviewDecision;
use tandem_protocol::events::{Event, EventMsg};
use tandem_protocol::ops::{Op, TurnOverrides, UserInput};

/// A kernel plus the count of turns submitted to it and started by it.
pub struct TurnFollower {
    pub kernel: Kernel,
    submitted: u64,
    started: u64,
}

/// One submitted turn, as [`TurnFollower::next_event`] tracks it.
pub struct FollowedTurn {
    ordinal: u64,
    id: Option<String>,
}

impl TurnFollower {
    pub fn new(kernel: Kernel) -> Self {
        TurnFollower {
            kernel,
            submitted: 0,
            started: 0,
        }
    }

    /// Submit a user turn and start following it.
    pub fn submit(
        &mut self,
        input: Vec<UserInput>,
        overrides: TurnOverrides,
    ) -> Result<FollowedTurn, KernelError> {
        self.kernel.submit(Op::UserTurn { input, overrides })?;
        self.submitted += 1;
        Ok(FollowedTurn {
            ordinal: self.submitted,
            id: None,
        })
    }

    /// The next event of `turn` (or of the session). Events of earlier, abandoned turns are
    /// skipped, and their approval requests are answered `Cancel` so they cannot wait forever.
    /// `None` once the session has ended.
    pub async fn next_event(
        &mut self,
        turn: &mut FollowedTurn,
    ) -> Result<Option<Event>, KernelError> {
        loop {
            let Some(event) = self.kernel.next_event().await else {
                return Ok(None);
            };
            if matches!(event.msg, EventMsg::TurnStarted) {
                self.started += 1;
                if self.started == turn.ordinal {
                    turn.id.clone_from(&event.turn_id);
                }
            }
            if belongs(&event, turn.id.as_deref()) {
                return Ok(Some(event));
            }
            if let EventMsg::ApprovalRequest(request) = event.msg {
                self.kernel.submit(Op::Approval {
                    id: request.id,
                    decision: ReviewDecision::Cancel,
                })?;
            }
        }
    }
}

/// Whether `event` is the turn `mine`'s (or session-wide, with no turn id).
pub fn belongs(event: &Event, mine: Option<&str>) -> bool {
    match (event.turn_id.as_deref(), mine) {
        (None, _) => true,
        (Some(turn), Some(mine)) => turn == mine,
        (Some(_), None) => false,
    }
}

/// Interrupts the running turn when dropped, unless disarmed: a caller that goes away (its
/// request future dropped) stops its turn rather than leaving it running unseen.
pub struct InterruptOnDrop(Option<OpSender>);

impl InterruptOnDrop {
    pub fn new(ops: OpSender) -> Self {
        InterruptOnDrop(Some(ops))
    }

    /// The turn ended normally: do nothing on drop.
    pub fn disarm(&mut self) {
        self.0 = None;
    }
}

impl Drop for InterruptOnDrop {
    fn drop(&mut self) {
        if let Some(ops) = self.0.take() {
            let _ = ops.submit(Op::Interrupt);
        }
    }
}
