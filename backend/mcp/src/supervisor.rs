//! One task per server: start it, watch it, restart it with backoff, and give up cleanly.
//!
//! The supervisor is the only writer of its server's state. Calls read the state and, when they
//! see the connection break, only *report* it (by generation number), so two calls failing at
//! once cannot cause two restarts, and a report about an old connection cannot kill a new one.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::connect::{self, ConnectContext, Connection};
use crate::event::{McpEvent, RestartPolicy};
use crate::manager::{Live, ServerSlot, Shared, State};

/// How a live connection ended.
enum Ended {
    /// The manager is shutting down.
    Cancelled,
    /// The server died or the connection broke; the reason is for people.
    Lost(String),
}

/// Runs one server for the whole session.
pub(crate) async fn supervise(
    shared: Arc<Shared>,
    slot: Arc<ServerSlot>,
    ctx: ConnectContext,
    policy: RestartPolicy,
    cancel: CancellationToken,
    mut lost_rx: mpsc::UnboundedReceiver<u64>,
) {
    let name = slot.name.clone();
    let startup_timeout = slot.config.startup_timeout();
    // Restarts in a row since the server was last stable.
    let mut attempt = 0u32;
    let mut ever_ready = false;
    loop {
        shared.set_state(&slot, State::Starting);
        shared.emit(McpEvent::Starting {
            server: name.clone(),
        });
        let started = tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            r = tokio::time::timeout(startup_timeout, connect::connect(&name, &slot.config, &ctx)) => r,
        };
        let error = match started {
            Err(_) => format!(
                "it did not finish starting (initialize and tools/list) within {}s; if it is only slow (npx downloads on first use), raise startup_timeout_sec in [mcp_servers.{name}]",
                startup_timeout.as_secs_f64()
            ),
            Ok(Err(e)) => e,
            Ok(Ok(mut conn)) => {
                ever_ready = true;
                let ready_at = Instant::now();
                match run(&shared, &slot, &mut conn, &cancel, &mut lost_rx).await {
                    Ended::Cancelled => {
                        conn.shutdown().await;
                        break;
                    }
                    Ended::Lost(why) => {
                        if ready_at.elapsed() >= policy.stable_after {
                            attempt = 0;
                        }
                        tracing::warn!(server = %name, "MCP server stopped: {why}");
                        // Out of `Ready` before the clean-up, so no new call is sent to the
                        // dead connection and calls in flight learn why at once.
                        slot.set_last_error(&why);
                        shared.set_state(
                            &slot,
                            State::Restarting {
                                attempt: attempt + 1,
                            },
                        );
                        shared.emit(McpEvent::Exited {
                            server: name.clone(),
                            error: why.clone(),
                        });
                        conn.shutdown().await;
                        why
                    }
                }
            }
        };
        if !ever_ready {
            // The first start failed: a configuration problem or a broken server, which
            // retrying will not fix. Say so once and let the session go on without it.
            tracing::warn!(server = %name, "MCP server failed to start: {error}");
            fail(&shared, &slot, error);
            return;
        }
        attempt += 1;
        if attempt > policy.max_attempts {
            let n = policy.max_attempts;
            fail(
                &shared,
                &slot,
                format!("gave up after {n} restarts in a row; the last error: {error}"),
            );
            return;
        }
        let delay = policy.delay(attempt);
        slot.set_last_error(&error);
        shared.set_state(&slot, State::Restarting { attempt });
        shared.emit(McpEvent::Restarting {
            server: name.clone(),
            attempt,
            delay,
        });
        tokio::select! {
            biased;
            () = cancel.cancelled() => break,
            () = tokio::time::sleep(delay) => {}
        }
    }
    shared.set_state(&slot, State::Stopped);
}

fn fail(shared: &Shared, slot: &ServerSlot, error: String) {
    slot.set_last_error(&error);
    shared.set_state(slot, State::Failed(error.clone()));
    shared.emit(McpEvent::Failed {
        server: slot.name.clone(),
        error,
    });
}

/// Publishes a live connection and watches it until it ends; the caller cleans it up.
async fn run(
    shared: &Shared,
    slot: &ServerSlot,
    conn: &mut Connection,
    cancel: &CancellationToken,
    lost_rx: &mut mpsc::UnboundedReceiver<u64>,
) -> Ended {
    let generation = shared.next_generation();
    slot.set_known_tools(conn.tools.clone());
    shared.set_state(
        slot,
        State::Ready(Arc::new(Live {
            peer: conn.peer.clone(),
            generation,
        })),
    );
    shared.emit(McpEvent::Ready {
        server: slot.name.clone(),
        tools: slot.exposed_tool_count(),
    });
    let (_keep_open, never) = mpsc::unbounded_channel();
    let mut tools_changed = conn.tools_changed.take().unwrap_or(never);
    loop {
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Ended::Cancelled,
            why = conn.closed() => return Ended::Lost(why),
            Some(reported) = lost_rx.recv() => {
                if reported != generation {
                    continue; // about a connection that is already gone
                }
                // A call saw the transport break. For a process the exit follows at once;
                // wait a moment for it, so the message can say how it ended.
                let why = tokio::time::timeout(std::time::Duration::from_secs(1), conn.closed())
                    .await
                    .unwrap_or_else(|_| "the connection broke during a call".to_owned());
                return Ended::Lost(why);
            }
            Some(()) = tools_changed.recv() => {
                match connect::list_tools(&conn.peer).await {
                    Ok(tools) => {
                        slot.set_known_tools(tools);
                        shared.rebuild_registry();
                    }
                    Err(e) => {
                        tracing::warn!(server = %slot.name, "re-listing tools after a change failed: {e}");
                    }
                }
            }
        }
    }
}
