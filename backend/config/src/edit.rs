//! Editing config.toml in place for `tandem mcp add|remove`, keeping the user's comments,
//! ordering and formatting (`toml_edit`), and replacing the file atomically so a crash never
//! leaves half a config behind.

use std::io;
use std::path::{Path, PathBuf};

use toml_edit::{DocumentMut, Item, Table};

use crate::error::{ConfigError, Location, line_col};
use crate::mcp::McpServerConfig;

/// Adds `[mcp_servers.NAME]` to `$TANDEM_HOME/config.toml`, or replaces it (keeping the comment
/// above it and its place in the file). Creates the directory and the file when needed. Only
/// non-default settings are written.
pub fn set_mcp_server(
    tandem_home: &Path,
    name: &str,
    server: &McpServerConfig,
) -> Result<(), ConfigError> {
    validate_server_name(name)?;
    let path = tandem_home.join("config.toml");
    let mut doc = read_document(&path)?.unwrap_or_default();
    let servers = servers_table(&mut doc, &path)?;
    let mut table = server.to_toml_table();
    if let Some(existing) = servers.get(name).and_then(Item::as_table) {
        *table.decor_mut() = existing.decor().clone();
        if let Some(position) = existing.position() {
            table.set_position(Some(position));
        }
    }
    servers.insert(name, Item::Table(table));
    write_atomically(&path, &doc.to_string())
}

/// Removes `[mcp_servers.NAME]`. Returns whether it was there; a missing file means `false`.
pub fn remove_mcp_server(tandem_home: &Path, name: &str) -> Result<bool, ConfigError> {
    let path = tandem_home.join("config.toml");
    let Some(mut doc) = read_document(&path)? else {
        return Ok(false);
    };
    let removed = doc
        .get_mut("mcp_servers")
        .and_then(Item::as_table_like_mut)
        .is_some_and(|servers| servers.remove(name).is_some());
    if removed {
        write_atomically(&path, &doc.to_string())?;
    }
    Ok(removed)
}

/// Server names become part of tool names (`mcp__NAME__tool`), which model APIs restrict to
/// `[a-zA-Z0-9_-]`; refusing other names here beats mangling them later.
fn validate_server_name(name: &str) -> Result<(), ConfigError> {
    let ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(ConfigError::InvalidServerName {
            name: name.to_owned(),
        })
    }
}

fn read_document(path: &Path) -> Result<Option<DocumentMut>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(ConfigError::Read {
                path: path.to_owned(),
                error,
            });
        }
    };
    text.parse::<DocumentMut>().map(Some).map_err(|e| {
        let (line, column) = line_col(&text, e.span().map_or(0, |s| s.start));
        ConfigError::Syntax {
            path: path.to_owned(),
            line,
            column,
            message: e.message().trim().to_owned(),
        }
    })
}

/// The `[mcp_servers]` table, created (implicit, so no empty header is written) when absent and
/// turned into a regular table when written inline.
fn servers_table<'a>(doc: &'a mut DocumentMut, path: &Path) -> Result<&'a mut Table, ConfigError> {
    let item = doc.entry("mcp_servers").or_insert_with(|| {
        let mut table = Table::new();
        table.set_implicit(true);
        Item::Table(table)
    });
    if !item.is_table() {
        match std::mem::take(item).into_table() {
            Ok(table) => *item = Item::Table(table),
            Err(_) => {
                return Err(ConfigError::Invalid {
                    location: Location::FileOnly {
                        path: path.to_owned(),
                    },
                    key: "mcp_servers".into(),
                    message: "is not a table".into(),
                });
            }
        }
    }
    Ok(item.as_table_mut().expect("made a table above"))
}

/// Writes through a temporary file in the same directory and a rename. A symlinked config.toml
/// (dotfile managers do that) is followed, so the link survives.
fn write_atomically(path: &Path, text: &str) -> Result<(), ConfigError> {
    let target: PathBuf = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let write_err = |error| ConfigError::Write {
        path: target.clone(),
        error,
    };
    let dir = target.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(write_err)?;
    let tmp = dir.join(format!(".config.toml.tmp-{}", std::process::id()));
    let result = std::fs::write(&tmp, text).and_then(|()| {
        if let Ok(meta) = std::fs::metadata(&target) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, &target)
    });
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(write_err)
}
