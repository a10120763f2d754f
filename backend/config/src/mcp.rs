//! `[mcp_servers.NAME]`: the MCP servers whose tools the agent may use.
//!
//! A server is either a child process spoken to over stdio (`command`) or a streamable-HTTP
//! endpoint (`url`). The two are mutually exclusive, and keys that only make sense for one kind
//! are rejected on the other, because a silently ignored `args` on an HTTP server is exactly the
//! kind of mistake that costs an afternoon.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;
use tandem_protocol::ApprovalPolicy;

use crate::document::{Document, KeyPath};
use crate::error::{Blame, ConfigError};
use crate::schema::McpServerToml;

/// Default for `startup_timeout_sec`: covers `initialize` and the first `tools/list`.
pub const DEFAULT_STARTUP_TIMEOUT_SEC: f64 = 10.0;
/// Default for `tool_timeout_sec`: one tool call.
pub const DEFAULT_TOOL_TIMEOUT_SEC: f64 = 60.0;

/// How to reach a server.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum McpTransport {
    /// A child process speaking MCP on stdin/stdout.
    Stdio {
        command: String,
        args: Vec<String>,
        /// Variables set for the child, on top of the environment policy's result.
        env: BTreeMap<String, String>,
        /// Names of agent variables passed through even if the environment policy drops them
        /// (for a server that needs, say, `GITHUB_TOKEN`).
        env_vars: Vec<String>,
        /// The child's working directory; relative paths are taken from the session's cwd.
        cwd: Option<PathBuf>,
    },
    /// A streamable-HTTP endpoint.
    StreamableHttp {
        url: String,
        /// The variable holding a bearer token, sent as `Authorization: Bearer ...`.
        bearer_token_env_var: Option<String>,
        /// Extra headers with literal values.
        http_headers: BTreeMap<String, String>,
        /// Extra headers whose values are read from the named environment variables.
        env_http_headers: BTreeMap<String, String>,
    },
}

/// One resolved `[mcp_servers.NAME]` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct McpServerConfig {
    pub transport: McpTransport,
    /// `false` keeps the entry in the file without starting the server. Default `true`.
    pub enabled: bool,
    /// Seconds allowed for start-up (`initialize` + first `tools/list`). Default 10.
    pub startup_timeout_sec: f64,
    /// Seconds allowed for one tool call. Default 60.
    pub tool_timeout_sec: f64,
    /// When set, only these tools are exposed to the model.
    pub enabled_tools: Option<Vec<String>>,
    /// Tools never exposed; applied after `enabled_tools`.
    pub disabled_tools: Vec<String>,
    /// The approval policy for this server's tool calls, instead of the session's
    /// `approval_policy` (for example `never` for a trusted read-only docs server, or
    /// `untrusted` for one that can write). `None` follows the session.
    pub approval_policy: Option<ApprovalPolicy>,
}

impl McpServerConfig {
    /// A stdio server with default settings.
    pub fn stdio(command: impl Into<String>, args: Vec<String>) -> Self {
        Self::with_transport(McpTransport::Stdio {
            command: command.into(),
            args,
            env: BTreeMap::new(),
            env_vars: Vec::new(),
            cwd: None,
        })
    }

    /// A streamable-HTTP server with default settings.
    pub fn streamable_http(url: impl Into<String>) -> Self {
        Self::with_transport(McpTransport::StreamableHttp {
            url: url.into(),
            bearer_token_env_var: None,
            http_headers: BTreeMap::new(),
            env_http_headers: BTreeMap::new(),
        })
    }

    fn with_transport(transport: McpTransport) -> Self {
        McpServerConfig {
            transport,
            enabled: true,
            startup_timeout_sec: DEFAULT_STARTUP_TIMEOUT_SEC,
            tool_timeout_sec: DEFAULT_TOOL_TIMEOUT_SEC,
            enabled_tools: None,
            disabled_tools: Vec::new(),
            approval_policy: None,
        }
    }

    pub fn startup_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.startup_timeout_sec)
    }

    pub fn tool_timeout(&self) -> Duration {
        Duration::from_secs_f64(self.tool_timeout_sec)
    }

    /// Whether the tool named `tool` (the server's own name for it) is exposed to the model.
    pub fn is_tool_enabled(&self, tool: &str) -> bool {
        let allowed = self
            .enabled_tools
            .as_ref()
            .is_none_or(|list| list.iter().any(|t| t == tool));
        allowed && !self.disabled_tools.iter().any(|t| t == tool)
    }

    /// Decides the transport and applies the defaults, with errors pointing into the file.
    pub(crate) fn from_toml(
        raw: McpServerToml,
        path: &KeyPath,
        doc: &Document,
    ) -> Result<Self, ConfigError> {
        let err = |key: Option<&str>, message: String| {
            let at = key.map_or_else(|| path.clone(), |k| path.key(k));
            doc.error(&at, message, Blame::Value)
        };
        let stdio_keys = [
            ("args", raw.args.is_some()),
            ("env", raw.env.is_some()),
            ("env_vars", raw.env_vars.is_some()),
            ("cwd", raw.cwd.is_some()),
        ];
        let http_keys = [
            ("bearer_token_env_var", raw.bearer_token_env_var.is_some()),
            ("http_headers", raw.http_headers.is_some()),
            ("env_http_headers", raw.env_http_headers.is_some()),
        ];
        let transport = match (raw.command, raw.url) {
            (Some(_), Some(_)) => {
                // Pointing at `url` rather than the table finds a `-c ...url=` override too.
                return Err(doc.error(
                    &path.key("url"),
                    "set either `command` (a stdio server) or `url` (a streamable-HTTP server), not both"
                        .into(),
                    Blame::Key,
                ));
            }
            (None, None) => {
                return Err(err(
                    None,
                    "missing `command` (a stdio server) or `url` (a streamable-HTTP server)".into(),
                ));
            }
            (Some(command), None) => {
                if let Some((key, _)) = http_keys.iter().find(|(_, set)| *set) {
                    return Err(err(
                        Some(key),
                        "only applies to streamable-HTTP servers (those with `url`)".into(),
                    ));
                }
                if command.trim().is_empty() {
                    return Err(err(Some("command"), "must not be empty".into()));
                }
                McpTransport::Stdio {
                    command,
                    args: raw.args.unwrap_or_default(),
                    env: raw.env.unwrap_or_default(),
                    env_vars: raw.env_vars.unwrap_or_default(),
                    cwd: raw.cwd,
                }
            }
            (None, Some(url)) => {
                if let Some((key, _)) = stdio_keys.iter().find(|(_, set)| *set) {
                    return Err(err(
                        Some(key),
                        "only applies to stdio servers (those with `command`)".into(),
                    ));
                }
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(err(
                        Some("url"),
                        format!("`{url}` is not an http:// or https:// URL"),
                    ));
                }
                McpTransport::StreamableHttp {
                    url,
                    bearer_token_env_var: raw.bearer_token_env_var,
                    http_headers: raw.http_headers.unwrap_or_default(),
                    env_http_headers: raw.env_http_headers.unwrap_or_default(),
                }
            }
        };
        let timeout = |key: &str, value: Option<f64>, default: f64| match value {
            None => Ok(default),
            Some(v) if v.is_finite() && v > 0.0 && v <= 86_400.0 => Ok(v),
            Some(v) => Err(err(
                Some(key),
                format!("{v} is not a number of seconds between 0 and 86400"),
            )),
        };
        Ok(McpServerConfig {
            transport,
            enabled: raw.enabled.unwrap_or(true),
            startup_timeout_sec: timeout(
                "startup_timeout_sec",
                raw.startup_timeout_sec,
                DEFAULT_STARTUP_TIMEOUT_SEC,
            )?,
            tool_timeout_sec: timeout(
                "tool_timeout_sec",
                raw.tool_timeout_sec,
                DEFAULT_TOOL_TIMEOUT_SEC,
            )?,
            enabled_tools: raw.enabled_tools,
            disabled_tools: raw.disabled_tools.unwrap_or_default(),
            approval_policy: raw.approval_policy,
        })
    }

    /// The entry as a TOML table, writing only what differs from the defaults (for `mcp add`).
    pub(crate) fn to_toml_table(&self) -> toml_edit::Table {
        let mut t = toml_edit::Table::new();
        let strings =
            |items: &[String]| toml_edit::value(items.iter().collect::<toml_edit::Array>());
        let map = |m: &BTreeMap<String, String>| {
            let mut inline = toml_edit::InlineTable::new();
            for (k, v) in m {
                inline.insert(k, v.into());
            }
            toml_edit::value(inline)
        };
        match &self.transport {
            McpTransport::Stdio {
                command,
                args,
                env,
                env_vars,
                cwd,
            } => {
                t["command"] = toml_edit::value(command);
                if !args.is_empty() {
                    t["args"] = strings(args);
                }
                if !env.is_empty() {
                    t["env"] = map(env);
                }
                if !env_vars.is_empty() {
                    t["env_vars"] = strings(env_vars);
                }
                if let Some(cwd) = cwd {
                    t["cwd"] = toml_edit::value(cwd.to_string_lossy().as_ref());
                }
            }
            McpTransport::StreamableHttp {
                url,
                bearer_token_env_var,
                http_headers,
                env_http_headers,
            } => {
                t["url"] = toml_edit::value(url);
                if let Some(var) = bearer_token_env_var {
                    t["bearer_token_env_var"] = toml_edit::value(var);
                }
                if !http_headers.is_empty() {
                    t["http_headers"] = map(http_headers);
                }
                if !env_http_headers.is_empty() {
                    t["env_http_headers"] = map(env_http_headers);
                }
            }
        }
        if !self.enabled {
            t["enabled"] = toml_edit::value(false);
        }
        if self.startup_timeout_sec != DEFAULT_STARTUP_TIMEOUT_SEC {
            t["startup_timeout_sec"] = toml_edit::value(self.startup_timeout_sec);
        }
        if self.tool_timeout_sec != DEFAULT_TOOL_TIMEOUT_SEC {
            t["tool_timeout_sec"] = toml_edit::value(self.tool_timeout_sec);
        }
        if let Some(tools) = &self.enabled_tools {
            t["enabled_tools"] = strings(tools);
        }
        if !self.disabled_tools.is_empty() {
            t["disabled_tools"] = strings(&self.disabled_tools);
        }
        if let Some(policy) = self.approval_policy {
            t["approval_policy"] = toml_edit::value(policy.as_str());
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_tools_win_over_enabled_tools() {
        let mut s = McpServerConfig::stdio("npx", vec![]);
        assert!(s.is_tool_enabled("echo"));
        s.enabled_tools = Some(vec!["echo".into(), "add".into()]);
        s.disabled_tools = vec!["add".into()];
        assert!(s.is_tool_enabled("echo"));
        assert!(!s.is_tool_enabled("add"));
        assert!(!s.is_tool_enabled("other"));
    }
}
