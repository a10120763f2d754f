//! Turning the layers into one [`Config`]: defaults, config.toml, the active profile, `-c`
//! overrides and the caller's explicit overrides, in that order of increasing precedence.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use tandem_model::ProviderInfo;
use tandem_protocol::{ApprovalPolicy, SandboxMode};

use crate::document::{Document, KeyPath};
use crate::env_policy::ShellEnvironmentPolicy;
use crate::error::{Blame, ConfigError};
use crate::mcp::McpServerConfig;
use crate::overrides::ConfigOverrides;
use crate::schema::{ConfigToml, IGNORED_CODEX_KEYS};

/// The model used when none is configured. It is an OpenAI model, so with another provider
/// `model` should be set (a warning says so when it is not).
pub const DEFAULT_MODEL: &str = "gpt-5-codex";
/// The provider used when none is configured.
pub const DEFAULT_MODEL_PROVIDER: &str = "openai";
/// Default cap on the AGENTS.md text from the project (32 KiB, as in Codex).
pub const DEFAULT_PROJECT_DOC_MAX_BYTES: usize = 32 * 1024;
/// Default cap on model round trips within one turn; a runaway loop stops here.
pub const DEFAULT_MAX_TOOL_ROUNDS: u32 = 500;
/// Default cap on one tool output fed back to the model (head and tail are kept).
pub const DEFAULT_TOOL_OUTPUT_MAX_BYTES: usize = 10 * 1024;
/// Ids of the built-in providers, which a `[model_providers.ID]` table cannot redefine.
pub const BUILT_IN_PROVIDER_IDS: &[&str] = &["ollama", "openai"];

/// `[sandbox_workspace_write]`: what `sandbox_mode = "workspace-write"` adds to the cwd.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct SandboxWorkspaceWrite {
    /// More writable directories, absolute (relative ones in the file are taken from the cwd,
    /// `~/` from the home directory).
    pub writable_roots: Vec<PathBuf>,
    /// Whether commands may use the network. Default `false`.
    pub network_access: bool,
}

/// The resolved configuration of one session.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    /// `$TANDEM_HOME`, default `~/.tandem`.
    pub tandem_home: PathBuf,
    /// `$TANDEM_HOME/config.toml`. It need not exist: then everything is a default.
    pub config_file: PathBuf,
    /// The absolute working directory.
    pub cwd: PathBuf,
    pub model: String,
    pub model_provider_id: String,
    /// The provider `model_provider_id` names, resolved.
    pub model_provider: ProviderInfo,
    /// The model's context window in tokens, when the user knows better than our tables.
    pub model_context_window: Option<u64>,
    /// Compact the history when it passes this many tokens.
    pub model_auto_compact_token_limit: Option<u64>,
    pub approval_policy: ApprovalPolicy,
    pub sandbox_mode: SandboxMode,
    pub sandbox_workspace_write: SandboxWorkspaceWrite,
    /// Key `allow_landlock_only_fallback`: on a host without usable user namespaces, run
    /// commands under Landlock + seccomp only (weaker, and said so) instead of refusing them.
    pub allow_landlock_only_fallback: bool,
    pub shell_environment_policy: ShellEnvironmentPolicy,
    /// Every `[mcp_servers.NAME]`, including disabled ones (check `enabled`).
    pub mcp_servers: BTreeMap<String, McpServerConfig>,
    /// Cap on the project's AGENTS.md text; `0` disables project docs.
    pub project_doc_max_bytes: usize,
    /// Key `max_tool_rounds`: the most model requests in one turn.
    pub max_tool_rounds: u32,
    /// Key `tool_output_max_bytes`: the cap on one tool output fed to the model.
    pub tool_output_max_bytes: usize,
    /// The profile in effect, if any.
    pub active_profile: Option<String>,
    /// Things the user should hear about but that do not stop the session (ignored Codex keys,
    /// a defaulted model with a non-OpenAI provider). The library never prints them.
    pub warnings: Vec<String>,
}

/// The built-in providers: `openai` (key from `OPENAI_API_KEY`; `OPENAI_BASE_URL`, when set and
/// non-empty, replaces its URL) and `ollama` (`http://localhost:11434/v1`, chat, no key).
pub fn built_in_providers(env: impl Fn(&str) -> Option<String>) -> BTreeMap<String, ProviderInfo> {
    let mut openai = ProviderInfo::openai();
    if let Some(url) = env("OPENAI_BASE_URL").filter(|u| !u.trim().is_empty()) {
        openai.base_url = url.trim().to_owned();
    }
    BTreeMap::from([
        ("openai".to_owned(), openai),
        ("ollama".to_owned(), ProviderInfo::ollama()),
    ])
}

impl Config {
    /// Loads the config, reading `TANDEM_HOME` and `OPENAI_BASE_URL` from the process
    /// environment.
    pub fn load(overrides: ConfigOverrides) -> Result<Config, ConfigError> {
        Self::load_with_env(overrides, |name| std::env::var(name).ok())
    }

    /// Like [`Config::load`], with the environment looked up through `env`, so tests need not
    /// touch the process environment (which is shared by parallel tests).
    pub fn load_with_env(
        overrides: ConfigOverrides,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let process_cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let tandem_home = match (&overrides.tandem_home, env("TANDEM_HOME")) {
            (Some(home), _) => process_cwd.join(home),
            (None, Some(home)) if !home.is_empty() => process_cwd.join(home),
            _ => dirs::home_dir()
                .ok_or(ConfigError::NoHomeDir)?
                .join(".tandem"),
        };
        let cwd = process_cwd.join(overrides.cwd.as_deref().unwrap_or(Path::new(".")));
        let cwd = normalize(&cwd);
        match std::fs::metadata(&cwd) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(ConfigError::Cwd {
                    path: cwd,
                    message: "not a directory".into(),
                });
            }
            Err(e) => {
                return Err(ConfigError::Cwd {
                    path: cwd,
                    message: e.to_string(),
                });
            }
        }
        let config_file = tandem_home.join("config.toml");
        let text = match std::fs::read_to_string(&config_file) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
            Err(error) => {
                return Err(ConfigError::Read {
                    path: config_file,
                    error,
                });
            }
        };
        let file = Document::parse(&config_file, text)?;
        Resolver {
            overrides,
            env: &env,
            tandem_home,
            config_file,
            cwd,
        }
        .resolve(file)
    }

    /// The configuration with every default and no file, for tests and tools that must not
    /// depend on the user's config.
    pub fn with_defaults(tandem_home: PathBuf, cwd: PathBuf) -> Config {
        Config {
            config_file: tandem_home.join("config.toml"),
            tandem_home,
            cwd,
            model: DEFAULT_MODEL.to_owned(),
            model_provider_id: DEFAULT_MODEL_PROVIDER.to_owned(),
            model_provider: ProviderInfo::openai(),
            model_context_window: None,
            model_auto_compact_token_limit: None,
            approval_policy: ApprovalPolicy::default(),
            sandbox_mode: SandboxMode::default(),
            sandbox_workspace_write: SandboxWorkspaceWrite::default(),
            allow_landlock_only_fallback: false,
            shell_environment_policy: ShellEnvironmentPolicy::default(),
            mcp_servers: BTreeMap::new(),
            project_doc_max_bytes: DEFAULT_PROJECT_DOC_MAX_BYTES,
            max_tool_rounds: DEFAULT_MAX_TOOL_ROUNDS,
            tool_output_max_bytes: DEFAULT_TOOL_OUTPUT_MAX_BYTES,
            active_profile: None,
            warnings: Vec::new(),
        }
    }
}

struct Resolver<'a, E> {
    overrides: ConfigOverrides,
    env: &'a E,
    tandem_home: PathBuf,
    config_file: PathBuf,
    cwd: PathBuf,
}

impl<E: Fn(&str) -> Option<String>> Resolver<'_, E> {
    fn resolve(self, mut file: Document) -> Result<Config, ConfigError> {
        // The file with every -c applied tells which profile is active and what it says (a -c
        // may select a profile or change one); the profile is then laid over the file, and the
        // -c overrides applied again on top so that they beat the profile.
        let mut warnings = strip_ignored_keys(&mut file);
        let mut staged = file.clone();
        for (key, value) in &self.overrides.cli_overrides {
            staged.apply_cli(key, value)?;
        }
        let active_profile = self.active_profile(&staged)?;
        let mut doc = file;
        if let Some(name) = &active_profile {
            doc.overlay_root_from(&staged, &KeyPath::of(&["profiles", name]));
        }
        for (key, value) in &self.overrides.cli_overrides {
            doc.apply_cli(key, value)?;
        }
        for warning in strip_ignored_keys(&mut doc) {
            if !warnings.contains(&warning) {
                warnings.push(warning);
            }
        }
        let raw: ConfigToml = doc.deserialize(&KeyPath::root())?;

        let (model_provider_id, model_provider) = self.provider(&raw, &doc)?;
        let model = match self.overrides.model.clone().or(raw.model) {
            Some(model) => model,
            None => {
                if model_provider_id != DEFAULT_MODEL_PROVIDER {
                    warnings.push(format!(
                        "`model` is not set; using the default `{DEFAULT_MODEL}`, which provider `{model_provider_id}` may not serve"
                    ));
                }
                DEFAULT_MODEL.to_owned()
            }
        };
        let sww = raw.sandbox_workspace_write.unwrap_or_default();
        let sandbox_workspace_write = SandboxWorkspaceWrite {
            writable_roots: sww
                .writable_roots
                .unwrap_or_default()
                .iter()
                .map(|p| self.absolute(p))
                .collect(),
            network_access: sww.network_access.unwrap_or(false),
        };
        let env_policy = raw.shell_environment_policy.unwrap_or_default();
        let shell_environment_policy = ShellEnvironmentPolicy {
            inherit: env_policy.inherit.unwrap_or_default(),
            ignore_default_excludes: env_policy.ignore_default_excludes.unwrap_or(false),
            exclude: env_policy.exclude.unwrap_or_default(),
            set: env_policy.set.unwrap_or_default(),
            include_only: env_policy.include_only.unwrap_or_default(),
        };
        let mut mcp_servers = BTreeMap::new();
        for (name, server) in raw.mcp_servers {
            let path = KeyPath::of(&["mcp_servers", &name]);
            let server = McpServerConfig::from_toml(server, &path, &doc)?;
            mcp_servers.insert(name, server);
        }
        let positive = |key: &str, value: Option<u64>| match value {
            Some(0) => Err(doc.error(
                &KeyPath::of(&[key]),
                "must be at least 1".into(),
                Blame::Value,
            )),
            other => Ok(other),
        };
        let max_tool_rounds = positive("max_tool_rounds", raw.max_tool_rounds.map(u64::from))?;
        let tool_output_max_bytes = positive(
            "tool_output_max_bytes",
            raw.tool_output_max_bytes.map(|v| v as u64),
        )?;
        positive("model_context_window", raw.model_context_window)?;
        positive(
            "model_auto_compact_token_limit",
            raw.model_auto_compact_token_limit,
        )?;

        Ok(Config {
            tandem_home: self.tandem_home.clone(),
            config_file: self.config_file.clone(),
            cwd: self.cwd.clone(),
            model,
            model_provider_id,
            model_provider,
            model_context_window: raw.model_context_window,
            model_auto_compact_token_limit: raw.model_auto_compact_token_limit,
            approval_policy: self
                .overrides
                .approval_policy
                .or(raw.approval_policy)
                .unwrap_or_default(),
            sandbox_mode: self
                .overrides
                .sandbox_mode
                .or(raw.sandbox_mode)
                .unwrap_or_default(),
            sandbox_workspace_write,
            allow_landlock_only_fallback: raw.allow_landlock_only_fallback.unwrap_or(false),
            shell_environment_policy,
            mcp_servers,
            project_doc_max_bytes: raw
                .project_doc_max_bytes
                .unwrap_or(DEFAULT_PROJECT_DOC_MAX_BYTES),
            max_tool_rounds: max_tool_rounds.map_or(DEFAULT_MAX_TOOL_ROUNDS, |v| v as u32),
            tool_output_max_bytes: tool_output_max_bytes
                .map_or(DEFAULT_TOOL_OUTPUT_MAX_BYTES, |v| v as usize),
            active_profile,
            warnings,
        })
    }

    /// The profile in effect: `ConfigOverrides.profile`, else `profile = "..."` (file or `-c`).
    fn active_profile(&self, staged: &Document) -> Result<Option<String>, ConfigError> {
        let profile_key = KeyPath::of(&["profile"]);
        let (name, location) = match &self.overrides.profile {
            Some(name) => (name.clone(), None),
            None => match staged.get(&profile_key) {
                None => return Ok(None),
                Some(toml::Value::String(name)) => (
                    name.clone(),
                    Some(staged.locate(&profile_key, Blame::Value).0),
                ),
                // Not a string: typing reports it with its location.
                Some(_) => return Ok(None),
            },
        };
        let profiles = staged.table(&KeyPath::of(&["profiles"]));
        if profiles.is_some_and(|p| p.contains_key(&name)) {
            return Ok(Some(name));
        }
        Err(ConfigError::UnknownProfile {
            location,
            name,
            available: profiles
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default(),
        })
    }

    fn provider(
        &self,
        raw: &ConfigToml,
        doc: &Document,
    ) -> Result<(String, ProviderInfo), ConfigError> {
        let mut providers = built_in_providers(self.env);
        for (id, info) in &raw.model_providers {
            let path = KeyPath::of(&["model_providers", id]);
            if providers.contains_key(id) {
                let hint = if id == "openai" {
                    "; set OPENAI_BASE_URL to change its URL, or define the provider under another id"
                } else {
                    "; define your variant under another id, such as `ollama-remote`"
                };
                return Err(doc.error(
                    &path,
                    format!("`{id}` is a built-in provider and cannot be redefined{hint}"),
                    Blame::Key,
                ));
            }
            if !(info.base_url.starts_with("http://") || info.base_url.starts_with("https://")) {
                return Err(doc.error(
                    &path.key("base_url"),
                    format!("`{}` is not an http:// or https:// URL", info.base_url),
                    Blame::Value,
                ));
            }
            providers.insert(id.clone(), info.clone());
        }
        let id = raw
            .model_provider
            .clone()
            .unwrap_or_else(|| DEFAULT_MODEL_PROVIDER.to_owned());
        match providers.remove(&id) {
            Some(info) => Ok((id, info)),
            None => {
                let known: Vec<&str> = providers.keys().map(String::as_str).collect();
                Err(doc.error(
                    &KeyPath::of(&["model_provider"]),
                    format!(
                        "unknown provider \"{id}\"; known providers: {} (define others under [model_providers.ID])",
                        known.join(", ")
                    ),
                    Blame::Value,
                ))
            }
        }
    }

    /// Makes a configured path absolute: `~/` from the home directory, relative from the cwd.
    fn absolute(&self, path: &Path) -> PathBuf {
        if let Ok(rest) = path.strip_prefix("~")
            && let Some(home) = dirs::home_dir()
        {
            return normalize(&home.join(rest));
        }
        normalize(&self.cwd.join(path))
    }
}

/// Removes the Codex keys we recognise but do not implement, warning about each with its
/// location. Both a profile's copy and the merged copy may be found; each warning is kept once.
fn strip_ignored_keys(doc: &mut Document) -> Vec<String> {
    let mut warnings: Vec<String> = Vec::new();
    let profiles: Vec<String> = doc
        .table(&KeyPath::of(&["profiles"]))
        .map(|t| t.keys().cloned().collect())
        .unwrap_or_default();
    for (table, keys) in IGNORED_CODEX_KEYS {
        let tables: Vec<KeyPath> = if table.contains(&"*") {
            profiles
                .iter()
                .map(|p| {
                    KeyPath::of(
                        &table
                            .iter()
                            .map(|s| if *s == "*" { p.as_str() } else { s })
                            .collect::<Vec<_>>(),
                    )
                })
                .collect()
        } else {
            vec![KeyPath::of(table)]
        };
        for table in tables {
            for key in *keys {
                let path = table.key(key);
                let location = doc.locate(&path, Blame::Key);
                if doc.remove(&table, key) {
                    let warning = format!(
                        "{}: {}: ignored: a Codex setting Tandem does not support",
                        location.0, location.1
                    );
                    if !warnings.contains(&warning) {
                        warnings.push(warning);
                    }
                }
            }
        }
    }
    warnings
}

/// Removes `.` and `..` components without touching the filesystem (symlinks are kept as the
/// user wrote them).
fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
