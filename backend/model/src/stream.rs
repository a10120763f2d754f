//! [`ResponseStream`]: the body of a model response, decoded lazily as the kernel reads it.
//!
//! There is no background task: the stream is a state machine over the HTTP body, polled by
//! whoever reads it. Dropping it closes the connection at once, which is exactly what an
//! interrupted turn needs (no orphaned task keeps a model generating tokens nobody reads).

use crate::chat_stream::ChatParser;
use crate::error::ModelError;
use crate::responses::ResponsesParser;
use crate::sse::{SseDecoder, SseEvent};
use crate::types::ResponseEvent;
use bytes::Bytes;
use futures::stream::{BoxStream, Stream, StreamExt};
use std::collections::VecDeque;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Events of one model response. Ends after [`ResponseEvent::Completed`] or after the first
/// error; never yields anything after either.
pub struct ResponseStream {
    inner: BoxStream<'static, Result<ResponseEvent, ModelError>>,
}

impl ResponseStream {
    /// Wraps any stream of events. The client builds its streams this way; tests of code
    /// that consumes a `ResponseStream` can use it to script one without a server.
    pub fn from_stream(
        stream: impl Stream<Item = Result<ResponseEvent, ModelError>> + Send + 'static,
    ) -> Self {
        ResponseStream {
            inner: stream.boxed(),
        }
    }

    /// A stream that yields `events` and ends.
    pub fn from_events(events: Vec<Result<ResponseEvent, ModelError>>) -> Self {
        Self::from_stream(futures::stream::iter(events))
    }
}

impl std::fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseStream").finish_non_exhaustive()
    }
}

impl Stream for ResponseStream {
    type Item = Result<ResponseEvent, ModelError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

/// A queue the wire parsers write events into.
#[derive(Debug, Default)]
pub(crate) struct EventSink {
    queue: VecDeque<Result<ResponseEvent, ModelError>>,
}

impl EventSink {
    pub(crate) fn push(&mut self, event: ResponseEvent) {
        self.queue.push_back(Ok(event));
    }

    pub(crate) fn fail(&mut self, error: ModelError) {
        self.queue.push_back(Err(error));
    }

    fn pop(&mut self) -> Option<Result<ResponseEvent, ModelError>> {
        self.queue.pop_front()
    }

    pub(crate) fn into_events(self) -> Vec<Result<ResponseEvent, ModelError>> {
        self.queue.into()
    }

    /// The queued events with errors as their messages, for assertions.
    #[cfg(test)]
    pub(crate) fn drain_for_test(&mut self) -> Vec<Result<ResponseEvent, String>> {
        self.queue
            .drain(..)
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
    }
}

/// Which wire format the body is in.
#[derive(Debug)]
pub(crate) enum WireParser {
    Responses(ResponsesParser),
    Chat(ChatParser),
}

impl WireParser {
    fn on_event(&mut self, event: &SseEvent, sink: &mut EventSink) -> bool {
        match self {
            WireParser::Responses(p) => p.on_event(event, sink),
            WireParser::Chat(p) => p.on_event(event, sink),
        }
    }

    fn on_eof(&mut self, sink: &mut EventSink) {
        match self {
            WireParser::Responses(p) => p.on_eof(sink),
            WireParser::Chat(p) => p.on_eof(sink),
        }
    }
}

struct State {
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    decoder: SseDecoder,
    parser: WireParser,
    sink: EventSink,
    idle: Duration,
    done: bool,
}

impl State {
    /// Reads body chunks until there is an event to hand out or the body is over.
    async fn next_event(&mut self) -> Option<Result<ResponseEvent, ModelError>> {
        loop {
            if let Some(event) = self.sink.pop() {
                if event.is_err() {
                    self.done = true;
                    self.sink = EventSink::default();
                }
                return Some(event);
            }
            if self.done {
                return None;
            }
            let mut events = Vec::new();
            match tokio::time::timeout(self.idle, self.body.next()).await {
                Err(_) => {
                    self.done = true;
                    return Some(Err(ModelError::idle_timeout(self.idle)));
                }
                Ok(Some(Ok(chunk))) => self.decoder.push(&chunk, &mut events),
                Ok(Some(Err(err))) => {
                    self.done = true;
                    return Some(Err(ModelError::StreamEnded {
                        detail: format!(
                            "the connection failed mid-response: {}",
                            crate::client::error_chain(&err)
                        ),
                    }));
                }
                Ok(None) => {
                    self.decoder.finish(&mut events);
                    if !self.feed(&events) {
                        self.parser.on_eof(&mut self.sink);
                    }
                    self.done = true;
                    continue;
                }
            }
            if self.feed(&events) {
                self.done = true;
            }
        }
    }

    /// Hands decoded SSE events to the parser; true once the response is over.
    fn feed(&mut self, events: &[SseEvent]) -> bool {
        events
            .iter()
            .any(|event| self.parser.on_event(event, &mut self.sink))
    }
}

/// The stream over a successful (2xx) streaming response body.
pub(crate) fn sse_stream(
    body: BoxStream<'static, reqwest::Result<Bytes>>,
    parser: WireParser,
    idle: Duration,
) -> ResponseStream {
    let state = State {
        body,
        decoder: SseDecoder::new(),
        parser,
        sink: EventSink::default(),
        idle,
        done: false,
    };
    ResponseStream::from_stream(futures::stream::unfold(state, |mut state| async move {
        let event = state.next_event().await?;
        Some((event, state))
    }))
}
