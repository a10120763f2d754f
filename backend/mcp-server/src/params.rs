//! The two tools' definitions (names, JSON Schemas) and their arguments.
//!
//! Argument names follow Codex's MCP server (`approval-policy`, `threadId`), so a client set up
//! for `codex mcp-server` needs only the tool names changed. snake_case and camelCase spellings
//! are accepted too, and unknown arguments are refused by name rather than ignored: a typo in
//! `sandbox` must not silently run with the default.

use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use serde::Deserialize;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tandem_config::ConfigOverrides;
use tandem_protocol::{ApprovalPolicy, SandboxMode};

pub(crate) const TOOL_START: &str = "tandem";
pub(crate) const TOOL_REPLY: &str = "tandem-reply";

/// Arguments of `tandem`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct StartParams {
    pub prompt: String,
    #[serde(default)]
    pub cwd: Option<String>,
    #[serde(default, alias = "sandbox_mode", alias = "sandboxMode")]
    pub sandbox: Option<SandboxMode>,
    #[serde(default, alias = "approval_policy", alias = "approvalPolicy")]
    pub approval_policy: Option<ApprovalPolicy>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub profile: Option<String>,
    /// `-c` overrides: dotted keys to JSON values.
    #[serde(default)]
    pub config: Option<serde_json::Map<String, Value>>,
}

/// Arguments of `tandem-reply`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplyParams {
    #[serde(
        rename = "threadId",
        alias = "thread_id",
        alias = "thread-id",
        alias = "conversationId",
        alias = "sessionId"
    )]
    pub thread_id: String,
    pub prompt: String,
}

/// Parse a tool's arguments; the error names the tool and the offending argument.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    tool: &str,
    arguments: Option<JsonObject>,
) -> Result<T, String> {
    serde_json::from_value(Value::Object(arguments.unwrap_or_default()))
        .map_err(|e| format!("invalid arguments for `{tool}`: {e}"))
}

impl StartParams {
    /// The server's defaults with this call's arguments on top.
    pub(crate) fn overrides(
        &self,
        defaults: &ConfigOverrides,
        server_cwd: &Path,
    ) -> Result<ConfigOverrides, String> {
        let mut overrides = defaults.clone();
        if let Some(dir) = &self.cwd {
            let dir = PathBuf::from(dir);
            let dir = if dir.is_absolute() {
                dir
            } else {
                overrides
                    .cwd
                    .clone()
                    .unwrap_or_else(|| server_cwd.to_path_buf())
                    .join(dir)
            };
            let dir =
                std::fs::canonicalize(&dir).map_err(|e| format!("cwd {}: {e}", dir.display()))?;
            if !dir.is_dir() {
                return Err(format!("cwd {} is not a directory", dir.display()));
            }
            overrides.cwd = Some(dir);
        }
        if self.sandbox.is_some() {
            overrides.sandbox_mode = self.sandbox;
        }
        if self.approval_policy.is_some() {
            overrides.approval_policy = self.approval_policy;
        }
        if self.model.is_some() {
            overrides.model.clone_from(&self.model);
        }
        if self.profile.is_some() {
            overrides.profile.clone_from(&self.profile);
        }
        for (key, value) in self.config.iter().flatten() {
            let value = json_to_toml(value).ok_or_else(|| {
                format!("config.{key}: null has no TOML equivalent; leave the key out instead")
            })?;
            overrides.cli_overrides.push((key.clone(), value));
        }
        Ok(overrides)
    }
}

/// A JSON value as TOML; `None` for `null`, which TOML cannot express.
pub(crate) fn json_to_toml(value: &Value) -> Option<toml::Value> {
    Some(match value {
        Value::Null => return None,
        Value::Bool(b) => toml::Value::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => toml::Value::Integer(i),
            None => toml::Value::Float(n.as_f64()?),
        },
        Value::String(s) => toml::Value::String(s.clone()),
        Value::Array(items) => {
            toml::Value::Array(items.iter().map(json_to_toml).collect::<Option<_>>()?)
        }
        Value::Object(map) => toml::Value::Table(
            map.iter()
                .map(|(k, v)| Some((k.clone(), json_to_toml(v)?)))
                .collect::<Option<_>>()?,
        ),
    })
}

fn object(value: Value) -> Arc<JsonObject> {
    match value {
        Value::Object(map) => Arc::new(map),
        _ => Arc::new(JsonObject::new()),
    }
}

fn output_schema() -> Arc<JsonObject> {
    object(json!({
        "type": "object",
        "properties": {
            "threadId": {"type": "string", "description": "The session id; pass it to `tandem-reply` to continue."},
            "content": {"type": "string", "description": "The agent's final message."},
            "denied": {
                "type": "array",
                "description": "Actions that needed approval and were not allowed.",
                "items": {"type": "object"}
            },
            "errorCode": {
                "type": "string",
                "description": "Why the turn failed, when it did and a code says more than the message (e.g. max_tool_rounds, model_unreachable, rate_limited)."
            }
        },
        "required": ["threadId", "content"]
    }))
}

/// The tools as `tools/list` shows them.
pub(crate) fn tools() -> Vec<Tool> {
    let start = Tool::new(
        TOOL_START,
        "Run a coding task with Tandem, a coding agent: it reads the workspace, runs commands in \
         an OS sandbox and edits files, then answers. Returns the final message and a threadId \
         for `tandem-reply`.",
        object(json!({
            "type": "object",
            "properties": {
                "prompt": {"type": "string", "description": "The task, as you would tell a person."},
                "cwd": {"type": "string", "description": "The workspace directory (default: the server's)."},
                "sandbox": {
                    "type": "string",
                    "enum": ["read-only", "workspace-write", "danger-full-access"],
                    "description": "What commands may write."
                },
                "approval-policy": {
                    "type": "string",
                    "enum": ["untrusted", "on-request", "on-failure", "never"],
                    "description": "When to ask for approval (asked through elicitation)."
                },
                "model": {"type": "string", "description": "The model to use."},
                "profile": {"type": "string", "description": "A [profiles.NAME] table of config.toml."},
                "config": {
                    "type": "object",
                    "description": "Config overrides, like `-c key=value`: dotted keys to values.",
                    "additionalProperties": true
                }
            },
            "required": ["prompt"]
        })),
    )
    .with_title("Tandem: run a coding task")
    .with_raw_output_schema(output_schema())
    .with_annotations(ToolAnnotations::new().read_only(false).open_world(true));

    let reply = Tool::new(
        TOOL_REPLY,
        "Continue a Tandem session with another prompt. The session keeps its history, \
         workspace and settings.",
        object(json!({
            "type": "object",
            "properties": {
                "threadId": {"type": "string", "description": "The threadId a `tandem` call returned."},
                "prompt": {"type": "string", "description": "The next message."}
            },
            "required": ["threadId", "prompt"]
        })),
    )
    .with_title("Tandem: continue a session")
    .with_raw_output_schema(output_schema())
    .with_annotations(ToolAnnotations::new().read_only(false).open_world(true));
    vec![start, reply]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: Value) -> Option<JsonObject> {
        match v {
            Value::Object(m) => Some(m),
            _ => None,
        }
    }

    #[test]
    fn start_params_take_codex_spellings_and_refuse_typos() {
        let p: StartParams = parse(
            TOOL_START,
            args(json!({"prompt": "x", "approval-policy": "on-failure", "sandbox": "workspace-write"})),
        )
        .unwrap();
        assert_eq!(p.approval_policy, Some(ApprovalPolicy::OnRequest));
        assert_eq!(p.sandbox, Some(SandboxMode::WorkspaceWrite));
        let err = parse::<StartParams>(TOOL_START, args(json!({"prompt": "x", "sandbx": "r"})))
            .unwrap_err();
        assert!(err.contains("sandbx"), "{err}");
        let err =
            parse::<StartParams>(TOOL_START, args(json!({"sandbox": "read-only"}))).unwrap_err();
        assert!(err.contains("prompt"), "{err}");
    }

    #[test]
    fn reply_params_accept_the_old_conversation_id() {
        let p: ReplyParams = parse(
            TOOL_REPLY,
            args(json!({"conversationId": "abc", "prompt": "go on"})),
        )
        .unwrap();
        assert_eq!(p.thread_id, "abc");
    }

    #[test]
    fn overrides_layer_the_call_over_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let defaults = ConfigOverrides {
            model: Some("default-model".into()),
            sandbox_mode: Some(SandboxMode::ReadOnly),
            ..Default::default()
        };
        let p: StartParams = parse(
            TOOL_START,
            args(
                json!({"prompt": "x", "cwd": ".", "sandbox": "workspace-write",
                        "config": {"model_reasoning_effort": "high", "a.b": [1, 2.5, true]}}),
            ),
        )
        .unwrap();
        let o = p.overrides(&defaults, dir.path()).unwrap();
        assert_eq!(o.cwd.unwrap(), dir.path().canonicalize().unwrap());
        assert_eq!(o.model.as_deref(), Some("default-model"));
        assert_eq!(o.sandbox_mode, Some(SandboxMode::WorkspaceWrite));
        assert_eq!(o.cli_overrides.len(), 2);
        let bad: StartParams = parse(
            TOOL_START,
            args(json!({"prompt": "x", "cwd": "does/not/exist"})),
        )
        .unwrap();
        assert!(bad.overrides(&defaults, dir.path()).is_err());
    }

    #[test]
    fn null_has_no_toml_form() {
        assert!(json_to_toml(&json!({"a": [1, null]})).is_none());
        assert_eq!(
            json_to_toml(&json!({"a": 1})),
            Some(toml::Value::Table(
                [("a".to_string(), toml::Value::Integer(1))]
                    .into_iter()
                    .collect()
            ))
        );
    }

    #[test]
    fn tools_have_codex_like_schemas() {
        let tools = tools();
        let names: Vec<_> = tools.iter().map(|t| t.name.to_string()).collect();
        assert_eq!(names, ["tandem", "tandem-reply"]);
        assert_eq!(tools[0].input_schema["required"], json!(["prompt"]));
        assert!(tools[1].output_schema.is_some());
    }
}
