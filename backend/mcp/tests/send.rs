//! The kernel runs MCP calls inside spawned tasks, so the call future must be `Send`; this
//! test fails to compile when it is not.

#[test]
fn the_call_future_is_send() {
    fn assert_send<T: Send>(_: &T) {}
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let (manager, _events) =
            tandem_mcp::McpManager::start(&Default::default(), &Default::default());
        let call = manager.call("none", "none", serde_json::Value::Null);
        assert_send(&call);
        assert!(call.await.is_err(), "an unknown server is an error");
    });
}
