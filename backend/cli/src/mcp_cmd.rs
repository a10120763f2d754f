//! `tandem mcp list|add|remove`: manage `[mcp_servers.NAME]` in config.toml, and check that
//! the configured servers start.
#![allow(clippy::print_stdout, reason = "a command-line listing for people")]

use anyhow::Context;
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::time::Duration;
use tandem_config::{Config, ConfigOverrides, McpServerConfig, McpTransport};

#[derive(Debug, Args)]
pub struct McpArgs {
    #[command(subcommand)]
    command: McpCommand,
}

#[derive(Debug, Subcommand)]
enum McpCommand {
    /// List the configured servers; with --check, start them and report their tools.
    List {
        #[arg(long)]
        check: bool,
    },
    /// Add (or replace) a server: `tandem mcp add NAME -- COMMAND ARGS...` or `--url URL`.
    Add {
        name: String,
        /// A streamable-HTTP server's URL, instead of a command.
        #[arg(long, conflicts_with = "command")]
        url: Option<String>,
        /// The environment variable holding the bearer token of an HTTP server.
        #[arg(long, requires = "url")]
        bearer_token_env_var: Option<String>,
        /// Environment for a stdio server: `--env KEY=VALUE` (repeatable).
        #[arg(long = "env", value_name = "KEY=VALUE")]
        env: Vec<String>,
        /// The command and its arguments, after `--`.
        #[arg(last = true)]
        command: Vec<String>,
    },
    /// Remove a server.
    Remove { name: String },
}

pub async fn run(args: McpArgs) -> anyhow::Result<i32> {
    let config = Config::load(ConfigOverrides::default())?;
    match args.command {
        McpCommand::List { check } => list(&config, check).await,
        McpCommand::Add {
            name,
            url,
            bearer_token_env_var,
            env,
            command,
        } => {
            let server = match (url, command.split_first()) {
                (Some(url), _) => {
                    let mut server = McpServerConfig::streamable_http(url);
                    if let McpTransport::StreamableHttp {
                        bearer_token_env_var: var,
                        ..
                    } = &mut server.transport
                    {
                        *var = bearer_token_env_var;
                    }
                    server
                }
                (None, Some((program, rest))) => {
                    let mut server = McpServerConfig::stdio(program.clone(), rest.to_vec());
                    if let McpTransport::Stdio { env: vars, .. } = &mut server.transport {
                        for pair in env {
                            let (k, v) = pair
                                .split_once('=')
                                .with_context(|| format!("--env {pair}: expected KEY=VALUE"))?;
                            vars.insert(k.to_string(), v.to_string());
                        }
                    }
                    server
                }
                (None, None) => anyhow::bail!(
                    "give the server's command after `--`, or --url for an HTTP server"
                ),
            };
            tandem_config::set_mcp_server(&config.tandem_home, &name, &server)?;
            println!(
                "added MCP server `{name}` to {}",
                config.config_file.display()
            );
            Ok(0)
        }
        McpCommand::Remove { name } => {
            if tandem_config::remove_mcp_server(&config.tandem_home, &name)? {
                println!(
                    "removed MCP server `{name}` from {}",
                    config.config_file.display()
                );
                Ok(0)
            } else {
                eprintln_no_server(&name, &config);
                Ok(1)
            }
        }
    }
}

fn eprintln_no_server(name: &str, config: &Config) {
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "no MCP server named `{name}` in {}",
        config.config_file.display()
    );
}

async fn list(config: &Config, check: bool) -> anyhow::Result<i32> {
    if config.mcp_servers.is_empty() {
        println!(
            "no MCP servers configured (add one with `tandem mcp add NAME -- COMMAND ARGS...`)"
        );
        return Ok(0);
    }
    for (name, server) in &config.mcp_servers {
        let what = match &server.transport {
            McpTransport::Stdio { command, args, .. } => format!("{command} {}", args.join(" ")),
            McpTransport::StreamableHttp { url, .. } => url.clone(),
        };
        let state = if server.enabled { "" } else { " (disabled)" };
        println!("{name}{state}: {}", what.trim_end());
    }
    if !check {
        return Ok(0);
    }
    let env: BTreeMap<String, String> = config.shell_environment_policy.apply(std::env::vars());
    let (manager, _events) = tandem_mcp::McpManager::start(&config.mcp_servers, &env);
    let longest = config
        .mcp_servers
        .values()
        .map(|s| s.startup_timeout())
        .max()
        .unwrap_or(Duration::from_secs(10));
    let deadline = tokio::time::Instant::now() + longest + Duration::from_secs(1);
    loop {
        let status = manager.server_status();
        let settled = status.values().all(|s| {
            !matches!(
                s,
                tandem_mcp::McpServerStatus::Starting
                    | tandem_mcp::McpServerStatus::Restarting { .. }
            )
        });
        if settled || tokio::time::Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let tools = manager.tools();
    let mut failed = false;
    for (name, status) in manager.server_status() {
        let count = tools.iter().filter(|t| t.server == name).count();
        match status {
            tandem_mcp::McpServerStatus::Ready => println!("{name}: ready, {count} tools"),
            tandem_mcp::McpServerStatus::Failed { error } => {
                failed = true;
                println!("{name}: failed: {error}");
            }
            other => println!("{name}: {other:?}"),
        }
    }
    manager.shutdown().await;
    Ok(i32::from(failed))
}
