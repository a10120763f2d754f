//! Errors, and how they point at the file, line, column and key that caused them.
//!
//! A config error that does not say *where* sends the user hunting, so every error about a
//! value carries a [`Location`] (a file position or the `-c` override it came from) and the
//! dotted key. serde's own wording is turned into something a person can act on: an unknown key
//! gets the closest known key as a suggestion, an unknown enum value lists the accepted ones.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Where a bad value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A position in a config file; `line` and `column` are 1-based, the column counts
    /// characters, not bytes.
    File {
        path: PathBuf,
        line: usize,
        column: usize,
    },
    /// A config file, where no position is known (rare: a value built by merging layers).
    FileOnly { path: PathBuf },
    /// A `-c key=value` override, rendered as `key=value` with the value in TOML syntax.
    CliOverride { arg: String },
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File { path, line, column } => {
                write!(f, "{}:{line}:{column}", path.display())
            }
            Location::FileOnly { path } => write!(f, "{}", path.display()),
            Location::CliOverride { arg } => write!(f, "-c {arg}"),
        }
    }
}

/// Everything that can go wrong while loading or editing the config.
///
/// The `Display` text is meant to be shown to the user as is, on one line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file exists but could not be read.
    #[error("cannot read {}: {error}", path.display())]
    Read { path: PathBuf, error: io::Error },
    /// The file (or its directory) could not be written by `set_mcp_server`/`remove_mcp_server`.
    #[error("cannot write {}: {error}", path.display())]
    Write { path: PathBuf, error: io::Error },
    /// The file is not valid TOML.
    #[error("{}:{line}:{column}: invalid TOML: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A key is unknown, or its value has the wrong type or an unknown value.
    #[error("{location}: {key}: {message}")]
    Invalid {
        location: Location,
        /// The dotted key, as written in the file (`profiles.fast.model`, `mcp_servers.x.args[1]`).
        key: String,
        message: String,
    },
    /// A `-c` argument that is not `key=value`.
    #[error("invalid -c override `{arg}`: {message}")]
    BadOverride { arg: String, message: String },
    /// The selected profile is not defined.
    #[error(
        "{}unknown profile `{name}`; {}",
        location_prefix(location),
        available_profiles(available)
    )]
    UnknownProfile {
        /// Where the profile was selected; `None` when the caller asked for it (`--profile`).
        location: Option<Location>,
        name: String,
        available: Vec<String>,
    },
    /// The working directory does not exist or is not a directory.
    #[error("working directory {}: {message}", path.display())]
    Cwd { path: PathBuf, message: String },
    /// Neither `TANDEM_HOME` nor a home directory is known.
    #[error("cannot find the home directory; set TANDEM_HOME")]
    NoHomeDir,
    /// `set_mcp_server` was given a name that could not become a tool-name prefix.
    #[error("invalid MCP server name `{name}`: use only ASCII letters, digits, `-` and `_`")]
    InvalidServerName { name: String },
}

fn location_prefix(location: &Option<Location>) -> String {
    match location {
        Some(location) => format!("{location}: profile: "),
        None => String::new(),
    }
}

fn available_profiles(available: &[String]) -> String {
    if available.is_empty() {
        "no profiles are defined (add a [profiles.NAME] table)".to_owned()
    } else {
        format!("available profiles: {}", available.join(", "))
    }
}

/// Turns a byte offset into a 1-based line and (character) column.
pub(crate) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset].chars().count() + 1;
    (line, column)
}

/// What kind of problem a serde message describes; decides whether the key or the value is
/// pointed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Blame {
    Key,
    Value,
}

/// Aliases serde lists among the expected values, which we accept but do not advertise.
const HIDDEN_ALIASES: &[&str] = &["on-failure"];

/// Rewrites a serde error message into our wording, and says whether it is about the key.
///
/// serde's messages are stable (`unknown field `x`, expected one of `a`, `b``), and parsing
/// them is the only way to get the list of known keys without repeating every schema by hand.
pub(crate) fn friendly_message(message: &str) -> (String, Blame) {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        let (word, expected) = split_word(rest);
        return (unknown_key_message(word, &expected), Blame::Key);
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        let (word, expected) = split_word(rest);
        let expected: Vec<&str> = expected
            .into_iter()
            .filter(|e| !HIDDEN_ALIASES.contains(e))
            .collect();
        return (
            format!(
                "unknown value \"{word}\"; expected one of {}",
                expected.join(", ")
            ),
            Blame::Value,
        );
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let (word, _) = split_word(rest);
        return (format!("missing key `{word}`"), Blame::Value);
    }
    (toml_words(message), Blame::Value)
}

/// serde speaks of maps, sequences and Rust integer types; a config file has tables, arrays and
/// numbers.
fn toml_words(message: &str) -> String {
    let mut out = message.to_owned();
    for (from, to) in [
        ("expected usize", "expected a non-negative integer"),
        ("expected u64", "expected a non-negative integer"),
        (
            "expected u32",
            "expected a non-negative integer up to 4294967295",
        ),
        ("expected f64", "expected a number"),
        ("expected path string", "expected a string (a path)"),
        ("expected a map", "expected a table"),
        ("expected a sequence", "expected an array"),
        ("invalid type: map", "invalid type: table"),
        ("invalid type: sequence", "invalid type: array"),
    ] {
        if let Some(head) = out.strip_suffix(from) {
            out = format!("{head}{to}");
        } else {
            out = out.replacen(&format!("{from},"), &format!("{to},"), 1);
        }
    }
    out
}

/// The message for an unknown key, with the closest known key when one is close enough.
pub(crate) fn unknown_key_message(word: &str, known: &[&str]) -> String {
    match closest(word, known) {
        Some(best) => format!("unknown key; did you mean `{best}`?"),
        None if known.is_empty() => "unknown key; this table takes no keys".to_owned(),
        None => format!("unknown key; expected one of {}", known.join(", ")),
    }
}

/// Splits "word`, expected one of `a`, `b`" into the word and the backquoted list after it.
fn split_word(rest: &str) -> (&str, Vec<&str>) {
    let (word, tail) = rest.split_once('`').unwrap_or((rest, ""));
    let expected = tail.split('`').skip(1).step_by(2).collect();
    (word, expected)
}

/// The candidate nearest to `word` by edit distance, if it is plausibly a typo of it.
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .iter()
        .map(|c| (levenshtein(&lower, &c.to_ascii_lowercase()), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_are_one_based_and_count_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        assert_eq!(line_col(text, 0), (1, 1));
        assert_eq!(line_col(text, 6), (2, 1));
        let x = text.find("\"x").unwrap();
        assert_eq!(line_col(text, x), (2, 6));
        assert_eq!(line_col(text, 10_000), (3, 1));
    }

    #[test]
    fn unknown_fields_suggest_the_closest_key() {
        let (msg, blame) =
            friendly_message("unknown field `modle`, expected one of `model`, `sandbox_mode`");
        assert_eq!(msg, "unknown key; did you mean `model`?");
        assert_eq!(blame, Blame::Key);
        let (msg, _) = friendly_message("unknown field `zzz`, expected `command` or `args`");
        assert_eq!(msg, "unknown key; expected one of command, args");
    }

    #[test]
    fn unknown_variants_list_the_values_without_hidden_aliases() {
        let (msg, blame) = friendly_message(
            "unknown variant `sometimes`, expected one of `untrusted`, `on-failure`, `on-request`, `never`",
        );
        assert_eq!(
            msg,
            "unknown value \"sometimes\"; expected one of untrusted, on-request, never"
        );
        assert_eq!(blame, Blame::Value);
    }

    #[test]
    fn closest_ignores_far_words() {
        assert_eq!(
            closest("aproval_policy", &["approval_policy"]),
            Some("approval_policy")
        );
        assert_eq!(closest("xyz", &["approval_policy"]), None);
    }
}
