//! `set_mcp_server` / `remove_mcp_server`: in-place edits that keep the user's file intact.

use std::collections::BTreeMap;

use pretty_assertions::assert_eq;
use tandem_config::{
    Config, ConfigOverrides, McpServerConfig, McpTransport, remove_mcp_server, set_mcp_server,
};

fn load(home: &std::path::Path) -> Config {
    Config::load_with_env(
        ConfigOverrides {
            cwd: Some(home.to_owned()),
            tandem_home: Some(home.to_owned()),
            ..Default::default()
        },
        |_| None,
    )
    .unwrap()
}

const ORIGINAL: &str = r#"# My Tandem config.
model = "gpt-5-codex"   # the default, spelled out

# Docs server: read-only, trusted.
[mcp_servers.docs]
url = "https://docs.example.com/mcp"

[shell_environment_policy]
inherit = "core"
"#;

#[test]
fn adding_keeps_comments_and_round_trips() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("config.toml");
    std::fs::write(&file, ORIGINAL).unwrap();
    let mut server = McpServerConfig::stdio(
        "npx",
        vec![
            "-y".into(),
            "@modelcontextprotocol/server-everything".into(),
        ],
    );
    if let McpTransport::Stdio { env, .. } = &mut server.transport {
        *env = BTreeMap::from([("DEBUG".to_owned(), "1".to_owned())]);
    }
    server.tool_timeout_sec = 5.0;
    server.disabled_tools = vec!["longRunningOperation".into()];
    set_mcp_server(home.path(), "everything", &server).unwrap();

    // The new table joins its siblings; everything else is byte-for-byte as it was.
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        text,
        ORIGINAL.replace(
            "\n[shell_environment_policy]",
            r#"
[mcp_servers.everything]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-everything"]
env = { DEBUG = "1" }
tool_timeout_sec = 5.0
disabled_tools = ["longRunningOperation"]

[shell_environment_policy]"#
        )
    );
    assert_eq!(load(home.path()).mcp_servers["everything"], server);
}

#[test]
fn replacing_keeps_the_comment_and_place() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("config.toml");
    std::fs::write(&file, ORIGINAL).unwrap();
    let mut server = McpServerConfig::streamable_http("https://docs.example.com/v2/mcp");
    server.approval_policy = Some(tandem_protocol::ApprovalPolicy::Never);
    set_mcp_server(home.path(), "docs", &server).unwrap();
    let text = std::fs::read_to_string(&file).unwrap();
    assert_eq!(
        text,
        ORIGINAL.replace(
            "url = \"https://docs.example.com/mcp\"\n",
            "url = \"https://docs.example.com/v2/mcp\"\napproval_policy = \"never\"\n"
        )
    );
    assert_eq!(load(home.path()).mcp_servers["docs"], server);
}

#[test]
fn adding_creates_the_home_and_file() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("new-home");
    set_mcp_server(&home, "fs", &McpServerConfig::stdio("fs-mcp", vec![])).unwrap();
    assert_eq!(
        std::fs::read_to_string(home.join("config.toml")).unwrap(),
        "[mcp_servers.fs]\ncommand = \"fs-mcp\"\n"
    );
}

#[test]
fn removing_deletes_only_that_table() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("config.toml");
    std::fs::write(&file, ORIGINAL).unwrap();
    assert!(remove_mcp_server(home.path(), "docs").unwrap());
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(!text.contains("docs.example.com"), "{text}");
    assert!(
        text.contains("# My Tandem config.\nmodel = \"gpt-5-codex\"   # the default, spelled out")
    );
    assert!(text.contains("[shell_environment_policy]\ninherit = \"core\""));
    assert!(!remove_mcp_server(home.path(), "docs").unwrap());
    assert!(load(home.path()).mcp_servers.is_empty());
}

#[test]
fn removing_without_a_file_is_false() {
    let home = tempfile::tempdir().unwrap();
    assert!(!remove_mcp_server(home.path(), "x").unwrap());
    assert!(!home.path().join("config.toml").exists());
}

#[test]
fn inline_server_tables_are_handled() {
    let home = tempfile::tempdir().unwrap();
    let file = home.path().join("config.toml");
    std::fs::write(&file, "mcp_servers = { a = { command = \"a\" } }\n").unwrap();
    set_mcp_server(home.path(), "b", &McpServerConfig::stdio("b", vec![])).unwrap();
    let config = load(home.path());
    assert_eq!(config.mcp_servers.keys().collect::<Vec<_>>(), ["a", "b"]);
    assert!(remove_mcp_server(home.path(), "a").unwrap());
    assert_eq!(
        load(home.path()).mcp_servers.keys().collect::<Vec<_>>(),
        ["b"]
    );
}

#[test]
fn bad_names_and_bad_files_are_refused() {
    let home = tempfile::tempdir().unwrap();
    let server = McpServerConfig::stdio("x", vec![]);
    assert_eq!(
        set_mcp_server(home.path(), "my server", &server)
            .unwrap_err()
            .to_string(),
        "invalid MCP server name `my server`: use only ASCII letters, digits, `-` and `_`"
    );
    let file = home.path().join("config.toml");
    std::fs::write(&file, "model = \n").unwrap();
    let err = set_mcp_server(home.path(), "x", &server)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{}:1:", file.display())) && err.contains("invalid TOML"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "model = \n");
}

#[cfg(unix)]
#[test]
fn a_symlinked_config_stays_a_symlink() {
    let home = tempfile::tempdir().unwrap();
    let real = home.path().join("dotfiles.toml");
    std::fs::write(&real, "model = \"x\"\n").unwrap();
    std::os::unix::fs::symlink(&real, home.path().join("config.toml")).unwrap();
    set_mcp_server(home.path(), "a", &McpServerConfig::stdio("a", vec![])).unwrap();
    assert!(
        home.path()
            .join("config.toml")
            .symlink_metadata()
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        std::fs::read_to_string(&real)
            .unwrap()
            .contains("[mcp_servers.a]")
    );
}
