//! Newline-delimited JSON-RPC on stdin/stdout that knows when the client has gone.
//!
//! The crate's own `Stdio` transport keeps the connection open after stdin reaches its end
//! (the agent would live on as an orphan once the editor closes the pipe), so this transport
//! signals end-of-input, and the agent's main loop returns on that signal.

use agent_client_protocol::Lines;
use futures::{Sink, Stream};
use std::io;
use std::pin::Pin;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::oneshot;

type Incoming = Pin<Box<dyn Stream<Item = io::Result<String>> + Send>>;
type Outgoing = Pin<Box<dyn Sink<String, Error = io::Error> + Send>>;

/// The stdio transport, and a receiver that fires when stdin ends (or fails).
pub(crate) fn stdio() -> (Lines<Outgoing, Incoming>, oneshot::Receiver<()>) {
    let (eof_tx, eof_rx) = oneshot::channel();
    let lines = BufReader::new(tokio::io::stdin()).lines();
    let incoming: Incoming = Box::pin(futures::stream::unfold(
        (lines, Some(eof_tx)),
        |(mut lines, mut eof)| async move {
            match lines.next_line().await {
                Ok(Some(line)) => Some((Ok(line), (lines, eof))),
                Ok(None) | Err(_) => {
                    if let Some(tx) = eof.take() {
                        let _ = tx.send(());
                    }
                    None
                }
            }
        },
    ));
    let outgoing: Outgoing = Box::pin(futures::sink::unfold(
        tokio::io::stdout(),
        async |mut out, line: String| {
            // One write per message, so a message is never left without its newline.
            let mut bytes = line.into_bytes();
            bytes.push(b'\n');
            out.write_all(&bytes).await?;
            out.flush().await?;
            Ok::<_, io::Error>(out)
        },
    ));
    (Lines::new(outgoing, incoming), eof_rx)
}
