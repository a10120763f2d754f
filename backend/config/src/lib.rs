//! Loads config.toml with profiles and -c overrides, and finds AGENTS.md files.
//!
//! The file is `$TANDEM_HOME/config.toml` (default `~/.tandem/config.toml`); its keys follow
//! Codex's where the two overlap, so a Codex config is a good starting point. Precedence, from
//! strongest to weakest:
//!
//! 1. the typed fields of [`ConfigOverrides`] (`-m`, `-s`, `-a`, `-C`, `-p` on the command line);
//! 2. `-c key=value` overrides ([`ConfigOverrides::cli_overrides`], in order);
//! 3. the active profile, `[profiles.NAME]`, selected by `ConfigOverrides::profile` or
//!    `profile = "NAME"`;
//! 4. the top level of config.toml;
//! 5. the defaults (see `docs/config.md`).
//!
//! Errors name the file, line, column and key (or the `-c` override) and say what would have
//! been accepted; unknown keys are errors with a "did you mean" suggestion, because a typo that
//! is silently ignored is a setting that silently does not apply. The library never prints:
//! non-fatal findings go to [`Config::warnings`].

pub mod agents_md;
mod document;
mod edit;
mod env_policy;
mod error;
mod mcp;
mod overrides;
mod resolve;
mod schema;

pub use edit::{remove_mcp_server, set_mcp_server};
pub use env_policy::{CORE_VARS, DEFAULT_EXCLUDES, Inherit, ShellEnvironmentPolicy, glob_match};
pub use error::{ConfigError, Location};
pub use mcp::{
    DEFAULT_STARTUP_TIMEOUT_SEC, DEFAULT_TOOL_TIMEOUT_SEC, McpServerConfig, McpTransport,
};
pub use overrides::{ConfigOverrides, parse_cli_override};
pub use resolve::{
    BUILT_IN_PROVIDER_IDS, Config, DEFAULT_MAX_TOOL_ROUNDS, DEFAULT_MODEL, DEFAULT_MODEL_PROVIDER,
    DEFAULT_PROJECT_DOC_MAX_BYTES, DEFAULT_TOOL_OUTPUT_MAX_BYTES, SandboxWorkspaceWrite,
    built_in_providers,
};
