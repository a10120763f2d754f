//! [`McpManager`]: the kernel's one handle on all MCP servers.
//!
//! Shape: one supervisor task per enabled server (see [`crate::supervisor`]) owns the
//! connection and publishes its state on a `watch` channel; the manager reads those states to
//! list tools and to route calls. `start` only spawns the supervisors, so it returns at once and
//! no server, however slow, delays the first turn.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use rmcp::model::CallToolRequestParams;
use rmcp::{Peer, RoleClient, ServiceError};
use serde_json::Value;
use tandem_config::McpServerConfig;
use tandem_model::ToolSpec;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

use crate::connect::{ConnectContext, RemoteTool};
use crate::content::McpCallResult;
use crate::error::McpError;
use crate::event::{McpEvent, McpOptions};
use crate::names::ToolNamer;
use crate::supervisor;

/// An MCP tool as offered to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct McpTool {
    /// The name the model calls it by: `mcp__<server>__<tool>`, sanitised (see [`crate::names`]).
    pub qualified_name: String,
    /// The server's name, as in `[mcp_servers.NAME]`.
    pub server: String,
    /// The tool's own name on that server.
    pub tool: String,
    /// The function spec for the model; `spec.name == qualified_name`.
    pub spec: ToolSpec,
    /// The server's `readOnlyHint` annotation. Only a hint: servers are not trusted with
    /// approval decisions, but a UI may show it.
    pub read_only_hint: Option<bool>,
    /// The server's `destructiveHint` annotation (a hint, like `read_only_hint`).
    pub destructive_hint: Option<bool>,
}

/// Where a server is in its life, for status displays (`tandem mcp list`, a status bar).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum McpServerStatus {
    /// `enabled = false` in its config; never started.
    Disabled,
    Starting,
    Ready,
    Restarting {
        attempt: u32,
    },
    Failed {
        error: String,
    },
    /// The manager was shut down.
    Stopped,
}

/// The kernel's handle on the MCP servers of a session.
///
/// Cheap to clone; clones share the servers. Dropping the last clone stops the servers in the
/// background; [`McpManager::shutdown`] stops them and waits.
#[derive(Clone)]
pub struct McpManager {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    cancel: CancellationToken,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// Cancels the supervisors when the last clone is dropped without `shutdown`.
    _stop_on_drop: DropGuard,
}

impl std::fmt::Debug for McpManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpManager")
            .field("servers", &self.server_status())
            .finish()
    }
}

/// State shared between the manager and the supervisors.
pub(crate) struct Shared {
    servers: BTreeMap<String, Arc<ServerSlot>>,
    registry: RwLock<Registry>,
    events: mpsc::UnboundedSender<McpEvent>,
    generations: AtomicU64,
}

/// One configured server.
pub(crate) struct ServerSlot {
    pub name: String,
    pub config: McpServerConfig,
    state: watch::Sender<State>,
    /// The tools of the last live connection. Kept while the server restarts, so the model's
    /// tool list (and the provider's prompt cache) does not change with every crash; a call
    /// in that window waits for the server to come back.
    known_tools: Mutex<Vec<RemoteTool>>,
    /// Why the server last stopped or failed, for error messages.
    last_error: Mutex<Option<String>>,
    /// Calls report a broken connection here, by generation; the supervisor decides.
    lost_tx: mpsc::UnboundedSender<u64>,
}

#[derive(Clone)]
pub(crate) enum State {
    Disabled,
    Starting,
    Ready(Arc<Live>),
    Restarting { attempt: u32 },
    Failed(String),
    Stopped,
}

/// A live connection as calls see it.
pub(crate) struct Live {
    pub peer: Peer<RoleClient>,
    /// Tells connections apart across restarts.
    pub generation: u64,
}

#[derive(Default)]
struct Registry {
    tools: Vec<McpTool>,
    by_name: HashMap<String, (String, String)>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere must not take MCP down with it: the data is always left consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl ServerSlot {
    pub fn set_known_tools(&self, tools: Vec<RemoteTool>) {
        *lock(&self.known_tools) = tools;
    }

    pub fn set_last_error(&self, error: &str) {
        *lock(&self.last_error) = Some(error.to_owned());
    }

    fn last_error(&self) -> Option<String> {
        lock(&self.last_error).clone()
    }

    /// The known tools that pass `enabled_tools`/`disabled_tools`, sorted, duplicates dropped.
    fn exposed_tools(&self) -> Vec<RemoteTool> {
        let mut tools: Vec<RemoteTool> = lock(&self.known_tools)
            .iter()
            .filter(|t| self.config.is_tool_enabled(&t.name))
            .cloned()
            .collect();
        tools.sort_by(|a, b| a.name.cmp(&b.name));
        tools.dedup_by(|a, b| a.name == b.name);
        tools
    }

    pub fn exposed_tool_count(&self) -> usize {
        self.exposed_tools().len()
    }
}

impl Shared {
    pub fn emit(&self, event: McpEvent) {
        // Nobody listening is fine: events are information, not control.
        let _ = self.events.send(event);
    }

    pub fn next_generation(&self) -> u64 {
        self.generations.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn set_state(&self, slot: &ServerSlot, state: State) {
        slot.state.send_replace(state);
        self.rebuild_registry();
    }

    /// Recomputes the model's tool list from every server's state.
    ///
    /// Servers are visited in name order and tools in name order, so the same tools always get
    /// the same qualified names.
    pub fn rebuild_registry(&self) {
        let mut namer = ToolNamer::new();
        let mut registry = Registry::default();
        for (server, slot) in &self.servers {
            let listed = matches!(
                *slot.state.borrow(),
                State::Starting | State::Ready(_) | State::Restarting { .. }
            );
            if !listed {
                continue;
            }
            for tool in slot.exposed_tools() {
                let qualified_name = namer.assign(server, &tool.name);
                let description = if tool.description.is_empty() {
                    format!("The tool `{}` of the MCP server `{server}`.", tool.name)
                } else {
                    tool.description.clone()
                };
                registry
                    .by_name
                    .insert(qualified_name.clone(), (server.clone(), tool.name.clone()));
                registry.tools.push(McpTool {
                    spec: ToolSpec {
                        name: qualified_name.clone(),
                        description,
                        parameters: tool.input_schema.clone(),
                    },
                    qualified_name,
                    server: server.clone(),
                    tool: tool.name,
                    read_only_hint: tool.read_only_hint,
                    destructive_hint: tool.destructive_hint,
                });
            }
        }
        *self.registry.write().unwrap_or_else(|p| p.into_inner()) = registry;
    }
}

impl McpManager {
    /// Starts every enabled server concurrently, in the background, and returns at once.
    ///
    /// A slow server never delays the caller: its tools appear in [`McpManager::tools`] once it
    /// is ready, and the receiver reports each server's progress ([`McpEvent`]). `env` is the
    /// environment for child processes, already filtered by the environment policy; each child
    /// gets it plus its own `env` table and the variables its `env_vars` names.
    ///
    /// Must be called within a Tokio runtime.
    pub fn start(
        servers: &BTreeMap<String, McpServerConfig>,
        env: &BTreeMap<String, String>,
    ) -> (McpManager, mpsc::UnboundedReceiver<McpEvent>) {
        Self::start_with(servers, env, McpOptions::default())
    }

    /// [`McpManager::start`] with the session's working directory and a restart policy.
    pub fn start_with(
        servers: &BTreeMap<String, McpServerConfig>,
        env: &BTreeMap<String, String>,
        options: McpOptions,
    ) -> (McpManager, mpsc::UnboundedReceiver<McpEvent>) {
        let (events, events_rx) = mpsc::unbounded_channel();
        let mut lost_receivers = Vec::new();
        let slots = servers
            .iter()
            .map(|(name, config)| {
                let (lost_tx, lost_rx) = mpsc::unbounded_channel();
                let initial = if config.enabled {
                    State::Starting
                } else {
                    State::Disabled
                };
                let slot = Arc::new(ServerSlot {
                    name: name.clone(),
                    config: config.clone(),
                    state: watch::Sender::new(initial),
                    known_tools: Mutex::new(Vec::new()),
                    last_error: Mutex::new(None),
                    lost_tx,
                });
                lost_receivers.push(lost_rx);
                (name.clone(), slot)
            })
            .collect();
        let shared = Arc::new(Shared {
            servers: slots,
            registry: RwLock::new(Registry::default()),
            events,
            generations: AtomicU64::new(0),
        });
        let cancel = CancellationToken::new();
        let ctx = ConnectContext {
            env: env.clone(),
            cwd: options.cwd.clone(),
        };
        let mut tasks = Vec::new();
        for (slot, lost_rx) in shared.servers.values().zip(lost_receivers) {
            if !slot.config.enabled {
                continue;
            }
            tasks.push(tokio::spawn(supervisor::supervise(
                Arc::clone(&shared),
                Arc::clone(slot),
                ctx.clone(),
                options.restart.clone(),
                cancel.child_token(),
                lost_rx,
            )));
        }
        let manager = McpManager {
            inner: Arc::new(Inner {
                shared,
                _stop_on_drop: cancel.clone().drop_guard(),
                cancel,
                tasks: Mutex::new(tasks),
            }),
        };
        (manager, events_rx)
    }

    /// The tools ready right now (and those of servers that are restarting), sorted by server
    /// and tool, as function specs for the model.
    pub fn tools(&self) -> Vec<McpTool> {
        self.registry().tools.clone()
    }

    /// The server and tool behind a qualified name from [`McpManager::tools`].
    pub fn resolve(&self, qualified_name: &str) -> Option<(String, String)> {
        self.registry().by_name.get(qualified_name).cloned()
    }

    /// The config of a server, for its per-server approval policy and timeouts.
    pub fn server_config(&self, server: &str) -> Option<&McpServerConfig> {
        self.inner.shared.servers.get(server).map(|s| &s.config)
    }

    /// Every configured server and where it is.
    pub fn server_status(&self) -> BTreeMap<String, McpServerStatus> {
        self.inner
            .shared
            .servers
            .iter()
            .map(|(name, slot)| {
                let status = match &*slot.state.borrow() {
                    State::Disabled => McpServerStatus::Disabled,
                    State::Starting => McpServerStatus::Starting,
                    State::Ready(_) => McpServerStatus::Ready,
                    State::Restarting { attempt } => {
                        McpServerStatus::Restarting { attempt: *attempt }
                    }
                    State::Failed(error) => McpServerStatus::Failed {
                        error: error.clone(),
                    },
                    State::Stopped => McpServerStatus::Stopped,
                };
                (name.clone(), status)
            })
            .collect()
    }

    fn registry(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.inner
            .shared
            .registry
            .read()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Calls `tool` on `server` with the server's `tool_timeout_sec`.
    ///
    /// `arguments` must be a JSON object (or `null` for none). If the server is still starting
    /// or restarting, the call waits for it within the same timeout. A result the tool marked
    /// as an error is `Ok` with `is_error` set; `Err` means the call itself failed, and its
    /// message is meant to be shown to the model as the tool's output.
    pub async fn call(
        &self,
        server: &str,
        tool: &str,
        arguments: Value,
    ) -> Result<McpCallResult, McpError> {
        let slot =
            self.inner
                .shared
                .servers
                .get(server)
                .ok_or_else(|| McpError::UnknownServer {
                    server: server.to_owned(),
                })?;
        let unavailable = |reason: String| McpError::Unavailable {
            server: server.to_owned(),
            reason,
        };
        if !slot.config.is_tool_enabled(tool) {
            return Err(McpError::ToolDisabled {
                server: server.to_owned(),
                tool: tool.to_owned(),
            });
        }
        let arguments = match arguments {
            Value::Null => None,
            Value::Object(map) => Some(map),
            other => {
                return Err(McpError::InvalidArguments {
                    tool: tool.to_owned(),
                    got: json_kind(&other).to_owned(),
                });
            }
        };
        let timeout = slot.config.tool_timeout();
        let deadline = tokio::time::Instant::now() + timeout;
        let mut state = slot.state.subscribe();
        let live = {
            let settled = tokio::time::timeout_at(
                deadline,
                state.wait_for(|s| {
                    matches!(
                        s,
                        State::Ready(_) | State::Failed(_) | State::Stopped | State::Disabled
                    )
                }),
            )
            .await;
            match settled {
                Err(_) => {
                    return Err(unavailable(format!(
                        "it did not become ready within {}s (tool_timeout_sec); {}",
                        timeout.as_secs_f64(),
                        slot.last_error()
                            .map_or("it is still starting".to_owned(), |e| format!(
                                "it is restarting after: {e}"
                            ))
                    )));
                }
                Ok(Err(_)) => return Err(unavailable("the MCP manager was shut down".to_owned())),
                Ok(Ok(s)) => match &*s {
                    State::Ready(live) => Arc::clone(live),
                    State::Failed(error) => return Err(unavailable(error.clone())),
                    State::Disabled => {
                        return Err(unavailable(
                            "it is disabled (`enabled = false` in its config)".to_owned(),
                        ));
                    }
                    _ => return Err(unavailable("the MCP manager was shut down".to_owned())),
                },
            }
        };

        let mut params = CallToolRequestParams::new(tool.to_owned());
        params.arguments = arguments;
        let generation = live.generation;
        let crashed = |slot: &ServerSlot| McpError::Crashed {
            server: server.to_owned(),
            tool: tool.to_owned(),
            detail: slot
                .last_error()
                .unwrap_or_else(|| "the connection broke".to_owned()),
        };
        tokio::select! {
            outcome = tokio::time::timeout_at(deadline, live.peer.call_tool(params)) => {
                match outcome {
                    // Dropping the request on timeout makes rmcp send `notifications/cancelled`.
                    Err(_) => Err(McpError::Timeout {
                        server: server.to_owned(),
                        tool: tool.to_owned(),
                        timeout,
                    }),
                    Ok(Ok(result)) => Ok(McpCallResult::from_wire(
                        &serde_json::to_value(&result).unwrap_or(Value::Null),
                    )),
                    Ok(Err(ServiceError::McpError(data))) => Err(McpError::Rpc {
                        server: server.to_owned(),
                        tool: tool.to_owned(),
                        code: data.code.0,
                        message: data.message.into_owned(),
                    }),
                    Ok(Err(ServiceError::TransportClosed | ServiceError::TransportSend(_))) => {
                        let _ = slot.lost_tx.send(generation);
                        // Give the supervisor a moment to learn how the server ended.
                        let mut after = slot.state.subscribe();
                        let _ = tokio::time::timeout(
                            Duration::from_millis(1500),
                            after.wait_for(|s| !is_live(s, generation)),
                        )
                        .await;
                        Err(crashed(slot))
                    }
                    Ok(Err(other)) => Err(McpError::Other {
                        server: server.to_owned(),
                        tool: tool.to_owned(),
                        detail: other.to_string(),
                    }),
                }
            }
            // Drop the watch guard inside the branch future: `select!` keeps every branch's
            // output type alive across the other branch's awaits, and a guard is not `Send`.
            _ = async { state.wait_for(|s| !is_live(s, generation)).await.map(|_| ()) } => Err(crashed(slot)),
        }
    }

    /// Stops every server (closing stdin, then signalling the process group) and waits for
    /// them, at most a few seconds.
    pub async fn shutdown(self) {
        self.inner.cancel.cancel();
        let tasks = std::mem::take(&mut *lock(&self.inner.tasks));
        let all = futures::future::join_all(tasks);
        if tokio::time::timeout(Duration::from_secs(10), all)
            .await
            .is_err()
        {
            tracing::warn!("some MCP servers did not stop within 10s");
        }
    }
}

fn is_live(state: &State, generation: u64) -> bool {
    matches!(state, State::Ready(live) if live.generation == generation)
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
