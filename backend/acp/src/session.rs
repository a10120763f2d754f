//! One ACP session: a kernel, and the loop that runs a `session/prompt` turn.
//!
//! The prompt request stays pending for the whole turn (ACP v1). Events become
//! `session/update`s as they come; an approval becomes a `session/request_permission` that the
//! loop awaits; `session/cancel` interrupts the kernel, and the turn answers `cancelled` once
//! the kernel has closed it (killed commands, history left valid).

use crate::permission;
use crate::updates::UpdateMapper;
use agent_client_protocol::schema::{
    ContentBlock, EmbeddedResourceResource, SessionId, SessionNotification, StopReason,
};
use agent_client_protocol::{Client, ConnectionTo};
use std::path::PathBuf;
use std::sync::Mutex;
use tandem_core::{
    FollowedTurn, InterruptOnDrop, Kernel, KernelError, KernelOptions, OpSender, SandboxHelper,
    TurnFollower,
};
use tandem_protocol::ReviewDecision;
use tandem_protocol::events::{ErrorInfo, EventMsg, TurnErrorCode};
use tandem_protocol::ops::{Op, UserInput};
use tokio_util::sync::CancellationToken;

/// How a prompt turn ended, for the `session/prompt` response.
#[derive(Debug, PartialEq)]
pub(crate) enum PromptEnd {
    Stop(StopReason),
    /// The turn failed; the prompt is answered with this error message.
    Failed(String),
}

pub(crate) struct AcpSession {
    pub id: SessionId,
    pub cwd: PathBuf,
    driver: tokio::sync::Mutex<TurnFollower>,
    ops: OpSender,
    /// The running turn's cancel token, for `session/cancel`.
    running: Mutex<Option<CancellationToken>>,
}

impl AcpSession {
    pub(crate) fn spawn(
        config: tandem_config::Config,
        resume: Option<PathBuf>,
        sandbox_helper: Option<SandboxHelper>,
    ) -> Result<AcpSession, KernelError> {
        let cwd = config.cwd.clone();
        let kernel = Kernel::spawn(
            config,
            KernelOptions {
                resume,
                sandbox_helper,
                ..KernelOptions::default()
            },
        )?;
        Ok(AcpSession {
            id: SessionId::new(kernel.session_id()),
            cwd,
            ops: kernel.sender(),
            driver: tokio::sync::Mutex::new(TurnFollower::new(kernel)),
            running: Mutex::new(None),
        })
    }

    /// `session/cancel`: interrupt the running turn, if any.
    pub(crate) fn cancel(&self) {
        if let Some(token) = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            token.cancel();
        }
    }

    /// Run one prompt turn, streaming updates to `cx`.
    pub(crate) async fn prompt(
        &self,
        prompt: Vec<ContentBlock>,
        cx: &ConnectionTo<Client>,
    ) -> Result<PromptEnd, KernelError> {
        let mut driver = self.driver.lock().await;
        let cancel = CancellationToken::new();
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = Some(cancel.clone());
        let submitted = driver.submit(user_input(prompt), Default::default());
        let mut guard = InterruptOnDrop::new(self.ops.clone());
        let result = match submitted {
            Ok(mut turn) => self.drive(&mut driver, &mut turn, &cancel, cx).await,
            Err(e) => Err(e),
        };
        guard.disarm();
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = None;
        result
    }

    async fn drive(
        &self,
        driver: &mut TurnFollower,
        turn: &mut FollowedTurn,
        cancel: &CancellationToken,
        cx: &ConnectionTo<Client>,
    ) -> Result<PromptEnd, KernelError> {
        let mut mapper = UpdateMapper::new(self.cwd.clone());
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
                return Ok(PromptEnd::Failed("the session ended unexpectedly".into()));
            };
            for update in mapper.map(&event) {
                self.notify(cx, update);
            }
            match event.msg {
                EventMsg::ApprovalRequest(request) => {
                    let decision = if interrupted {
                        ReviewDecision::Cancel
                    } else {
                        // The answer is routed through a callback rather than awaited in place:
                        // the connection must still be able to deliver it after a cancel has
                        // made this loop stop waiting (the crate fails the whole connection on
                        // a response whose waiter is gone).
                        let (tx, asked) = tokio::sync::oneshot::channel();
                        let sent = cx
                            .send_request(permission::request(&self.id, &self.cwd, &request))
                            .on_receiving_result(async move |answer| {
                                let _ = tx.send(answer);
                                Ok(())
                            });
                        if let Err(e) = sent {
                            tracing::warn!("cannot ask for permission: {e:?}");
                        }
                        tokio::select! {
                            answer = asked => match answer {
                                Ok(answer) => permission::decision(answer),
                                Err(_) => ReviewDecision::Deny,
                            },
                            () = cancel.cancelled() => {
                                // The client answers its open permission requests `cancelled`;
                                // the interrupt has already cancelled this one in the kernel.
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
                EventMsg::TurnCompleted { .. } => return Ok(PromptEnd::Stop(StopReason::EndTurn)),
                EventMsg::TurnAborted { .. } => return Ok(PromptEnd::Stop(StopReason::Cancelled)),
                EventMsg::TurnFailed { error } if interrupted => {
                    tracing::debug!("turn failed after a cancel: {}", error.message);
                    return Ok(PromptEnd::Stop(StopReason::Cancelled));
                }
                EventMsg::TurnFailed { error } => return Ok(failed(error)),
                EventMsg::Warning { message } => tracing::warn!("{message}"),
                _ => {}
            }
        }
    }

    fn notify(
        &self,
        cx: &ConnectionTo<Client>,
        update: agent_client_protocol::schema::SessionUpdate,
    ) {
        if let Err(e) = cx.send_notification(SessionNotification::new(self.id.clone(), update)) {
            tracing::debug!("cannot send a session update: {e:?}");
        }
    }

    /// Flush the record and stop the kernel (on exit).
    pub(crate) async fn shutdown(&self) {
        if self.ops.submit(Op::Shutdown).is_err() {
            return;
        }
        let wait = async {
            let mut driver = self.driver.lock().await;
            while let Some(event) = driver.kernel.next_event().await {
                if matches!(event.msg, EventMsg::ShutdownComplete) {
                    break;
                }
            }
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), wait).await;
    }
}

/// A failed turn: a stop reason when ACP has one for it, else an error for the client to show.
pub(crate) fn failed(error: ErrorInfo) -> PromptEnd {
    match error.code {
        Some(TurnErrorCode::MaxToolRounds) => PromptEnd::Stop(StopReason::MaxTurnRequests),
        _ => PromptEnd::Failed(error.message),
    }
}

/// The prompt's content blocks as kernel input: text as typed, embedded resources as context
/// labelled with their URI, links as mentions. Images and audio are not offered in our
/// capabilities, so a client should not send them; if one does, the model is told.
pub(crate) fn user_input(prompt: Vec<ContentBlock>) -> Vec<UserInput> {
    let mut text = String::new();
    let mut context = Vec::new();
    for block in prompt {
        match block {
            ContentBlock::Text(t) => text.push_str(&t.text),
            ContentBlock::ResourceLink(link) => {
                text.push_str(&format!("[@{}]({})", link.name, link.uri));
            }
            ContentBlock::Resource(resource) => match resource.resource {
                EmbeddedResourceResource::TextResourceContents(r) => {
                    context.push(UserInput::Context {
                        label: r.uri,
                        text: r.text,
                    });
                }
                EmbeddedResourceResource::BlobResourceContents(r) => {
                    text.push_str(&format!("[binary resource {} not included]", r.uri));
                }
                _ => text.push_str("[a resource of an unknown kind was not included]"),
            },
            ContentBlock::Image(_) => text.push_str("[an image was attached but is not supported]"),
            ContentBlock::Audio(_) => text.push_str("[audio was attached but is not supported]"),
            _ => text.push_str("[an attachment of an unknown kind was not included]"),
        }
    }
    let mut input = vec![UserInput::Text { text }];
    input.extend(context);
    input
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_client_protocol::schema::{
        EmbeddedResource, ResourceLink, TextContent, TextResourceContents,
    };
    use tandem_core::belongs;

    #[test]
    fn prompts_keep_text_links_and_embedded_files() {
        let input = user_input(vec![
            ContentBlock::Text(TextContent::new("fix ")),
            ContentBlock::ResourceLink(ResourceLink::new("lib.rs", "file:///w/lib.rs")),
            ContentBlock::Resource(EmbeddedResource::new(
                EmbeddedResourceResource::TextResourceContents(TextResourceContents::new(
                    "fn main() {}",
                    "file:///w/main.rs",
                )),
            )),
        ]);
        assert_eq!(
            input,
            vec![
                UserInput::Text {
                    text: "fix [@lib.rs](file:///w/lib.rs)".into()
                },
                UserInput::Context {
                    label: "file:///w/main.rs".into(),
                    text: "fn main() {}".into()
                }
            ]
        );
    }

    #[test]
    fn events_of_other_turns_are_not_this_prompts() {
        let ev = |turn: Option<&str>| tandem_protocol::events::Event {
            turn_id: turn.map(String::from),
            msg: EventMsg::TurnStarted,
        };
        assert!(belongs(&ev(None), None));
        assert!(belongs(&ev(Some("turn_2")), Some("turn_2")));
        assert!(!belongs(&ev(Some("turn_1")), Some("turn_2")));
        assert!(!belongs(&ev(Some("turn_1")), None));
    }

    #[test]
    fn round_limits_are_max_turn_requests() {
        assert_eq!(
            failed(ErrorInfo::new(
                "out of rounds",
                TurnErrorCode::MaxToolRounds
            )),
            PromptEnd::Stop(StopReason::MaxTurnRequests)
        );
        // The code decides, not the wording.
        assert_eq!(
            failed(ErrorInfo::new(
                "max_tool_rounds mentioned",
                TurnErrorCode::ProviderError
            )),
            PromptEnd::Failed("max_tool_rounds mentioned".into())
        );
        assert_eq!(
            failed(ErrorInfo {
                message: "boom".into(),
                code: None
            }),
            PromptEnd::Failed("boom".into())
        );
    }
}
