//! The shape of config.toml as written: every key optional, unknown keys rejected.
//!
//! These types only validate and carry what the file says; defaults and cross-key rules live in
//! `resolve.rs`. `deny_unknown_fields` everywhere is what turns a typo into an error that names
//! the closest known key instead of a setting silently not taking effect.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use tandem_model::ProviderInfo;
use tandem_protocol::{ApprovalPolicy, SandboxMode};

use crate::env_policy::Inherit;

/// The whole file (after the active profile and `-c` overrides are merged in).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ConfigToml {
    pub model: Option<String>,
    pub model_provider: Option<String>,
    #[serde(default)]
    pub model_providers: BTreeMap<String, ProviderInfo>,
    pub model_context_window: Option<u64>,
    pub model_auto_compact_token_limit: Option<u64>,
    pub approval_policy: Option<ApprovalPolicy>,
    pub sandbox_mode: Option<SandboxMode>,
    pub sandbox_workspace_write: Option<SandboxWorkspaceWriteToml>,
    pub allow_landlock_only_fallback: Option<bool>,
    pub shell_environment_policy: Option<ShellEnvironmentPolicyToml>,
    #[serde(default)]
    pub mcp_servers: BTreeMap<String, McpServerToml>,
    pub project_doc_max_bytes: Option<usize>,
    pub max_tool_rounds: Option<u32>,
    pub tool_output_max_bytes: Option<usize>,
    /// Only validated here (it must be a string); `resolve.rs` reads it from the raw tree.
    #[allow(dead_code)]
    pub profile: Option<String>,
    /// Only validated here; the active one is merged into the top level before typing.
    #[serde(default)]
    #[allow(dead_code)]
    pub profiles: BTreeMap<String, ProfileToml>,
}

/// A `[profiles.NAME]` table: the top-level keys a profile may change. Providers and MCP servers
/// are defined once at the top level and *selected* by a profile (`model_provider`), which keeps
/// one place to look for each definition.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Validation only: the active profile is merged as untyped TOML.
pub(crate) struct ProfileToml {
    pub model: Option<String>,
    pub model_provider: Option<String>,
    pub model_context_window: Option<u64>,
    pub model_auto_compact_token_limit: Option<u64>,
    pub approval_policy: Option<ApprovalPolicy>,
    pub sandbox_mode: Option<SandboxMode>,
    pub sandbox_workspace_write: Option<SandboxWorkspaceWriteToml>,
    pub allow_landlock_only_fallback: Option<bool>,
    pub shell_environment_policy: Option<ShellEnvironmentPolicyToml>,
    pub project_doc_max_bytes: Option<usize>,
    pub max_tool_rounds: Option<u32>,
    pub tool_output_max_bytes: Option<usize>,
}

/// `[sandbox_workspace_write]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SandboxWorkspaceWriteToml {
    pub writable_roots: Option<Vec<PathBuf>>,
    pub network_access: Option<bool>,
}

/// `[shell_environment_policy]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShellEnvironmentPolicyToml {
    pub inherit: Option<Inherit>,
    pub ignore_default_excludes: Option<bool>,
    pub exclude: Option<Vec<String>>,
    pub set: Option<BTreeMap<String, String>>,
    pub include_only: Option<Vec<String>>,
}

/// `[mcp_servers.NAME]`, before the transport is decided (every key optional so that a `-c`
/// override can change one key of a server the file defines).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct McpServerToml {
    pub command: Option<String>,
    pub args: Option<Vec<String>>,
    pub env: Option<BTreeMap<String, String>>,
    pub env_vars: Option<Vec<String>>,
    pub cwd: Option<PathBuf>,
    pub url: Option<String>,
    pub bearer_token_env_var: Option<String>,
    pub http_headers: Option<BTreeMap<String, String>>,
    pub env_http_headers: Option<BTreeMap<String, String>>,
    pub enabled: Option<bool>,
    pub startup_timeout_sec: Option<f64>,
    pub tool_timeout_sec: Option<f64>,
    pub enabled_tools: Option<Vec<String>>,
    pub disabled_tools: Option<Vec<String>>,
    pub approval_policy: Option<ApprovalPolicy>,
}

/// Codex keys Tandem knows but does not implement. They are removed with a warning instead of
/// failing as unknown keys, so a Codex config.toml can be copied over as a starting point.
/// Each entry is (table, keys); `*` in a table path matches any profile name.
pub(crate) const IGNORED_CODEX_KEYS: &[(&[&str], &[&str])] = &[
    (&[], IGNORED_TOP_LEVEL),
    (&["profiles", "*"], IGNORED_TOP_LEVEL),
    (&["sandbox_workspace_write"], IGNORED_SANDBOX_KEYS),
    (
        &["profiles", "*", "sandbox_workspace_write"],
        IGNORED_SANDBOX_KEYS,
    ),
    (&["shell_environment_policy"], IGNORED_ENV_POLICY_KEYS),
    (
        &["profiles", "*", "shell_environment_policy"],
        IGNORED_ENV_POLICY_KEYS,
    ),
];

const IGNORED_TOP_LEVEL: &[&str] = &[
    "chatgpt_base_url",
    "check_for_update_on_startup",
    "cli_auth_credentials_store",
    "compact_prompt",
    "developer_instructions",
    "experimental_instructions_file",
    "features",
    "file_opener",
    "forced_chatgpt_workspace_id",
    "forced_login_method",
    "hide_agent_reasoning",
    "history",
    "model_instructions_file",
    "model_reasoning_effort",
    "model_reasoning_summary",
    "model_supports_reasoning_summaries",
    "model_verbosity",
    "notify",
    "oss_provider",
    "otel",
    "project_doc_fallback_filenames",
    "projects",
    "show_raw_agent_reasoning",
    "tool_output_token_limit",
    "tools",
    "tui",
];

const IGNORED_SANDBOX_KEYS: &[&str] = &["exclude_slash_tmp", "exclude_tmpdir_env_var"];

const IGNORED_ENV_POLICY_KEYS: &[&str] = &["experimental_use_profile"];
