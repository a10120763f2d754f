//! `initialize` (encodings, handshake, settings), document sync and Auto Context.

use crate::support::{Env, TestClient, range_json, uri};
use pretty_assertions::assert_eq;
use serde_json::{Value, json};

#[tokio::test]
async fn initialize_picks_utf8_when_offered_and_utf16_otherwise() {
    let env = Env::new("");
    let mut c = TestClient::start(env.options());
    let r = c
        .initialize(&env.root(), true, Value::Null, json!({}))
        .await;
    assert_eq!(r["capabilities"]["positionEncoding"], "utf-8");
    assert_eq!(r["serverInfo"]["name"], "tandem");
    let tandem = &r["capabilities"]["experimental"]["tandem"];
    assert_eq!(
        tandem["protocolVersion"],
        tandem_protocol_ext::PROTOCOL_VERSION
    );
    assert!(
        tandem["methods"]
            .as_array()
            .unwrap()
            .contains(&json!("tandem/task/start"))
    );
    assert_eq!(r["capabilities"]["textDocumentSync"]["change"], 2);

    let mut c = TestClient::start(env.options());
    let r = c
        .initialize(&env.root(), false, Value::Null, json!({}))
        .await;
    assert_eq!(r["capabilities"]["positionEncoding"], "utf-16");
    // `{}`-shaped params may come as nothing at all, or as `[]` (Neovim's empty table).
    assert_eq!(
        c.ok("tandem/task/list", json!([])).await,
        json!({"tasks": []})
    );
    assert_eq!(
        c.ok("tandem/review/list", Value::Null).await["changes"],
        json!([])
    );
}

#[tokio::test]
async fn a_bad_setting_is_reported_without_losing_the_connection() {
    let env = Env::new("");
    let c = env.client(json!({"sandboxMode": "yolo"})).await;
    c.wait_until("an error message", |c| {
        !c.notifications("window/showMessage").is_empty()
    })
    .await;
    let m = &c.notifications("window/showMessage")[0];
    assert!(m["message"].as_str().unwrap().contains("yolo"), "{m}");
    assert_eq!(
        c.ok("tandem/task/list", json!({})).await,
        json!({"tasks": []})
    );
}

/// The focused file's text as the preview shows it: what the server's buffer holds.
async fn focused_text(c: &TestClient, path: &std::path::Path) -> String {
    c.notify(
        "tandem/focus",
        json!({"uri": uri(path), "position": {"line": 0, "character": 0}}),
    )
    .await;
    let p = c.ok("tandem/context/preview", json!({})).await;
    p["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "focus")
        .map(|i| i["text"].as_str().unwrap().to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn incremental_and_full_changes_in_each_encoding() {
    for utf8 in [false, true] {
        let env = Env::new("");
        let mut c = TestClient::start(env.options());
        c.initialize(&env.root(), utf8, Value::Null, json!({}))
            .await;
        let p = env.write("src/lib.rs", "");
        c.open(&p, "let s = \"😀x\";\nfn main() {}\n").await;
        // After the emoji: UTF-16 counts it as 2 units, UTF-8 as 4 bytes.
        let col = if utf8 { 13 } else { 11 };
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri(&p), "version": 2},
                   "contentChanges": [{"range": range_json([0, col, 0, col + 1]), "text": "y"},
                                      {"range": range_json([1, 3, 1, 7]), "text": "start"}]}),
        )
        .await;
        assert_eq!(
            focused_text(&c, &p).await,
            "let s = \"😀y\";\nfn start() {}\n",
            "utf8: {utf8}"
        );
        // A full replacement, then an edit past the end of a line (clamped to its end).
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri(&p), "version": 3},
                   "contentChanges": [{"text": "a\r\nb\r\n"}, {"range": range_json([0, 99, 0, 99]), "text": "!"}]}),
        )
        .await;
        assert_eq!(focused_text(&c, &p).await, "a!\r\nb\r\n");
        // A stale version is refused, not applied twice.
        c.notify(
            "textDocument/didChange",
            json!({"textDocument": {"uri": uri(&p), "version": 3},
                   "contentChanges": [{"range": range_json([0, 0, 0, 0]), "text": "X"}]}),
        )
        .await;
        assert_eq!(focused_text(&c, &p).await, "a!\r\nb\r\n");
    }
}

#[tokio::test]
async fn focus_builds_the_preview_and_secrets_stay_out() {
    let env = Env::new("");
    let c = env
        .client(json!({"contextDenyGlobs": ["*.private.rs"]}))
        .await;
    let main = env.write("src/main.rs", "fn main() {\n    let x = 1;\n}\n");
    let secret = env.write(".env", "API_KEY=hunter2\n");
    let private = env.write("src/keys.private.rs", "const K: u8 = 1;\n");
    let other = env.write("src/other.rs", "pub fn other() {}\n");
    for p in [&main, &secret, &private, &other] {
        c.open(p, &std::fs::read_to_string(p).unwrap()).await;
    }
    c.notify(
        "tandem/focus",
        json!({"uri": uri(&secret), "position": {"line": 0, "character": 0}}),
    )
    .await;
    c.notify(
        "tandem/focus",
        json!({"uri": uri(&other), "position": {"line": 0, "character": 0}}),
    )
    .await;
    c.notify(
        "tandem/focus",
        json!({"uri": uri(&main), "position": {"line": 1, "character": 4},
               "selections": [range_json([1, 8, 1, 9])], "visibleRanges": [range_json([0, 0, 2, 0])]}),
    )
    .await;
    c.notify(
        "tandem/diagnostics/forward",
        json!({"uri": uri(&main), "diagnostics": [{"range": range_json([1, 8, 1, 9]), "severity": "warning",
               "message": "unused variable: `x`", "source": "rustc"}]}),
    )
    .await;
    let p = c.ok("tandem/context/preview", json!({})).await;
    assert_eq!(p["enabled"], true);
    let kinds: Vec<&str> = p["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["focus", "selection", "diagnostics", "openFile"]);
    assert_eq!(p["items"][1]["text"], "x");
    assert!(
        p["items"][2]["text"]
            .as_str()
            .unwrap()
            .contains("unused variable")
    );
    assert_eq!(p["items"][3]["uri"], uri(&other));
    let text = serde_json::to_string(&p["items"]).unwrap();
    assert!(
        !text.contains("hunter2") && !text.contains("const K"),
        "{text}"
    );
    let excluded: Vec<(String, String)> = p["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["uri"].as_str().unwrap().into(),
                e["reason"]["type"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        excluded.contains(&(uri(&secret), "secret".into())),
        "{excluded:?}"
    );
    assert!(
        excluded.contains(&(uri(&private), "denied".into())),
        "{excluded:?}"
    );

    // The toggle turns it off; the preview then says so and carries nothing.
    let r = c
        .ok("tandem/context/setEnabled", json!({"enabled": false}))
        .await;
    assert_eq!(r, json!({"enabled": false}));
    let p = c.ok("tandem/context/preview", json!(null)).await;
    assert_eq!(
        (p["enabled"].clone(), p["items"].clone()),
        (json!(false), json!([]))
    );
}

#[tokio::test]
async fn a_bad_config_is_shown_at_once() {
    let env = Env::new("");
    std::fs::write(env.home.path().join("config.toml"), "model = [\n").unwrap();
    let c = env.client(json!({})).await;
    c.wait_until("an error message", |c| {
        !c.notifications("window/showMessage").is_empty()
    })
    .await;
    let m = &c.notifications("window/showMessage")[0];
    assert_eq!(m["type"], 1);
    assert!(
        m["message"].as_str().unwrap().contains("config.toml"),
        "{m}"
    );
    let err = c
        .request("tandem/task/start", json!({"prompt": "hi"}))
        .await
        .unwrap_err();
    assert!(err["message"].as_str().unwrap().contains("config"), "{err}");
}
