//! A small, incremental Server-Sent Events decoder.
//!
//! We parse SSE ourselves rather than through a generic crate because the model servers we
//! talk to bend the format in ways a strict parser rejects or silently drops: llama.cpp reports
//! mid-stream failures on an `error:` field, some proxies end the body without the final blank
//! line, and network chunks split lines (and UTF-8 characters, and `\r\n` pairs) anywhere. The
//! decoder is fed raw byte chunks and yields complete events; it never allocates per byte.

/// One dispatched event: the `event:` name (if any) and the joined `data:` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, when the server sent one. The Responses API names every event;
    /// Chat Completions servers do not.
    pub event: Option<String>,
    /// The `data:` lines joined with `\n`, without the final newline.
    pub data: String,
}

/// An incremental decoder: push byte chunks in, take complete events out.
#[derive(Debug, Default)]
pub struct SseDecoder {
    /// Bytes of the current, still unterminated line.
    buf: Vec<u8>,
    event: Option<String>,
    data: String,
    has_data: bool,
    /// Whether the byte-order mark check at the start of the stream is done.
    started: bool,
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one chunk of the body and appends every event it completes to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) {
        self.buf.extend_from_slice(chunk);
        if !self.started {
            // Wait until we can tell whether the body starts with a UTF-8 BOM.
            if self.buf.len() < 3 && b"\xEF\xBB\xBF".starts_with(&self.buf) {
                return;
            }
            if self.buf.starts_with(b"\xEF\xBB\xBF") {
                self.buf.drain(..3);
            }
            self.started = true;
        }
        self.drain_lines(false, out);
    }

    /// Ends the stream: a last line without a terminator and an event without its closing
    /// blank line are still dispatched, because servers that end that way meant them.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) {
        self.drain_lines(true, out);
        if !self.buf.is_empty() {
            let line = std::mem::take(&mut self.buf);
            self.process_line(&String::from_utf8_lossy(&line), out);
        }
        self.dispatch(out);
    }

    fn drain_lines(&mut self, at_eof: bool, out: &mut Vec<SseEvent>) {
        let mut start = 0;
        let mut i = 0;
        while i < self.buf.len() {
            match self.buf[i] {
                b'\n' => {
                    let line = String::from_utf8_lossy(&self.buf[start..i]).into_owned();
                    self.process_line(&line, out);
                    i += 1;
                    start = i;
                }
                b'\r' => {
                    // A `\r` at the very end may be the first half of `\r\n`: wait for more.
                    if i + 1 == self.buf.len() && !at_eof {
                        break;
                    }
                    let line = String::from_utf8_lossy(&self.buf[start..i]).into_owned();
                    self.process_line(&line, out);
                    i += if self.buf.get(i + 1) == Some(&b'\n') {
                        2
                    } else {
                        1
                    };
                    start = i;
                }
                _ => i += 1,
            }
        }
        self.buf.drain(..start);
    }

    fn process_line(&mut self, line: &str, out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line.starts_with(':') {
            return; // A comment, typically a keep-alive.
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            // llama.cpp's server reports failures inside a stream as `error: {json}`. The
            // standard says to ignore unknown fields, which would turn a clear provider error
            // into a vague "stream ended early"; we surface it as an `error` event instead.
            "error" => {
                self.event = Some("error".to_string());
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            _ => {} // `id`, `retry` and unknown fields do not matter to us.
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        let event = self.event.take();
        if !self.has_data {
            return;
        }
        self.has_data = false;
        let mut data = std::mem::take(&mut self.data);
        if data.ends_with('\n') {
            data.pop();
        }
        out.push(SseEvent { event, data });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;

    fn ev(event: Option<&str>, data: &str) -> SseEvent {
        SseEvent {
            event: event.map(str::to_string),
            data: data.to_string(),
        }
    }

    fn decode_chunks(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.push(chunk, &mut out);
        }
        decoder.finish(&mut out);
        out
    }

    #[test]
    fn named_and_unnamed_events() {
        let body = b"event: response.created\ndata: {\"a\":1}\n\ndata: {\"b\":2}\n\n";
        assert_eq!(
            decode_chunks(&[body]),
            vec![
                ev(Some("response.created"), "{\"a\":1}"),
                ev(None, "{\"b\":2}")
            ]
        );
    }

    #[test]
    fn multi_line_data_is_joined_with_newlines() {
        let body = b"data: first\ndata: second\ndata:third\n\n";
        assert_eq!(
            decode_chunks(&[body]),
            vec![ev(None, "first\nsecond\nthird")]
        );
    }

    #[test]
    fn comments_and_unknown_fields_are_ignored() {
        let body = b": keep-alive\n\nid: 7\nretry: 100\nfoo: bar\ndata: x\n\n";
        assert_eq!(decode_chunks(&[body]), vec![ev(None, "x")]);
    }

    #[test]
    fn every_split_point_gives_the_same_events() {
        let body = "event: a\r\ndata: héllo wörld\r\n\r\nevent: b\rdata: {\"k\": \"✓\"}\r\rdata: [DONE]\n\n"
            .as_bytes();
        let whole = decode_chunks(&[body]);
        assert_eq!(
            whole,
            vec![
                ev(Some("a"), "héllo wörld"),
                ev(Some("b"), "{\"k\": \"✓\"}"),
                ev(None, "[DONE]"),
            ]
        );
        for split in 0..body.len() {
            let (a, b) = body.split_at(split);
            assert_eq!(decode_chunks(&[a, b]), whole, "split at byte {split}");
        }
        let bytes: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(decode_chunks(&bytes), whole, "one byte at a time");
    }

    #[test]
    fn a_missing_final_blank_line_still_dispatches() {
        assert_eq!(decode_chunks(&[b"data: [DONE]"]), vec![ev(None, "[DONE]")]);
        assert_eq!(
            decode_chunks(&[b"data: [DONE]\n"]),
            vec![ev(None, "[DONE]")]
        );
    }

    #[test]
    fn an_event_name_without_data_is_not_dispatched() {
        assert_eq!(
            decode_chunks(&[b"event: ping\n\ndata: y\n\n"]),
            vec![ev(None, "y")]
        );
    }

    #[test]
    fn empty_data_field_dispatches_an_empty_event() {
        assert_eq!(decode_chunks(&[b"data:\n\n"]), vec![ev(None, "")]);
    }

    #[test]
    fn the_byte_order_mark_is_skipped_even_when_split() {
        let body = b"\xEF\xBB\xBFdata: x\n\n";
        assert_eq!(decode_chunks(&[body]), vec![ev(None, "x")]);
        assert_eq!(
            decode_chunks(&[&body[..1], &body[1..2], &body[2..]]),
            vec![ev(None, "x")]
        );
    }

    #[test]
    fn llama_cpp_error_field_becomes_an_error_event() {
        let body = b"error: {\"code\":500,\"message\":\"boom\"}\n\n";
        assert_eq!(
            decode_chunks(&[body]),
            vec![ev(Some("error"), "{\"code\":500,\"message\":\"boom\"}")]
        );
    }
}
