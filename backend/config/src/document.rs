//! The merged TOML tree, and where each of its values came from.
//!
//! Layers (config.toml, the active profile, `-c` overrides) are merged as plain TOML values
//! *before* anything is typed, the way Codex does it, so that `-c mcp_servers.x.enabled=false`
//! can change one key of a table the file defines. The price of merging untyped values is that
//! a type error found afterwards no longer knows its source; so every node of the tree is
//! recorded with its origin (a span in the file, or the index of a `-c` override), and an error
//! at a key path is traced back through that record to a file, line, column and key.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue};

use crate::error::{Blame, ConfigError, Location, friendly_message, line_col};

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Seg {
    Key(String),
    Index(usize),
}

/// A path from the root of the config to a value: `mcp_servers.docs.args[1]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct KeyPath(Vec<Seg>);

impl KeyPath {
    pub(crate) fn root() -> Self {
        KeyPath(Vec::new())
    }

    pub(crate) fn of(keys: &[&str]) -> Self {
        KeyPath(keys.iter().map(|k| Seg::Key((*k).to_owned())).collect())
    }

    pub(crate) fn key(&self, key: &str) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Key(key.to_owned()));
        KeyPath(segs)
    }

    pub(crate) fn index(&self, index: usize) -> Self {
        let mut segs = self.0.clone();
        segs.push(Seg::Index(index));
        KeyPath(segs)
    }

    fn starts_with(&self, prefix: &KeyPath) -> bool {
        self.0.starts_with(&prefix.0)
    }

    fn join(&self, suffix: &[Seg]) -> KeyPath {
        let mut segs = self.0.clone();
        segs.extend_from_slice(suffix);
        KeyPath(segs)
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Index(n) => write!(f, "[{n}]")?,
                Seg::Key(k) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    let bare = !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    if bare {
                        f.write_str(k)?;
                    } else {
                        write!(f, "{:?}", k)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Where one node of the merged tree came from.
#[derive(Debug, Clone)]
enum NodeOrigin {
    /// Written in the config file. `display` is the key as written there, which differs from
    /// the node's path when a profile's value was copied to the top level.
    File {
        key_span: Range<usize>,
        value_span: Range<usize>,
        display: KeyPath,
    },
    /// Set by the `-c` override with this index.
    Cli { index: usize },
}

/// The merged config tree with the origin of every node.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    root: toml::Table,
    origins: BTreeMap<KeyPath, NodeOrigin>,
    file: PathBuf,
    text: String,
    cli_args: Vec<String>,
}

impl Document {
    /// Parses config.toml. `text` is empty when the file does not exist.
    pub(crate) fn parse(file: &Path, text: String) -> Result<Self, ConfigError> {
        let syntax = |e: toml::de::Error| {
            let span = e.span().unwrap_or(0..0);
            let (line, column) = line_col(&text, span.start);
            let mut message = e.message().trim().to_owned();
            if message == "duplicate key"
                && let Some(key) = text
                    .get(span)
                    .filter(|k| !k.is_empty() && !k.contains('\n'))
            {
                message = format!("duplicate key `{key}`");
            }
            ConfigError::Syntax {
                path: file.to_owned(),
                line,
                column,
                message,
            }
        };
        let mut origins = BTreeMap::new();
        let spanned = DeTable::parse(&text).map_err(syntax)?;
        record_table(&mut origins, spanned.get_ref(), &KeyPath::root());
        let root: toml::Table = toml::from_str(&text).map_err(syntax)?;
        Ok(Document {
            root,
            origins,
            file: file.to_owned(),
            text,
            cli_args: Vec::new(),
        })
    }

    pub(crate) fn get(&self, path: &KeyPath) -> Option<&toml::Value> {
        let mut segs = path.0.iter();
        let Some(Seg::Key(first)) = segs.next() else {
            return None;
        };
        let mut value = self.root.get(first)?;
        for seg in segs {
            value = match seg {
                Seg::Key(k) => value.as_table()?.get(k)?,
                Seg::Index(i) => value.as_array()?.get(*i)?,
            };
        }
        Some(value)
    }

    pub(crate) fn table(&self, path: &KeyPath) -> Option<&toml::Table> {
        if path.0.is_empty() {
            return Some(&self.root);
        }
        self.get(path)?.as_table()
    }

    fn table_mut(&mut self, path: &KeyPath) -> Option<&mut toml::Table> {
        let mut table = &mut self.root;
        for seg in &path.0 {
            let Seg::Key(k) = seg else { return None };
            table = table.get_mut(k)?.as_table_mut()?;
        }
        Some(table)
    }

    /// Removes `key` from the table at `path`, returning whether it was there. Its origins stay
    /// recorded, so a warning about it can still point at it.
    pub(crate) fn remove(&mut self, path: &KeyPath, key: &str) -> bool {
        self.table_mut(path)
            .is_some_and(|table| table.remove(key).is_some())
    }

    /// Applies one `-c key=value`. Intermediate tables are created, and a non-table in the way
    /// is replaced, as Codex does: the override is what the user asked for just now.
    pub(crate) fn apply_cli(&mut self, key: &str, value: &toml::Value) -> Result<(), ConfigError> {
        let index = self.cli_args.len();
        self.cli_args.push(format!("{key}={value}"));
        let keys = split_dotted_key(key).map_err(|message| ConfigError::BadOverride {
            arg: format!("{key}={value}"),
            message,
        })?;
        let Some((last, parents)) = keys.split_last() else {
            return Ok(());
        };
        let mut path = KeyPath::root();
        let mut table = &mut self.root;
        for k in parents {
            path = path.key(k);
            let slot = table
                .entry(k.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if !slot.is_table() {
                *slot = toml::Value::Table(toml::Table::new());
                self.origins.retain(|p, _| !p.starts_with(&path));
            }
            self.origins
                .entry(path.clone())
                .or_insert(NodeOrigin::Cli { index });
            table = slot.as_table_mut().expect("just made a table");
        }
        let path = path.key(last);
        table.insert(last.clone(), value.clone());
        self.origins.retain(|p, _| !p.starts_with(&path));
        record_cli_value(&mut self.origins, value, &path, index);
        Ok(())
    }

    /// Deep-merges the table at `from` (in `source`, usually `profiles.NAME`) into the root,
    /// carrying the origins along so errors still point at the profile's lines.
    pub(crate) fn overlay_root_from(&mut self, source: &Document, from: &KeyPath) {
        if let Some(table) = source.table(from) {
            let table = table.clone();
            self.merge_table(&KeyPath::root(), &table, source, from);
        }
    }

    fn merge_table(&mut self, dst: &KeyPath, src: &toml::Table, source: &Document, from: &KeyPath) {
        for (key, value) in src {
            let dst_path = dst.key(key);
            let src_path = from.key(key);
            let both_tables = value.is_table()
                && self
                    .table(dst)
                    .and_then(|t| t.get(key))
                    .is_some_and(toml::Value::is_table);
            if both_tables {
                let value = value.as_table().expect("checked").clone();
                self.merge_table(&dst_path, &value, source, &src_path);
                continue;
            }
            let Some(table) = self.table_mut(dst) else {
                continue;
            };
            table.insert(key.clone(), value.clone());
            self.origins.retain(|p, _| !p.starts_with(&dst_path));
            for (p, origin) in source.origins.range(src_path.clone()..) {
                if !p.starts_with(&src_path) {
                    break;
                }
                let rekeyed = dst_path.join(&p.0[src_path.0.len()..]);
                self.origins.insert(rekeyed, origin.clone());
            }
        }
    }

    /// Deserializes the value at `path` (the root when empty), tracing any error back to its
    /// origin.
    pub(crate) fn deserialize<T: DeserializeOwned>(
        &self,
        path: &KeyPath,
    ) -> Result<T, ConfigError> {
        let value = if path.0.is_empty() {
            toml::Value::Table(self.root.clone())
        } else {
            self.get(path)
                .cloned()
                .unwrap_or(toml::Value::Table(toml::Table::new()))
        };
        serde_path_to_error::deserialize(value).map_err(|err| {
            let mut full = path.clone();
            for seg in err.path().iter() {
                match seg {
                    serde_path_to_error::Segment::Map { key } => full = full.key(key),
                    serde_path_to_error::Segment::Seq { index } => full = full.index(*index),
                    _ => {}
                }
            }
            let (message, blame) = friendly_message(err.inner().message());
            self.error(&full, message, blame)
        })
    }

    /// An error about the value (or key) at `path`, located through the origin record.
    pub(crate) fn error(&self, path: &KeyPath, message: String, blame: Blame) -> ConfigError {
        let (location, key) = self.locate(path, blame);
        ConfigError::Invalid {
            location,
            key,
            message,
        }
    }

    /// The location and displayed key of `path`: its own origin or its nearest ancestor's.
    pub(crate) fn locate(&self, path: &KeyPath, blame: Blame) -> (Location, String) {
        for len in (0..=path.0.len()).rev() {
            let prefix = KeyPath(path.0[..len].to_vec());
            let Some(origin) = self.origins.get(&prefix) else {
                continue;
            };
            return match origin {
                NodeOrigin::File {
                    key_span,
                    value_span,
                    display,
                } => {
                    let span = if blame == Blame::Key || len < path.0.len() {
                        key_span
                    } else {
                        value_span
                    };
                    let (line, column) = line_col(&self.text, span.start);
                    let location = Location::File {
                        path: self.file.clone(),
                        line,
                        column,
                    };
                    (location, display.join(&path.0[len..]).to_string())
                }
                NodeOrigin::Cli { index } => (
                    Location::CliOverride {
                        arg: self.cli_args[*index].clone(),
                    },
                    path.to_string(),
                ),
            };
        }
        (
            Location::FileOnly {
                path: self.file.clone(),
            },
            path.to_string(),
        )
    }
}

fn record_table(origins: &mut BTreeMap<KeyPath, NodeOrigin>, table: &DeTable<'_>, path: &KeyPath) {
    for (key, value) in table.iter() {
        let p = path.key(key.get_ref());
        origins.insert(
            p.clone(),
            NodeOrigin::File {
                key_span: key.span(),
                value_span: value.span(),
                display: p.clone(),
            },
        );
        record_value(origins, value.get_ref(), &p);
    }
}

fn record_value(origins: &mut BTreeMap<KeyPath, NodeOrigin>, value: &DeValue<'_>, path: &KeyPath) {
    if let Some(table) = value.as_table() {
        record_table(origins, table, path);
    } else if let Some(array) = value.as_array() {
        for (i, item) in array.iter().enumerate() {
            let p = path.index(i);
            origins.insert(
                p.clone(),
                NodeOrigin::File {
                    key_span: item.span(),
                    value_span: item.span(),
                    display: p.clone(),
                },
            );
            record_value(origins, item.get_ref(), &p);
        }
    }
}

fn record_cli_value(
    origins: &mut BTreeMap<KeyPath, NodeOrigin>,
    value: &toml::Value,
    path: &KeyPath,
    index: usize,
) {
    origins.insert(path.clone(), NodeOrigin::Cli { index });
    match value {
        toml::Value::Table(table) => {
            for (k, v) in table {
                record_cli_value(origins, v, &path.key(k), index);
            }
        }
        toml::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                record_cli_value(origins, v, &path.index(i), index);
            }
        }
        _ => {}
    }
}

/// Splits a TOML dotted key (`a.b`, `mcp_servers."my server".command`) into its parts.
pub(crate) fn split_dotted_key(key: &str) -> Result<Vec<String>, String> {
    let keys = toml_edit::Key::parse(key.trim()).map_err(|_| {
        format!("`{key}` is not a TOML key; quote parts that contain dots or spaces")
    })?;
    Ok(keys.into_iter().map(|k| k.get().to_owned()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Document {
        Document::parse(Path::new("/h/config.toml"), text.to_owned()).unwrap()
    }

    #[test]
    fn key_paths_quote_keys_that_are_not_bare() {
        let p = KeyPath::of(&["mcp_servers", "my server", "args"]).index(2);
        assert_eq!(p.to_string(), "mcp_servers.\"my server\".args[2]");
    }

    #[test]
    fn file_values_are_located_at_their_value_and_unknown_keys_at_the_key() {
        let d = doc("model = \"x\"\n\n[sandbox_workspace_write]\nnetwork_access = 3\n");
        let path = KeyPath::of(&["sandbox_workspace_write", "network_access"]);
        let (loc, key) = d.locate(&path, Blame::Value);
        assert_eq!(loc.to_string(), "/h/config.toml:4:18");
        assert_eq!(key, "sandbox_workspace_write.network_access");
        let (loc, _) = d.locate(&path, Blame::Key);
        assert_eq!(loc.to_string(), "/h/config.toml:4:1");
    }

    #[test]
    fn cli_overrides_create_tables_and_own_their_subtree() {
        let mut d = doc("[mcp_servers.a]\ncommand = \"x\"\n");
        d.apply_cli("mcp_servers.a.args", &toml::Value::Integer(1))
            .unwrap();
        let (loc, key) = d.locate(&KeyPath::of(&["mcp_servers", "a", "args"]), Blame::Value);
        assert_eq!(loc.to_string(), "-c mcp_servers.a.args=1");
        assert_eq!(key, "mcp_servers.a.args");
        let (loc, _) = d.locate(&KeyPath::of(&["mcp_servers", "a", "command"]), Blame::Value);
        assert_eq!(loc.to_string(), "/h/config.toml:2:11");
    }

    #[test]
    fn overlaid_profile_values_keep_their_file_key() {
        let d = doc("model = \"a\"\n[profiles.fast]\nmodel = \"b\"\n");
        let mut merged = d.clone();
        merged.overlay_root_from(&d, &KeyPath::of(&["profiles", "fast"]));
        assert_eq!(
            merged.get(&KeyPath::of(&["model"])).unwrap().as_str(),
            Some("b")
        );
        let (loc, key) = merged.locate(&KeyPath::of(&["model"]), Blame::Value);
        assert_eq!(loc.to_string(), "/h/config.toml:3:9");
        assert_eq!(key, "profiles.fast.model");
    }

    #[test]
    fn dotted_keys_may_be_quoted() {
        assert_eq!(
            split_dotted_key("mcp_servers.\"a.b\".command").unwrap(),
            vec!["mcp_servers", "a.b", "command"]
        );
        assert!(split_dotted_key("a..b").is_err());
    }
}
