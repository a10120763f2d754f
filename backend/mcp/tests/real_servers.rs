//! The MCP client against real third-party servers from npm (installed, pinned, by
//! `scripts/setup-mcp.sh`): server-everything over stdio and over streamable HTTP, and
//! server-filesystem.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use serde_json::json;
use tandem_config::{McpServerConfig, McpTransport};
use tandem_mcp::{McpContent, McpError, McpEvent, McpManager, McpServerStatus};

#[tokio::test]
async fn everything_over_stdio_lists_and_calls_tools() {
    let (mcp, mut events) =
        McpManager::start(&servers(vec![("everything", everything())]), &child_env());
    assert!(matches!(
        events.recv().await,
        Some(McpEvent::Starting { server }) if server == "everything"
    ));
    let count = ready(&mut events, "everything").await;
    assert!(
        count >= 10,
        "server-everything lists a dozen tools, got {count}"
    );

    let tools = mcp.tools();
    assert_eq!(tools.len(), count);
    let names: Vec<&str> = tools.iter().map(|t| t.qualified_name.as_str()).collect();
    for want in ["mcp__everything__echo", "mcp__everything__get-sum"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let echo = tools
        .iter()
        .find(|t| t.tool == "echo")
        .unwrap_or_else(|| panic!("no echo in {names:?}"));
    assert_eq!(echo.spec.name, "mcp__everything__echo");
    assert!(!echo.spec.description.is_empty());
    assert_eq!(echo.spec.parameters["type"], "object");
    assert!(echo.spec.parameters["properties"]["message"].is_object());
    assert_eq!(
        mcp.resolve("mcp__everything__get-sum"),
        Some(("everything".to_owned(), "get-sum".to_owned()))
    );
    assert_eq!(mcp.resolve("mcp__everything__nope"), None);
    assert_eq!(mcp.server_status()["everything"], McpServerStatus::Ready);

    let echoed = mcp
        .call(
            "everything",
            "echo",
            json!({"message": "hello from tandem"}),
        )
        .await
        .expect("echo");
    assert!(!echoed.is_error);
    assert_eq!(echoed.to_model_text(), "Echo: hello from tandem");

    let sum = mcp
        .call("everything", "get-sum", json!({"a": 2, "b": 40}))
        .await
        .expect("get-sum");
    assert!(
        sum.to_model_text().contains("42"),
        "{}",
        sum.to_model_text()
    );

    // Images come through as images, and are summarised for the model.
    let image = mcp
        .call("everything", "get-tiny-image", json!({}))
        .await
        .expect("get-tiny-image");
    assert!(
        image
            .content
            .iter()
            .any(|c| matches!(c, McpContent::Image { mime_type, .. } if mime_type == "image/png")),
        "{image:?}"
    );
    assert!(image.to_model_text().contains("[image: image/png"));
    assert_eq!(image.to_json()["content"][1]["type"], "image");

    // Structured content is kept for the item.
    let weather = mcp
        .call(
            "everything",
            "get-structured-content",
            json!({"location": "Chicago"}),
        )
        .await
        .expect("get-structured-content");
    assert_eq!(
        weather
            .structured_content
            .as_ref()
            .map(|v| v["temperature"].clone()),
        Some(json!(36))
    );

    // Invalid arguments are the tool's (or the protocol's) error, never a panic or a hang.
    let bad = mcp.call("everything", "get-sum", json!({"a": "two"})).await;
    match bad {
        Ok(result) => assert!(result.is_error, "{result:?}"),
        Err(e) => assert!(matches!(e, McpError::Rpc { .. }), "{e}"),
    }
    let not_object = mcp.call("everything", "echo", json!(["x"])).await;
    assert!(matches!(not_object, Err(McpError::InvalidArguments { .. })));

    mcp.shutdown().await;
}

#[tokio::test]
async fn children_get_exactly_the_given_env_plus_their_own() {
    let mut env = child_env();
    env.insert("TANDEM_TEST_SESSION_VAR".into(), "from-session".into());
    let mut config = everything();
    if let McpTransport::Stdio { env, .. } = &mut config.transport {
        env.insert("TANDEM_TEST_SERVER_VAR".into(), "from-config".into());
    }
    let (mcp, mut events) = McpManager::start(&servers(vec![("everything", config)]), &env);
    ready(&mut events, "everything").await;
    let result = mcp
        .call("everything", "get-env", json!({}))
        .await
        .expect("get-env");
    let text = result.to_model_text();
    let child_env: BTreeMap<String, String> =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("get-env is JSON: {e}: {text}"));
    assert_eq!(child_env["TANDEM_TEST_SESSION_VAR"], "from-session");
    assert_eq!(child_env["TANDEM_TEST_SERVER_VAR"], "from-config");
    // cargo sets CARGO_PKG_NAME for this test process; the filtered env must not leak it.
    assert!(
        !child_env.contains_key("CARGO_PKG_NAME"),
        "the child inherited our environment: {child_env:?}"
    );
    mcp.shutdown().await;
}

#[tokio::test]
async fn filesystem_reads_a_file_in_a_temp_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().canonicalize().expect("canonical tempdir");
    std::fs::write(root.join("notes.txt"), "tandem reads this\n").expect("write");
    let config = McpServerConfig::stdio(
        node_bin("mcp-server-filesystem").to_string_lossy(),
        vec![root.to_string_lossy().into_owned()],
    );
    let (mcp, mut events) = McpManager::start(&servers(vec![("fs", config)]), &child_env());
    ready(&mut events, "fs").await;
    let names: Vec<String> = mcp.tools().into_iter().map(|t| t.qualified_name).collect();
    assert!(
        names.contains(&"mcp__fs__read_text_file".to_owned()),
        "{names:?}"
    );
    let read_only = mcp
        .tools()
        .into_iter()
        .find(|t| t.tool == "read_text_file")
        .and_then(|t| t.read_only_hint);
    assert_eq!(read_only, Some(true));

    let path = root.join("notes.txt");
    let result = mcp
        .call("fs", "read_text_file", json!({"path": path}))
        .await
        .expect("read_text_file");
    assert!(!result.is_error, "{result:?}");
    assert!(result.to_model_text().contains("tandem reads this"));

    // Outside the allowed directory: the server refuses, and the model gets to read why.
    let outside = mcp
        .call("fs", "read_text_file", json!({"path": "/etc/hostname"}))
        .await;
    match outside {
        Ok(result) => assert!(result.is_error, "{result:?}"),
        Err(e) => assert!(matches!(e, McpError::Rpc { .. }), "{e}"),
    }
    mcp.shutdown().await;
}

#[tokio::test]
async fn enabled_and_disabled_tools_filter_what_the_model_sees() {
    let mut config = everything();
    config.enabled_tools = Some(vec![
        "echo".into(),
        "get-sum".into(),
        "get-tiny-image".into(),
    ]);
    config.disabled_tools = vec!["get-tiny-image".into()];
    let (mcp, mut events) = McpManager::start(&servers(vec![("everything", config)]), &child_env());
    assert_eq!(ready(&mut events, "everything").await, 2);
    let names: Vec<String> = mcp.tools().into_iter().map(|t| t.qualified_name).collect();
    assert_eq!(names, ["mcp__everything__echo", "mcp__everything__get-sum"]);
    let denied = mcp.call("everything", "get-tiny-image", json!({})).await;
    assert!(
        matches!(denied, Err(McpError::ToolDisabled { .. })),
        "{denied:?}"
    );
    mcp.shutdown().await;
}

#[tokio::test]
async fn everything_over_streamable_http() {
    let http = HttpEverything::start();
    let mut config = McpServerConfig::streamable_http(http.url.clone());
    // The server does not check tokens, but the header must be built from the named variable.
    if let McpTransport::StreamableHttp {
        bearer_token_env_var,
        http_headers,
        ..
    } = &mut config.transport
    {
        *bearer_token_env_var = Some("TANDEM_TEST_MCP_TOKEN".into());
        http_headers.insert("X-Tandem-Test".into(), "1".into());
    }
    let mut env = child_env();
    env.insert("TANDEM_TEST_MCP_TOKEN".into(), "secret-token".into());
    let (mcp, mut events) = McpManager::start(&servers(vec![("remote", config)]), &env);
    let count = ready(&mut events, "remote").await;
    assert!(count >= 10, "{count}");
    let (server, tool) = mcp.resolve("mcp__remote__echo").expect("echo over HTTP");
    let result = mcp
        .call(&server, &tool, json!({"message": "over http"}))
        .await
        .expect("echo over HTTP");
    assert_eq!(result.to_model_text(), "Echo: over http");
    let sum = mcp
        .call("remote", "get-sum", json!({"a": 20, "b": 22}))
        .await
        .expect("get-sum over HTTP");
    assert!(sum.to_model_text().contains("42"));
    tokio::time::timeout(Duration::from_secs(15), mcp.shutdown())
        .await
        .expect("shutdown of an HTTP server is bounded");
}

#[tokio::test]
async fn the_bearer_token_and_headers_reach_the_http_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A listener that records the first request and refuses it: enough to see the headers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let captured = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.expect("accept");
        let mut buf = vec![0u8; 16 * 1024];
        let n = socket.read(&mut buf).await.expect("read");
        let _ = socket
            .write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await;
        String::from_utf8_lossy(&buf[..n]).to_lowercase()
    });
    let mut config = McpServerConfig::streamable_http(format!("http://127.0.0.1:{port}/mcp"));
    if let McpTransport::StreamableHttp {
        bearer_token_env_var,
        http_headers,
        env_http_headers,
        ..
    } = &mut config.transport
    {
        *bearer_token_env_var = Some("TANDEM_TEST_MCP_TOKEN".into());
        http_headers.insert("X-Tandem-Literal".into(), "literal-value".into());
        env_http_headers.insert("X-Tandem-From-Env".into(), "TANDEM_TEST_HEADER_VAR".into());
    }
    let mut env = child_env();
    env.insert("TANDEM_TEST_MCP_TOKEN".into(), "secret-token".into());
    env.insert("TANDEM_TEST_HEADER_VAR".into(), "env-value".into());
    let (mcp, mut events) = McpManager::start(&servers(vec![("remote", config)]), &env);
    let request = tokio::time::timeout(Duration::from_secs(10), captured)
        .await
        .expect("a request arrives")
        .expect("capture task");
    assert!(request.starts_with("post /mcp "), "{request}");
    assert!(
        request.contains("authorization: bearer secret-token"),
        "{request}"
    );
    assert!(
        request.contains("x-tandem-literal: literal-value"),
        "{request}"
    );
    assert!(
        request.contains("x-tandem-from-env: env-value"),
        "{request}"
    );
    let failed = wait_for(&mut events, Duration::from_secs(15), "remote failed", |e| {
        matches!(e, McpEvent::Failed { .. })
    })
    .await;
    assert!(
        failed.message().contains("initialize at http://127.0.0.1:"),
        "{failed:?}"
    );
    mcp.shutdown().await;
}

#[tokio::test]
async fn an_http_server_that_goes_away_is_reconnected_when_it_is_back() {
    let http = HttpEverything::start();
    let port = http.port;
    let (mcp, mut events) = McpManager::start(
        &servers(vec![(
            "remote",
            McpServerConfig::streamable_http(http.url.clone()),
        )]),
        &child_env(),
    );
    ready(&mut events, "remote").await;
    drop(http); // the server dies

    let failed_call = mcp
        .call("remote", "echo", json!({"message": "anyone?"}))
        .await;
    let err = failed_call.expect_err("the server is gone");
    assert!(matches!(err, McpError::Crashed { .. }), "{err:?}");
    assert!(err.to_string().contains("restarting"), "{err}");
    wait_for(&mut events, Duration::from_secs(5), "remote exited", |e| {
        matches!(e, McpEvent::Exited { .. })
    })
    .await;

    // It comes back on the same address; the manager's restart finds it.
    let _http = HttpEverything::start_on(port);
    wait_for(
        &mut events,
        Duration::from_secs(30),
        "remote ready again",
        |e| matches!(e, McpEvent::Ready { .. }),
    )
    .await;
    let echoed = mcp
        .call("remote", "echo", json!({"message": "welcome back"}))
        .await
        .expect("echo after the reconnect");
    assert_eq!(echoed.to_model_text(), "Echo: welcome back");
    mcp.shutdown().await;
}
