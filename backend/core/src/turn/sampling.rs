//! One model call: build the prompt, stream the reply into items and history, and retry a
//! stream that breaks off.

use super::{TurnContext, TurnEnd};
use futures::StreamExt;
use tandem_model::{Prompt, ResponseEvent, ResponseItem};
use tandem_protocol::events::{ErrorInfo, EventMsg};
use tandem_protocol::items::{ItemDetails, ThreadItem, TokenUsage};

/// How often a stream that broke off mid-response is retried before the turn fails.
const STREAM_RETRIES: u32 = 2;

pub(super) struct Sampled {
    pub calls: Vec<(String, String, String)>,
    pub last_message: Option<String>,
}

pub(super) async fn sample(ctx: &TurnContext, usage: &mut TokenUsage) -> Result<Sampled, TurnEnd> {
    let mut attempt = 0;
    let mut compacted = false;
    loop {
        let history_len = ctx.session.state().history.len();
        match sample_once(ctx, usage).await {
            Ok(s) => return Ok(s),
            Err(Failure::Aborted) => {
                return Err(TurnEnd::Aborted("interrupted by the user".into()));
            }
            Err(Failure::Model(tandem_model::ModelError::ContextWindowExceeded { .. }))
                if !compacted =>
            {
                // The provider knows the window better than our estimate: compact and retry once.
                compacted = true;
                crate::compact::compact(ctx).await;
            }
            Err(Failure::Model(e)) if is_stream_error(&e) && attempt < STREAM_RETRIES => {
                attempt += 1;
                // Drop what the broken attempt added; the retry produces it again.
                ctx.session.state().history.truncate(history_len);
                ctx.emit(EventMsg::Warning {
                    message: format!(
                        "model stream broke off ({e}); retrying ({attempt}/{STREAM_RETRIES})"
                    ),
                });
            }
            Err(Failure::Model(e)) => {
                return Err(TurnEnd::Failed(ErrorInfo::new(
                    e.to_string(),
                    e.turn_error_code(),
                )));
            }
        }
    }
}

/// Errors in the middle of a stream, which a new request may not repeat.
fn is_stream_error(e: &tandem_model::ModelError) -> bool {
    matches!(
        e,
        tandem_model::ModelError::StreamEnded { .. } | tandem_model::ModelError::IdleTimeout { .. }
    )
}

enum Failure {
    Aborted,
    Model(tandem_model::ModelError),
}

/// An item being streamed, not yet complete.
struct Open {
    id: String,
    text: String,
}

async fn sample_once(ctx: &TurnContext, usage: &mut TokenUsage) -> Result<Sampled, Failure> {
    let notices = std::mem::take(&mut ctx.session.state().notices);
    for notice in notices {
        ctx.session
            .push_history(ResponseItem::user_text(format!("[tandem notice] {notice}")));
    }
    let mut tools =
        crate::tools::builtin_specs(ctx.approval != tandem_protocol::ApprovalPolicy::Never);
    if let Some(mcp) = &ctx.session.mcp {
        // Servers that became ready since the last request join here.
        tools.extend(mcp.tools().into_iter().map(|t| t.spec));
    }
    let prompt = Prompt {
        instructions: crate::instructions::BASE_INSTRUCTIONS.to_string(),
        input: ctx.session.state().history.clone(),
        tools,
        parallel_tool_calls: true,
    };
    let mut stream = tokio::select! {
        s = ctx.client.stream(&prompt) => s.map_err(Failure::Model)?,
        () = ctx.cancel.cancelled() => return Err(Failure::Aborted),
    };
    let mut message: Option<Open> = None;
    let mut reasoning: Option<Open> = None;
    let mut out = Sampled {
        calls: Vec::new(),
        last_message: None,
    };
    let mut pending_items: Vec<ResponseItem> = Vec::new();
    loop {
        let event = tokio::select! {
            e = stream.next() => e,
            () = ctx.cancel.cancelled() => {
                close_open(ctx, &mut message, &mut reasoning);
                return Err(Failure::Aborted);
            }
        };
        let event = match event {
            Some(Ok(e)) => e,
            Some(Err(e)) => {
                close_open(ctx, &mut message, &mut reasoning);
                return Err(Failure::Model(e));
            }
            None => {
                close_open(ctx, &mut message, &mut reasoning);
                return Err(Failure::Model(tandem_model::ModelError::StreamEnded {
                    detail: "the stream closed before the response was complete".into(),
                }));
            }
        };
        match event {
            ResponseEvent::Created => {}
            ResponseEvent::OutputTextDelta(delta) => {
                let open = message.get_or_insert_with(|| {
                    start(
                        ctx,
                        ItemDetails::AgentMessage {
                            text: String::new(),
                        },
                    )
                });
                open.text.push_str(&delta);
                ctx.emit(EventMsg::AgentMessageDelta {
                    item_id: open.id.clone(),
                    delta,
                });
            }
            ResponseEvent::ReasoningDelta(delta) => {
                let open = reasoning.get_or_insert_with(|| {
                    start(
                        ctx,
                        ItemDetails::Reasoning {
                            text: String::new(),
                        },
                    )
                });
                open.text.push_str(&delta);
                ctx.emit(EventMsg::ReasoningDelta {
                    item_id: open.id.clone(),
                    delta,
                });
            }
            ResponseEvent::OutputItemDone(item) => {
                match &item {
                    ResponseItem::Message { .. } => {
                        let text = item.message_text().unwrap_or_default();
                        let id = message.take().map(|o| o.id).unwrap_or_else(|| {
                            start(
                                ctx,
                                ItemDetails::AgentMessage {
                                    text: String::new(),
                                },
                            )
                            .id
                        });
                        ctx.emit(EventMsg::ItemCompleted {
                            item: ThreadItem {
                                id,
                                details: ItemDetails::AgentMessage { text: text.clone() },
                            },
                        });
                        out.last_message = Some(text);
                    }
                    ResponseItem::Reasoning { summary, .. } => {
                        let text = summary.join("\n");
                        let open = reasoning.take();
                        if !text.is_empty() || open.is_some() {
                            let id = open
                                .as_ref()
                                .map(|o| o.id.clone())
                                .unwrap_or_else(|| ctx.session.next_item_id());
                            let text = if text.is_empty() {
                                open.map(|o| o.text).unwrap_or_default()
                            } else {
                                text
                            };
                            ctx.emit(EventMsg::ItemCompleted {
                                item: ThreadItem {
                                    id,
                                    details: ItemDetails::Reasoning { text },
                                },
                            });
                        }
                    }
                    ResponseItem::FunctionCall {
                        call_id,
                        name,
                        arguments,
                    } => {
                        out.calls
                            .push((call_id.clone(), name.clone(), arguments.clone()));
                    }
                    ResponseItem::FunctionCallOutput { .. } => {}
                }
                pending_items.push(item);
            }
            ResponseEvent::Completed { usage: u, .. } => {
                if let Some(u) = u {
                    usage.add(&u);
                    let session_total = {
                        let mut state = ctx.session.state();
                        state.usage.add(&u);
                        state.last_input_tokens = u.input_tokens + u.output_tokens;
                        state.usage
                    };
                    ctx.emit(EventMsg::TokenCount {
                        turn: *usage,
                        session: session_total,
                    });
                }
                close_open(ctx, &mut message, &mut reasoning);
                // Only a complete response enters the history, so a broken stream can be
                // retried without duplicates.
                for item in pending_items {
                    ctx.session.push_history(item);
                }
                return Ok(out);
            }
        }
    }
}

fn start(ctx: &TurnContext, details: ItemDetails) -> Open {
    let id = ctx.session.next_item_id();
    ctx.emit(EventMsg::ItemStarted {
        item: ThreadItem {
            id: id.clone(),
            details,
        },
    });
    Open {
        id,
        text: String::new(),
    }
}

/// Complete items whose final form never arrived (Chat streams, or a broken stream), with the
/// text streamed so far, so no shell is left with an item that never ends.
fn close_open(ctx: &TurnContext, message: &mut Option<Open>, reasoning: &mut Option<Open>) {
    if let Some(o) = message.take() {
        ctx.emit(EventMsg::ItemCompleted {
            item: ThreadItem {
                id: o.id,
                details: ItemDetails::AgentMessage { text: o.text },
            },
        });
    }
    if let Some(o) = reasoning.take() {
        ctx.emit(EventMsg::ItemCompleted {
            item: ThreadItem {
                id: o.id,
                details: ItemDetails::Reasoning { text: o.text },
            },
        });
    }
}
