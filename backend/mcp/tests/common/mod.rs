//! Shared helpers for the MCP client tests: where the real servers are installed, a child
//! environment, and waiting for events.
//!
//! The real servers are installed by `scripts/setup-mcp.sh`. When they are missing the tests
//! fail with that instruction; they never skip silently, because a skipped test here would
//! hide exactly the integration the crate exists for.

#![allow(dead_code)] // each test binary uses a different subset

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tandem_config::McpServerConfig;
use tandem_mcp::McpEvent;
use tokio::sync::mpsc::UnboundedReceiver;

/// The workspace root.
pub fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// An executable installed by `scripts/setup-mcp.sh` under `.ci/node/node_modules/.bin`.
pub fn node_bin(name: &str) -> PathBuf {
    let path = repo_root().join(".ci/node/node_modules/.bin").join(name);
    assert!(
        path.exists(),
        "{} is not installed: run scripts/setup-mcp.sh (it installs the pinned MCP test servers into .ci/node)",
        path.display()
    );
    path
}

/// The `dist/index.js` of server-everything, for starting it in streamable-HTTP mode.
pub fn everything_script() -> PathBuf {
    node_bin("mcp-server-everything");
    repo_root().join(".ci/node/node_modules/@modelcontextprotocol/server-everything/dist/index.js")
}

pub fn everything() -> McpServerConfig {
    McpServerConfig::stdio(
        node_bin("mcp-server-everything").to_string_lossy(),
        vec!["stdio".into()],
    )
}

/// The toy server of `tests/fixtures`, for the failures real servers cannot produce on demand.
pub fn toy(args: &[&str]) -> McpServerConfig {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/toy_server.py");
    let mut all = vec![script.to_string_lossy().into_owned()];
    all.extend(args.iter().map(|a| a.to_string()));
    McpServerConfig::stdio("python3", all)
}

/// The environment children get in these tests: what a filtered session env would hold.
pub fn child_env() -> BTreeMap<String, String> {
    ["PATH", "HOME", "LANG"]
        .into_iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_owned(), v)))
        .collect()
}

pub fn servers(entries: Vec<(&str, McpServerConfig)>) -> BTreeMap<String, McpServerConfig> {
    entries
        .into_iter()
        .map(|(name, config)| (name.to_owned(), config))
        .collect()
}

/// Waits for the first event matching `pred`, failing the test with every event seen so far.
pub async fn wait_for(
    events: &mut UnboundedReceiver<McpEvent>,
    timeout: Duration,
    what: &str,
    pred: impl Fn(&McpEvent) -> bool,
) -> McpEvent {
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(event)) if pred(&event) => return event,
            Ok(Some(event)) => seen.push(event),
            Ok(None) => panic!("event channel closed while waiting for {what}; saw {seen:#?}"),
            Err(_) => panic!("no {what} within {timeout:?}; saw {seen:#?}"),
        }
    }
}

/// Waits until `server` is ready, and returns its tool count.
pub async fn ready(events: &mut UnboundedReceiver<McpEvent>, server: &str) -> usize {
    let event = wait_for(events, Duration::from_secs(30), &format!("{server} ready"), |e| {
        matches!(e, McpEvent::Ready { server: s, .. } | McpEvent::Failed { server: s, .. } if s == server)
    })
    .await;
    match event {
        McpEvent::Ready { tools, .. } => tools,
        other => panic!("{server} did not start: {other:?}"),
    }
}

/// A free TCP port on localhost (there is a small race until the server binds it).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// server-everything serving streamable HTTP on a port of its own; killed on drop.
pub struct HttpEverything {
    child: Child,
    pub port: u16,
    pub url: String,
}

impl HttpEverything {
    pub fn start() -> Self {
        Self::start_on(free_port())
    }

    pub fn start_on(port: u16) -> Self {
        let child = Command::new("node")
            .arg(everything_script())
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node (is node installed? scripts/setup-mcp.sh needs it too)");
        let server = HttpEverything {
            child,
            port,
            url: format!("http://127.0.0.1:{port}/mcp"),
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "server-everything did not listen on port {port} within 20s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }
}

impl Drop for HttpEverything {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether any process's command line contains `needle` (to check that children are gone).
pub fn process_running(needle: &str) -> bool {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return false;
    };
    dir.filter_map(Result::ok).any(|entry| {
        std::fs::read(entry.path().join("cmdline"))
            .map(|raw| {
                String::from_utf8_lossy(&raw)
                    .replace('\0', " ")
                    .contains(needle)
            })
            .unwrap_or(false)
    })
}
