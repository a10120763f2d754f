//! What the caller (a CLI flag, an MCP tool call, an editor request) overrides at load time.

use std::path::PathBuf;

use tandem_protocol::{ApprovalPolicy, SandboxMode};

use crate::document::split_dotted_key;
use crate::error::ConfigError;

/// Values given by the program that loads the config, typically from command-line flags.
///
/// The typed fields beat everything else: they are what the user asked for on this very
/// invocation (`-m`, `-s`, `-a`, `-p`, `-C`). `cli_overrides` are the generic `-c key=value`
/// pairs, applied on top of the file and the active profile but below the typed fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigOverrides {
    /// The working directory; relative paths are taken from the process's. Default: the
    /// process's working directory.
    pub cwd: Option<PathBuf>,
    pub model: Option<String>,
    /// Selects `[profiles.NAME]`, beating `profile = "..."` in the file.
    pub profile: Option<String>,
    pub sandbox_mode: Option<SandboxMode>,
    pub approval_policy: Option<ApprovalPolicy>,
    /// `-c` overrides in command-line order (later ones win), as made by [`parse_cli_override`].
    pub cli_overrides: Vec<(String, toml::Value)>,
    /// Beats `$TANDEM_HOME`. Tests set it so they never read the real `~/.tandem`.
    pub tandem_home: Option<PathBuf>,
}

/// Parses one `-c key=value`.
///
/// The key is a TOML dotted key (`a.b`, `mcp_servers."my server".command`). The value is parsed
/// as a TOML value (`1`, `true`, `"x"`, `[1, 2]`, `{ command = "npx" }`); when it does not parse,
/// it is taken as a plain string, as Codex does, so `-c model=gpt-5` works without quotes.
/// Whether the key exists and the value fits is checked by [`crate::Config::load`], which names
/// the override in its error.
pub fn parse_cli_override(s: &str) -> Result<(String, toml::Value), ConfigError> {
    let bad = |message: &str| ConfigError::BadOverride {
        arg: s.to_owned(),
        message: message.to_owned(),
    };
    let (key, value) = s.split_once('=').ok_or_else(|| bad("expected key=value"))?;
    let key = key.trim();
    if key.is_empty() {
        return Err(bad("the key is empty"));
    }
    split_dotted_key(key).map_err(|message| bad(&message))?;
    let value = value.trim();
    let value = value
        .parse::<toml::Value>()
        .unwrap_or_else(|_| toml::Value::String(value.to_owned()));
    Ok((key.to_owned(), value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> (String, toml::Value) {
        parse_cli_override(s).unwrap()
    }

    #[test]
    fn values_are_toml() {
        assert_eq!(parse("a.b=1"), ("a.b".into(), toml::Value::Integer(1)));
        assert_eq!(parse("model=\"x\""), ("model".into(), "x".into()));
        assert_eq!(
            parse("flag = true"),
            ("flag".into(), toml::Value::Boolean(true))
        );
        assert_eq!(
            parse("x=[1,2]"),
            ("x".into(), toml::Value::Array(vec![1.into(), 2.into()]))
        );
        let (_, table) = parse("s={ command = \"npx\", args = [\"-y\"] }");
        assert_eq!(table["command"].as_str(), Some("npx"));
    }

    #[test]
    fn unparseable_values_fall_back_to_strings() {
        assert_eq!(parse("model=gpt-5"), ("model".into(), "gpt-5".into()));
        assert_eq!(parse("x=a=b"), ("x".into(), "a=b".into()));
        assert_eq!(parse("x="), ("x".into(), "".into()));
        assert_eq!(parse("x=\"open"), ("x".into(), "\"open".into()));
    }

    #[test]
    fn quoted_keys_are_kept_as_written() {
        assert_eq!(
            parse("mcp_servers.\"my server\".enabled=false").0,
            "mcp_servers.\"my server\".enabled"
        );
    }

    #[test]
    fn malformed_overrides_are_rejected() {
        for (arg, want) in [
            ("model", "invalid -c override `model`: expected key=value"),
            ("=1", "invalid -c override `=1`: the key is empty"),
            (
                "a..b=1",
                "invalid -c override `a..b=1`: `a..b` is not a TOML key; quote parts that contain dots or spaces",
            ),
        ] {
            assert_eq!(parse_cli_override(arg).unwrap_err().to_string(), want);
        }
    }
}
