//! One connection to one server: the transport, the `initialize` handshake, the first
//! `tools/list`, and telling when the connection is gone.
//!
//! A [`Connection`] is one incarnation of a server. When it dies the supervisor makes a new one;
//! nothing here retries.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use rmcp::model::{ClientCapabilities, ClientConfig, Implementation};
use rmcp::service::{NotificationContext, QuitReason, RunningServiceCancellationToken};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{ClientHandler, Peer, RoleClient, ServiceExt};
use serde_json::Value;
use tandem_config::{McpServerConfig, McpTransport};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::process::{self, ServerProcess, SpawnSpec};

/// Everything about the session a connection needs besides the server's own config.
#[derive(Debug, Clone)]
pub(crate) struct ConnectContext {
    /// The environment for children, already filtered by the environment policy.
    pub env: BTreeMap<String, String>,
    /// The session's working directory, for relative `cwd`s.
    pub cwd: Option<PathBuf>,
}

impl ConnectContext {
    /// A variable named in the config (`env_vars`, `bearer_token_env_var`, `env_http_headers`):
    /// the filtered environment first, then our own process's. Those keys exist precisely to
    /// reach variables the policy would hold back (tokens), so the process env must count.
    fn lookup(&self, var: &str) -> Option<String> {
        self.env
            .get(var)
            .cloned()
            .or_else(|| std::env::var(var).ok())
            .filter(|v| !v.is_empty())
    }
}

/// A tool as the server listed it, reduced to what we use.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RemoteTool {
    pub name: String,
    pub description: String,
    pub input_schema: Value,
    pub read_only_hint: Option<bool>,
    pub destructive_hint: Option<bool>,
}

impl RemoteTool {
    /// Reads a tool from its MCP wire JSON (see [`crate::content`] for why not the SDK type).
    fn from_wire(value: &Value) -> Option<Self> {
        let name = value.get("name")?.as_str()?.to_owned();
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let description = text("description")
            .or_else(|| text("title"))
            .unwrap_or_default();
        let hint = |key: &str| {
            value
                .get("annotations")
                .and_then(|a| a.get(key))
                .and_then(Value::as_bool)
        };
        Some(RemoteTool {
            description,
            input_schema: normalize_schema(value.get("inputSchema")),
            read_only_hint: hint("readOnlyHint"),
            destructive_hint: hint("destructiveHint"),
            name,
        })
    }
}

/// Makes sure the parameters are an object schema with `properties`, which some model APIs
/// insist on even for tools without arguments.
fn normalize_schema(schema: Option<&Value>) -> Value {
    let mut schema = match schema {
        Some(Value::Object(obj)) => Value::Object(obj.clone()),
        _ => serde_json::json!({}),
    };
    if schema.get("type").is_none() {
        schema["type"] = "object".into();
    }
    if schema["type"] == "object" && schema.get("properties").is_none() {
        schema["properties"] = serde_json::json!({});
    }
    schema
}

/// Our side of the MCP session: identifies Tandem and listens for `tools/list_changed`.
struct Handler {
    tools_changed: mpsc::UnboundedSender<()>,
}

impl ClientHandler for Handler {
    fn on_tool_list_changed(
        &self,
        _context: NotificationContext<RoleClient>,
    ) -> impl Future<Output = ()> + Send + '_ {
        let _ = self.tools_changed.send(());
        std::future::ready(())
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::new(
            ClientCapabilities::default(),
            Implementation::new("tandem", env!("CARGO_PKG_VERSION")),
        )
    }
}

/// A live session with a server.
pub(crate) struct Connection {
    pub peer: Peer<RoleClient>,
    pub tools: Vec<RemoteTool>,
    /// Fires when the server says its tool list changed. The supervisor takes it out, so it
    /// can wait on it and on [`Connection::closed`] at once.
    pub tools_changed: Option<mpsc::UnboundedReceiver<()>>,
    cancel: Option<RunningServiceCancellationToken>,
    /// The SDK's service loop; it ends when the transport closes. `None` once it has ended
    /// (a finished `JoinHandle` must not be polled again).
    service: Option<ServiceTask>,
    process: Option<ServerProcess>,
}

/// Starts the server and completes `initialize` and the first `tools/list`.
///
/// The caller bounds this with `startup_timeout_sec`; dropping the future midway kills the
/// child (see [`ServerProcess`]).
pub(crate) async fn connect(
    server: &str,
    config: &McpServerConfig,
    ctx: &ConnectContext,
) -> Result<Connection, String> {
    let (tools_tx, tools_changed) = mpsc::unbounded_channel();
    let handler = Handler {
        tools_changed: tools_tx,
    };
    let (running, mut process) = match &config.transport {
        McpTransport::Stdio {
            command,
            args,
            env,
            env_vars,
            cwd,
        } => {
            let mut child_env = ctx.env.clone();
            for var in env_vars {
                if let Some(value) = ctx.lookup(var) {
                    child_env.insert(var.clone(), value);
                }
            }
            child_env.extend(env.iter().map(|(k, v)| (k.clone(), v.clone())));
            let cwd = cwd.as_ref().map(|dir| match &ctx.cwd {
                Some(base) if dir.is_relative() => base.join(dir),
                _ => dir.clone(),
            });
            let spec = SpawnSpec {
                server,
                command,
                args,
                env: child_env,
                cwd: cwd.or_else(|| ctx.cwd.clone()),
            };
            let (mut process, stdout, stdin) = process::spawn(spec)?;
            match handler.serve((stdout, stdin)).await {
                Ok(running) => (running, Some(process)),
                Err(e) => {
                    // Most often the process died (bad arguments, a missing module): say how.
                    let exit = process
                        .exit_within(Duration::from_millis(500))
                        .await
                        .map(|exit| format!("; the process {exit}"))
                        .unwrap_or_default();
                    return Err(format!(
                        "initialize failed: {e}{exit}{}",
                        process.stderr_tail()
                    ));
                }
            }
        }
        McpTransport::StreamableHttp {
            url,
            bearer_token_env_var,
            http_headers,
            env_http_headers,
        } => {
            let transport = http_transport(
                server,
                url,
                bearer_token_env_var.as_deref(),
                http_headers,
                env_http_headers,
                ctx,
            )?;
            let running = handler
                .serve(transport)
                .await
                .map_err(|e| format!("initialize at {url} failed: {e}"))?;
            (running, None)
        }
    };
    let peer = running.peer().clone();
    let cancel = running.cancellation_token();
    let service = tokio::spawn(running.waiting());
    let tools = match list_tools(&peer).await {
        Ok(tools) => tools,
        Err(e) => {
            let tail = process
                .as_mut()
                .map(|p| p.stderr_tail())
                .unwrap_or_default();
            cancel.cancel();
            return Err(format!("tools/list failed: {e}{tail}"));
        }
    };
    Ok(Connection {
        peer,
        tools,
        tools_changed: Some(tools_changed),
        cancel: Some(cancel),
        service: Some(service),
        process,
    })
}

/// Builds the streamable-HTTP transport, resolving the token and headers from the environment.
fn http_transport(
    server: &str,
    url: &str,
    bearer_token_env_var: Option<&str>,
    http_headers: &BTreeMap<String, String>,
    env_http_headers: &BTreeMap<String, String>,
    ctx: &ConnectContext,
) -> Result<StreamableHttpClientTransport<reqwest::Client>, String> {
    let header = |name: &str, value: &str, key: &str| {
        let name = HeaderName::try_from(name).map_err(|_| {
            format!("`{name}` in {key} of [mcp_servers.{server}] is not a valid HTTP header name")
        })?;
        let value = HeaderValue::try_from(value).map_err(|_| {
            format!("the value of `{name}` in {key} of [mcp_servers.{server}] is not a valid HTTP header value")
        })?;
        Ok::<_, String>((name, value))
    };
    let mut headers = HashMap::new();
    for (name, value) in http_headers {
        let (name, value) = header(name, value, "http_headers")?;
        headers.insert(name, value);
    }
    for (name, var) in env_http_headers {
        let value = ctx.lookup(var).ok_or_else(|| {
            format!(
                "the header `{name}` is read from the environment variable `{var}` (env_http_headers of [mcp_servers.{server}]), which is not set"
            )
        })?;
        let (name, value) = header(name, &value, "env_http_headers")?;
        headers.insert(name, value);
    }
    let mut config = StreamableHttpClientTransportConfig::with_uri(url).custom_headers(headers);
    if let Some(var) = bearer_token_env_var {
        let token = ctx.lookup(var).ok_or_else(|| {
            format!(
                "the bearer token is read from the environment variable `{var}` (bearer_token_env_var of [mcp_servers.{server}]), which is not set; export it before starting Tandem"
            )
        })?;
        config = config.auth_header(token);
    }
    Ok(StreamableHttpClientTransport::from_config(config))
}

/// Every page of `tools/list`, read from the wire JSON; tools without a name are skipped.
pub(crate) async fn list_tools(peer: &Peer<RoleClient>) -> Result<Vec<RemoteTool>, String> {
    let tools = peer.list_all_tools().await.map_err(|e| e.to_string())?;
    Ok(tools
        .iter()
        .filter_map(|tool| serde_json::to_value(tool).ok())
        .filter_map(|wire| RemoteTool::from_wire(&wire))
        .collect())
}

type ServiceTask = JoinHandle<Result<QuitReason, tokio::task::JoinError>>;

/// Resolves when the SDK's service loop has ended (at once if it already has).
async fn service_ended(service: &mut Option<ServiceTask>) {
    if let Some(task) = service {
        let _ = task.await;
        *service = None;
    }
}

impl Connection {
    /// Resolves when the connection is gone, with a description of why ("the process exited
    /// with status 1 — its stderr ended with: ...").
    ///
    /// Cancel-safe: the supervisor drops this future whenever something else happens first.
    pub async fn closed(&mut self) -> String {
        let Connection {
            process, service, ..
        } = self;
        let Some(process) = process else {
            service_ended(service).await;
            return "the connection closed".to_owned();
        };
        tokio::select! {
            exit = process.wait() => format!("the process {exit}{}", process.stderr_tail()),
            () = service_ended(service) => {
                // The pipe closed first; the exit status usually follows at once.
                match process.exit_within(Duration::from_millis(500)).await {
                    Some(exit) => format!("the process {exit}{}", process.stderr_tail()),
                    None => "the server closed its stdout".to_owned(),
                }
            }
        }
    }

    /// Closes the session politely, then makes sure the process is gone.
    pub async fn shutdown(mut self) {
        if let Some(cancel) = self.cancel.take() {
            // Cancelling closes the transport: stdin reaches EOF, which is how the MCP spec
            // asks stdio servers to be stopped.
            cancel.cancel();
        }
        let _ =
            tokio::time::timeout(Duration::from_secs(2), service_ended(&mut self.service)).await;
        if let Some(process) = &mut self.process
            && process.exit_within(Duration::from_secs(1)).await.is_none()
        {
            process.terminate(Duration::from_secs(2)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn schemas_become_object_schemas_with_properties() {
        assert_eq!(
            normalize_schema(None),
            json!({"type": "object", "properties": {}})
        );
        assert_eq!(
            normalize_schema(Some(&json!({"type": "object"}))),
            json!({"type": "object", "properties": {}})
        );
        let full =
            json!({"type": "object", "properties": {"a": {"type": "number"}}, "required": ["a"]});
        assert_eq!(normalize_schema(Some(&full)), full);
    }

    #[test]
    fn tools_are_read_from_wire_json() {
        let tool = RemoteTool::from_wire(&json!({
            "name": "read_text_file",
            "title": "Read",
            "inputSchema": {"type": "object", "properties": {"path": {"type": "string"}}},
            "annotations": {"readOnlyHint": true}
        }))
        .unwrap_or_else(|| panic!("a named tool must parse"));
        assert_eq!(tool.description, "Read");
        assert_eq!(tool.read_only_hint, Some(true));
        assert_eq!(tool.destructive_hint, None);
        assert!(RemoteTool::from_wire(&json!({"description": "no name"})).is_none());
    }
}
