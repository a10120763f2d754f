//! The agent side of ACP v1: `initialize`, `session/new`, `session/load`, `session/prompt`
//! and `session/cancel`, on the official `agent-client-protocol` crate's connection builder.
//!
//! Handlers run inside the connection's dispatch loop, so anything that waits (a turn, a
//! permission request, reading a record) runs in a task spawned on the connection, and the
//! loop stays free to read the `session/cancel` or the permission answer it waits for.
//! Spawned tasks never return an error: the crate stops the whole connection when one does.

use crate::session::{AcpSession, PromptEnd};
use agent_client_protocol::schema::{
    AgentCapabilities, CancelNotification, Implementation, InitializeRequest, InitializeResponse,
    LoadSessionRequest, LoadSessionResponse, McpCapabilities, McpServer, NewSessionRequest,
    NewSessionResponse, PromptCapabilities, PromptRequest, PromptResponse, ProtocolVersion,
    SessionNotification,
};
use agent_client_protocol::{Agent, Client, ConnectionTo, Error, Responder};
use serde_json::json;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use tandem_config::ConfigOverrides;
use tandem_core::{SandboxHelper, SessionStore};

/// What every session starts from.
pub(crate) struct AgentState {
    defaults: ConfigOverrides,
    sandbox_helper: Option<SandboxHelper>,
    sessions: Mutex<HashMap<String, Arc<AcpSession>>>,
}

impl AgentState {
    pub(crate) fn new(defaults: ConfigOverrides, sandbox_helper: Option<SandboxHelper>) -> Self {
        AgentState {
            defaults,
            sandbox_helper,
            sessions: Mutex::new(HashMap::new()),
        }
    }

    fn session(&self, id: &str) -> Option<Arc<AcpSession>> {
        self.lock().get(id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<AcpSession>>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The config of a session in `cwd`, with the client's MCP servers passed through as
    /// `[mcp_servers.NAME]` entries (they start with the session like configured ones).
    fn config(
        &self,
        cwd: &Path,
        mcp_servers: &[McpServer],
    ) -> Result<tandem_config::Config, Error> {
        if !cwd.is_absolute() {
            return Err(invalid(format!(
                "cwd must be an absolute path, got {}",
                cwd.display()
            )));
        }
        let cwd = std::fs::canonicalize(cwd)
            .map_err(|e| invalid(format!("cwd {}: {e}", cwd.display())))?;
        let mut overrides = self.defaults.clone();
        overrides.cwd = Some(cwd);
        overrides.cli_overrides.extend(mcp_overrides(mcp_servers));
        tandem_config::Config::load(overrides).map_err(|e| internal(format!("{e}")))
    }

    pub(crate) async fn shutdown_all(&self) {
        let all: Vec<Arc<AcpSession>> = self.lock().drain().map(|(_, s)| s).collect();
        for session in all {
            session.shutdown().await;
        }
    }
}

fn invalid(message: String) -> Error {
    Error::invalid_params().data(json!(message))
}

fn internal(message: String) -> Error {
    Error::internal_error().data(json!(message))
}

/// `[mcp_servers.NAME]` overrides for the client's servers. Names are reduced to the
/// characters config keys allow; SSE servers are skipped (not advertised, not supported).
pub(crate) fn mcp_overrides(servers: &[McpServer]) -> Vec<(String, toml::Value)> {
    let mut out = Vec::new();
    for server in servers {
        let (name, table) = match server {
            McpServer::Stdio(s) => {
                let mut t = toml::Table::new();
                t.insert("command".into(), s.command.display().to_string().into());
                t.insert(
                    "args".into(),
                    toml::Value::Array(s.args.iter().cloned().map(Into::into).collect()),
                );
                let env: toml::Table = s
                    .env
                    .iter()
                    .map(|v| (v.name.clone(), toml::Value::from(v.value.clone())))
                    .collect();
                if !env.is_empty() {
                    t.insert("env".into(), toml::Value::Table(env));
                }
                (&s.name, t)
            }
            McpServer::Http(h) => {
                let mut t = toml::Table::new();
                t.insert("url".into(), h.url.clone().into());
                let headers: toml::Table = h
                    .headers
                    .iter()
                    .map(|v| (v.name.clone(), toml::Value::from(v.value.clone())))
                    .collect();
                if !headers.is_empty() {
                    t.insert("http_headers".into(), toml::Value::Table(headers));
                }
                (&h.name, t)
            }
            other => {
                tracing::warn!("ignoring an MCP server of an unsupported transport: {other:?}");
                continue;
            }
        };
        let key: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        out.push((format!("mcp_servers.{key}"), toml::Value::Table(table)));
    }
    out
}

fn initialize(request: InitializeRequest) -> InitializeResponse {
    tracing::debug!(client = ?request.client_info, "initialize");
    InitializeResponse::new(ProtocolVersion::V1)
        .agent_capabilities(
            AgentCapabilities::new()
                .load_session(true)
                .prompt_capabilities(PromptCapabilities::new().embedded_context(true))
                .mcp_capabilities(McpCapabilities::new().http(true)),
        )
        .agent_info(Implementation::new("tandem", env!("CARGO_PKG_VERSION")).title("Tandem"))
}

fn session_meta(
    session: &AcpSession,
    config: &tandem_config::Config,
) -> agent_client_protocol::schema::Meta {
    crate::updates::tandem_meta(json!({
        "threadId": &*session.id.0,
        "model": config.model,
        "sandbox": config.sandbox_mode,
        "approvalPolicy": config.approval_policy,
        "cwd": session.cwd,
    }))
}

fn new_session(
    state: &AgentState,
    request: NewSessionRequest,
) -> Result<NewSessionResponse, Error> {
    let config = state.config(&request.cwd, &request.mcp_servers)?;
    let meta_config = config.clone();
    let session = AcpSession::spawn(config, None, state.sandbox_helper.clone())
        .map_err(|e| internal(format!("cannot start a session: {e}")))?;
    let response =
        NewSessionResponse::new(session.id.clone()).meta(session_meta(&session, &meta_config));
    state
        .lock()
        .insert(session.id.0.to_string(), Arc::new(session));
    Ok(response)
}

/// Replay the record as updates, then resume a kernel on it (or reuse the one running here).
fn load_session(
    state: &AgentState,
    request: &LoadSessionRequest,
    cx: &ConnectionTo<Client>,
) -> Result<LoadSessionResponse, Error> {
    let config = state.config(&request.cwd, &request.mcp_servers)?;
    let path = SessionStore::new(&config.tandem_home)
        .find(&request.session_id.0)
        .map_err(|e| Error::resource_not_found(None).data(json!(e.to_string())))?;
    let cwd = config.cwd.clone();
    let updates = crate::replay::history(&path, &cwd)
        .map_err(|e| internal(format!("cannot read {}: {e}", path.display())))?;
    for update in updates {
        cx.send_notification(SessionNotification::new(request.session_id.clone(), update))?;
    }
    let meta_config = config.clone();
    let session = match state.session(&request.session_id.0) {
        Some(session) => session,
        None => {
            let session = AcpSession::spawn(config, Some(path), state.sandbox_helper.clone())
                .map_err(|e| internal(format!("cannot resume the session: {e}")))?;
            let session = Arc::new(session);
            state
                .lock()
                .insert(request.session_id.0.to_string(), session.clone());
            session
        }
    };
    Ok(LoadSessionResponse::new().meta(session_meta(&session, &meta_config)))
}

async fn prompt(
    state: &AgentState,
    request: PromptRequest,
    cx: &ConnectionTo<Client>,
) -> Result<PromptResponse, Error> {
    let session = state.session(&request.session_id.0).ok_or_else(|| {
        Error::resource_not_found(None).data(json!(format!("no session {}", request.session_id.0)))
    })?;
    match session.prompt(request.prompt, cx).await {
        Ok(PromptEnd::Stop(reason)) => Ok(PromptResponse::new(reason)),
        Ok(PromptEnd::Failed(message)) => Err(internal(message)),
        Err(e) => Err(internal(format!("the session stopped: {e}"))),
    }
}

/// Answer `responder` with `result`; a failed send only means the client went away.
fn answer<T: agent_client_protocol::JsonRpcResponse>(
    responder: Responder<T>,
    result: Result<T, Error>,
) {
    let sent = match result {
        Ok(value) => responder.respond(value),
        Err(error) => responder.respond_with_error(error),
    };
    if let Err(e) = sent {
        tracing::debug!("cannot answer the client: {e:?}");
    }
}

/// Serve ACP on stdin/stdout until the client closes it.
pub(crate) async fn serve(state: Arc<AgentState>) -> Result<(), Error> {
    let (s_new, s_load, s_prompt, s_cancel) =
        (state.clone(), state.clone(), state.clone(), state.clone());
    let (transport, client_gone) = crate::transport::stdio();
    Agent
        .builder()
        .name("tandem")
        .on_receive_request(
            async move |request: InitializeRequest, responder, _cx| {
                responder.respond(initialize(request))
            },
            agent_client_protocol::on_receive_request!(),
        )
        .on_receive_request(
            async move |request: NewSessionRequest, responder, _cx| {
                answer(responder, new_session(&s_new, request));
                Ok(())
            },
            agent_client_protocol::on_receive_request!(),
        )
        .on_receive_request(
            async move |request: LoadSessionRequest, responder, cx: ConnectionTo<Client>| {
                let state = s_load.clone();
                cx.clone().spawn(async move {
                    answer(responder, load_session(&state, &request, &cx));
                    Ok(())
                })
            },
            agent_client_protocol::on_receive_request!(),
        )
        .on_receive_request(
            async move |request: PromptRequest, responder, cx: ConnectionTo<Client>| {
                let state = s_prompt.clone();
                cx.clone().spawn(async move {
                    answer(responder, prompt(&state, request, &cx).await);
                    Ok(())
                })
            },
            agent_client_protocol::on_receive_request!(),
        )
        .on_receive_notification(
            async move |notification: CancelNotification, _cx| {
                match s_cancel.session(&notification.session_id.0) {
                    Some(session) => session.cancel(),
                    None => tracing::debug!("cancel for an unknown session"),
                }
                Ok(())
            },
            agent_client_protocol::on_receive_notification!(),
        )
        .connect_with(transport, async move |_cx| {
            // The client closed stdin: it is gone, and so is every open request.
            let _ = client_gone.await;
            Ok(())
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent_client_protocol::schema::{EnvVariable, McpServerHttp, McpServerStdio};

    #[test]
    fn client_mcp_servers_become_config_entries() {
        let servers = vec![
            McpServer::Stdio(
                McpServerStdio::new("my docs", "/usr/bin/docs")
                    .args(vec!["--stdio".into()])
                    .env(vec![EnvVariable::new("TOKEN", "t")]),
            ),
            McpServer::Http(McpServerHttp::new("remote", "http://127.0.0.1:9/mcp")),
        ];
        let o = mcp_overrides(&servers);
        assert_eq!(o[0].0, "mcp_servers.my_docs");
        assert_eq!(o[0].1["command"].as_str(), Some("/usr/bin/docs"));
        assert_eq!(o[0].1["args"][0].as_str(), Some("--stdio"));
        assert_eq!(o[0].1["env"]["TOKEN"].as_str(), Some("t"));
        assert_eq!(o[1].0, "mcp_servers.remote");
        assert_eq!(o[1].1["url"].as_str(), Some("http://127.0.0.1:9/mcp"));
    }

    #[test]
    fn initialize_speaks_v1_and_offers_load() {
        let r = initialize(InitializeRequest::new(ProtocolVersion::V1));
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["protocolVersion"], 1);
        assert_eq!(v["agentCapabilities"]["loadSession"], true);
        assert_eq!(v["agentInfo"]["name"], "tandem");
    }
}
