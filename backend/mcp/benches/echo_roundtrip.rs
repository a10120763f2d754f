//! The cost of an MCP tool round trip, against server-everything's `echo` tool (installed by
//! `scripts/setup-mcp.sh`).
//!
//! * `mcp_echo_stdio_manager`: `McpManager::call`, what the kernel pays per MCP tool call over
//!   stdio (state lookup, filter, the JSON-RPC round trip, result conversion);
//! * `mcp_echo_stdio_raw_rmcp`: the same request on a bare `rmcp` peer, to show how much of
//!   that is ours;
//! * `mcp_echo_http_manager`: `McpManager::call` against the same server over streamable HTTP.
//!
//! Run it with `scripts/bench/mcp`, which prints the medians.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use serde_json::json;
use tandem_config::McpServerConfig;
use tandem_mcp::{McpEvent, McpManager};

fn node_modules() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/node/node_modules");
    assert!(
        dir.join(".bin/mcp-server-everything").exists(),
        "server-everything is not installed: run scripts/setup-mcp.sh"
    );
    dir
}

fn env() -> BTreeMap<String, String> {
    ["PATH", "HOME"]
        .into_iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| (k.to_owned(), v)))
        .collect()
}

async fn started(config: McpServerConfig) -> McpManager {
    let servers = BTreeMap::from([("everything".to_owned(), config)]);
    let (mcp, mut events) = McpManager::start(&servers, &env());
    loop {
        match events.recv().await {
            Some(McpEvent::Ready { .. }) => return mcp,
            Some(McpEvent::Failed { error, .. }) => panic!("server-everything failed: {error}"),
            Some(_) => {}
            None => panic!("event channel closed"),
        }
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let bin = node_modules().join(".bin/mcp-server-everything");
    let args = json!({"message": "benchmark"});

    let mcp = rt.block_on(started(McpServerConfig::stdio(
        bin.to_string_lossy(),
        vec!["stdio".into()],
    )));
    c.bench_function("mcp_echo_stdio_manager", |b| {
        b.iter(|| {
            let result = rt
                .block_on(mcp.call("everything", "echo", black_box(args.clone())))
                .expect("echo");
            black_box(result)
        })
    });
    rt.block_on(mcp.shutdown());

    let peer = rt.block_on(async {
        let mut child = tokio::process::Command::new(&bin)
            .arg("stdio")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn server-everything");
        let io = (
            child.stdout.take().expect("stdout"),
            child.stdin.take().expect("stdin"),
        );
        let client = ().serve(io).await.expect("initialize");
        (client, child)
    });
    let arguments = args.as_object().cloned();
    c.bench_function("mcp_echo_stdio_raw_rmcp", |b| {
        b.iter(|| {
            let mut params = CallToolRequestParams::new("echo");
            params.arguments = arguments.clone();
            black_box(rt.block_on(peer.0.call_tool(params)).expect("echo"))
        })
    });
    drop(peer);

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut http = std::process::Command::new("node")
        .arg(node_modules().join("@modelcontextprotocol/server-everything/dist/index.js"))
        .arg("streamableHttp")
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server-everything over HTTP");
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let mcp = rt.block_on(started(McpServerConfig::streamable_http(format!(
        "http://127.0.0.1:{port}/mcp"
    ))));
    c.bench_function("mcp_echo_http_manager", |b| {
        b.iter(|| {
            let result = rt
                .block_on(mcp.call("everything", "echo", black_box(args.clone())))
                .expect("echo");
            black_box(result)
        })
    });
    rt.block_on(mcp.shutdown());
    let _ = http.kill();
    let _ = http.wait();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(200).measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
