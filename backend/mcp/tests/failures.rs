//! What goes wrong with MCP servers, and how the session survives it: a server that never
//! answers `initialize`, one that crashes mid-call, bad config entries, slow starts, slow tools.
//!
//! Real servers (server-everything) sit next to the broken ones, to show that one server's
//! trouble never reaches another's tools.

#![allow(clippy::print_stderr)] // the timing tests report their figures

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use tandem_config::{McpServerConfig, McpTransport};
use tandem_mcp::{McpError, McpEvent, McpManager, McpOptions, McpServerStatus, RestartPolicy};

#[tokio::test]
async fn a_server_that_never_answers_initialize_times_out_and_the_rest_go_on() {
    // A distinctive argument so the test can check the process is gone afterwards.
    let mut silent = McpServerConfig::stdio("sleep", vec!["1000.4242".into()]);
    silent.startup_timeout_sec = 1.5;
    let (mcp, mut events) = McpManager::start(
        &servers(vec![("silent", silent), ("everything", everything())]),
        &child_env(),
    );
    let failed = wait_for(
        &mut events,
        Duration::from_secs(20),
        "silent failed",
        |e| matches!(e, McpEvent::Failed { server, .. } if server == "silent"),
    )
    .await;
    let McpEvent::Failed { error, .. } = &failed else {
        unreachable!()
    };
    assert!(
        error.contains("within 1.5s") && error.contains("startup_timeout_sec"),
        "{error}"
    );
    assert!(failed.message().starts_with("MCP server `silent` failed:"));
    assert!(matches!(
        mcp.server_status()["silent"],
        McpServerStatus::Failed { .. }
    ));

    // The other server is unaffected, and the manager is usable.
    if !matches!(mcp.server_status()["everything"], McpServerStatus::Ready) {
        ready(&mut events, "everything").await;
    }
    assert!(mcp.tools().iter().all(|t| t.server == "everything"));
    assert!(mcp.resolve("mcp__everything__echo").is_some());
    let echoed = mcp
        .call("everything", "echo", json!({"message": "still here"}))
        .await
        .expect("echo");
    assert_eq!(echoed.to_model_text(), "Echo: still here");
    let unavailable = mcp.call("silent", "anything", json!({})).await;
    match unavailable {
        Err(McpError::Unavailable { reason, .. }) => {
            assert!(reason.contains("within 1.5s"), "{reason}")
        }
        other => panic!("{other:?}"),
    }

    // The timed-out child was killed, not left behind.
    let deadline = Instant::now() + Duration::from_secs(5);
    while process_running("1000.4242") {
        assert!(
            Instant::now() < deadline,
            "the silent server's process outlived its timeout"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    mcp.shutdown().await;
}

#[tokio::test]
async fn a_crash_mid_call_is_reported_then_the_server_restarts_and_works() {
    let (mcp, mut events) = McpManager::start(&servers(vec![("toy", toy(&[]))]), &child_env());
    assert_eq!(ready(&mut events, "toy").await, 3);
    let before = mcp.tools();

    let crashed = mcp.call("toy", "crash", json!({})).await;
    let err = crashed.expect_err("the server died during the call");
    assert!(matches!(err, McpError::Crashed { .. }), "{err:?}");
    let message = err.to_string();
    assert!(
        message.contains("crashed during the call to `crash`"),
        "{message}"
    );
    assert!(message.contains("restarting"), "{message}");
    assert!(message.contains("exited with status 3"), "{message}");
    assert!(
        message.contains("crashing on purpose"),
        "the stderr tail explains it: {message}"
    );

    let exited = wait_for(&mut events, Duration::from_secs(5), "toy exited", |e| {
        matches!(e, McpEvent::Exited { .. })
    })
    .await;
    assert!(
        exited.message().contains("exited with status 3"),
        "{exited:?}"
    );
    let restarting = wait_for(&mut events, Duration::from_secs(5), "toy restarting", |e| {
        matches!(e, McpEvent::Restarting { .. })
    })
    .await;
    assert_eq!(
        restarting,
        McpEvent::Restarting {
            server: "toy".into(),
            attempt: 1,
            delay: Duration::from_secs(1)
        }
    );
    // While it restarts, its tools stay listed (a call waits for the server to come back).
    assert_eq!(mcp.tools(), before);
    let echoed = mcp
        .call("toy", "echo", json!({"text": "after the crash"}))
        .await
        .expect("the call waits for the restart and succeeds");
    assert_eq!(echoed.to_model_text(), "toy: after the crash");
    ready(&mut events, "toy").await;
    assert_eq!(mcp.server_status()["toy"], McpServerStatus::Ready);
    mcp.shutdown().await;
}

#[tokio::test]
async fn a_crash_loop_gives_up_after_the_restart_budget() {
    let options = McpOptions {
        restart: RestartPolicy {
            initial_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(200),
            max_attempts: 3,
            stable_after: Duration::from_secs(60),
        },
        ..McpOptions::default()
    };
    let (mcp, mut events) = McpManager::start_with(
        &servers(vec![("loop", toy(&["--exit-after-ready"]))]),
        &child_env(),
        options,
    );
    let failed = wait_for(&mut events, Duration::from_secs(30), "loop failed", |e| {
        matches!(e, McpEvent::Failed { .. })
    })
    .await;
    let McpEvent::Failed { error, .. } = failed else {
        unreachable!()
    };
    assert!(error.contains("gave up after 3 restarts"), "{error}");
    assert!(error.contains("exited with status 4"), "{error}");
    assert!(
        mcp.tools().is_empty(),
        "a failed server's tools are withdrawn"
    );
    mcp.shutdown().await;
}

#[tokio::test]
async fn bad_config_entries_fail_with_actionable_messages() {
    let mut http_without_token = McpServerConfig::streamable_http("http://127.0.0.1:9/mcp");
    if let McpTransport::StreamableHttp {
        bearer_token_env_var,
        ..
    } = &mut http_without_token.transport
    {
        *bearer_token_env_var = Some("TANDEM_TEST_UNSET_TOKEN_VAR".into());
    }
    let mut bad_cwd = toy(&[]);
    if let McpTransport::Stdio { cwd, .. } = &mut bad_cwd.transport {
        *cwd = Some("/nonexistent/tandem-dir".into());
    }
    let mut disabled = McpServerConfig::stdio("tandem-also-not-a-command", vec![]);
    disabled.enabled = false;
    let (mcp, mut events) = McpManager::start(
        &servers(vec![
            (
                "missing",
                McpServerConfig::stdio("tandem-no-such-command", vec![]),
            ),
            (
                "missing_path",
                McpServerConfig::stdio("/nonexistent/bin/server", vec![]),
            ),
            ("no_token", http_without_token),
            ("bad_cwd", bad_cwd),
            ("off", disabled),
            (
                "refused",
                McpServerConfig::streamable_http("http://127.0.0.1:9/mcp"),
            ),
        ]),
        &child_env(),
    );
    let mut errors = std::collections::BTreeMap::new();
    while errors.len() < 5 {
        let event = wait_for(&mut events, Duration::from_secs(20), "failures", |e| {
            matches!(e, McpEvent::Failed { .. })
        })
        .await;
        if let McpEvent::Failed { server, error } = event {
            errors.insert(server, error);
        }
    }
    let missing = &errors["missing"];
    assert!(
        missing.contains("could not start `tandem-no-such-command`")
            && missing.contains("not on the PATH")
            && missing.contains("[mcp_servers.missing]"),
        "{missing}"
    );
    assert!(
        errors["missing_path"].contains("the file does not exist"),
        "{}",
        errors["missing_path"]
    );
    let no_token = &errors["no_token"];
    assert!(
        no_token.contains("TANDEM_TEST_UNSET_TOKEN_VAR")
            && no_token.contains("bearer_token_env_var")
            && no_token.contains("not set"),
        "{no_token}"
    );
    assert!(
        errors["bad_cwd"].contains("/nonexistent/tandem-dir"),
        "{}",
        errors["bad_cwd"]
    );
    assert!(
        errors["refused"].contains("http://127.0.0.1:9/mcp"),
        "{}",
        errors["refused"]
    );
    assert_eq!(mcp.server_status()["off"], McpServerStatus::Disabled);
    assert!(matches!(
        mcp.call("off", "x", json!({})).await,
        Err(McpError::Unavailable { .. })
    ));
    assert!(matches!(
        mcp.call("nobody", "x", json!({})).await,
        Err(McpError::UnknownServer { .. })
    ));
    mcp.shutdown().await;
}

#[tokio::test]
async fn start_returns_at_once_even_with_a_server_that_takes_5s_to_initialise() {
    let config = servers(vec![
        ("slow", toy(&["--init-delay", "5"])),
        ("everything", everything()),
    ]);
    let env = child_env();
    let begun = Instant::now();
    let (mcp, mut events) = McpManager::start(&config, &env);
    let elapsed = begun.elapsed();
    eprintln!("McpManager::start with a 5 s server returned in {elapsed:?}");
    assert!(
        elapsed < Duration::from_millis(250),
        "start() must not wait for servers; it took {elapsed:?}"
    );
    // Nothing is ready yet, and asking is instant too.
    assert!(mcp.tools().is_empty());

    // The fast server's tools join first; the slow one's after about 5 s.
    ready(&mut events, "everything").await;
    assert!(mcp.tools().iter().all(|t| t.server == "everything"));
    ready(&mut events, "slow").await;
    let slow_ready_after = begun.elapsed();
    eprintln!("the 5 s server became ready after {slow_ready_after:?}");
    assert!(slow_ready_after >= Duration::from_secs(5));
    assert!(mcp.resolve("mcp__slow__echo").is_some());
    mcp.shutdown().await;
}

#[tokio::test]
async fn a_slow_tool_times_out_and_the_server_stays_usable() {
    let mut config = toy(&[]);
    config.tool_timeout_sec = 0.5;
    let (mcp, mut events) = McpManager::start(&servers(vec![("toy", config)]), &child_env());
    ready(&mut events, "toy").await;
    let begun = Instant::now();
    let slow = mcp.call("toy", "slow", json!({"seconds": 5})).await;
    assert!(begun.elapsed() < Duration::from_secs(3));
    match slow {
        Err(e @ McpError::Timeout { .. }) => {
            assert!(
                e.to_string().contains("within 0.5s (tool_timeout_sec)"),
                "{e}"
            );
        }
        other => panic!("{other:?}"),
    }
    let echoed = mcp.call("toy", "echo", json!({"text": "next"})).await;
    assert_eq!(
        echoed.map(|r| r.to_model_text()).ok(),
        Some("toy: next".to_owned())
    );
    assert!(
        !events
            .try_recv()
            .is_ok_and(|e| matches!(e, McpEvent::Exited { .. })),
        "a timeout must not restart the server"
    );
    mcp.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_the_children() {
    let (mcp, mut events) = McpManager::start(
        &servers(vec![("toy", toy(&["--init-delay", "0.0417"]))]),
        &child_env(),
    );
    ready(&mut events, "toy").await;
    assert!(process_running("--init-delay 0.0417"));
    let begun = Instant::now();
    mcp.shutdown().await;
    eprintln!("shutdown took {:?}", begun.elapsed());
    assert!(
        !process_running("--init-delay 0.0417"),
        "the child outlived shutdown"
    );
}
